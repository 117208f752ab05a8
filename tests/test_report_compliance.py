"""The compliance report: statuses, the headline count, the three formats, and a real browser render."""

import json
import shutil
import subprocess
from datetime import date

import pytest

from transparencia.domain import Frequency, ItemStatus, Period
from transparencia.reports.compliance import (
    ComplianceReport,
    ItemReport,
    document_status,
    items_note,
    load_report,
    report_dataset,
    report_resources,
    write_report,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _report() -> ComplianceReport:
    finding = {"rule": "amount_product", "severity": "error", "column": "monto", "row": 7, "value": 999.0,
               "message": "El monto 999.00 no es días × tarifa (1600.00)", "file": "viaticos.xlsx", "sheet": None}
    items = [
        ItemReport("11.3", "Planilla", "dataset", "monthly", ItemStatus.PUBLISHED_WITH_WARNINGS, "rrhh", rows=120, warnings=1,
                   url="file:///tmp/planilla.csv", last_update="2025-02-03",
                   findings=[{**finding, "severity": "warning", "message": "Fecha <fuera> del mes"}]),
        ItemReport("11.6", "Viáticos", "dataset", "monthly", ItemStatus.REJECTED, "finanzas", rows=10, errors=1,
                   findings=[finding]),
        ItemReport("10.5", "Contrataciones", "dataset", "monthly", ItemStatus.NOT_RECEIVED, "compras"),
        ItemReport("9.1", "Reglamento interno", "document", "on_change", ItemStatus.PUBLISHED, "legal", last_update="2019-01-01"),
        ItemReport("O.1", "Otras informaciones", "document", "yearly", ItemStatus.OUTDATED, "direccion", last_update="2022-01-01"),
        ItemReport("O.2", "Subsidios", "dataset", "monthly", ItemStatus.NOT_APPLICABLE, "finanzas", detail="No otorga subsidios"),
    ]
    return ComplianceReport("Servicio Nacional de Migración", "SNM", Period(2025, 1), items)


def test_headline_excludes_items_that_do_not_apply():
    report = _report()
    assert report.headline == "2 de 5 puntos cumplidos"
    assert report.to_dict()["summary"]["by_status"][ItemStatus.REJECTED] == 1


@pytest.mark.parametrize("frequency,updated,expected", [
    ("on_change", date(2010, 1, 1), ItemStatus.PUBLISHED),
    ("yearly", date(2024, 1, 15), ItemStatus.PUBLISHED),
    ("yearly", date(2023, 12, 31), ItemStatus.OUTDATED),
    ("quarterly", date(2024, 9, 30), ItemStatus.OUTDATED),
    ("monthly", date(2024, 12, 1), ItemStatus.PUBLISHED),
    ("monthly", None, ItemStatus.NOT_RECEIVED),
])
def test_document_freshness_follows_frequency(frequency, updated, expected):
    assert document_status(Frequency(frequency), updated, Period(2025, 1)) == expected


def test_formats_carry_the_same_facts(tmp_path):
    report = _report()
    paths = write_report(report, tmp_path)
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["summary"]["headline"] == "2 de 5 puntos cumplidos"
    assert load_report(paths["json"]).to_dict() == report.to_dict()
    md = paths["md"].read_text(encoding="utf-8")
    assert "**2 de 5 puntos cumplidos**" in md and "Rechazado por errores" in md and "fila 7" in md
    html = paths["html"].read_text(encoding="utf-8")
    assert "Fecha &lt;fuera&gt; del mes" in html  # escaped, never injected
    assert "http://" not in html and "https://" not in html  # self-contained: no CDN, no remote asset


def test_unchanged_report_is_not_rewritten(tmp_path):
    first = write_report(_report(), tmp_path)
    stamps = {fmt: p.stat().st_mtime_ns for fmt, p in first.items()}
    second = write_report(_report(), tmp_path)
    assert {fmt: p.stat().st_mtime_ns for fmt, p in second.items()} == stamps
    names = [r.name for r in report_resources(_report(), second)]
    assert names == [f"Informe de cumplimiento 2025-01 ({m})" for m in ("HTML", "JSON", "MD")]


@pytest.mark.browser
def test_html_renders_in_headless_chromium(tmp_path):
    if not shutil.which(CHROMIUM):
        pytest.fail("chromium no está instalado (scripts/bootstrap.sh --test lo instala)")
    html = write_report(_report(), tmp_path / "out", ["html"])["html"]
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", html.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert '<p class="headline bad" id="resumen">2 de 5 puntos cumplidos</p>' in dom
    assert dom.count('<span class="estado') == 6
    assert "Rechazado por errores" in dom


def test_the_report_dataset_says_every_items_status_and_last_month_online_with_the_reason():
    """An item that is not published has no dataset: the report dataset's description (on CKAN, in
    the local index and in catalog.json) still names it, with its last month online and why."""
    report = _report()
    report.items[0].last_online = "2025-01"
    report.items[1].last_online, report.items[1].detail = "2024-12", "1 error (el primero: monto)."
    note = items_note(report)
    assert note.startswith("Estado de los puntos de transparencia en el informe de enero de 2025 (6 puntos):")
    assert "- 11.3 Planilla: Publicado con advertencias (último mes en línea: enero de 2025)." in note
    assert ("- 11.6 Viáticos: Rechazado por errores de validación (último mes en línea: diciembre de 2024). "
            "Motivo: 1 error (el primero: monto).") in note
    assert "- 10.5 Contrataciones: " in note and "(ningún mes en línea)." in note
    assert "- 9.1 Reglamento interno: Publicado (documento actualizado el 2019-01-01)." in note
    assert note.count("\n\n- ") == 6
    assert note in report_dataset(report, "snm", "cc-zero").notes
