"""The compliance report is also a table (issue 22, req. 3): a CSV per month online, a history CSV and
their ``datapackage.json``, published as resources of the compliance dataset, local and on CKAN.

The reports are those of the sample institution's 24 items, published by the release's report stage
(``stages.publish_report``) without Prefect. Months run in the order 3, 1, 2, 1: the history holds
every month online, the description states the newest month's statuses, and the last run writes no
public file."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
import requests
from dcat_shapes import DCAT, DCTERMS
from dcat_shapes import validate as shacl
from frictionless import validate
from institutions import sample_document, write_institution
from rdflib import RDF, Graph

from transparencia.domain import ItemKind, ItemStatus, Period, Target
from transparencia.flows import stages
from transparencia.publishers.local import LocalCatalog
from transparencia.publishers.names import portal_dataset_name
from transparencia.reports import compliance
from transparencia.reports.compliance import (
    ComplianceReport,
    DocumentState,
    Extraction,
    ItemFacts,
    ItemOutcome,
    Publishing,
    Validation,
)
from transparencia.sources.config import InstitutionConfig, load_config

JAN, FEB, MAR = Period(2025, 1), Period(2025, 2), Period(2025, 3)
PUBLIC_URL = "https://datos.migracion.gob.pa/transparencia/"


def _institution(folder: Path, organization: str = "servicio-nacional-de-migracion", acronym: str = "SNM",
                 catalog: Path | None = None) -> Path:
    """The sample institution in ``folder`` (its data folder), publishing to ``catalog`` (else
    ``folder/published``): two data folders with one catalog are two machines publishing one portal."""
    document = sample_document()
    document["institution"].update(organization=organization, acronym=acronym)
    document["publish"]["public_url"] = PUBLIC_URL
    if catalog is not None:
        document["publish"]["local_dir"] = str(catalog)
    return write_institution(folder, document)


def _report(config: InstitutionConfig, month: Period) -> ComplianceReport:
    """The month's 24 items: viáticos rejected (in January it was never online), the rest published
    (documents current)."""
    items = []
    inst = config.institution
    for item in config.catalog:
        if item.kind is ItemKind.DOCUMENT:
            outcome = ItemOutcome(item.kind, item.frequency, month, document=DocumentState(date(2025, 1, 10)))
            facts = ItemFacts("Secretaría General", url="https://www.migracion.gob.pa/doc.pdf", last_update="2025-01-10")
        elif item.slug == "viaticos":
            outcome = ItemOutcome(item.kind, item.frequency, month, extraction=Extraction.READ,
                                  validation=Validation.INVALID, reason="=1 error (el primero: monto).",
                                  last_online=None)
            facts = ItemFacts("Dirección de Finanzas", errors=1)
        else:
            outcome = ItemOutcome(item.kind, item.frequency, month, extraction=Extraction.READ,
                                  validation=Validation.VALID, publishing=Publishing.PUBLISHED, last_online=month)
            facts = ItemFacts("Dirección de Recursos Humanos", rows=10 + month.month,
                              url=f"{inst.organization}/{item.dataset_name(inst.acronym)}/", last_update="2025-04-05")
        items.append(compliance.item_report(item, outcome, facts))
    return ComplianceReport(inst.name, inst.acronym, month, items)


def _publish(config_path: Path, month: Period, target: Target = Target.LOCAL) -> int:
    """The release's report stage for the month, as ``run`` calls it; its writes."""
    config = load_config(config_path)
    report = _report(config, month)
    paths = compliance.write_report(report, config.workspace.report_dir(month))
    record = stages.publish_report(config, report, paths, target, False)
    assert record["error"] is None
    return record["writes"]


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".lock"}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _assert_valid(package: Path) -> None:
    """frictionless-py validates the descriptor and every row of every CSV (its hash and size too)."""
    report = validate(str(package))
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "type", "note"])[:10]


def test_a_csv_per_month_online_a_history_and_a_package_that_frictionless_validates(tmp_path):
    config = _institution(tmp_path)
    folder = tmp_path / "published" / "servicio-nacional-de-migracion" / "snm-informe-cumplimiento"
    for month in (MAR, JAN, FEB):
        _publish(config, month)

    for month in (JAN, FEB, MAR):
        rows = _rows(folder / f"informe-cumplimiento-{month}.csv")
        assert len(rows) == 24 and {r["periodo"] for r in rows} == {str(month)}
    history = _rows(folder / "informe-cumplimiento-historico.csv")
    assert [r["periodo"] for r in history] == ["2025-01"] * 24 + ["2025-02"] * 24 + ["2025-03"] * 24
    planilla = next(r for r in history if r["codigo"] == "11.3" and r["periodo"] == "2025-02")
    assert planilla["estado"] == "publicado" and planilla["estado_descripcion"] == "Publicado"
    assert planilla["enlace"] == PUBLIC_URL + "servicio-nacional-de-migracion/snm-planilla/"  # absolute, public
    assert (planilla["filas"], planilla["cumplido"], planilla["ultimo_mes_en_linea"]) == ("12", "sí", "2025-02")
    viaticos = next(r for r in history if r["codigo"] == "11.6" and r["periodo"] == "2025-01")
    assert viaticos["estado"] == "rechazado" and viaticos["cumplido"] == "no" and viaticos["enlace"] == ""
    assert viaticos["motivo"].startswith("'=1 error")  # a reason is never run as a spreadsheet formula
    assert "no hay otros meses publicados" in viaticos["motivo"]

    package = folder / "datapackage.json"
    _assert_valid(package)
    descriptor = json.loads(package.read_text("utf-8"))
    assert [r["path"] for r in descriptor["resources"]] == [
        "informe-cumplimiento-2025-01.csv", "informe-cumplimiento-2025-02.csv", "informe-cumplimiento-2025-03.csv",
        "informe-cumplimiento-historico.csv"]
    assert all(r["hash"].startswith("sha256:") and r["bytes"] > 0 for r in descriptor["resources"])
    assert descriptor["resources"][-1]["schema"]["primaryKey"] == ["periodo", "codigo"]


def test_re_running_an_earlier_month_writes_nothing_and_the_description_states_the_newest(tmp_path):
    """3, 1, 2, 1: the compliance dataset is described by March, the newest month online, whichever
    month ran last (before: by the month that ran last), and the last run writes no public file."""
    config = _institution(tmp_path)
    root = tmp_path / "published"
    metadata = root / "servicio-nacional-de-migracion" / "snm-informe-cumplimiento" / "metadatos.json"
    for month in (MAR, JAN, FEB):
        _publish(config, month)
        notes = json.loads(metadata.read_text("utf-8"))["dataset"]["notes"]
        assert "en el informe de marzo de 2025 (24 puntos):" in notes, month

    before = _snapshot(root)
    assert _publish(config, JAN) == 0
    assert _snapshot(root) == before


def test_the_index_catalog_json_and_page_list_all_24_items_and_the_table_files(tmp_path):
    """Every item, published or not, is named in the local index and in catalog.json (DCAT), and
    the table files are DCAT distributions of the compliance dataset like every other file."""
    config = _institution(tmp_path)
    root = tmp_path / "published"
    for month in (JAN, FEB):
        _publish(config, month)

    index = (root / "index.html").read_text("utf-8")
    codes = [item.code for item in load_config(config).catalog]
    assert len(codes) == 24
    assert all(f"<p>- {code} " in index for code in codes)
    assert "11.6 Viáticos: Rechazado por errores de validación (ningún mes en línea). Motivo:" in index

    graph = Graph().parse(data=(root / "catalog.json").read_text("utf-8"), format="json-ld",
                          publicID=PUBLIC_URL + "catalog.json")
    verdict = shacl(graph)
    assert verdict.conforms and verdict.violations == [], verdict.explain()  # DCAT-AP 3 shapes, table files included
    [dataset] = [d for d in graph.subjects(RDF.type, DCAT.Dataset) if str(d).endswith("snm-informe-cumplimiento/")]
    description = str(graph.value(dataset, DCTERMS.description))
    assert description.count("\n\n- ") == 24 and all(f"- {code} " in description for code in codes)
    titles = {str(graph.value(d, DCTERMS.title)) for d in graph.objects(dataset, DCAT.distribution)}
    assert {"Informe de cumplimiento 2025-01 (CSV)", "Informe de cumplimiento 2025-02 (CSV)",
            "Informe de cumplimiento — histórico (CSV)",
            "Informe de cumplimiento — paquete de datos (datapackage.json)"} <= titles
    page = (root / "servicio-nacional-de-migracion" / "snm-informe-cumplimiento" / "index.html").read_text("utf-8")
    assert "informe-cumplimiento-historico.csv" in page and "datapackage.json" in page


def test_a_month_published_before_the_table_existed_gets_its_csv_on_the_next_run(tmp_path):
    """The months are read from what is online (the target's resources), not from the month run:
    a month whose report is online but has no CSV yet gets it, and the history includes it."""
    config = _institution(tmp_path)
    folder = tmp_path / "published" / "servicio-nacional-de-migracion" / "snm-informe-cumplimiento"
    _publish(config, JAN)
    loaded = load_config(config)
    january = _report(loaded, JAN)
    paths = compliance.write_report(january, loaded.workspace.report_dir(JAN))
    dataset = compliance.report_dataset(january, "servicio-nacional-de-migracion", "cc-zero")
    # as an earlier version left it: only the month's HTML, JSON and Markdown
    for name in ("metadatos.json", "informe-cumplimiento-2025-01.csv", "informe-cumplimiento-historico.csv",
                 "datapackage.json"):
        (folder / name).unlink()
    LocalCatalog(tmp_path / "published").sync(dataset, compliance.report_resources(january, paths))

    _publish(config, FEB)
    history = _rows(folder / "informe-cumplimiento-historico.csv")
    assert sorted({r["periodo"] for r in history}) == ["2025-01", "2025-02"]
    assert len(_rows(folder / "informe-cumplimiento-2025-01.csv")) == 24
    _assert_valid(folder / "datapackage.json")


def test_months_published_from_another_machine_are_read_back_from_the_target_into_the_tables(tmp_path, caplog):
    """January and March ran on one machine, February on another with an empty data folder: the
    second's history and CSVs still hold every month online, read from the JSON reports the target
    holds (each checked against the sha256 the target records), and its data folder gains no report
    of a month it did not run. A report online that is not the recorded one is left out, with a warning."""
    catalog = tmp_path / "published"
    folder = catalog / "servicio-nacional-de-migracion" / "snm-informe-cumplimiento"
    first, second = _institution(tmp_path / "a", catalog=catalog), _institution(tmp_path / "b", catalog=catalog)
    _publish(first, JAN)
    _publish(first, MAR)

    _publish(second, FEB)

    history = _rows(folder / "informe-cumplimiento-historico.csv")
    assert [r["periodo"] for r in history] == ["2025-01"] * 24 + ["2025-02"] * 24 + ["2025-03"] * 24
    assert {r["periodo"] for r in _rows(folder / "informe-cumplimiento-2025-01.csv")} == {"2025-01"}
    _assert_valid(folder / "datapackage.json")
    assert sorted(p.name for p in (tmp_path / "b" / "reports").iterdir()) == ["2025-02"]

    march = folder / "informe-cumplimiento-2025-03.json"
    march.write_bytes(march.read_bytes().replace(b'"2025-03"', b'"2025-04"', 1))
    _publish(second, FEB)
    history = _rows(folder / "informe-cumplimiento-historico.csv")
    assert sorted({r["periodo"] for r in history}) == ["2025-01", "2025-02"]
    assert "Informe de cumplimiento 2025-03 (JSON): el archivo publicado no coincide con el sha256" in caplog.text


def test_the_table_schema_names_every_status_and_frictionless_catches_a_wrong_one(tmp_path):
    """The check has teeth: a status that is not one of the tool's is a constraint error."""
    config = _institution(tmp_path)
    _publish(config, JAN)
    folder = tmp_path / "published" / "servicio-nacional-de-migracion" / "snm-informe-cumplimiento"
    descriptor = json.loads((folder / "datapackage.json").read_text("utf-8"))
    fields = {f["name"]: f for f in descriptor["resources"][0]["schema"]["fields"]}
    assert fields["estado"]["constraints"]["enum"] == [s.value for s in ItemStatus]
    broken = tmp_path / "roto"
    broken.mkdir()
    text = (folder / "informe-cumplimiento-2025-01.csv").read_text("utf-8-sig").replace(",publicado,", ",cumplido,", 1)
    (broken / "informe-cumplimiento-2025-01.csv").write_text(text, encoding="utf-8-sig")
    for resource in descriptor["resources"]:
        resource.pop("hash", None), resource.pop("bytes", None)
    descriptor["resources"] = descriptor["resources"][:1]
    (broken / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    report = validate(str(broken / "datapackage.json"))
    assert not report.valid
    assert {error for [error] in report.flatten(["type"])} == {"constraint-error"}


@pytest.mark.ckan
def test_on_ckan_the_table_files_are_resources_the_package_validates_and_a_rerun_writes_nothing(
        ckan_server, ckan_org, ckan_acronym, tmp_path, monkeypatch):
    ckan_server.as_target(monkeypatch)
    config = _institution(tmp_path, ckan_org, ckan_acronym)
    name = portal_dataset_name(ckan_org, f"{ckan_acronym}-informe-cumplimiento")
    for month in (FEB, JAN):
        _publish(config, month, Target.CKAN)

    package = ckan_server.admin().action.package_show(id=name)
    assert "en el informe de febrero de 2025 (24 puntos):" in package["notes"]  # the newest, not the last run
    assert package["notes"].count("\n\n- ") == 24
    names = [r["name"] for r in package["resources"]]
    assert names.index("Informe de cumplimiento 2025-02 (CSV)") < names.index("Informe de cumplimiento 2025-01 (CSV)")
    assert names[-2:] == ["Informe de cumplimiento — histórico (CSV)",
                          "Informe de cumplimiento — paquete de datos (datapackage.json)"]
    by_name = {r["name"]: r for r in package["resources"]}
    rows = requests.get(by_name["Informe de cumplimiento — histórico (CSV)"]["url"], timeout=30).content
    assert rows.decode("utf-8-sig").count("\r\n") == 1 + 48
    local = tmp_path / "descargado" / "datapackage.json"
    local.parent.mkdir()
    local.write_bytes(requests.get(by_name["Informe de cumplimiento — paquete de datos (datapackage.json)"]["url"],
                                   timeout=30).content)
    descriptor = json.loads(local.read_text("utf-8"))
    assert len(descriptor["resources"]) == 3 and all(r["path"].startswith(ckan_server.url)
                                                    for r in descriptor["resources"])
    _assert_valid(local)  # frictionless downloads every CSV from the portal and checks its rows

    graph = Graph().parse(data=requests.get(f"{ckan_server.url}/dataset/{name}.rdf", timeout=120).text, format="xml")
    titles = {str(graph.value(d, DCTERMS.title)) for d in graph.subjects(RDF.type, DCAT.Distribution)}
    assert {"Informe de cumplimiento 2025-01 (CSV)", "Informe de cumplimiento — histórico (CSV)"} <= titles
    [dataset] = graph.subjects(RDF.type, DCAT.Dataset)
    assert str(graph.value(dataset, DCTERMS.description)).count("\n\n- ") == 24  # every item, in CKAN's DCAT too
    verdict = shacl(graph, with_imports=True)
    assert verdict.conforms and verdict.violations == [], verdict.explain()

    assert _publish(config, JAN, Target.CKAN) == 0
