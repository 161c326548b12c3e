"""Opening (数据开放, OPN-1 … OPN-9): the open catalog, de-identification with a k-anonymity gate,
emergency opening, the public portal, public accounts and conditional opening, and the interfaces
open-data tools speak (CKAN, DCAT, Frictionless). See docs/opening.md."""
