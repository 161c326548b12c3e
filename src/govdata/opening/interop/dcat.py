"""The open catalog as DCAT-AP 3 (OPN-8), built with rdflib and served as Turtle, RDF/XML and JSON-LD.

What the graph holds (``docs/opening-interop.md`` has the full mapping):

* the catalogue ``<base>/catalog`` (``dcat:Catalog``): title, description, publisher (the node's data
  authority, or the node itself), homepage, language, modification date, and ``dcat:dataset`` for
  every open dataset;
* each dataset ``<base>/datasets/<code>#dataset`` (``dcat:Dataset``): identifier, title, description (the
  summary, else the title), publisher, contact point, keywords (theme, classification), issue and
  modification dates, frequency (the EU frequency vocabulary), access rights (PUBLIC for
  unconditional, RESTRICTED for conditional opening), landing page, language, and its distributions;
* one distribution per download format (CSV, XLSX, JSON: access and download URL, format, media type)
  and one for the records API (access URL);
* the publisher (``foaf:Agent`` and ``foaf:Organization``) with its name; the contact point
  (``vcard:Kind``, ``vcard:Organization``) with its name and address on the portal.

Every property DCAT-AP 3.0.1 marks mandatory is there, and a few recommended ones the shapes in
``shapes/dcat-ap-mandatory.ttl`` also require; the tests check the graph against them with pyshacl.
A large catalogue is paged (``page``, ``PAGE_SIZE`` datasets a page) with Hydra's partial-collection
view, as DCAT-AP harvesters (ckanext-dcat among them) follow it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS

from govdata.opening import service as opening
from govdata.opening.enums import OpenType
from govdata.opening.interop import links

SHAPES = Path(__file__).parent / "shapes" / "dcat-ap-mandatory.ttl"
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
LANGUAGE = URIRef(EU + "language/ZHO")
ACCESS = {
    OpenType.unconditional.value: URIRef(EU + "access-right/PUBLIC"),
    OpenType.conditional.value: URIRef(EU + "access-right/RESTRICTED"),
}
FREQUENCY = {
    "realtime": "UPDATE_CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "half_yearly": "ANNUAL_2",
    "yearly": "ANNUAL",
    "irregular": "IRREG",
}
FILE_TYPES = {"csv": "CSV", "xlsx": "XLSX", "json": "JSON"}
LOCAL_AUTHORITY = URIRef("http://purl.org/adms/publishertype/LocalAuthority")
PAGE_SIZE = 1000

FORMATS = {
    "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "rdf": ("pretty-xml", "application/rdf+xml; charset=utf-8"),
    "jsonld": ("json-ld", "application/ld+json"),
}


def _graph() -> Graph:
    graph = Graph()
    for prefix, namespace in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("skos", SKOS),
        ("hydra", HYDRA),
    ):
        graph.bind(prefix, namespace)
    return graph


def _zh(text: str) -> Literal:
    return Literal(text, lang="zh")


def _instant(value: datetime) -> Literal:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return Literal(value.astimezone(UTC).isoformat(timespec="seconds"), datatype=XSD.dateTime)


def _typed(graph: Graph, node: URIRef, *classes: URIRef) -> URIRef:
    for cls in classes:
        graph.add((node, RDF.type, cls))
    return node


def _agent(graph: Graph, base: str, provider_id: int, name: str) -> URIRef:
    agent = _typed(graph, URIRef(links.organization_page(base, provider_id)), FOAF.Agent, FOAF.Organization)
    graph.add((agent, FOAF.name, _zh(name)))
    graph.add((agent, DCTERMS.type, _typed(graph, LOCAL_AUTHORITY, SKOS.Concept)))
    return agent


def _contact(graph: Graph, base: str, provider_id: int, name: str) -> URIRef:
    contact = _typed(
        graph,
        URIRef(links.organization_page(base, provider_id) + "#contact"),
        VCARD.Kind,
        VCARD.Organization,
    )
    graph.add((contact, VCARD.fn, _zh(name)))
    graph.add((contact, VCARD.hasURL, URIRef(links.organization_page(base, provider_id))))
    return contact


def dataset_iri(base: str, code: str) -> str:
    """A dataset's IRI: its portal page (the landing page) with the fragment ``#dataset``."""
    return links.dataset_page(base, code) + "#dataset"


def add_dataset(graph: Graph, base: str, dataset: opening.OpenDataset) -> URIRef:
    node = _typed(graph, URIRef(dataset_iri(base, dataset.code)), DCAT.Dataset)
    graph.add((node, DCTERMS.identifier, Literal(dataset.code)))
    graph.add((node, DCTERMS.title, _zh(dataset.name)))
    graph.add((node, DCTERMS.description, _zh(dataset.summary or dataset.name)))
    graph.add((node, DCTERMS.publisher, _agent(graph, base, dataset.provider_id, dataset.provider_name)))
    graph.add((node, DCAT.contactPoint, _contact(graph, base, dataset.provider_id, dataset.provider_name)))
    for keyword in (dataset.theme, dataset.classification):
        if keyword:
            graph.add((node, DCAT.keyword, _zh(keyword)))
    graph.add((node, DCTERMS.issued, _instant(dataset.published_at)))
    graph.add((node, DCTERMS.modified, _instant(dataset.last_batch_at or dataset.published_at)))
    graph.add((node, DCTERMS.language, _typed(graph, LANGUAGE, DCTERMS.LinguisticSystem)))
    access = _typed(graph, ACCESS[dataset.open_type], DCTERMS.RightsStatement)
    graph.add((node, DCTERMS.accessRights, access))
    if code := FREQUENCY.get(dataset.update_cycle):
        frequency = _typed(graph, URIRef(EU + "frequency/" + code), DCTERMS.Frequency)
        graph.add((node, DCTERMS.accrualPeriodicity, frequency))
    page = _typed(graph, URIRef(links.dataset_page(base, dataset.code)), FOAF.Document)
    graph.add((node, DCAT.landingPage, page))
    for fmt in links.DOWNLOAD_FORMATS:
        distribution = _typed(
            graph, URIRef(f"{links.dataset_page(base, dataset.code)}#{fmt}"), DCAT.Distribution
        )
        graph.add((distribution, DCTERMS.title, _zh(f"{dataset.name}（{links.FORMAT_LABELS[fmt]}）")))
        graph.add((distribution, DCAT.accessURL, page))
        graph.add((distribution, DCAT.downloadURL, URIRef(links.download(base, dataset.code, fmt))))
        file_type = _typed(graph, URIRef(EU + "file-type/" + FILE_TYPES[fmt]), DCTERMS.MediaTypeOrExtent)
        graph.add((distribution, DCTERMS.format, file_type))
        media = URIRef("https://www.iana.org/assignments/media-types/" + links.MEDIA_TYPES[fmt])
        graph.add((distribution, DCAT.mediaType, _typed(graph, media, DCTERMS.MediaType)))
        graph.add((distribution, DCTERMS.rights, access))
        graph.add((node, DCAT.distribution, distribution))
    api = _typed(graph, URIRef(f"{links.dataset_page(base, dataset.code)}#api"), DCAT.Distribution)
    graph.add((api, DCTERMS.title, _zh(f"{dataset.name}（数据接口）")))
    graph.add(
        (api, DCTERMS.description, _zh("开放数据接口，返回 JSON；有条件开放的数据需获批申请的 API 密钥。"))
    )
    graph.add((api, DCAT.accessURL, URIRef(links.records_api(base, dataset.code))))
    graph.add(
        (
            api,
            DCAT.mediaType,
            _typed(
                graph,
                URIRef("https://www.iana.org/assignments/media-types/application/json"),
                DCTERMS.MediaType,
            ),
        )
    )
    graph.add((api, DCTERMS.rights, access))
    graph.add((node, DCAT.distribution, api))
    return node


def catalog_graph(
    base: str,
    datasets: list[opening.OpenDataset],
    *,
    title: str,
    publisher: tuple[int, str] | None,
    node_name: str,
    page: int | None = None,
) -> Graph:
    """The catalogue and its datasets (one page of them when ``page`` is given)."""
    graph = _graph()
    catalog = _typed(graph, URIRef(links.catalog(base)), DCAT.Catalog)
    graph.add((catalog, DCTERMS.title, _zh(title)))
    graph.add(
        (
            catalog,
            DCTERMS.description,
            _zh(f"{node_name}政务数据开放目录：无条件开放与有条件开放的数据集，按 DCAT-AP 3 描述。"),
        )
    )
    if publisher is not None:
        agent = _agent(graph, base, *publisher)
    else:
        agent = _typed(graph, URIRef(f"{base}/#node"), FOAF.Agent, FOAF.Organization)
        graph.add((agent, FOAF.name, _zh(node_name)))
    graph.add((catalog, DCTERMS.publisher, agent))
    graph.add((catalog, FOAF.homepage, _typed(graph, URIRef(f"{base}/"), FOAF.Document)))
    graph.add((catalog, DCTERMS.language, _typed(graph, LANGUAGE, DCTERMS.LinguisticSystem)))
    moments = [d.last_batch_at or d.published_at for d in datasets]
    if moments:
        graph.add((catalog, DCTERMS.modified, _instant(max(_aware(m) for m in moments))))
    ordered = sorted(datasets, key=lambda d: d.code)
    if page is not None:
        pages = max(1, math.ceil(len(ordered) / PAGE_SIZE))
        view = URIRef(f"{links.catalog(base)}.ttl?page={page}")
        _typed(graph, view, HYDRA.PartialCollectionView)
        graph.add((view, HYDRA.totalItems, Literal(len(ordered))))
        graph.add((view, HYDRA.itemsPerPage, Literal(PAGE_SIZE)))
        graph.add((view, HYDRA.first, URIRef(f"{links.catalog(base)}.ttl?page=1")))
        graph.add((view, HYDRA.last, URIRef(f"{links.catalog(base)}.ttl?page={pages}")))
        if page < pages:
            graph.add((view, HYDRA.next, URIRef(f"{links.catalog(base)}.ttl?page={page + 1}")))
        if page > 1:
            graph.add((view, HYDRA.previous, URIRef(f"{links.catalog(base)}.ttl?page={page - 1}")))
        ordered = ordered[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    for dataset in ordered:
        graph.add((catalog, DCAT.dataset, add_dataset(graph, base, dataset)))
    return graph


def dataset_graph(base: str, dataset: opening.OpenDataset) -> Graph:
    graph = _graph()
    add_dataset(graph, base, dataset)
    return graph


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def serialise(graph: Graph, extension: str) -> tuple[bytes, str]:
    """The graph in the syntax of ``extension`` (ttl, rdf, jsonld), and its media type."""
    syntax, media_type = FORMATS[extension]
    data = graph.serialize(format=syntax, encoding="utf-8")
    return data, media_type
