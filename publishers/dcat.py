"""The DCAT-AP 3 vocabulary every backend maps the tool's facts to, spelt once.

DCAT-AP asks for concepts, not text: a harvester (data.europa.eu, a national portal) matches a
dataset's frequency, language, theme, place, licence and file type by the IRI of a concept in the EU
Vocabularies (the Publications Office's authority tables), and its media type by the IANA registry's
IRI. The local catalog writes these IRIs into ``catalog.json`` (``publishers.local_dcat``); on CKAN
they travel as the extras and resource fields ckanext-dcat's ``euro_dcat_ap_3`` profile reads
(``publishers.ckan``).
"""

from __future__ import annotations

from dataclasses import dataclass

from transparencia.domain import OutputFormat
from transparencia.publishers.base import DatasetSpec

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
SPDX_SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"

# Everything the tool publishes is in Spanish, about Panamá, and about the public sector.
LANGUAGE = EU_AUTHORITY + "language/SPA"
SPATIAL = EU_AUTHORITY + "country/PAN"
SPATIAL_LABEL = "Panamá"
THEMES = EU_AUTHORITY + "data-theme"
THEME = THEMES + "/GOVE"
THEME_LABEL = "Gobierno y sector público"
THEMES_TITLE = "Temas de datos (EU Vocabularies)"
# Every published file stays online (a withdrawn month is removed, with a public record of why).
AVAILABILITY = EU_AUTHORITY + "planned-availability/STABLE"
AVAILABILITY_LABEL = "estable"


@dataclass(frozen=True)
class Licence:
    """A licence as the public reads it (name and page), as Data Packages name it (SPDX id) and as
    DCAT-AP names it: the EU licence concept and its ADMS licence type (``kind``, with its Spanish label)."""

    name: str
    page: str
    spdx: str
    iri: str
    kind: str
    kind_label: str


_ADMS_LICENCE_TYPE = "http://purl.org/adms/licencetype/"
_CC0 = Licence("Creative Commons CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0",
               EU_AUTHORITY + "licence/CC0", _ADMS_LICENCE_TYPE + "PublicDomain", "dominio público")
_CC_BY = Licence("Creative Commons Atribución 4.0", "https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0",
                 EU_AUTHORITY + "licence/CC_BY_4_0", _ADMS_LICENCE_TYPE + "Attribution", "atribución")
_ODBL = Licence("Open Database License (ODbL)", "https://opendatacommons.org/licenses/odbl/1-0/", "ODbL-1.0",
                EU_AUTHORITY + "licence/ODC_BL", _ADMS_LICENCE_TYPE + "ShareAlike", "compartir igual")
# By CKAN licence id (the configuration's ``license_id``).
LICENCES = {"cc-zero": _CC0, "cc0-1.0": _CC0, "cc-by": _CC_BY, "cc-by-4.0": _CC_BY, "odc-odbl": _ODBL}

# EU file-type concepts; Markdown has none, so its files carry only their media type.
_FILE_TYPES = {
    OutputFormat.CSV: "CSV", OutputFormat.XLSX: "XLSX", OutputFormat.JSON: "JSON", OutputFormat.PARQUET: "PARQUET",
    OutputFormat.HTML: "HTML", OutputFormat.SVG: "SVG",
}


def licence(license_id: str) -> Licence | None:
    """The licence a CKAN licence id names, or None for one the tool does not know."""
    return LICENCES.get(license_id.lower())


def file_type(fmt: OutputFormat) -> str | None:
    """The EU file-type concept of a format (``dct:format``), None when the vocabulary has none."""
    code = _FILE_TYPES.get(fmt)
    return f"{EU_AUTHORITY}file-type/{code}" if code else None


def media_type(name: str) -> str:
    """The IANA registry's IRI of a media type such as ``text/csv`` (``dcat:mediaType``)."""
    return IANA_MEDIA_TYPES + name


def ckan_extras(dataset: DatasetSpec) -> dict[str, str]:
    """The dataset's DCAT facts as the extras ckanext-dcat's ``euro_dcat_ap_3`` profile reads, by its
    field names. The publisher is the organization (its page's address and title), the contact the
    maintainer, and the dates CKAN's own: the profile takes those from CKAN's standard fields."""
    extras = {"language": LANGUAGE, "theme": THEME, "spatial_uri": SPATIAL, "spatial_text": SPATIAL_LABEL}
    if dataset.frequency:
        extras["frequency"] = dataset.frequency.dcat_uri
    if dataset.coverage:
        extras["temporal_start"] = dataset.coverage.first.start.isoformat()
        extras["temporal_end"] = dataset.coverage.last.last_day.isoformat()
    return extras
