"""Findings name what the directorate sees: its own column header and the cell (issue 20, req. 4)."""

from __future__ import annotations

import datetime as dt

from typer.testing import CliRunner
from workbooks import write_workbook

from transparencia.cli import app
from transparencia.domain import Period
from transparencia.publishers.public import public_findings
from transparencia.schemas import load_catalog
from transparencia.sources.spreadsheet import extract_file
from transparencia.validation import validate
from transparencia.validation.findings import Finding

PLANILLA = load_catalog().get("planilla")
HEADER = ["Unidad", "Nombre", "Apellido", "No. de Cédula", "Cargo", "Estado", "Monto Salario", "Gasto Rep.",
          "Fecha de ingreso"]


def person(i: int, **changes) -> list:
    row = {"unidad": "RRHH", "nombre": "Ana", "apellido": f"Pérez {i}", "cedula": f"8-123-{1000 + i}",
           "cargo": "Analista", "condicion": "PERMANENTE", "salario": 1250.0, "gasto": 0.0,
           "inicio": dt.datetime(2020, 1, 1), **changes}
    return [None, *row.values()]  # the table starts in column B


def planilla(tmp_path, *rows) -> object:
    """A workbook with two banner rows, the header on row 4 starting in column B, people from row 5."""
    path = write_workbook(tmp_path / "planilla.xlsx", {"Planilla": [
        ["MINISTERIO DE PRUEBA"], ["PLANILLA DE ENERO 2025"], [], [None, *HEADER], *rows]})
    return extract_file(path, PLANILLA, period=Period(2025, 1))


def test_a_finding_names_the_directorates_header_and_cell(tmp_path):
    extraction = planilla(tmp_path, person(1), person(2, salario=-5.0), person(3))
    report = validate(extraction, PLANILLA, period="2025-01")
    [error] = report.errors
    assert (error.column, error.header, error.cell, error.row) == ("salario_mensual", "Monto Salario", "H6", 6)
    assert "celda H6" in error.message and "«Monto Salario»" in error.message
    assert error.to_dict()["header"] == "Monto Salario" and error.to_dict()["cell"] == "H6"


def test_a_value_that_failed_to_convert_names_its_cell(tmp_path):
    extraction = planilla(tmp_path, person(1, inicio="treinta de febrero"), person(2))
    [error] = validate(extraction, PLANILLA, period="2025-01").errors
    assert (error.rule, error.header, error.cell) == ("type-error", "Fecha de ingreso", "J5")


def test_a_compound_key_names_every_header_and_its_first_cell(tmp_path):
    extraction = planilla(tmp_path, person(1), person(1))
    repeated = [f for f in validate(extraction, PLANILLA, period="2025-01").errors if f.rule == "duplicate-key"]
    assert [(f.header, f.cell) for f in repeated] == [("No. de Cédula, Cargo", "E5"), ("No. de Cédula, Cargo", "E6")]


def test_the_published_message_keeps_the_place_but_not_the_personal_value(tmp_path):
    extraction = planilla(tmp_path, person(1, cedula="8-12-ABC"), person(2))
    report = validate(extraction, PLANILLA, period="2025-01")
    [shown] = [f for f in public_findings(report, PLANILLA.table_schema(), {"cedula": "mask"} | {
        f.name: "publish" for f in PLANILLA.table_schema().fields if f.name != "cedula"}) if f["rule"] == "cedula"]
    assert "8-12-ABC" not in shown["message"]
    assert shown["cell"] == "E5" and "celda E5 (columna «No. de Cédula»)" in shown["message"]


def test_a_finding_read_back_from_the_ledger_keeps_header_and_cell(tmp_path):
    extraction = planilla(tmp_path, person(1), person(2, salario=-5.0))
    [error] = validate(extraction, PLANILLA, period="2025-01").errors
    assert Finding.from_dict(error.to_dict()) == error


def test_the_validate_command_lists_the_header_and_the_cell(tmp_path):
    planilla(tmp_path, person(1), person(2, salario=-5.0))
    result = CliRunner().invoke(app, ["validate", "planilla", str(tmp_path / "planilla.xlsx"), "--period", "2025-01"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "H6" in result.output and "Monto Salario (salario_mensual)" in result.output
