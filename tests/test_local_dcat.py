"""The local catalog's catalog.json is DCAT-AP 3: JSON-LD that parses to RDF and passes the SEMIC shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from dcat_shapes import DCAT, DCTERMS, EU, FOAF, SPDX, VCARD, XSD, validate
from rdflib import RDF, Graph, Literal, URIRef
from release_samples import planilla_frame, planilla_release

from transparencia.domain import ItemStatus, Period, sha256_file
from transparencia.publishers.local import LocalCatalog
from transparencia.publishers.render import render_release
from transparencia.reports.compliance import (
    ComplianceReport,
    ItemReport,
    report_dataset,
    report_resources,
    write_report,
)

PUBLIC_URL = "https://datos.migracion.gob.pa/transparencia/"
FOLDER = "servicio-nacional-de-migracion/snm-planilla/"


def _publish(root: Path, work: Path, public_url: str | None, months: tuple[str, ...] = ("2025-01", "2025-02")) -> None:
    """Planilla months (each with the history so far) and the compliance report, as runs leave them."""
    frames = {period: planilla_frame(period) for period in ("2025-01", "2025-02")}
    for period in months:
        history = pd.concat([frame for month, frame in frames.items() if month <= period])
        spec, resources = render_release(planilla_release(period, frame=frames[period], history=history), work / period)
        LocalCatalog(root, public_url).sync(spec, resources)
    report = ComplianceReport("Servicio Nacional de Migración", "SNM", Period(2025, 2), [
        ItemReport("11.3", "Planilla", "dataset", "monthly", ItemStatus.PUBLISHED, "rrhh")])
    dataset = report_dataset(report, "servicio-nacional-de-migracion", "cc-zero", "Oficina de Información",
                             "transparencia@migracion.gob.pa")
    LocalCatalog(root, public_url).sync(dataset, report_resources(report, write_report(report, work / "informe")))


def _graph(root: Path, base: str = PUBLIC_URL) -> Graph:
    """catalog.json as a harvester reads it from ``base``."""
    return Graph().parse(data=(root / "catalog.json").read_text("utf-8"), format="json-ld",
                         publicID=base + "catalog.json")


def test_the_catalog_passes_the_dcat_ap_3_shapes_with_no_violation(tmp_path):
    """Before: 2,036 violations (blank nodes, plain-text licence, frequency and formats, relative downloads)."""
    root = tmp_path / "published"
    _publish(root, tmp_path / "work", PUBLIC_URL)
    graph = _graph(root)
    verdict = validate(graph)
    assert verdict.conforms and verdict.violations == [], verdict.explain()
    published = sum(len(json.loads(p.read_text("utf-8"))["resources"]) for p in root.glob("*/*/metadatos.json"))
    assert len(set(graph.subjects(RDF.type, DCAT.Distribution))) == published > 20
    # what is left are recommendations the tool cannot honestly fill: the publisher's type (national or
    # local authority), Panamá's geometry, and a file type for Markdown (the EU list has none)
    unfilled = {line.split(" ")[1].rstrip(":") for line in verdict.warnings}
    assert unfilled == {str(DCTERMS.type), str(DCAT.bbox), str(DCAT.centroid), str(DCTERMS["format"])}, verdict.warnings


def test_catalog_datasets_and_distributions_are_named_by_their_pages(tmp_path):
    root = tmp_path / "published"
    _publish(root, tmp_path / "work", PUBLIC_URL)
    graph = _graph(root, "https://elsewhere.example/")  # absolute IRIs do not depend on where it was read
    catalog, dataset = URIRef(PUBLIC_URL), URIRef(PUBLIC_URL + FOLDER)
    assert (catalog, RDF.type, DCAT.Catalog) in graph and (catalog, DCAT.dataset, dataset) in graph
    assert (dataset, DCAT.landingPage, URIRef(PUBLIC_URL + FOLDER + "index.html")) in graph
    csv = URIRef(PUBLIC_URL + FOLDER + "#planilla-2025-02.csv")
    assert (dataset, DCAT.distribution, csv) in graph
    assert graph.value(csv, DCAT.downloadURL) == URIRef(PUBLIC_URL + FOLDER + "planilla-2025-02.csv")
    assert graph.value(csv, DCAT.accessURL) == URIRef(PUBLIC_URL + FOLDER + "index.html")
    checksum = graph.value(csv, SPDX.checksum)
    assert (checksum, RDF.type, SPDX.Checksum) in graph
    assert graph.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    digest = sha256_file(root / FOLDER / "planilla-2025-02.csv")
    assert graph.value(checksum, SPDX.checksumValue) == Literal(digest, datatype=XSD.hexBinary)


def test_facts_are_eu_vocabulary_concepts_and_typed_dates(tmp_path):
    root = tmp_path / "published"
    _publish(root, tmp_path / "work", PUBLIC_URL)
    graph = _graph(root)
    dataset, csv = URIRef(PUBLIC_URL + FOLDER), URIRef(PUBLIC_URL + FOLDER + "#planilla-2025-02.csv")
    assert graph.value(dataset, DCTERMS.accrualPeriodicity) == URIRef(EU + "frequency/MONTHLY")
    assert graph.value(dataset, DCTERMS.language) == URIRef(EU + "language/SPA")
    assert graph.value(dataset, DCAT.theme) == URIRef(EU + "data-theme/GOVE")
    assert graph.value(dataset, DCTERMS.spatial) == URIRef(EU + "country/PAN")
    assert graph.value(csv, DCTERMS.license) == URIRef(EU + "licence/CC0")
    assert graph.value(csv, DCTERMS["format"]) == URIRef(EU + "file-type/CSV")
    assert graph.value(csv, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    publisher = graph.value(dataset, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert graph.value(publisher, FOAF.name) == Literal("Servicio Nacional de Migración", lang="es")
    for subject in (dataset, URIRef(PUBLIC_URL)):  # contact points on the datasets and on the catalog
        contact = graph.value(subject, DCAT.contactPoint)
        assert graph.value(contact, VCARD.hasEmail) == URIRef("mailto:transparencia@migracion.gob.pa")
    for subject in (URIRef(PUBLIC_URL), dataset, csv):
        assert graph.value(subject, DCTERMS.issued).datatype == XSD.date
        assert graph.value(subject, DCTERMS.modified).datatype == XSD.date
    temporal = graph.value(dataset, DCTERMS.temporal)
    assert graph.value(temporal, DCAT.startDate) == Literal("2025-01-01", datatype=XSD.date)


def test_without_a_public_url_addresses_are_relative_to_the_catalog_and_name_no_local_path(tmp_path):
    root = tmp_path / "published"
    _publish(root, tmp_path / "work", None)
    text = (root / "catalog.json").read_text("utf-8")
    assert str(tmp_path) not in text and "file:" not in text
    served = "https://portal.example/datos/"
    graph = _graph(root, served)  # the reader resolves them against where it fetched the catalog
    dataset = URIRef(served + FOLDER)
    assert (URIRef(served), DCAT.dataset, dataset) in graph
    download = graph.value(URIRef(served + FOLDER + "#planilla-2025-01.csv"), DCAT.downloadURL)
    assert download == URIRef(served + FOLDER + "planilla-2025-01.csv")
    verdict = validate(graph)
    assert verdict.conforms and verdict.violations == [], verdict.explain()


def test_an_unchanged_rerun_leaves_catalog_json_byte_identical(tmp_path):
    root = tmp_path / "published"
    _publish(root, tmp_path / "work", PUBLIC_URL)
    before = (root / "catalog.json").read_bytes()
    mtime = (root / "catalog.json").stat().st_mtime_ns
    _publish(root, tmp_path / "again", PUBLIC_URL, months=("2025-02",))
    assert (root / "catalog.json").read_bytes() == before and (root / "catalog.json").stat().st_mtime_ns == mtime
    datasets = json.loads(before)["dcat:dataset"]
    assert {d["@id"] for d in datasets} == {PUBLIC_URL + FOLDER,
                                            PUBLIC_URL + "servicio-nacional-de-migracion/snm-informe-cumplimiento/"}


def _page_json_ld(page: Path) -> dict:
    html = page.read_text("utf-8")
    start = html.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    return json.loads(html[start:html.index("</script>", start)])


def test_with_a_public_url_the_page_gives_search_engines_absolute_download_addresses(tmp_path):
    root = tmp_path / "published"
    _publish(root, tmp_path / "work", PUBLIC_URL)
    data = _page_json_ld(root / FOLDER / "index.html")
    assert data["url"] == PUBLIC_URL + FOLDER + "index.html"
    downloads = {d["name"]: d for d in data["distribution"]}
    assert downloads["Planilla 2025-02 (CSV)"]["contentUrl"] == PUBLIC_URL + FOLDER + "planilla-2025-02.csv"
    assert all(d["contentUrl"].startswith(PUBLIC_URL + FOLDER) for d in downloads.values())


def test_the_index_and_catalog_json_say_every_items_status_this_month(tmp_path):
    """An item with no dataset was invisible: the report dataset's description names every item."""
    root = tmp_path / "published"
    _publish(root, tmp_path / "work", PUBLIC_URL)
    line = "11.3 Planilla: Publicado (ningún mes en línea)."
    assert f"<p>- {line}</p>" in (root / "index.html").read_text("utf-8")
    descriptions = [str(o) for o in _graph(root).objects(None, DCTERMS.description)]
    assert any("en el informe de febrero de 2025 (1 punto):" in d and line in d for d in descriptions)
