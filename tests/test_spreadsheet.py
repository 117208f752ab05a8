"""Extracting workbooks as directorates make them, and refusing unusable files with a clear message."""

import datetime as dt
import zipfile

import openpyxl
import pandas as pd
import pytest
from workbooks import write_workbook

from transparencia.domain import Period
from transparencia.errors import InputError
from transparencia.schemas import load_catalog
from transparencia.schemas.table import load_schema
from transparencia.sources.headers import match_columns
from transparencia.sources.spreadsheet import extract_file
from transparencia.sources.workbook import check_xlsx_extent

PLANILLA = load_catalog().get("planilla")


def _messy_workbook(path, extra_sheets=()):
    enero = [
        ["MINISTERIO DE EJEMPLO"],
        ["Planilla de funcionarios - enero de 2025"],
        [],
        ["Unidad", "Nombre", "Apellido", "No. de Cédula", "CARGO", "Estado", "Remuneración", None,
         "Fecha de ingreso", "Observación"],
        [None, None, None, None, None, None, "Salario", "Gasto de representación", None, None],
        ["RRHH", "Ana", "Pérez", "8 123 4567", "Analista", "permanente", "B/. 1,250.00", 0, dt.date(2024, 3, 1), "x"],
        ["RRHH", "Luis", "Gómez", "0801", "Jefe", "EVENTUAL", 2000, "(150.00)", "15/01/2025", None],
        [],
        ["Sub-total", None, None, None, None, None, 3250, 0],
        ["Unidad", "Nombre", "Apellido", "No. de Cédula", "CARGO", "Estado"],
        ["Finanzas", "Eva", "Ríos", "E-8-1234", "Contadora", "Eventual", "1.250,00", 0, 45672],
        ["TOTAL", None, None, None, None, None, 4500, 0],
        ["Fuente: Dirección de Recursos Humanos"],
        ["Lic. Juan Pérez, Jefe de RRHH"],
    ]
    notes = {title: [["Notas de la dirección"]] for title in extra_sheets}
    return write_workbook(path, {"Enero": enero, **notes}, {"Enero": ["A1:I1", "G4:H4"]})


def test_messy_workbook_is_read_with_an_account_of_every_change(tmp_path):
    extraction = extract_file(_messy_workbook(tmp_path / "planilla.xlsx"), PLANILLA, directorate="RRHH")
    frame = extraction.frame
    assert list(frame.index) == [6, 7, 11]  # Excel row numbers
    assert list(frame.columns) == load_schema("planilla").field_names
    assert frame["cedula"].tolist() == ["8-123-4567", "0801", "E-8-1234"]
    assert frame["salario_mensual"].tolist() == [1250.0, 2000.0, 1250.0]
    assert frame["gasto_representacion"].tolist() == [0.0, -150.0, 0.0]
    assert frame["fecha_inicio"].tolist() == [pd.Timestamp("2024-03-01"), pd.Timestamp("2025-01-15"), pd.Timestamp("2025-01-15")]
    assert frame["condicion"].tolist() == ["PERMANENTE", "EVENTUAL", "EVENTUAL"]
    assert extraction.header_row == 4
    assert extraction.column_map["salario_mensual"] == "Remuneración Salario"
    assert extraction.column_map["cedula"] == "No. de Cédula"
    assert extraction.missing_columns == ["periodo"]
    assert extraction.ignored_columns == ["Observación"]
    assert [(d.row, d.reason) for d in extraction.dropped] == [
        (8, "blank"), (9, "total"), (10, "repeated_header"), (12, "total"), (13, "footnote"), (14, "footnote")]
    kinds = {(c.column, c.kind) for c in extraction.coercions}
    assert {("cedula", "cedula_normalised"), ("salario_mensual", "amount_text"), ("condicion", "enum_case"),
            ("fecha_inicio", "text_date"), ("fecha_inicio", "excel_serial_date")} <= kinds
    assert extraction.failures == []
    assert extraction.source.describe() == f"{tmp_path / 'planilla.xlsx'} (hoja 'Enero') de RRHH"


def test_sheet_is_chosen_by_header_match_or_by_configured_name(tmp_path):
    path = _messy_workbook(tmp_path / "p.xlsx", extra_sheets=["Portada"])
    assert extract_file(path, PLANILLA).source.sheet == "Enero"
    assert extract_file(path, PLANILLA, sheet="enero").source.sheet == "Enero"
    with pytest.raises(InputError, match="no tiene la hoja 'Febrero'.*Enero"):
        extract_file(path, PLANILLA, sheet="Febrero")


def test_xlsx_saved_with_xls_extension_is_read_by_content(tmp_path):
    source = _messy_workbook(tmp_path / "p.xlsx")
    disguised = tmp_path / "p.xls"
    disguised.write_bytes(source.read_bytes())
    assert extract_file(disguised, PLANILLA).rows == 3


def test_header_matching_forgives_accents_case_punctuation_and_synonyms():
    match = match_columns(["CÉDULA DE IDENTIDAD PERSONAL", "Salario Mensual (B/.)", "nombres", "Columna rara"],
                          load_schema("planilla"))
    assert match.positions == {"nombre": 2, "cedula": 0, "salario_mensual": 1}
    assert match.ignored == ["Columna rara"]
    assert "periodo" in match.missing


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="No se encuentra el archivo .*nada.xlsx"):
        extract_file(tmp_path / "nada.xlsx", PLANILLA)


def test_corrupt_workbook(tmp_path):
    path = tmp_path / "roto.xlsx"
    path.write_bytes(_messy_workbook(tmp_path / "ok.xlsx").read_bytes()[:3000])
    with pytest.raises(InputError, match="roto.xlsx.*dañado"):
        extract_file(path, PLANILLA)


def test_password_protected_workbook(tmp_path):
    path = tmp_path / "clave.xlsx"  # Excel stores encrypted workbooks in an OLE container
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 600)
    with pytest.raises(InputError, match="clave.xlsx.*contraseña"):
        extract_file(path, PLANILLA)


def test_html_saved_as_xls_asks_to_save_as_xlsx(tmp_path):
    path = tmp_path / "reporte.xls"
    path.write_text("<html><body><table><tr><td>Nombre</td></tr></table></body></html>", encoding="utf-8")
    with pytest.raises(InputError, match=r"reporte.xls.*HTML.*\.xlsx"):
        extract_file(path, PLANILLA)


def test_empty_sheet_and_empty_file(tmp_path):
    path = tmp_path / "vacio.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(InputError, match="vacio.xlsx.*vacías"):
        extract_file(path, PLANILLA)
    empty = tmp_path / "cero.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="cero.csv.*vacío"):
        extract_file(empty, PLANILLA)


def test_header_not_found_says_what_was_expected_and_seen(tmp_path):
    path = tmp_path / "otra.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Producto", "Cantidad"])
    wb.active.append(["Lápiz", 3])
    wb.save(path)
    with pytest.raises(InputError, match=r"otra.xlsx.*Se esperaban columnas como: Período, .*Cédula.*'Producto', 'Cantidad'"):
        extract_file(path, PLANILLA)


def test_a_stray_far_cell_is_refused_without_killing_the_process(tmp_path):
    path = tmp_path / "lejos.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Nombre", "Apellido", "Cédula"])
    wb.active["XFD1048576"] = "x"
    wb.save(path)
    with pytest.raises(InputError, match="lejos.xlsx.*fila 1048576.*XFD"):
        extract_file(path, PLANILLA)


def test_zip_bomb_sheet_is_refused(tmp_path):
    path = tmp_path / "bomba.xlsx"
    source = _messy_workbook(tmp_path / "ok.xlsx")
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (60 * 1024**2))
            dst.writestr(info.filename, data)
    with pytest.raises(InputError, match="bomba.xlsx.*grande"):
        extract_file(path, PLANILLA)


def _workbook_with_sheet_xml(path, dimension, rows, stray=""):
    """An .xlsx whose sheet XML is written here: ``rows`` filler rows, an optional stray cell."""
    openpyxl.Workbook().save(path)
    dimension_tag = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>{r}</v></c></row>' for r in range(1, rows + 1))
    xml = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           f"{dimension_tag}<sheetData>{body}{stray}</sheetData></worksheet>").encode()
    parts = {}
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    parts["xl/worksheets/sheet1.xml"] = xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    return path


STRAY = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
BIG_SHEET_ROWS = 90_000  # about 5 MiB of sheet XML: big enough that a sound dimension is trusted


def test_a_stray_far_cell_is_refused_when_the_sheet_declares_no_dimension(tmp_path):
    path = _workbook_with_sheet_xml(tmp_path / "sin_dimension.xlsx", None, BIG_SHEET_ROWS, STRAY)
    with pytest.raises(InputError, match="sin_dimension.xlsx.*fila 1048576.*XFD"):
        check_xlsx_extent(path)


def test_a_stray_far_cell_is_refused_under_a_placeholder_dimension(tmp_path):
    path = _workbook_with_sheet_xml(tmp_path / "a1.xlsx", "A1", BIG_SHEET_ROWS, STRAY)
    with pytest.raises(InputError, match="a1.xlsx.*fila 1048576.*XFD"):
        check_xlsx_extent(path)


def test_a_big_sheet_is_judged_by_its_declared_dimension(tmp_path):
    sound = _workbook_with_sheet_xml(tmp_path / "bien.xlsx", f"A1:B{BIG_SHEET_ROWS}", BIG_SHEET_ROWS)
    check_xlsx_extent(sound)
    huge = _workbook_with_sheet_xml(tmp_path / "enorme.xlsx", "A1:XFD1048576", BIG_SHEET_ROWS)
    with pytest.raises(InputError, match="enorme.xlsx.*fila 1048576.*XFD"):
        check_xlsx_extent(huge)


def test_extraction_restores_the_cycle_collector_as_it_found_it(tmp_path):
    import gc

    path = _messy_workbook(tmp_path / "planilla.xlsx")
    assert gc.isenabled()
    extract_file(path, PLANILLA)
    assert gc.isenabled()
    with pytest.raises(InputError):
        extract_file(tmp_path / "no-existe.xlsx", PLANILLA)
    assert gc.isenabled()
    gc.disable()
    try:
        extract_file(path, PLANILLA)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_columns_of_all_different_values_are_read_as_columns_of_repeats_are(tmp_path, monkeypatch):
    """A column whose first rows all differ skips deduplication; nothing it reads may differ."""
    import numpy as np

    import transparencia.sources.normalise as normalise

    rows = [["Planilla de enero de 2025"], ["Unidad", "Nombre", "Apellido", "Cédula", "Cargo", "Condición", "Salario",
                                           "Gasto de representación", "Fecha de inicio"]]
    for i in range(700):
        cedula = f"8-{i + 1}-{1000 + i}" if i % 7 else f"8 {i + 1} {1000 + i}"
        salary = 600 + i if i % 3 else f"B/. {600 + i:,.2f}"
        rows.append([f"U{i % 4}", "Ana", "Pérez", cedula, "Analista", "PERMANENTE", salary, "-", 45672 + i % 30])
    rows[520][3] = rows[10][3]  # a repeat below the sample, typed the same
    rows[530][6] = "mil"  # an unreadable amount
    rows[540] = ["Unidad", "Nombre", "Apellido", "Cédula"]  # a header repeated on a new page
    rows[550] = [None] * 9
    rows.append(["TOTAL", None, None, None, None, None, 1000])
    path = tmp_path / "planilla.xlsx"
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)

    cedulas = np.array([row[3] for row in rows[2:]], dtype=object)
    assert normalise.factorised(cedulas)[1] is cedulas  # the column is kept as it is
    kept = extract_file(path, PLANILLA, period=Period(2025, 1))
    monkeypatch.setattr(normalise, "DISTINCT_SAMPLE", 10**9)
    deduplicated = extract_file(path, PLANILLA, period=Period(2025, 1))

    pd.testing.assert_frame_equal(kept.frame, deduplicated.frame)
    assert kept.coercions == deduplicated.coercions and kept.failures == deduplicated.failures
    assert kept.dropped == deduplicated.dropped
    assert kept.rows == 698 and kept.frame.loc[521, "cedula"] == kept.frame.loc[11, "cedula"] == "8-9-1008"
    assert [(f.row, f.column, f.value) for f in kept.failures] == [(531, "salario_mensual", "mil")]
    assert {c.kind: c.count for c in kept.coercions if c.column == "cedula"} == {"cedula_normalised": 99}
    assert [d.reason for d in kept.dropped] == ["repeated_header", "blank", "total"]


@pytest.mark.parametrize("rows,width", [
    ([["a", "b", "c"], ["d"]], 3),  # a short row after full ones
    ([["d"], ["a", "b", "c"]], 3),  # a short first row
    ([["a"], ["b"]], 3),  # every row narrower than the header: never spread across columns
    ([["a", "b", "c", "x"], ["d", "e", "f"]], 3),  # a row wider than the header
])
def test_ragged_rows_are_padded_never_broadcast(rows, width):
    from transparencia.sources.spreadsheet import _as_array

    array = _as_array(rows, width)
    assert [list(row[:len(original)]) for row, original in zip(array, rows)] == rows
    assert all(v == "" for row, original in zip(array, rows) for v in row[len(original):])


def _monthly_workbook(path, names):
    header = ["Unidad", "Nombre", "Apellido", "Cédula", "Cargo", "Condición", "Salario", "Gasto de representación",
              "Fecha de inicio"]
    return write_workbook(path, {name: [header, ["RRHH", "Ana", "Pérez", f"8-{i + 1}-1", "Analista", "PERMANENTE",
                                                 1000 + i, 0, "15/01/2020"]]
                                 for i, name in enumerate(names)})


@pytest.mark.parametrize("names,chosen", [
    (["Enero", "Febrero", "Marzo"], "Febrero"),
    (["ENE 2025", "FEB 2025", "MAR 2025"], "FEB 2025"),
    (["2025-01", "2025-02"], "2025-02"),
    (["Planilla enero", "Planilla febrero"], "Planilla febrero"),
    (["Feb 2024", "Ene 2025", "Feb 2025"], "Feb 2025"),
])
def test_a_workbook_with_a_sheet_per_month_is_read_from_the_months_sheet(tmp_path, names, chosen):
    path = _monthly_workbook(tmp_path / "planilla.xlsx", names)
    extraction = extract_file(path, PLANILLA, period=Period(2025, 2))
    assert extraction.source.sheet == chosen
    assert extraction.frame["cedula"].tolist() == [f"8-{names.index(chosen) + 1}-1"]


def test_a_workbook_with_a_sheet_per_month_but_not_this_one_stops_naming_them(tmp_path):
    path = _monthly_workbook(tmp_path / "planilla.xlsx", ["Enero", "Marzo"])
    with pytest.raises(InputError, match="una hoja por mes \\('Enero', 'Marzo'\\) y ninguna de febrero de 2025"):
        extract_file(path, PLANILLA, period=Period(2025, 2))


def test_sheets_that_do_not_each_name_a_month_are_chosen_by_their_header(tmp_path):
    path = _monthly_workbook(tmp_path / "planilla.xlsx", ["Planilla", "Resumen enero"])
    assert extract_file(path, PLANILLA, period=Period(2025, 2)).source.sheet == "Planilla"


@pytest.mark.parametrize("month,chosen", [(Period(2025, 2), "Hoja2"), (Period(2025, 1), "Hoja1")])
def test_sheets_with_generic_names_are_chosen_by_the_month_their_title_names(tmp_path, month, chosen):
    path = _monthly_workbook(tmp_path / "planilla.xlsx", ["Hoja1", "Hoja2"])
    book = openpyxl.load_workbook(path)
    for name, title in (("Hoja1", "PLANILLA DE ENERO 2025"), ("Hoja2", "PLANILLA DE FEBRERO 2025")):
        book[name].insert_rows(1)
        book[name]["A1"] = title
    book.save(path)
    extraction = extract_file(path, PLANILLA, period=month)
    assert extraction.source.sheet == chosen and extraction.banner == [f"PLANILLA DE {month.label_es.split()[0].upper()} 2025"]
