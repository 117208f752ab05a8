"""The local catalog: files under <root>/<organization>/<dataset>/, DCAT catalog.json, index.html, idempotence."""

import dataclasses
import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from release_samples import INSTITUTION, planilla_frame, planilla_release

from transparencia.domain import Frequency, ItemStatus, Period
from transparencia.errors import ConfigError, InputError
from transparencia.publishers.base import BASE_TAGS, EXTRA_KEYS
from transparencia.publishers.local import LocalCatalog
from transparencia.publishers.render import render_release
from transparencia.reports.compliance import (
    ComplianceReport,
    ItemReport,
    report_dataset,
    report_resources,
    write_report,
)

DATASET_DIR = Path("servicio-nacional-de-migracion/snm-planilla")


def _publish(root: Path, release, work: Path, dry_run: bool = False):
    spec, resources = render_release(release, work)
    return LocalCatalog(root).sync(spec, resources, dry_run=dry_run)


def _stats(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file() and p.name != ".lock"}


def _actions(result) -> dict[str, str]:
    return {a.name: a.action for a in result.actions}


def test_first_sync_creates_everything_and_the_second_writes_nothing(tmp_path):
    root = tmp_path / "published"
    first = _publish(root, planilla_release(), tmp_path / "r1")
    assert set(_actions(first).values()) == {"create"} and first.writes == 14
    assert (root / DATASET_DIR / "planilla-2025-01.csv").is_file()
    before = _stats(root)
    second = _publish(root, planilla_release(), tmp_path / "r2")
    assert second.writes == 0 and set(_actions(second).values()) == {"unchanged"}
    assert _stats(root) == before


def test_changing_one_row_updates_only_that_month_and_the_history(tmp_path):
    root = tmp_path / "published"
    _publish(root, planilla_release(), tmp_path / "r1")
    before = _stats(root)
    frame = planilla_frame("2025-01")
    frame.loc[frame.index[1], "salario_mensual"] = 2600.0
    result = _publish(root, planilla_release(frame=frame), tmp_path / "r2")
    changed = {name for name, action in _actions(result).items() if action != "unchanged"}
    assert changed == {
        "snm-planilla",
        "Planilla 2025-01 (CSV)", "Planilla 2025-01 (XLSX)", "Planilla 2025-01 (JSON)",
        "Planilla — histórico (CSV)", "Planilla — histórico (XLSX)", "Planilla — histórico (JSON)",
        # the month's totals: in the change summary, the chart and the package's description
        "Planilla 2025-01 — cambios respecto al mes anterior (JSON)", "Planilla — gráfico mensual (SVG)",
        "Planilla — paquete de datos (datapackage.json)",
    }
    after = _stats(root)
    untouched = [DATASET_DIR / "planilla-diccionario.csv", DATASET_DIR / "planilla-2025-01-informe-validacion.json"]
    assert all(after[str(p)] == before[str(p)] for p in untouched)
    assert after[str(DATASET_DIR / "planilla-2025-01.csv")] != before[str(DATASET_DIR / "planilla-2025-01.csv")]
    assert "2600" in (root / DATASET_DIR / "planilla-2025-01.csv").read_text(encoding="utf-8-sig")


def _two_months(root: Path, tmp_path: Path):
    january, february = planilla_frame("2025-01"), planilla_frame("2025-02")
    _publish(root, planilla_release("2025-01", frame=january), tmp_path / "jan")
    before = _stats(root)
    result = _publish(root, planilla_release("2025-02", frame=february, history=pd.concat([january, february])),
                      tmp_path / "feb")
    return before, result


def test_a_new_month_adds_files_and_leaves_the_old_month_alone(tmp_path):
    root = tmp_path / "published"
    before, result = _two_months(root, tmp_path)
    after = _stats(root)
    assert after[str(DATASET_DIR / "planilla-2025-01.xlsx")] == before[str(DATASET_DIR / "planilla-2025-01.xlsx")]
    assert _actions(result)["Planilla 2025-02 (CSV)"] == "create"
    assert _actions(result)["Planilla — histórico (CSV)"] == "update"
    history = (root / DATASET_DIR / "planilla-historico.csv").read_text(encoding="utf-8-sig")
    assert "2025-01" in history and "2025-02" in history
    metadata = json.loads((root / DATASET_DIR / "metadatos.json").read_text())
    names = {r["name"] for r in metadata["resources"]}
    assert {"Planilla 2025-01 (CSV)", "Planilla 2025-02 (CSV)"} <= names
    assert metadata["dataset"]["extras"]["cobertura temporal"] == "2025-01 a 2025-02"


def test_the_compliance_report_and_item_datasets_share_tags_extras_and_dcat_facts(tmp_path):
    """The report dataset once wrote 'base_legal' and 'ley-6-2002' and lost dct:conformsTo."""
    root = tmp_path / "published"
    _two_months(root, tmp_path)
    item = ComplianceReport("Servicio Nacional de Migración", "SNM", Period(2025, 2), [
        ItemReport("11.3", "Planilla", "dataset", "monthly", ItemStatus.PUBLISHED, "rrhh")])
    paths = write_report(item, tmp_path / "informe")
    LocalCatalog(root).sync(report_dataset(item, "servicio-nacional-de-migracion", "cc-zero"),
                            report_resources(item, paths))
    datasets = {d["dct:identifier"]: d for d in json.loads((root / "catalog.json").read_text("utf-8"))["dcat:dataset"]}
    report, planilla = datasets["snm-informe-cumplimiento"], datasets["snm-planilla"]
    assert report["dct:conformsTo"]["dct:title"] == "Ley 6 de 2002"
    assert planilla["dct:conformsTo"]["dct:title"] == "Ley 6 de 2002, art. 11"
    assert report["dct:accrualPeriodicity"] == planilla["dct:accrualPeriodicity"] == Frequency.MONTHLY.dcat_uri
    assert report["dct:temporal"]["dcat:startDate"] == "2025-02-01"
    assert set(BASE_TAGS) <= set(report["dcat:keyword"]) and set(BASE_TAGS) <= set(planilla["dcat:keyword"])
    metadata = [json.loads(p.read_text("utf-8"))["dataset"] for p in sorted(root.glob("*/*/metadatos.json"))]
    extras = [set(m["extras"]) for m in metadata]
    assert all(keys <= set(EXTRA_KEYS.values()) for keys in extras) and {"base legal", "frecuencia"} <= extras[0] & extras[1]
    # every month's file, validation reports included, is listed under its month in the index
    index = (root / "index.html").read_text("utf-8")
    assert index.index("Planilla 2025-02 — informe de validación (HTML)") < index.index("Planilla 2025-01 (CSV)")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.text, self.open = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs)["href"])
        if tag not in ("br", "meta"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> sin abrir"

    def handle_data(self, data):
        self.text.append(data)


def test_index_html_lists_datasets_with_working_links(tmp_path):
    root = tmp_path / "published"
    _two_months(root, tmp_path)
    parser = _Links()
    parser.feed((root / "index.html").read_text(encoding="utf-8"))
    assert parser.open == []
    text = " ".join(parser.text)
    assert "Planilla — Servicio Nacional de Migración" in text and "2025-01 a 2025-02" in text
    files = [link for link in parser.links if not link.startswith(("#", "http", "mailto:"))]
    assert len([f for f in files if f.endswith(".csv")]) >= 4
    for link in files:
        assert (root / link).is_file(), link
    assert "https://" not in (root / "index.html").read_text().split("<body>")[0]  # no CDN in <head>


def test_dry_run_writes_nothing(tmp_path):
    root = tmp_path / "published"
    result = _publish(root, planilla_release(), tmp_path / "r", dry_run=True)
    assert result.dry_run and result.writes == 14
    assert not root.exists()
    _publish(root, planilla_release(), tmp_path / "r")
    before = _stats(root)
    frame = planilla_frame("2025-01")
    frame.loc[frame.index[0], "cargo"] = "Jefe"
    planned = _publish(root, planilla_release(frame=frame), tmp_path / "r2", dry_run=True)
    assert _actions(planned)["Planilla 2025-01 (CSV)"] == "update"
    assert _stats(root) == before


def test_invalid_names_and_altered_files_are_refused(tmp_path):
    spec, resources = render_release(planilla_release(), tmp_path / "r")
    with pytest.raises(ConfigError, match="organización 'Migración/..' no válido"):
        LocalCatalog(tmp_path / "p").sync(dataclasses.replace(spec, organization="Migración/.."), resources)
    resources[0].path.write_text("otro contenido", encoding="utf-8")
    with pytest.raises(InputError, match="cambió después de generarse"):
        LocalCatalog(tmp_path / "p").sync(spec, resources)
    assert not list((tmp_path / "p").rglob("*.tmp"))


class _JsonLdScripts(HTMLParser):
    """The contents of every ``<script type="application/ld+json">``, as an HTML parser splits them."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        self._inside = tag == "script" and dict(attrs).get("type") == "application/ld+json"
        if self._inside:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.scripts[-1] += data


def _page_json_ld(root: Path, folder: Path = DATASET_DIR) -> list[dict]:
    parser = _JsonLdScripts()
    parser.feed((root / folder / "index.html").read_text(encoding="utf-8"))
    return [json.loads(script) for script in parser.scripts]


def test_dataset_page_embeds_schema_org_dataset_json_ld_for_search_engines(tmp_path):
    root = tmp_path / "published"
    _publish(root, planilla_release("2025-01"), tmp_path / "r1")
    _publish(root, planilla_release("2025-02"), tmp_path / "r2")

    [data] = _page_json_ld(root)
    metadata = json.loads((root / DATASET_DIR / "metadatos.json").read_text("utf-8"))["dataset"]
    assert data["@context"] == "https://schema.org/" and data["@type"] == "Dataset"
    assert data["name"] == metadata["title"] and data["description"] == metadata["notes"]
    assert data["license"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    institution = {"@type": "Organization", "name": "Servicio Nacional de Migración"}
    assert data["creator"] == institution and data["publisher"] == institution
    assert data["temporalCoverage"] == "2025-01/2025-02"
    assert data["keywords"] == metadata["tags"]
    downloads = data["distribution"]
    assert {d["@type"] for d in downloads} == {"DataDownload"}
    assert {"name": "Planilla 2025-02 (CSV)", "encodingFormat": "text/csv", "@type": "DataDownload"} in downloads
    # no absolute public address is configured: no relative or file:// contentUrl for search engines
    assert all("contentUrl" not in d for d in downloads)


def test_a_title_with_a_closing_script_tag_cannot_break_out_of_the_json_ld(tmp_path):
    root = tmp_path / "published"
    hostile = INSTITUTION.model_copy(update={"name": "Migración</script><script>alert(1)</script><!--"})
    release = dataclasses.replace(planilla_release(), institution=hostile)
    _publish(root, release, tmp_path / "r1")

    page = (root / DATASET_DIR / "index.html").read_text(encoding="utf-8")
    [data] = _page_json_ld(root)
    assert data["publisher"]["name"] == hostile.name and hostile.name in data["name"]
    assert "<script>alert(1)" not in page
