"""The local catalog's ``catalog.json``: DCAT-AP 3 as JSON-LD, built from the folder's ``metadatos.json`` files.

A harvester reads it as RDF, so the JSON-LD context is a real one: besides the prefixes it says which
values are IRIs (addresses, e-mail, the concepts below), which are typed literals (``xsd:date`` for
dates, ``xsd:nonNegativeInteger`` for sizes, ``xsd:hexBinary`` for digests) and that text is Spanish.
The catalog, each dataset and each distribution is named by the address of its page:

* with ``publish.public_url`` configured (where the folder is served), absolute IRIs under it;
* without it, references relative to ``catalog.json`` itself, which a reader resolves against the
  address it fetched the catalog from (JSON-LD's document base). The file never names a machine or
  a local path, and the same folder can be served anywhere.

Concepts (frequency, language, theme, place, licence, availability, file and media types, the
checksum algorithm; ``publishers.dcat``) are written as plain IRIs where they are used and described
once, with the class DCAT-AP's range shapes expect, under the catalog's ``@included``; so the file
validates against the DCAT-AP 3 SHACL shapes on its own (``tests/shapes/dcat-ap-3``).
"""

from __future__ import annotations

from urllib.parse import quote

from transparencia.domain import Frequency, OutputFormat, Period
from transparencia.domain.jsontypes import JsonObject
from transparencia.publishers import dcat
from transparencia.publishers.local_metadata import LocalDataset, LocalDocument, LocalRecord, periods
from transparencia.publishers.pages import PAGE_FILE

TITLE = "Catálogo de datos abiertos de transparencia (Ley 6 de 2002)"
DESCRIPTION = "Puntos de transparencia publicados mes a mes, con su diccionario de datos y su informe de validación."

_IRI = {"@type": "@id"}
CONTEXT: JsonObject = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dcatap": "http://data.europa.eu/r5r/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "spdx": "http://spdx.org/rdf/terms#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "@language": "es",
    "dct:identifier": {"@language": None},
    "dct:issued": {"@type": "xsd:date"},
    "dct:modified": {"@type": "xsd:date"},
    "dcat:startDate": {"@type": "xsd:date"},
    "dcat:endDate": {"@type": "xsd:date"},
    "dcat:byteSize": {"@type": "xsd:nonNegativeInteger"},
    "spdx:checksumValue": {"@type": "xsd:hexBinary"},
    **{term: _IRI for term in (
        "dcat:accessURL", "dcat:downloadURL", "vcard:hasEmail", "dct:license", "dct:type", "dct:language",
        "dct:spatial", "dcat:theme", "dcat:themeTaxonomy", "skos:inScheme", "dct:accrualPeriodicity", "dct:format",
        "dcat:mediaType", "dcatap:availability", "spdx:algorithm")},
}


class _Concepts:
    """The concepts a catalog uses, each described once (its ``@included`` nodes)."""

    def __init__(self) -> None:
        self.nodes: dict[str, JsonObject] = {}

    def use(self, iri: str, kind: str, **facts: str) -> str:
        self.nodes.setdefault(iri, {"@id": iri, "@type": kind, **facts})
        return iri

    def labelled(self, iri: str, label: str, **facts: str) -> str:
        """A SKOS concept: DCAT-AP wants its preferred label."""
        return self.use(iri, "skos:Concept", **{"skos:prefLabel": label, **facts})

    def licence(self, licence: dcat.Licence) -> str:
        return self.use(licence.iri, "dct:LicenseDocument", **{"dct:title": licence.name,
                                                               "dct:type": self.labelled(licence.kind, licence.kind_label)})

    def included(self) -> list[JsonObject]:
        return [self.nodes[iri] for iri in sorted(self.nodes)]


def dcat_catalog(documents: list[LocalDocument], public_url: str | None = None) -> JsonObject:
    """The DCAT-AP 3 catalog of the folder's datasets; ``public_url`` is where the folder is served
    (ending in '/'), or None for references relative to the catalog."""
    base = public_url or ""
    concepts = _Concepts()
    catalog: JsonObject = {
        "@context": CONTEXT,
        "@id": base or "./",
        "@type": "dcat:Catalog",
        "dct:title": TITLE,
        "dct:description": DESCRIPTION,
        "foaf:homepage": _page(base + PAGE_FILE),
        "dct:language": concepts.use(dcat.LANGUAGE, "dct:LinguisticSystem"),
        "dct:spatial": _place(concepts),
        "dcat:themeTaxonomy": concepts.use(dcat.THEMES, "skos:ConceptScheme", **{"dct:title": dcat.THEMES_TITLE}),
    }
    if documents:  # the institution that publishes the folder, as its datasets name it
        first = documents[0]["dataset"]
        catalog["dct:publisher"] = _publisher(first)
        if contact := _contact(first):
            catalog["dcat:contactPoint"] = contact
        if licence := dcat.licence(first["license_id"]):
            catalog["dct:license"] = concepts.licence(licence)
    catalog.update(_dates([record for document in documents for record in document.get("resources", [])]))
    catalog["dcat:dataset"] = [_dataset(document, base, concepts) for document in documents]
    catalog["@included"] = concepts.included()
    return catalog


def _dataset(document: LocalDocument, base: str, concepts: _Concepts) -> JsonObject:
    dataset = document["dataset"]
    address = base + _folder(dataset)
    page = address + PAGE_FILE
    records = document.get("resources", [])
    entry: JsonObject = {
        "@id": address,
        "@type": "dcat:Dataset",
        "dct:identifier": dataset["name"],
        "dct:title": dataset["title"],
        "dct:description": dataset["notes"],
        "dct:publisher": _publisher(dataset),
        "dcat:landingPage": _page(page),
        "dcat:keyword": dataset.get("tags", []),
        "dcat:theme": concepts.labelled(dcat.THEME, dcat.THEME_LABEL, **{"skos:inScheme": dcat.THEMES}),
        "dct:spatial": _place(concepts),
        "dct:language": concepts.use(dcat.LANGUAGE, "dct:LinguisticSystem"),
    }
    if contact := _contact(dataset):
        entry["dcat:contactPoint"] = contact
    if frequency := dataset.get("frequency"):
        entry["dct:accrualPeriodicity"] = concepts.use(Frequency(frequency).dcat_uri, "dct:Frequency")
    if temporal := _temporal(document):
        entry["dct:temporal"] = temporal
    if dataset.get("legal_basis"):
        entry["dct:conformsTo"] = {"@type": "dct:Standard", "dct:title": dataset["legal_basis"]}
    entry.update(_dates(records))
    licence = dcat.licence(dataset["license_id"])
    entry["dcat:distribution"] = [_distribution(record, address, page, licence, concepts) for record in records]
    return entry


def _distribution(record: LocalRecord, address: str, page: str, licence: dcat.Licence | None,
                  concepts: _Concepts) -> JsonObject:
    entry: JsonObject = {
        "@id": f"{address}#{quote(record['file'])}",
        "@type": "dcat:Distribution",
        "dct:title": record["name"],
        "dcat:accessURL": page,
        "dcat:downloadURL": address + quote(record["file"]),
        "dcat:mediaType": concepts.use(dcat.media_type(record["media_type"]), "dct:MediaType"),
        "dcat:byteSize": record["bytes"],
        "spdx:checksum": {"@type": "spdx:Checksum", "spdx:algorithm": concepts.use(dcat.SPDX_SHA256, "spdx:ChecksumAlgorithm"),
                          "spdx:checksumValue": record["sha256"]},
        "dcatap:availability": concepts.labelled(dcat.AVAILABILITY, dcat.AVAILABILITY_LABEL),
    }
    if record.get("description"):
        entry["dct:description"] = record["description"]
    if file_type := dcat.file_type(OutputFormat(record["format"].lower())):
        entry["dct:format"] = concepts.use(file_type, "dct:MediaTypeOrExtent")
    if licence:
        entry["dct:license"] = concepts.licence(licence)
    entry.update(_dates([record]))
    return entry


def _folder(dataset: LocalDataset) -> str:
    """The dataset folder's address relative to the catalog root."""
    return "/".join(quote(part) for part in (dataset["organization"], dataset["name"])) + "/"


def public_address(dataset: LocalDataset, public_url: str | None) -> str | None:
    """The dataset folder's absolute public address, when the catalog's is configured."""
    return public_url + _folder(dataset) if public_url else None


def _page(address: str) -> JsonObject:
    return {"@id": address, "@type": "foaf:Document"}


def _place(concepts: _Concepts) -> str:
    return concepts.use(dcat.SPATIAL, "dct:Location", **{"skos:prefLabel": dcat.SPATIAL_LABEL})


def _publisher(dataset: LocalDataset) -> JsonObject:
    """The institution by its full name (its CKAN organization name in folders older than that field)."""
    return {"@type": "foaf:Agent", "foaf:name": dataset.get("publisher_name") or dataset["organization"]}


def _contact(dataset: LocalDataset) -> JsonObject | None:
    name, email = dataset.get("maintainer"), dataset.get("maintainer_email")
    if not (name or email):
        return None
    contact: JsonObject = {"@type": "vcard:Kind", "vcard:fn": name or email}
    if email:
        contact["vcard:hasEmail"] = f"mailto:{email}"
    return contact


def _temporal(document: LocalDocument) -> JsonObject | None:
    months = periods(document)
    if not months:
        return None
    return {"@type": "dct:PeriodOfTime", "dcat:startDate": Period.parse(months[0]).start.isoformat(),
            "dcat:endDate": Period.parse(months[-1]).last_day.isoformat()}


def _dates(records: list[LocalRecord]) -> JsonObject:
    """First publication and last change of these files (``dct:issued``, ``dct:modified``)."""
    issued = [date for r in records if (date := r.get("issued"))]
    modified = [date for r in records if (date := r.get("modified"))]
    dates: JsonObject = {}
    if issued:
        dates["dct:issued"] = min(issued)
    if modified:
        dates["dct:modified"] = max(modified)
    return dates
