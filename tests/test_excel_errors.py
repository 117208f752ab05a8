"""Excel error cells (#DIV/0!, #N/A, #VALOR!…) are reported where they are, never read as empty.

python-calamine reads an error cell as an empty string; the sheet's XML says which cells hold one
(``workbook.error_cells``), and each becomes an error finding naming the sheet, the cell, the
directorate's header and what to write instead."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from workbooks import write_workbook

from transparencia.domain import Period
from transparencia.schemas import load_catalog
from transparencia.sources import workbook
from transparencia.sources.spreadsheet import extract_file
from transparencia.validation import validate

PLANILLA = load_catalog().get("planilla")
PERIOD = Period(2025, 1)
HEADER = ["Unidad", "Nombre", "Apellido", "Cédula", "Cargo", "Condición", "Salario Mensual", "Gastos de Representación",
          "Fecha de inicio"]


def _person(n: int, salary: object = 1250.0, expenses: object = None) -> list[object]:
    return ["Dirección de Finanzas", "Ana", "Pérez", f"8-123-{4560 + n}", "Analista", "PERMANENTE", salary, expenses,
            "01/03/2019"]


def _planilla(path: Path, rows: list[list[object]], title: str = "Planilla") -> Path:
    return write_workbook(path, {title: [HEADER, *rows]})


def _excel_errors(report):
    return [f for f in report.findings if f.rule == "excel-error"]


def test_an_error_in_an_optional_amount_is_an_error_naming_sheet_cell_header_and_what_to_write(tmp_path):
    path = _planilla(tmp_path / "planilla.xlsx", [_person(1), _person(2, expenses="#DIV/0!"), _person(3)])
    report = validate(extract_file(path, PLANILLA, period=PERIOD), PLANILLA, PERIOD)
    [finding] = _excel_errors(report)
    assert finding.severity == "error" and not report.valid
    assert (finding.row, finding.column, finding.cell, finding.header) == (3, "gasto_representacion", "H3", "Gastos de Representación")
    assert finding.message.startswith("La celda de la hoja «Planilla» muestra el error de Excel #DIV/0!: una división "
                                      "por cero en la fórmula")
    assert "Escriba el monto (p. ej. 1250.00), o deje la celda vacía si no hay." in finding.message
    assert "celda H3 (columna «Gastos de Representación»)" in finding.message


@pytest.mark.parametrize("error", ["#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#DIV/0!"])
def test_every_error_in_a_required_amount_is_said_as_an_error_not_as_a_missing_value(tmp_path, error):
    path = _planilla(tmp_path / "planilla.xlsx", [_person(1), _person(2, salary=error)])
    report = validate(extract_file(path, PLANILLA, period=PERIOD), PLANILLA, PERIOD)
    assert [(f.rule, f.cell, f.value) for f in report.errors] == [("excel-error", "G3", error)]
    assert report.errors[0].message.split(": ")[0] == f"La celda de la hoja «Planilla» muestra el error de Excel {error}"
    assert "Escriba el monto (p. ej. 1250.00)." in report.errors[0].message
    assert "vacía" not in report.errors[0].message


def _with_formula_errors(path: Path) -> Path:
    """The workbook as Excel or LibreOffice save it: a formula with its cached error value."""
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml, count = re.subn(r'<c r="H3"( s="\d+")?( t="\w+")?>.*?</c>',
                         '<c r="H3" s="0" t="e"><f aca="false">G3/0</f><v>#DIV/0!</v></c>', xml)
    assert count == 1
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def test_a_formula_that_gives_an_error_is_found_through_its_cached_value(tmp_path):
    path = _with_formula_errors(_planilla(tmp_path / "planilla.xlsx", [_person(1), _person(2, expenses=0.0)]))
    assert workbook.error_cells(path, "Planilla") == {(3, 8): "#DIV/0!"}
    report = validate(extract_file(path, PLANILLA, period=PERIOD), PLANILLA, PERIOD)
    assert [(f.rule, f.cell) for f in report.errors] == [("excel-error", "H3")]


def test_a_sheet_without_errors_has_none_and_reads_as_before(tmp_path):
    path = _planilla(tmp_path / "planilla.xlsx", [_person(1), _person(2, expenses=100.0)])
    assert workbook.error_cells(path, "Planilla") == {}
    report = validate(extract_file(path, PLANILLA, period=PERIOD), PLANILLA, PERIOD)
    assert report.valid and report.errors == []


def test_only_the_sheet_read_is_looked_at(tmp_path):
    path = write_workbook(tmp_path / "libro.xlsx", {
        "Planilla": [HEADER, _person(1), _person(2)],
        "Borrador": [["Cálculo", "Resultado"], ["a", "#DIV/0!"]],
    })
    extraction = extract_file(path, PLANILLA, sheet="Planilla", period=PERIOD)
    assert extraction.failures == []
    assert workbook.error_cells(path, "Borrador") == {(2, 2): "#DIV/0!"}


def test_an_error_written_in_a_csv_by_a_spanish_excel_is_reported_too(tmp_path):
    path = tmp_path / "planilla.csv"
    lines = [",".join(HEADER), ",".join(map(str, _person(1, expenses=""))),
             ",".join(map(str, _person(2, expenses="#¡DIV/0!")))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate(extract_file(path, PLANILLA, period=PERIOD), PLANILLA, PERIOD)
    [finding] = report.errors
    assert (finding.rule, finding.row, finding.value) == ("excel-error", 3, "#¡DIV/0!")
    assert finding.message.startswith("La celda muestra el error de Excel #¡DIV/0!: una división por cero")


def test_an_error_in_a_text_field_is_not_published_as_text(tmp_path):
    row = _person(2)
    row[4] = "#N/A"  # a cargo looked up with BUSCARV that found nothing
    path = _planilla(tmp_path / "planilla.xlsx", [_person(1), row])
    report = validate(extract_file(path, PLANILLA, period=PERIOD), PLANILLA, PERIOD)
    assert [(f.rule, f.cell) for f in report.errors] == [("excel-error", "E3")]
    assert "Escriba el dato." in report.errors[0].message
