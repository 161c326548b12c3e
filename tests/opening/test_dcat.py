"""The DCAT-AP 3 catalog (OPN-8): Turtle, RDF/XML and JSON-LD of the open catalog and of each dataset,
valid against the SHACL shapes of the properties DCAT-AP 3.0.1 marks mandatory (pyshacl)."""

from __future__ import annotations

from pyshacl import validate
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF

from govdata.opening.interop.dcat import SHAPES
from tests.support.catalog import population, publish
from tests.support.opening import open_conditional, open_resource

HIDDEN_NAME = "绝密内部人口底册"


def _conforms(graph: Graph) -> tuple[bool, str]:
    conforms, _, text = validate(graph, shacl_graph=Graph().parse(SHAPES), inference="none")
    return conforms, text


def test_the_catalog_validates_in_every_syntax_and_holds_only_open_datasets(client, as_user):
    free = open_resource(client, as_user)
    conditional = open_conditional(client, as_user)
    hidden = publish(client, as_user, "ga_officer", population(name=HIDDEN_NAME))

    turtle = client.get("/catalog.ttl")
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    assert HIDDEN_NAME not in turtle.text and hidden not in turtle.text
    graph = Graph().parse(data=turtle.text, format="turtle")
    conforms, report = _conforms(graph)
    assert conforms, report

    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    datasets = set(graph.objects(catalog, DCAT.dataset))
    assert {str(graph.value(d, DCTERMS.identifier)) for d in datasets} == {free, conditional}
    rights = {
        str(graph.value(d, DCTERMS.identifier)): str(graph.value(d, DCTERMS.accessRights)) for d in datasets
    }
    assert rights[free].endswith("/PUBLIC") and rights[conditional].endswith("/RESTRICTED")
    free_node = next(d for d in datasets if str(graph.value(d, DCTERMS.identifier)) == free)
    downloads = {
        str(u)
        for dist in graph.objects(free_node, DCAT.distribution)
        for u in graph.objects(dist, DCAT.downloadURL)
    }
    assert any(u.endswith("download.csv") for u in downloads) and len(downloads) == 3
    publisher = graph.value(free_node, DCTERMS.publisher)
    assert str(graph.value(publisher, FOAF.name)) == "焦作市卫生健康委员会"

    rdfxml = client.get("/catalog.rdf")
    assert rdfxml.headers["content-type"].startswith("application/rdf+xml")
    jsonld = client.get("/catalog.jsonld")
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    for text, syntax in ((rdfxml.text, "xml"), (jsonld.text, "json-ld")):
        other = Graph().parse(data=text, format=syntax)
        assert len(other) == len(graph)
        assert _conforms(other)[0]

    paged = Graph().parse(data=client.get("/catalog.ttl?page=1").text, format="turtle")
    assert len(set(paged.objects(catalog, DCAT.dataset))) == 2
    assert any(paged.subjects(RDF.type, URIRef("http://www.w3.org/ns/hydra/core#PartialCollectionView")))

    one = client.get(f"/datasets/{conditional}.ttl")
    assert one.status_code == 200
    single = Graph().parse(data=one.text, format="turtle")
    assert _conforms(single)[0]
    assert {str(t) for t in single.objects(None, DCTERMS.title)} >= {"居民健康体检结果"}
    for extension in ("ttl", "rdf", "jsonld"):
        assert client.get(f"/datasets/{hidden}.{extension}").status_code == 404
        assert client.get(f"/datasets/{free}.{extension}").status_code == 200

    # the shapes bite: a dataset without its description, a distribution without an access URL
    node = next(iter(datasets))
    graph.remove((node, DCTERMS.description, None))
    distribution = next(graph.objects(node, DCAT.distribution))
    graph.remove((distribution, DCAT.accessURL, None))
    graph.add((distribution, DCAT.accessURL, Literal("not an IRI")))
    conforms, report = _conforms(graph)
    assert not conforms
    assert "dct:description is mandatory" in report and "dcat:accessURL is mandatory" in report
