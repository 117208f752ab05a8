"""Files as directorates really send them (issue 11): each pattern in several spellings, on
files the tests write, read without changing any value silently."""

import zipfile

import openpyxl
import pandas as pd
import pytest
from workbooks import write_ods, write_workbook

from transparencia.domain import Period
from transparencia.errors import InputError
from transparencia.schemas import load_catalog
from transparencia.sources.spreadsheet import extract_file
from transparencia.validation.validator import validate

PLANILLA = load_catalog().get("planilla")
HEADER = ["Unidad", "Nombre", "Apellido", "Cédula", "Cargo", "Condición", "Salario", "Gasto de representación",
          "Fecha de inicio"]


def person(name="Ana", cedula="8-123-4567", salary="1250.00", gasto=0, start="15/01/2020", unit="RRHH"):
    return [unit, name, "Pérez", cedula, "Analista", "PERMANENTE", salary, gasto, start]


def write_csv(path, rows, encoding="utf-8", separator=","):
    text = "\r\n".join(separator.join("" if v is None else str(v) for v in row) for row in rows)
    path.write_bytes(text.encode(encoding))
    return path


def kinds(extraction, column):
    return {c.kind: c.count for c in extraction.coercions if c.column == column}


# ---- 1. signs -------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["-200.00", "200.00-", "B/. -200", "-B/. 200", "\u2212200", "(200.00)",
                                     "B/.(200)", "- 200", "\u2013200", "200 -"])
def test_a_negative_amount_keeps_its_sign_however_it_is_written(tmp_path, written):
    path = write_csv(tmp_path / "p.csv", [HEADER, person(gasto=written)], separator=";")
    extraction = extract_file(path, PLANILLA, period=Period(2025, 1))
    assert extraction.frame["gasto_representacion"].tolist() == [-200.0]
    assert extraction.failures == []


def test_unusual_negative_notations_are_counted_in_the_report(tmp_path):
    rows = [HEADER, person(gasto="(150.00)"), person(gasto="150.00-"), person(gasto="\u2212150"), person(gasto="-150")]
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["gasto_representacion"].tolist() == [-150.0] * 4
    assert kinds(extraction, "gasto_representacion")["negative_notation"] == 3  # "-150" is a plain numeral


@pytest.mark.parametrize("written", ["(-200)", "-200-", "-(200)"])
def test_two_signs_are_not_guessed(tmp_path, written):
    path = write_csv(tmp_path / "p.csv", [HEADER, person(gasto=written)], separator=";")
    extraction = extract_file(path, PLANILLA, period=Period(2025, 1))
    assert extraction.frame["gasto_representacion"].isna().all()
    assert [f.value for f in extraction.failures] == [written]
    assert "un solo signo" in extraction.failures[0].expected


@pytest.mark.parametrize("written", ["US$ 90.00", "US$90", "90.00 USD", "$ 90.00", "90 dólares", "B/.90.00", "PAB 90"])
def test_an_amount_with_its_currency_is_read(tmp_path, written):
    path = write_csv(tmp_path / "p.csv", [HEADER, person(salary=written)], separator=";")
    extraction = extract_file(path, PLANILLA, period=Period(2025, 1))
    assert extraction.frame["salario_mensual"].tolist() == [90.0] and extraction.failures == []


def test_a_csv_with_decimal_commas_keeps_each_amounts_magnitude(tmp_path):
    rows = [HEADER, person(cedula="8-1-1", salary="1.250,00"), person(cedula="8-1-2", salary="850,50"),
            person(cedula="8-1-3", salary="1.250"), person(cedula="8-1-4", salary="2.100")]
    extraction = extract_file(write_csv(tmp_path / "p.csv", rows, separator=";"), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["salario_mensual"].tolist() == [1250.0, 850.5, 1250.0, 2100.0]
    assert extraction.failures == []


# ---- 2. Unicode as people paste it --------------------------------------------------------------

@pytest.mark.parametrize("written", ["8\u2013456\u20137890", "8\u2014456\u20147890", "8-456-7890\u200b",
                                     "\ufeff8-456-7890", "8\u2212456\u22127890", "8\u00a0456\u00a07890",
                                     "8\u2011456\u20117890", "\u200e8-456-7890\u200f", "\u202a8-456-7890\u202c",
                                     "\u20668-456-7890\u2069"])
def test_pasted_cedulas_are_normalised(tmp_path, written):
    path = write_workbook(tmp_path / "p.xlsx", {"Planilla": [HEADER, person(cedula=written)]})
    extraction = extract_file(path, PLANILLA, period=Period(2025, 1))
    assert extraction.frame["cedula"].tolist() == ["8-456-7890"]
    assert extraction.failures == []


def test_names_lose_invisible_characters_and_are_composed(tmp_path):
    names = ["Yaritza\u200b", "Itzel\ufeff", "Jose\u0301", "Ana\u00a0Mari\u0301a", "\u200dLuis"]
    rows = [HEADER] + [person(name=n, cedula=f"8-1-{i + 1}") for i, n in enumerate(names)]
    extraction = extract_file(write_csv(tmp_path / "p.csv", rows), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["nombre"].tolist() == ["Yaritza", "Itzel", "José", "Ana María", "Luis"]
    assert kinds(extraction, "nombre") == {"invisible_characters": 3, "unicode_composed": 2, "whitespace": 1}


# ---- 10. Spanish text dates -------------------------------------------------------------------

@pytest.mark.parametrize("written,expected", [
    ("19-ene-2019", "2019-01-19"), ("10 de enero del 2025", "2025-01-10"), ("ene. 10, 2025", "2025-01-10"),
    ("10/ENE/2025", "2025-01-10"), ("3 de setiembre de 2024", "2024-09-03"), ("3-sept-2024", "2024-09-03"),
    ("Sept. 3, 2024", "2024-09-03"), ("19-ENE-19", "2019-01-19"), ("1-dic-98", "1998-12-01"),
    ("15-Jan-2025", "2025-01-15"), ("03-Apr-20", "2020-04-03"), ("Dec 10, 2019", "2019-12-10"),
    ("January 5, 2021", "2021-01-05"), ("5 August 2024", "2024-08-05"),
])
def test_dates_written_with_a_month_name(tmp_path, written, expected):
    path = write_workbook(tmp_path / "p.xlsx", {"Planilla": [HEADER, person(start=written)]})
    extraction = extract_file(path, PLANILLA, period=Period(2025, 1))
    assert extraction.frame["fecha_inicio"].tolist() == [pd.Timestamp(expected)]
    assert kinds(extraction, "fecha_inicio") == {"spanish_text_date": 1}


# ---- 11. empty markers ------------------------------------------------------------------------

@pytest.mark.parametrize("marker", ["\u2014", "N/A", "-", "n/a", "s/d", "no aplica", "B/. -", "S/D", "N.A.", "NULL", "null"])
def test_an_empty_marker_in_an_optional_amount_means_none(tmp_path, marker):
    rows = [HEADER, person(gasto=marker), person(cedula="8-1-2", gasto="")]
    extraction = extract_file(write_csv(tmp_path / "p.csv", rows, separator=";"), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["gasto_representacion"].isna().all()
    assert kinds(extraction, "gasto_representacion") == {"empty_marker": 1}
    assert validate(extraction, PLANILLA, "2025-01").valid


@pytest.mark.parametrize("column,marker", [("salario_mensual", "N/A"), ("cedula", "s/d"), ("fecha_inicio", "\u2014"),
                                           ("cargo", "no aplica"), ("salario_mensual", "-"),
                                           ("cedula", "NULL")])
def test_an_empty_marker_in_a_required_field_is_an_error_naming_it(tmp_path, column, marker):
    values = dict(zip(["cedula", "salary", "start"], ["8-123-4567", "1250.00", "15/01/2020"]))
    row = person(**values)
    row[{"salario_mensual": 6, "cedula": 3, "fecha_inicio": 8, "cargo": 4}[column]] = marker
    extraction = extract_file(write_csv(tmp_path / "p.csv", [HEADER, row], separator=";"), PLANILLA, period=Period(2025, 1))
    report = validate(extraction, PLANILLA, "2025-01")
    errors = [(f.rule, f.column, f.row) for f in report.errors]
    assert errors == [("empty-marker", column, 2)]
    assert f"'{marker}'" in report.errors[0].message and "obligatorio" in report.errors[0].message


def test_a_dash_in_an_enumeration_that_allows_it_is_a_value():
    import numpy as np

    from transparencia.schemas.table import Field
    from transparencia.sources.normalise import _Account, _tidy
    f = Field("tipo", "string", "Tipo", "", enum=("N/A", "OTRO"))
    kept = _tidy(np.array(["N/A", "-"], dtype=object), f, _Account("tipo", np.array([1, 1])))
    assert kept.text.tolist() == ["N/A"] and kept.index.tolist() == [0, 1]


# ---- 9. Excel's "Texto Unicode" ---------------------------------------------------------------

@pytest.mark.parametrize("bom,codec", [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"), (b"", "utf-16-le")])
@pytest.mark.parametrize("suffix", [".txt", ".csv", ".xls"])
def test_excel_unicode_text_is_read(tmp_path, bom, codec, suffix):
    rows = [["Planilla de enero"], HEADER, person(name="José"), person(name="Ñuñez", cedula="8-1-2")]
    text = "\r\n".join("\t".join("" if v is None else str(v) for v in row) for row in rows) + "\r\n"
    path = tmp_path / f"planilla{suffix}"
    path.write_bytes(bom + text.encode(codec))
    extraction = extract_file(path, PLANILLA, period=Period(2025, 1))
    assert extraction.frame["nombre"].tolist() == ["José", "Ñuñez"]
    assert list(extraction.frame.index) == [3, 4]
    assert any("UTF-16" in note and "tabulador" in note for note in extraction.notes)


# ---- 12. mixed encodings in one CSV -------------------------------------------------------------

def _mixed(tmp_path, parts):
    path = tmp_path / "mixto.csv"
    path.write_bytes(b"\r\n".join(";".join(map(str, row)).encode(codec) for codec, row in parts))
    return extract_file(path, PLANILLA, period=Period(2025, 1))


@pytest.mark.parametrize("order", [
    ("utf-8", "utf-8", "cp1252", "cp1252"),  # a UTF-8 export, then a Windows-1252 one pasted below
    ("cp1252", "cp1252", "utf-8", "utf-8"),
    ("utf-8", "cp1252", "utf-8", "cp1252"),
])
def test_mixed_encodings_are_repaired_per_line_and_listed(tmp_path, order):
    names = ["José", "Núñez", "Peña", "Ramírez"]
    parts = [(order[0], HEADER)] + [(codec, person(name=n, cedula=f"8-1-{i + 1}")) for i, (codec, n) in
                                    enumerate(zip(order, names))]
    extraction = _mixed(tmp_path, parts)
    assert extraction.frame["nombre"].tolist() == names
    cp1252_lines = [i + 2 for i, codec in enumerate(order) if codec == "cp1252"]
    if order[0] == "cp1252":
        cp1252_lines = [1, *cp1252_lines]  # the header line holds "Cédula" and "Condición"
    note = next(n for n in extraction.notes if "repararon" in n)
    assert note.endswith(", ".join(map(str, cp1252_lines)) + ".")


def test_utf8_garbled_through_windows_1252_is_restored(tmp_path):
    garbled = "José".encode().decode("cp1252")  # 'JosÃ©'
    parts = [("utf-8", HEADER), ("utf-8", person(name=garbled)), ("utf-8", person(name="Peña", cedula="8-1-2")),
             ("utf-8", person(name="Ã‘uÃ±ez", cedula="8-1-3"))]
    extraction = _mixed(tmp_path, parts)
    assert extraction.frame["nombre"].tolist() == ["José", "Peña", "Ñuñez"]
    assert any(n.endswith("repararon: 2, 4.") for n in extraction.notes)


def reasons(extraction):
    return [(d.row, d.reason) for d in extraction.dropped]


@pytest.mark.parametrize("mark", ["\u200e", "\u200f", "\u202b", "\u2067", "\u034f"])
def test_direction_marks_pasted_from_a_web_page_are_removed(tmp_path, mark):
    rows = [HEADER, person(name=f"{mark}Ana", cedula=f"8-1-1{mark}"), person(name=f"Luis{mark}", cedula="8-1-2")]
    extraction = extract_file(write_csv(tmp_path / "p.csv", rows), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["nombre"].tolist() == ["Ana", "Luis"] and extraction.frame["cedula"].tolist() == ["8-1-1", "8-1-2"]
    assert kinds(extraction, "nombre") == {"invisible_characters": 2}


# ---- 3. repeated header rows ------------------------------------------------------------------

def test_a_header_repeated_on_each_printed_page_is_dropped(tmp_path):
    rows = [HEADER, person(cedula="8-1-1"), person(cedula="8-1-2"), HEADER, person(cedula="8-1-3"), HEADER,
            person(cedula="8-1-4")]
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}), PLANILLA, period=Period(2025, 1))
    assert extraction.rows == 4
    assert reasons(extraction) == [(4, "repeated_header"), (6, "repeated_header")]


def test_a_pasted_block_whose_header_differs_in_case_or_synonym_is_dropped(tmp_path):
    pasted = ["UNIDAD", "NOMBRE", "APELLIDO", "No. de Cédula", "CARGO", "Estado", "sueldo", "Gastos de rep.",
              "Fecha de ingreso"]
    rows = [HEADER, person(cedula="8-1-1"), [], ["Planilla de la Dirección de Finanzas"], pasted, person(cedula="8-1-2")]
    extraction = extract_file(write_csv(tmp_path / "p.csv", rows, separator=";"), PLANILLA, period=Period(2025, 1))
    assert extraction.rows == 2 and extraction.failures == []
    assert reasons(extraction) == [(3, "blank"), (4, "note"), (5, "repeated_header")]


@pytest.mark.parametrize("footer", [
    ["Página 1 de 3", None, None, None, None, None, None, None, "Impreso: 05/02/2025"],
    [None, None, None, None, "Pág. 1"],
    ["Fecha de impresión: 05/02/2025 10:32", None, None, None, None, None, None, None, "Page 1 of 3"],
    ["Impreso por: jperez", "Página 1/3"],
])
def test_the_lines_of_a_printed_page_break_are_dropped(tmp_path, footer):
    rows = [HEADER, person(cedula="8-1-1"), footer, HEADER, person(cedula="8-1-2")]
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["cedula"].tolist() == ["8-1-1", "8-1-2"] and extraction.failures == []
    assert reasons(extraction) == [(3, "footnote"), (4, "repeated_header")]


def test_a_repeated_two_row_header_is_dropped_whole(tmp_path):
    top = ["Unidad", "Nombre", "Apellido", "Cédula", "Cargo", "Condición", "Remuneración", None, "Fecha de inicio"]
    bottom = [None] * 6 + ["Salario", "Gasto de representación", None]
    rows = [top, bottom, person(cedula="8-1-1"), top, bottom, person(cedula="8-1-2")]
    path = write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}, {"Planilla": ["G1:H1", "G4:H4"]})
    extraction = extract_file(path, PLANILLA, period=Period(2025, 1))
    assert extraction.frame["salario_mensual"].tolist() == [1250.0, 1250.0]
    assert reasons(extraction) == [(4, "repeated_header"), (5, "repeated_header")]


# ---- 4. numbering row under the header ----------------------------------------------------------

@pytest.mark.parametrize("numbering", [
    [f"({i})" for i in range(1, 10)], list(range(1, 10)), [f"Col. {i}" for i in range(1, 10)],
    [f"[{c}]" for c in "abcdefghi"], [f"{i}." for i in range(1, 10)],
])
def test_a_numbering_row_under_the_header_is_dropped(tmp_path, numbering):
    rows = [HEADER, numbering, person(salary="1000.00", cedula="8-1-1"), person(salary="2000.00", cedula="8-1-2")]
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["salario_mensual"].sum() == 3000.0
    assert reasons(extraction) == [(2, "numbering")]


def test_a_numbering_row_repeated_with_the_header_is_dropped_but_numbers_in_data_are_kept(tmp_path):
    numbering = [f"({i})" for i in range(1, 10)]
    rows = [HEADER, numbering, person(cedula="8-1-1"), HEADER, numbering, person(cedula="8-1-2", salary="3")]
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}), PLANILLA, period=Period(2025, 1))
    assert reasons(extraction) == [(2, "numbering"), (4, "repeated_header"), (5, "numbering")]
    assert extraction.rows == 2


# ---- 5. vertically merged cells ------------------------------------------------------------------

def test_a_value_merged_over_several_rows_applies_to_each(tmp_path):
    rows = [HEADER] + [person(cedula=f"8-1-{i}", unit="Finanzas" if i in (1, 4) else None) for i in range(1, 7)]
    for row in rows[2:4] + rows[5:7]:
        row[5] = None  # condición merged too
    path = write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}, {"Planilla": ["A2:A4", "A5:A7", "F2:F4", "F5:F7"]})
    extraction = extract_file(path, PLANILLA, period=Period(2025, 1))
    assert extraction.frame["unidad_administrativa"].tolist() == ["Finanzas"] * 6
    assert extraction.frame["condicion"].tolist() == ["PERMANENTE"] * 6
    assert kinds(extraction, "unidad_administrativa")["merged_cell_filled"] == 4
    assert kinds(extraction, "condicion")["merged_cell_filled"] == 4
    assert extraction.failures == []


def test_a_block_merge_fills_its_first_column_only(tmp_path):
    rows = [HEADER, person(cedula="8-1-1", unit="RRHH"), person(cedula="8-1-2", unit=None)]
    path = write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}, {"Planilla": ["A2:B3"]})  # unidad and nombre as one block
    extraction = extract_file(path, PLANILLA, period=Period(2025, 1))
    assert extraction.frame["unidad_administrativa"].tolist() == ["RRHH", "RRHH"]
    assert extraction.frame["nombre"].isna().all()  # the block's value is the unit's, not a name


def test_a_header_merged_over_two_rows_still_reads(tmp_path):
    top = ["Unidad", "Nombre", "Apellido", "Cédula", "Cargo", "Condición", "Remuneración", None, "Fecha de inicio"]
    bottom = [None] * 6 + ["Salario", "Gasto de representación", None]
    rows = [top, bottom, person(cedula="8-1-1"), person(cedula="8-1-2")]
    merges = ["G1:H1"] + [f"{c}1:{c}2" for c in "ABCDEFI"]
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}, {"Planilla": merges}), PLANILLA, period=Period(2025, 1))
    assert extraction.header_row == 1 and extraction.rows == 2
    assert extraction.column_map["nombre"] == "Nombre"


# ---- 6. totals, subtotals and notes anywhere ------------------------------------------------------

def test_totals_above_subtotals_within_and_notes_between_blocks_are_dropped_and_counted(tmp_path):
    rows = [HEADER,
            ["TOTAL GENERAL", None, None, None, None, None, 3750, 0],
            ["DIRECCIÓN DE RECURSOS HUMANOS"],
            person(cedula="8-1-1", salary=1250), person(cedula="8-1-2", salary=1250),
            ["RRHH", "Subtotal RRHH", None, None, None, None, 2500, 0],
            ["Nota: el funcionario de la fila anterior está de licencia."],
            ["Dirección de Finanzas"],
            person(cedula="8-1-3", salary=1250, unit="Finanzas"),
            [None, None, None, None, None, "Suma total", 1250],
            ["T O T A L", None, None, None, None, None, 3750]]
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["salario_mensual"].sum() == 3750.0 and extraction.rows == 3
    assert reasons(extraction) == [(2, "total"), (3, "note"), (6, "total"), (7, "footnote"),
                                   (8, "footnote"),  # the lines under a note belong to it until data resume
                                   (10, "total"), (11, "total")]
    assert extraction.summary()["rows_dropped"] == {"total": 4, "note": 1, "footnote": 2}
    assert validate(extraction, PLANILLA, "2025-01").valid


@pytest.mark.parametrize("block", [
    [["_______________", None, None, None, "_______________"], ["Jefe de Planilla", None, None, None, "Director de RRHH"]],
    [["Elaborado por:", None, "Revisado por:", None, "Aprobado por:"], ["__________", None, "__________", None, "______"],
     ["Lic. Ana Ríos", None, "Lic. Luis Gómez", None, "Ing. Eva Paz"]],
    [["Firma:", "..............."], [None, "Director Administrativo"]],
])
def test_a_signature_block_under_the_data_is_dropped(tmp_path, block):
    rows = [HEADER, person(cedula="8-1-1"), person(cedula="8-1-2"), [], *block]
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["cedula"].tolist() == ["8-1-1", "8-1-2"] and extraction.failures == []
    assert reasons(extraction) == [(4, "blank")] + [(5 + i, "footnote") for i in range(len(block))]


@pytest.mark.parametrize("label", ["2 funcionarios", "2 registros", "2 servidores públicos:", "2 colaboradoras"])
def test_a_total_labelled_with_its_count_is_dropped(tmp_path, label):
    rows = [HEADER, person(cedula="8-1-1"), person(cedula="8-1-2"), [None, label, None, None, None, None, 2500, 0]]
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}), PLANILLA, period=Period(2025, 1))
    assert extraction.rows == 2 and reasons(extraction) == [(4, "total")]


# ---- 7. empty months ----------------------------------------------------------------------------

VIATICOS = load_catalog().get("viaticos")
VIATICOS_HEADER = ["Nombre", "Cargo", "Destino", "Tipo de misión", "Fecha de salida", "Fecha de regreso", "Días",
                   "Tarifa diaria", "Monto"]


@pytest.mark.parametrize("body", [[], [["TOTAL", None, None, None, None, None, None, 0]], [[], ["Fuente: RRHH"]]])
def test_an_empty_planilla_is_never_a_valid_month(tmp_path, body):
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": [HEADER, *body]}), PLANILLA, period=Period(2025, 1))
    report = validate(extraction, PLANILLA, "2025-01")
    assert extraction.rows == 0 and not report.valid
    assert [f.rule for f in report.errors] == ["empty-month-never"]


@pytest.mark.parametrize("body", [[], [["TOTAL", None, None, None, None, None, None, None, 0]]])
def test_an_empty_month_without_a_declaration_is_an_error(tmp_path, body):
    extraction = extract_file(write_workbook(tmp_path / "v.xlsx", {"Planilla": [VIATICOS_HEADER, *body]}), VIATICOS, period=Period(2025, 1))
    report = validate(extraction, VIATICOS, "2025-01")
    assert [f.rule for f in report.errors] == ["empty-month"]
    assert extraction.declared_empty is None


@pytest.mark.parametrize("where,line", [
    ("below", "SIN MOVIMIENTOS EN EL PERÍODO"), ("below", "No hubo movimientos en enero de 2025"),
    ("above", "Viáticos de enero de 2025 - sin movimientos"), ("below", "Sin registros en el período"),
])
def test_a_declared_empty_month_is_valid_and_said_so(tmp_path, where, line):
    rows = [VIATICOS_HEADER, [line]] if where == "below" else [[line], VIATICOS_HEADER]
    extraction = extract_file(write_workbook(tmp_path / "v.xlsx", {"Planilla": rows}), VIATICOS, period=Period(2025, 1))
    report = validate(extraction, VIATICOS, "2025-01")
    assert extraction.rows == 0 and report.valid and report.warnings == []
    assert extraction.declared_empty == f"en el archivo, fila 2: «{line}»" if where == "below" else \
        extraction.declared_empty == f"en el archivo, fila 1: «{line}»"
    assert [f.rule for f in report.notices] == ["declared-empty"]


def test_a_declaration_beside_data_rows_is_a_contradiction(tmp_path):
    trip = ["Ana Pérez", "Analista", "Colón", "Nacional", "10/01/2025", "12/01/2025", 2, 50, 100]
    rows = [VIATICOS_HEADER, ["Sin movimientos en el período"], trip]
    extraction = extract_file(write_workbook(tmp_path / "v.xlsx", {"Planilla": rows}), VIATICOS, period=Period(2025, 1))
    assert extraction.rows == 1
    assert "declared-empty-with-rows" in [f.rule for f in validate(extraction, VIATICOS, "2025-01").errors]


def test_the_template_tells_how_to_declare_an_empty_month_and_the_flag_is_read(tmp_path):
    from transparencia.sources.template import NO_MOVEMENT_FLAG, write_template

    path = write_template(VIATICOS, tmp_path / "viaticos.xlsx")
    workbook = openpyxl.load_workbook(path)
    instructions = " ".join(str(c.value) for row in workbook["Instrucciones"].iter_rows() for c in row if c.value)
    assert NO_MOVEMENT_FLAG in instructions and "no se acepta como mes sin movimientos" in instructions
    workbook[VIATICOS.name[:31]]["A2"] = NO_MOVEMENT_FLAG.strip("«»")
    workbook.save(path)
    extraction = extract_file(path, VIATICOS, period=Period(2025, 1))
    assert extraction.declared_empty and validate(extraction, VIATICOS, "2025-01").valid
    planilla = openpyxl.load_workbook(write_template(PLANILLA, tmp_path / "planilla.xlsx"))["Instrucciones"]
    assert any("nunca se entrega vacía" in str(c.value) for row in planilla.iter_rows() for c in row)


# ---- 8. ambiguous columns -------------------------------------------------------------------------

@pytest.mark.parametrize("replace,expected", [
    ({7: "Salario Base"}, r"'Salario' \(columna G\) y 'Salario Base' \(columna H\) .*«Salario mensual"),
    ({4: "Nombre"}, r"'Nombre' \(columna B\) y 'Nombre' \(columna E\) .*«Nombre»"),
    ({2: "No. de Cédula"}, r"'No. de Cédula' \(columna C\) y 'Cédula' \(columna D\) .*«Cédula»"),
])
def test_two_columns_for_one_field_stop_the_extraction_naming_both(tmp_path, replace, expected):
    header = [replace.get(i, h) for i, h in enumerate(HEADER)]
    path = write_workbook(tmp_path / "p.xlsx", {"Planilla": [header, person()]})
    with pytest.raises(InputError, match=f"compiten por el mismo dato: {expected}"):
        extract_file(path, PLANILLA, period=Period(2025, 1))


def test_ambiguous_csv_columns_are_named_by_number(tmp_path):
    header = [*HEADER[:6], "Sueldo", "Salario", "Fecha de inicio"]
    with pytest.raises(InputError, match=r"'Sueldo' \(columna 7\) y 'Salario' \(columna 8\)"):
        extract_file(write_csv(tmp_path / "p.csv", [header, person()]), PLANILLA, period=Period(2025, 1))


def test_merged_cells_of_an_opendocument_sheet_are_read_from_its_xml(tmp_path):
    rows = [HEADER, [("Finanzas", 3), *person(cedula="8-1-1")[1:]]]
    rows += [[(None, 0), *person(cedula=f"8-1-{i}")[1:]] for i in (2, 3)]
    rows += [[("RRHH", 2), *person(cedula="8-1-4")[1:]], [(None, 0), *person(cedula="8-1-5")[1:]]]
    extraction = extract_file(write_ods(tmp_path / "planilla.ods", rows), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["unidad_administrativa"].tolist() == ["Finanzas"] * 3 + ["RRHH"] * 2
    assert kinds(extraction, "unidad_administrativa")["merged_cell_filled"] == 3


def test_merged_ranges_read_from_the_xlsx_xml_match_calamines(tmp_path):
    import python_calamine

    from transparencia.sources.workbook import merged_from_xml

    rows = [HEADER] + [person(cedula=f"8-1-{i}") for i in range(1, 7)]
    path = write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}, {"Planilla": ["A2:A4", "F5:F7", "B2:C2", "G3:H5"]})
    sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Planilla")
    assert sorted(merged_from_xml(path, "Planilla")) == sorted(sheet.merged_cell_ranges)
    assert merged_from_xml(path, "Otra") == []


# ---- 13. rows that only look filled (issue 20) ----------------------------------------------------

@pytest.mark.parametrize("blank", [["   "] * 9, ["\u00a0"] * 9, [None, "\u00a0\u00a0", None, " \u00a0 "], ["\t", "\u3000"]])
def test_a_row_of_spaces_between_people_is_a_blank_row(tmp_path, blank):
    rows = [HEADER, person(cedula="8-1-1"), blank, person(cedula="8-1-2")]
    extraction = extract_file(write_workbook(tmp_path / "p.xlsx", {"Planilla": rows}), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["cedula"].tolist() == ["8-1-1", "8-1-2"] and extraction.failures == []
    assert reasons(extraction) == [(3, "blank")]


def test_a_row_of_spaces_in_a_csv_is_a_blank_row(tmp_path):
    rows = [HEADER, person(cedula="8-1-1"), ["\u00a0", "  ", "", "\u00a0"], person(cedula="8-1-2")]
    extraction = extract_file(write_csv(tmp_path / "p.csv", rows, separator=";"), PLANILLA, period=Period(2025, 1))
    assert extraction.frame["cedula"].tolist() == ["8-1-1", "8-1-2"] and extraction.failures == []
    assert reasons(extraction) == [(3, "blank")]


def test_a_bordered_empty_row_between_people_is_a_blank_row(tmp_path):
    from openpyxl.styles import Border, PatternFill, Side

    rows = [HEADER, person(cedula="8-1-1"), [], person(cedula="8-1-2")]
    path = write_workbook(tmp_path / "p.xlsx", {"Planilla": rows})
    book = openpyxl.load_workbook(path)
    line = Side(style="thin")
    for cell in book["Planilla"][3][:9]:
        cell.border = Border(left=line, right=line, top=line, bottom=line)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.number_format = "#,##0.00"
    book.save(path)
    extraction = extract_file(path, PLANILLA, period=Period(2025, 1))
    assert extraction.frame["cedula"].tolist() == ["8-1-1", "8-1-2"] and extraction.failures == []
    assert reasons(extraction) == [(3, "blank")]


# ---- 14. wrong file types are named (issue 20) -----------------------------------------------------

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 4


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".xls", ".pdf"])
def test_a_pdf_is_named_as_a_pdf_whatever_its_extension(tmp_path, suffix):
    path = tmp_path / f"planilla{suffix}"
    path.write_bytes(PDF)
    with pytest.raises(InputError) as caught:
        extract_file(path, PLANILLA, period=Period(2025, 1))
    assert "es un documento PDF, no un libro de Excel ni un CSV" in caught.value.message
    assert "Envíe el libro de Excel (.xlsx) o el CSV" in caught.value.message
    assert "binarios" not in caught.value.message


def test_a_word_document_is_named_as_one(tmp_path):
    path = tmp_path / "planilla.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(InputError, match=r"es un documento de texto \(Word\)"):
        extract_file(path, PLANILLA, period=Period(2025, 1))
