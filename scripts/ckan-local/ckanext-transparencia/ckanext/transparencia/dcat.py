"""DCAT-AP 3 from CKAN: what ckanext-dcat's ``euro_dcat_ap_3`` profile leaves out, completed.

ckanext-dcat 2.4 serialises CKAN's own fields, and for the catalogue and a resource's format some of
them come out in a form SEMIC's DCAT-AP 3 shapes reject:

* the catalogue has no publisher (mandatory), its language is the locale code as text, and its home
  page has no class;
* a resource's CKAN ``format`` ("CSV") and ``mimetype`` ("text/csv") come out as text, where DCAT-AP
  wants the EU file-type concept and the IANA media type's IRI. CKAN needs them as text: the format
  is what its pages, views and search facets show, and the mimetype is the download's Content-Type.

This profile runs after ``euro_dcat_ap_3`` (``ckanext.dcat.rdf.profiles = euro_dcat_ap_3
transparencia_dcat_ap_3``) and rewrites only those. The catalogue's publisher is the portal's
operator, configured with ``ckanext.transparencia.publisher_name`` (and optionally
``ckanext.transparencia.publisher_uri``, its IRI). The portal's content is Spanish, so the
catalogue's language is the EU language concept SPA.
"""

from __future__ import annotations

from ckan.plugins import toolkit
from ckanext.dcat.profiles.base import DCAT, RDFProfile
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
LANGUAGE = EU_AUTHORITY + "language/SPA"
# CKAN format labels that are also EU file-type codes; any other label has no concept to name.
FILE_TYPES = {"CSV", "XLSX", "XLS", "JSON", "PARQUET", "HTML", "SVG", "PDF", "XML", "ZIP", "TXT", "ODS", "GEOJSON"}


class TransparenciaDCATAP3Profile(RDFProfile):
    """Catalogue publisher and language, and resource formats as concepts (see the module)."""

    def graph_from_dataset(self, dataset_dict, dataset_ref):
        for distribution in list(self.g.objects(dataset_ref, DCAT.distribution)):
            self._as_concept(distribution, DCAT.mediaType, _media_type, DCTERMS.MediaType)
            self._as_concept(distribution, DCTERMS["format"], _file_type, DCTERMS.MediaTypeOrExtent)

    def graph_from_catalog(self, catalog_dict, catalog_ref):
        name = toolkit.config.get("ckanext.transparencia.publisher_name")
        if name and (catalog_ref, DCTERMS.publisher, None) not in self.g:
            uri = toolkit.config.get("ckanext.transparencia.publisher_uri")
            publisher = URIRef(uri) if uri else BNode()
            self.g.add((catalog_ref, DCTERMS.publisher, publisher))
            self.g.add((publisher, RDF.type, FOAF.Agent))
            self.g.add((publisher, FOAF.name, Literal(name, lang="es")))
        for language in list(self.g.objects(catalog_ref, DCTERMS.language)):
            if isinstance(language, Literal):
                self.g.remove((catalog_ref, DCTERMS.language, language))
        self.g.add((catalog_ref, DCTERMS.language, URIRef(LANGUAGE)))
        self.g.add((URIRef(LANGUAGE), RDF.type, DCTERMS.LinguisticSystem))
        for page in self.g.objects(catalog_ref, FOAF.homepage):
            self.g.add((page, RDF.type, FOAF.Document))

    def _as_concept(self, subject, predicate, iri_of, kind):
        """Replace a text value by the concept it names (dropped when it names none)."""
        for value in list(self.g.objects(subject, predicate)):
            if not isinstance(value, Literal):
                continue
            self.g.remove((subject, predicate, value))
            iri = iri_of(str(value).strip())
            if iri:
                self.g.add((subject, predicate, URIRef(iri)))
                self.g.add((URIRef(iri), RDF.type, kind))


def _media_type(text: str) -> str | None:
    return IANA_MEDIA_TYPES + text.lower() if "/" in text and " " not in text else None


def _file_type(text: str) -> str | None:
    return EU_AUTHORITY + "file-type/" + text.upper() if text.upper() in FILE_TYPES else None
