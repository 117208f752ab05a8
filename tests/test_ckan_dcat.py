"""CKAN serves the tool's datasets as DCAT-AP 3 (ckanext-dcat, installed by scripts/ckan-local/start.sh).

Before: /catalog.ttl and /dataset/<name>.rdf were 404, and the sha256 sat in a custom field only.
"""

from __future__ import annotations

import subprocess

import pytest
import requests
from ckan_release import dataset_spec, month_rows, render_release
from dcat_shapes import DCAT, DCTERMS, EU, FOAF, SPDX, VCARD, XSD, validate
from rdflib import RDF, Graph, Literal, URIRef

from transparencia.publishers.ckan import CkanPublisher

pytestmark = pytest.mark.ckan



def _published(ckan_server, organization: str, tmp_path):
    name = f"{organization}-planilla"
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 20), "2025-02": month_rows("2025-02", 20)})
    result = CkanPublisher(ckan_server.url, ckan_server.token).sync(dataset_spec(organization, name), files)
    assert result.error is None
    return name, files


def _rdf(ckan_server, path: str, rdf_format: str) -> Graph:
    response = requests.get(ckan_server.url + path, timeout=120)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return Graph().parse(data=response.text, format=rdf_format)


def test_catalog_ttl_and_dataset_rdf_pass_the_dcat_ap_3_shapes(ckan_server, ckan_org, tmp_path):
    name, _ = _published(ckan_server, ckan_org, tmp_path)
    for path, rdf_format in ((f"/catalog.ttl?fq=organization:{ckan_org}", "turtle"), (f"/dataset/{name}.rdf", "xml")):
        graph = _rdf(ckan_server, path, rdf_format)
        verdict = validate(graph, with_imports=True)
        assert verdict.conforms and verdict.violations == [], f"{path}: {verdict.explain()}"
        assert len(set(graph.subjects(RDF.type, DCAT.Distribution))) == 9, path


def test_ckan_states_the_same_dcat_facts_as_the_local_catalog(ckan_server, ckan_org, tmp_path):
    name, files = _published(ckan_server, ckan_org, tmp_path)
    graph = _rdf(ckan_server, f"/dataset/{name}.rdf", "xml")
    [dataset] = graph.subjects(RDF.type, DCAT.Dataset)
    assert graph.value(dataset, DCTERMS.accrualPeriodicity) == URIRef(EU + "frequency/MONTHLY")
    assert graph.value(dataset, DCTERMS.language) == URIRef(EU + "language/SPA")
    assert graph.value(dataset, DCAT.theme) == URIRef(EU + "data-theme/GOVE")
    assert graph.value(dataset, DCTERMS.spatial) == URIRef(EU + "country/PAN")
    temporal = graph.value(dataset, DCTERMS.temporal)
    assert graph.value(temporal, DCAT.startDate) == Literal("2025-01-01", datatype=XSD.date)
    assert graph.value(temporal, DCAT.endDate) == Literal("2025-02-28", datatype=XSD.date)
    publisher = graph.value(dataset, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph and str(graph.value(publisher, FOAF.name)).startswith("Institución")
    assert graph.value(graph.value(dataset, DCAT.contactPoint), VCARD.hasEmail) == URIRef("mailto:transparencia@example.org")
    assert graph.value(dataset, DCTERMS.issued).datatype == XSD.dateTime
    digests = {}
    for distribution in graph.objects(dataset, DCAT.distribution):
        assert graph.value(distribution, DCTERMS.license) == URIRef(EU + "licence/CC0")
        assert isinstance(graph.value(distribution, DCAT.accessURL), URIRef)
        checksum = graph.value(distribution, SPDX.checksum)
        assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        digests[str(graph.value(distribution, DCTERMS.title))] = str(graph.value(checksum, SPDX.checksumValue))
        if str(graph.value(distribution, DCTERMS.title)).endswith("(CSV)"):
            assert graph.value(distribution, DCTERMS["format"]) == URIRef(EU + "file-type/CSV")
            assert graph.value(distribution, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert digests == {spec.name: spec.sha256 for spec in files}


def test_a_resource_without_its_licence_gets_it_by_one_patch(ckan_server, ckan_org, tmp_path):
    name, files = _published(ckan_server, ckan_org, tmp_path)
    package = ckan_server.admin().action.package_show(id=name)
    csv = next(r for r in package["resources"] if r["name"] == "Planilla 2025-01 (CSV)")
    ckan_server.admin().action.resource_patch(id=csv["id"], license="")

    fill = CkanPublisher(ckan_server.url, ckan_server.token)
    result = fill.sync(dataset_spec(ckan_org, name), files)

    assert [a.name for a in result.actions if a.action == "update"] == ["Planilla 2025-01 (CSV)"]
    assert fill.client.writes == 1
    after = ckan_server.admin().action.resource_show(id=csv["id"])
    assert after["license"] == EU + "licence/CC0" and after["datastore_active"]


@pytest.mark.ckan_restart
def test_start_script_installs_ckanext_dcat_into_a_ckan_installed_without_it(ckan_server):
    """An existing CKAN_BASE from before the DCAT endpoints is upgraded in place by start.sh."""
    pip = ckan_server.base / "venv" / "bin" / "pip"
    subprocess.run([str(pip), "uninstall", "-y", "-q", "ckanext-dcat"], check=True, capture_output=True, timeout=300)
    ckan_server.start()
    response = requests.get(ckan_server.url + "/catalog.ttl", timeout=120)
    assert response.status_code == 200 and "dcat:Catalog" in response.text
