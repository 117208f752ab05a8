"""Period fidelity: a file of another month is refused before its rows are stamped with the wrong
period, and a row already published in another month is refused before the history counts it twice.
Files are generated as a directorate makes them (banner, header, total row, footnote)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from institutions import write_institution
from workbooks import write_workbook

from transparencia.domain import Period
from transparencia.domain.period import months_named
from transparencia.flows.store import MonthStore
from transparencia.schemas import load_catalog
from transparencia.sources.demo import Banner, sample_frame, write_csv, write_xlsx
from transparencia.sources.spreadsheet import extract_file
from transparencia.validation import validate
from transparencia.validation.period_fidelity import natural_key

CATALOG = load_catalog()
VIATICOS = CATALOG.get("viaticos")
PLANILLA = CATALOG.get("planilla")


def _viaticos_file(folder: Path, name: str, period: str, title_period: str | None = None, rows: int = 40) -> Path:
    schema = VIATICOS.table_schema()
    frame = sample_frame(schema, Period.parse(period), rows)
    banner = Banner("Servicio Nacional de Migración", schema.title, Period.parse(title_period or period), dt.date(2025, 3, 3),
                    "Dirección de Finanzas")
    return write_xlsx([("Viáticos", schema, frame)], folder / name, banner)


def _errors(report, rule):
    return [f for f in report.findings if f.rule == rule and f.severity == "error"]


def test_february_file_validated_as_january_is_a_blocking_error_naming_february(tmp_path):
    path = _viaticos_file(tmp_path, "viaticos.xlsx", "2025-02")
    extraction = extract_file(path, VIATICOS, period=Period(2025, 1))
    report = validate(extraction, VIATICOS, period="2025-01")

    assert not report.valid
    [finding] = _errors(report, "period-evidence")
    assert finding.message.startswith("El archivo parece ser de febrero de 2025: 40 de 40 fechas de salida caen "
                                      "en febrero")
    assert finding.value == "2025-02"
    # said once: the 40 trips dated outside January are the evidence, not 40 more warnings
    assert [f.rule for f in report.findings if f.rule.startswith("date-")] == []


def test_the_right_month_has_no_period_finding(tmp_path):
    path = _viaticos_file(tmp_path, "viaticos_enero_2025.xlsx", "2025-01")
    report = validate(extract_file(path, VIATICOS, period=Period(2025, 1)), VIATICOS, period=Period(2025, 1))
    assert not [f for f in report.findings if f.rule in ("period-evidence", "period-hint")]


def _without_period_column(schema, frame):
    """A directorate's file: no period column (the run's period fills it)."""
    return dataclasses.replace(schema, fields=schema.fields[1:]), frame.drop(columns=["periodo"])


def test_a_title_naming_another_month_blocks_an_item_without_period_bound_dates(tmp_path):
    schema, frame = _without_period_column(PLANILLA.table_schema(),
                                           sample_frame(PLANILLA.table_schema(), Period(2025, 1), 10))
    banner = Banner("Servicio Nacional de Migración", schema.title, Period(2025, 2), dt.date(2025, 3, 3), "RR. HH.")
    path = write_xlsx([("Planilla", schema, frame)], tmp_path / "planilla.xlsx", banner)
    report = validate(extract_file(path, PLANILLA, period=Period(2025, 1)), PLANILLA, period=Period(2025, 1))

    [finding] = _errors(report, "period-evidence")
    assert "febrero de 2025" in finding.message and "el título dice" in finding.message


def test_a_file_name_naming_another_month_blocks_a_csv(tmp_path):
    schema, frame = _without_period_column(PLANILLA.table_schema(),
                                           sample_frame(PLANILLA.table_schema(), Period(2025, 1), 5))
    banner = Banner("SNM", schema.title, Period(2025, 1), dt.date(2025, 2, 3), "RR. HH.")
    path = write_csv(frame, schema, tmp_path / "planilla_marzo_2025.csv", banner)
    banner_free = path.read_text(encoding="utf-8-sig").replace("Planilla - Enero 2025", "Planilla")
    path.write_text(banner_free, encoding="utf-8-sig")
    report = validate(extract_file(path, PLANILLA, period=Period(2025, 1)), PLANILLA, period=Period(2025, 1))

    [finding] = _errors(report, "period-evidence")
    assert "marzo de 2025" in finding.message and "planilla_marzo_2025.csv" in finding.message


def test_the_source_period_column_confirms_the_month_against_a_wrong_title(tmp_path):
    schema = PLANILLA.table_schema()
    banner = Banner("SNM", schema.title, Period(2025, 2), dt.date(2025, 3, 3), "RR. HH.")
    path = write_xlsx([("Planilla", schema, sample_frame(schema, Period(2025, 1), 6))], tmp_path / "planilla.xlsx", banner)
    report = validate(extract_file(path, PLANILLA, period=Period(2025, 1)), PLANILLA, period=Period(2025, 1))
    assert not _errors(report, "period-evidence")
    assert [f.severity for f in report.findings if f.rule == "period-hint"] == ["warning"]


def test_a_wrong_name_is_only_a_warning_when_the_dates_say_the_period(tmp_path):
    path = _viaticos_file(tmp_path, "viaticos-2025-02.xlsx", "2025-01")
    report = validate(extract_file(path, VIATICOS, period=Period(2025, 1)), VIATICOS, period=Period(2025, 1))

    assert not _errors(report, "period-evidence")
    [hint] = [f for f in report.findings if f.rule == "period-hint"]
    assert hint.severity == "warning" and "febrero de 2025" in hint.message


@pytest.mark.parametrize(("text", "months"), [
    ("PLANILLA DE FEBRERO 2025", {"2025-02"}),
    ("viaticos 2025-03", {"2025-03"}),
    ("viaticos_202511", {"2025-11"}),
    ("Fecha de actualización: 5 de febrero de 2025", set()),  # a day, not the report's month
    ("Corte al 2025-02-05", set()),
    ("Informe de enero a marzo 2025", {"2025-01", "2025-03"}),  # inconclusive: two months
    ("Servicio Nacional de Migración", set()),
])
def test_months_named_in_titles_and_names(text, months):
    assert months_named(text, 2025) == months


def test_cross_month_duplicates_are_errors_naming_the_published_month(tmp_path):
    schema = VIATICOS.table_schema()
    january = extract_file(_viaticos_file(tmp_path, "enero.xlsx", "2025-01", rows=12), VIATICOS,
                           period=Period(2025, 1)).frame
    store = MonthStore(tmp_path / "store", "snm")
    store.save("viaticos", Period(2025, 1), january)
    # February's file repeats three of January's trips (same traveller, departure and destination).
    path = _viaticos_file(tmp_path, "febrero.xlsx", "2025-02", rows=12)
    extraction = extract_file(path, VIATICOS, period=Period(2025, 2))
    frame = extraction.frame
    for offset in range(3):
        row = frame.index[offset]
        for column in natural_key(schema):
            frame.loc[row, column] = january.iloc[offset][column]

    published = store.other_months("viaticos", Period(2025, 2), natural_key(schema))
    report = validate(extraction, VIATICOS, period="2025-02", published=published)

    duplicates = _errors(report, "cross-month-duplicate")
    assert [f.row for f in duplicates] == list(frame.index[:3])
    assert "ya está publicada en enero de 2025" in duplicates[0].message
    assert not report.valid


def test_the_same_month_published_again_is_not_a_cross_month_duplicate(tmp_path):
    schema = VIATICOS.table_schema()
    store = MonthStore(tmp_path / "store", "snm")
    path = _viaticos_file(tmp_path, "viaticos.xlsx", "2025-01", rows=8)
    extraction = extract_file(path, VIATICOS, period=Period(2025, 1))
    store.save("viaticos", Period(2025, 1), extraction.frame)
    published = store.other_months("viaticos", Period(2025, 1), natural_key(schema))
    report = validate(extraction, VIATICOS, period="2025-01", published=published)
    assert not _errors(report, "cross-month-duplicate")


def test_payroll_rows_repeat_every_month_and_are_not_checked_across_months():
    assert natural_key(PLANILLA.table_schema()) == []
    assert natural_key(VIATICOS.table_schema()) == ["nombre", "fecha_salida", "destino"]


@pytest.mark.prefect
def test_the_release_refuses_another_months_file_and_rows_already_published(prefect_server, tmp_path):
    """The issue's scenario end to end: February's viáticos dropped into January's inbox, then a
    February file that repeats January's trips; neither reaches the store, the catalog or the history."""
    import json

    from transparencia.flows.release import run_release

    write_institution(tmp_path, """
institution: {name: Servicio Nacional de Migración, acronym: SNM, organization: snm-periodo}
publish: {target: local, local_dir: published, formats: [csv]}
directorates:
  - id: finanzas
    name: Dirección de Finanzas
    sources:
      - id: finanzas-viaticos
        type: file
        path: inbox/{period}/finanzas/viaticos*.xlsx
        items: {viaticos: {}}
""")
    config, inbox = tmp_path / "institution.yaml", tmp_path / "inbox"
    store = MonthStore(tmp_path / "store", "snm-periodo")

    (inbox / "2025-01" / "finanzas").mkdir(parents=True)
    _viaticos_file(inbox / "2025-01" / "finanzas", "viaticos.xlsx", "2025-02")
    wrong = run_release(Period.parse("2025-01"), config)
    [item] = [i for i in wrong.items if i.code == "11.6"]
    assert item.status == "rechazado" and wrong.exit_code == 1
    assert any(f["rule"] == "period-evidence" and "parece ser de febrero de 2025" in f["message"] for f in item.findings)
    assert store.months("viaticos") == [] and not (tmp_path / "published" / "snm-periodo" / "snm-viaticos").exists()

    january = _viaticos_file(inbox / "2025-01" / "finanzas", "viaticos.xlsx", "2025-01", rows=10)
    assert run_release(Period.parse("2025-01"), config).exit_code == 0
    (inbox / "2025-02" / "finanzas").mkdir(parents=True)
    february = extract_file(january, VIATICOS, period=Period(2025, 1)).frame  # January's trips again...
    schema = VIATICOS.table_schema()
    rows = sample_frame(schema, Period(2025, 2), 10)
    for column in natural_key(schema):
        rows.loc[:2, column] = [v.date() if hasattr(v, "date") else v for v in february[column].iloc[:3]]
    banner = Banner("SNM", schema.title, Period(2025, 2), dt.date(2025, 3, 3), "Dirección de Finanzas")
    write_xlsx([("Viáticos", schema, rows)], inbox / "2025-02" / "finanzas" / "viaticos.xlsx", banner)
    repeated = run_release(Period.parse("2025-02"), config)
    [item] = [i for i in repeated.items if i.code == "11.6"]
    assert item.status == "rechazado"
    assert sum(f["rule"] == "cross-month-duplicate" for f in item.findings) == 3
    assert store.months("viaticos") == [Period(2025, 1)]
    history = (tmp_path / "published" / "snm-periodo" / "snm-viaticos" / "viaticos-historico.csv")
    assert history.read_text(encoding="utf-8-sig").count("\n") == 11  # header + January's 10 trips
    report = json.loads(Path(repeated.report_paths["json"]).read_text(encoding="utf-8"))
    assert next(i for i in report["items"] if i["code"] == "11.6")["status"] == "rechazado"


@pytest.mark.parametrize(("text", "months"), [
    ("FEB 2025", {"2025-02"}), ("Ene", {"2025-01"}), ("Sept.", {"2025-09"}), ("Mar-2024", {"2024-03"}),
    ("Hoja1", set()), ("Resumen", set()), ("Set de datos", set()), ("Mar", set()), ("SET 2025", {"2025-09"}),
])
def test_months_named_in_short_labels_count_abbreviations(text, months):
    assert months_named(text, 2025, abbreviated=True) == months


def test_a_sheet_named_for_another_month_blocks_the_release(tmp_path):
    item = CATALOG.get("planilla")
    write_workbook(tmp_path / "planilla.xlsx", {"Enero": [
        ["Unidad", "Nombre", "Apellido", "Cédula", "Cargo", "Condición", "Salario", "Gasto de representación",
         "Fecha de inicio"],
        ["RRHH", "Ana", "Pérez", "8-1-1", "Analista", "PERMANENTE", 1000, 0, "15/01/2020"]]})
    report = validate(extract_file(tmp_path / "planilla.xlsx", item, period=Period(2025, 2)), item, "2025-02")
    assert [f.rule for f in report.errors] == ["period-evidence"]
    assert "la hoja se llama 'Enero'" in report.errors[0].message
