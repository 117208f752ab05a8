"""validate(): findings from conversion failures, missing columns, the generated suite, row rules
and the period; row numbers as the officer sees them; the cap; no network."""

import json
import socket
import subprocess
import sys

import pandas as pd
import pytest

from transparencia.domain import Period
from transparencia.errors import ConfigError
from transparencia.schemas import load_catalog
from transparencia.schemas.table import load_schema, schema_names
from transparencia.sources.extraction import CellFailure, Extraction, SourceRef
from transparencia.validation import FINDING_TYPES, validate
from transparencia.validation.hits import MAX_FINDINGS_PER_CHECK

CATALOG = load_catalog()
PLANILLA = CATALOG.get("planilla")
VIATICOS = CATALOG.get("viaticos")


def typed(schema, rows: list[dict], first_row: int) -> pd.DataFrame:
    """A frame as an extractor returns it: schema columns in order, typed, indexed by source row."""
    index = pd.RangeIndex(first_row, first_row + len(rows), name="fila")
    frame = pd.DataFrame(rows, columns=schema.field_names, index=index)
    for f in schema.fields:
        column = frame[f.name]
        if f.type in ("string", "yearmonth"):
            frame[f.name] = column.astype("str")
        elif f.type == "number":
            frame[f.name] = pd.to_numeric(column).astype("float64")
        elif f.type == "integer":
            frame[f.name] = pd.to_numeric(column).astype("Int64")
        elif f.type == "date":
            frame[f.name] = pd.to_datetime(column)
        elif f.type == "boolean":
            truth = {"true": True, "sí": True, "si": True, "1": True, "false": False, "no": False, "0": False}
            frame[f.name] = column.map(lambda v, truth=truth: None if v is None else truth[str(v).lower()]).astype("boolean")
    return frame


def example_row(schema, **changes) -> dict:
    return {**{f.name: f.example for f in schema.fields}, **changes}


def extraction_of(item, rows, first_row=5, **extra) -> Extraction:
    frame = typed(item.table_schema(), rows, first_row)
    return Extraction(item=item.code, frame=frame, source=SourceRef("file", "datos.xlsx", "Hoja1"), **extra)


def planilla_rows(n: int, **changes) -> list[dict]:
    schema = PLANILLA.table_schema()
    return [example_row(schema, **{"cedula": f"8-{i // 1000 + 1}-{i + 1}", **changes}) for i in range(n)]


@pytest.mark.parametrize("name", schema_names())
def test_every_schema_loads_and_its_generated_suite_runs(name):
    schema = load_schema(name)
    item = next(i for i in CATALOG if i.schema == name)
    rows = [example_row(schema)]
    report = validate(Extraction(item.code, typed(schema, rows, 2), SourceRef("file", "x.csv")), item)
    assert report.rows == 1 and report.period is not None
    json.dumps(report.to_dict(), ensure_ascii=False)


@pytest.mark.parametrize("item", [PLANILLA, VIATICOS], ids=["planilla", "viaticos"])
def test_the_schema_examples_make_a_valid_row(item):
    report = validate(extraction_of(item, [example_row(item.table_schema())]), item)
    assert report.valid and report.findings == []


def test_a_finding_points_at_the_spreadsheet_row_not_the_position():
    rows = planilla_rows(3)
    rows[1]["salario_mensual"] = -5
    report = validate(extraction_of(PLANILLA, rows, first_row=12), PLANILLA)
    assert [(f.rule, f.column, f.row, f.value) for f in report.errors] == [
        ("exclusive-minimum", "salario_mensual", 13, -5.0)]
    assert report.errors[0].file == "datos.xlsx" and report.errors[0].sheet == "Hoja1"


def test_a_cell_that_failed_to_convert_is_one_type_error_not_also_a_missing_value():
    rows = planilla_rows(2)
    rows[0]["salario_mensual"] = None
    failure = CellFailure(5, "salario_mensual", "mil doscientos", "un monto (p. ej. 1250.00)")
    report = validate(extraction_of(PLANILLA, rows, failures=[failure]), PLANILLA)
    assert [(f.rule, f.row, f.value) for f in report.errors] == [("type-error", 5, "mil doscientos")]
    assert "un monto (p. ej. 1250.00)" in report.errors[0].message


def test_a_missing_required_column_is_one_finding_naming_the_accepted_headers():
    rows = planilla_rows(50, cedula=None)
    report = validate(extraction_of(PLANILLA, rows, missing_columns=["cedula"]), PLANILLA)
    assert [(f.rule, f.column, f.row) for f in report.errors] == [("missing-column", "cedula", None)]
    assert "'no. de cédula'" in report.errors[0].message


def test_findings_per_check_are_capped_with_a_count_of_the_rest():
    extra = 2500 - MAX_FINDINGS_PER_CHECK
    rows = planilla_rows(2500)
    for row in rows:
        row["cedula"] = "0" + row["cedula"]
    report = validate(extraction_of(PLANILLA, rows), PLANILLA)
    assert len(report.errors) == MAX_FINDINGS_PER_CHECK + 1
    summary = report.errors[-1]
    assert (summary.rule, summary.row) == ("cedula", None)
    assert f"y {extra:,} filas más con el mismo problema" in summary.message


def test_period_is_inferred_from_the_most_common_periodo():
    rows = planilla_rows(3)
    rows[2]["periodo"] = "2025-02"
    report = validate(extraction_of(PLANILLA, rows), PLANILLA)
    assert report.period == Period(2025, 1)
    assert [(f.rule, f.row, f.value) for f in report.errors] == [("period-mismatch", 7, "2025-02")]


def test_a_given_period_is_checked_against_every_row_and_the_dates():
    rows = planilla_rows(2, fecha_inicio="2025-01-20")
    report = validate(extraction_of(PLANILLA, rows), PLANILLA, period="2024-12")
    assert {(f.rule, f.row) for f in report.errors} == {
        ("period-mismatch", 5), ("period-mismatch", 6), ("date-after-period", 5), ("date-after-period", 6)}


def test_a_malformed_period_argument_is_a_config_error():
    with pytest.raises(ConfigError, match="AAAA-MM"):
        validate(extraction_of(PLANILLA, planilla_rows(1)), PLANILLA, period="enero")


def test_warnings_do_not_make_an_item_invalid():
    row = example_row(VIATICOS.table_schema(), fecha_salida="2024-12-30", fecha_regreso="2025-01-02")
    report = validate(extraction_of(VIATICOS, [row]), VIATICOS)
    assert report.valid
    assert [(f.rule, f.severity) for f in report.warnings] == [("date-in-period", "warning")]


def test_an_empty_planilla_is_never_valid_even_when_declared():
    for declared in (None, "en el archivo, fila 2: «Sin movimientos en el período»"):
        report = validate(extraction_of(PLANILLA, [], declared_empty=declared), PLANILLA, period="2025-01")
        assert [f.rule for f in report.errors] == ["empty-month-never"]
        assert "Planilla" in report.errors[0].message


def test_an_empty_month_is_valid_only_when_declared_and_the_report_says_so():
    undeclared = validate(extraction_of(VIATICOS, []), VIATICOS, period="2025-01")
    assert [f.rule for f in undeclared.errors] == ["empty-month"]
    assert "Sin movimientos en el período" in undeclared.errors[0].message
    where = "en la configuración de la institución (empty_periods)"
    declared = validate(extraction_of(VIATICOS, [], declared_empty=where), VIATICOS, period="2025-01")
    assert declared.valid and declared.warnings == []
    assert [(f.rule, f.severity) for f in declared.notices] == [("declared-empty", "info")]
    assert where in declared.notices[0].message
    assert declared.to_dict()["notices"][0]["rule"] == "declared-empty"
    assert declared.to_dict()["extraction"]["declared_empty"] == where


def test_a_declared_empty_month_with_rows_is_a_contradiction():
    rows = [example_row(VIATICOS.table_schema())]
    report = validate(extraction_of(VIATICOS, rows, declared_empty="fila 2"), VIATICOS, period="2025-01")
    assert "declared-empty-with-rows" in [f.rule for f in report.errors]


def test_report_json_has_the_cli_shape_and_every_rule_is_registered():
    rows = planilla_rows(2)
    rows[0]["condicion"] = "Permanente?"
    data = validate(extraction_of(PLANILLA, rows), PLANILLA).to_dict()
    json.dumps(data, ensure_ascii=False)
    assert {"item", "file", "rows", "valid", "errors", "warnings", "extraction"} <= set(data)
    assert data["valid"] is False and data["rows"] == 2
    assert set(data["errors"][0]) >= {"rule", "column", "row", "value", "message"}
    assert all(f["rule"] in FINDING_TYPES for f in data["errors"])


def test_validation_never_touches_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("validation tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    report = validate(extraction_of(VIATICOS, [example_row(VIATICOS.table_schema())]), VIATICOS)
    assert report.valid


def test_importing_the_package_does_not_import_great_expectations():
    code = "import sys, transparencia.validation; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
