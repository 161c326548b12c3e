"""What open-data tools speak (OPN-8): a CKAN-compatible Action API (``ckan``), a DCAT-AP 3 catalog
(``dcat``) and Frictionless data packages (``datapackage``), all built from the open catalog's facts
(``govdata.opening.service``) and never from anything that is not open. ``docs/opening-interop.md``
says how a harvester uses them and how a dataset maps onto each."""
