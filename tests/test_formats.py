"""File writers: Excel-safe CSV/XLSX (formula neutralisation, BOM), typed cells, deterministic bytes."""

import csv
import datetime as dt
import json
import shutil
import subprocess
import zipfile
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
import python_calamine
from release_samples import planilla_frame

from transparencia.domain import sha256_file
from transparencia.publishers import formats
from transparencia.schemas.table import Field, load_schema

FIELDS = load_schema("planilla").fields
DANGEROUS = ["=1+1", "+57", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def _frame():
    rows = [{"nombre": text, "apellido": "Pérez", "cedula": "8-1-1", "cargo": "Cargo", "salario_mensual": -125.5,
             "gasto_representacion": 0.0, "fecha_inicio": "2020-02-29"} for text in DANGEROUS]
    frame = planilla_frame("2025-01", rows)
    frame.loc[frame.index[0], "gasto_representacion"] = float("nan")
    return frame


def _read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_bom_and_neutralises_formulas_but_not_numbers(tmp_path):
    path = tmp_path / "a.csv"
    formats.write_csv(_frame(), FIELDS, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfperiodo,")
    rows = _read_csv(path)
    assert [r["nombre"] for r in rows] == ["'" + t for t in DANGEROUS]
    assert rows[0]["salario_mensual"] == "-125.5"
    assert rows[0]["gasto_representacion"] == "" and rows[1]["gasto_representacion"] == "0"
    assert rows[0]["fecha_inicio"] == "2020-02-29"
    assert rows[0]["apellido"] == "Pérez"


def test_csv_numbers_have_no_exponent_or_thousands_separator(tmp_path):
    rows = [{"nombre": "A", "apellido": "B", "cedula": "8-1-1", "cargo": "C", "salario_mensual": 12345678.25,
             "gasto_representacion": 1e16, "fecha_inicio": "2020-01-01"}]
    path = tmp_path / "a.csv"
    formats.write_csv(planilla_frame("2025-01", rows), FIELDS, path)
    row = _read_csv(path)[0]
    assert row["salario_mensual"] == "12345678.25"
    assert row["gasto_representacion"] == "10000000000000000"


def test_xlsx_neutralises_formulas_and_keeps_typed_cells(tmp_path):
    path = tmp_path / "a.xlsx"
    formats.write_xlsx(_frame(), FIELDS, path, sheet_title="Planilla 2025-01", document_date=dt.datetime(2025, 1, 1))
    sheet = openpyxl.load_workbook(path).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Período", "Unidad administrativa", "Nombre"]
    names = [sheet.cell(row=r, column=3) for r in range(2, 2 + len(DANGEROUS))]
    assert [c.value for c in names[:5]] == ["'" + t for t in DANGEROUS[:5]]
    assert all(c.data_type == "s" and c.value.startswith("'") for c in names)
    salary = sheet.cell(row=2, column=8)
    assert salary.value == -125.5 and salary.data_type == "n"
    assert sheet.cell(row=2, column=9).value is None
    start = sheet.cell(row=2, column=10)
    assert start.is_date and start.value == dt.datetime(2020, 2, 29)


def test_xlsx_drops_control_characters_excel_refuses(tmp_path):
    rows = [{"nombre": "Ana\x0b", "apellido": "B", "cedula": "8-1-1", "cargo": "C", "salario_mensual": 1.0,
             "gasto_representacion": 0.0, "fecha_inicio": "2020-01-01"}]
    path = tmp_path / "a.xlsx"
    formats.write_xlsx(planilla_frame("2025-01", rows), FIELDS, path, sheet_title="x", document_date=dt.datetime(2025, 1, 1))
    assert openpyxl.load_workbook(path).active.cell(row=2, column=3).value == "Ana"


@pytest.mark.parametrize("writer", ["csv", "xlsx", "json", "parquet"])
def test_same_frame_gives_identical_bytes(tmp_path, writer):
    paths = [tmp_path / f"{i}.{writer}" for i in (1, 2)]
    for path in paths:
        if writer == "xlsx":
            formats.write_xlsx(_frame(), FIELDS, path, sheet_title="x", document_date=dt.datetime(2025, 1, 1))
        else:
            getattr(formats, f"write_{writer}")(_frame(), FIELDS, path)
    assert sha256_file(paths[0]) == sha256_file(paths[1])


def test_json_is_a_list_of_typed_records_without_neutralisation(tmp_path):
    path = tmp_path / "a.json"
    formats.write_json(_frame(), FIELDS, path)
    records = json.loads(path.read_text(encoding="utf-8"))
    assert list(records[0]) == [f.name for f in FIELDS]
    assert records[0]["nombre"] == "=1+1"
    assert records[0]["salario_mensual"] == -125.5 and records[0]["gasto_representacion"] is None
    assert records[0]["fecha_inicio"] == "2020-02-29"


def test_parquet_types_and_iso_dates(tmp_path):
    typed, iso = tmp_path / "t.parquet", tmp_path / "i.parquet"
    formats.write_parquet(_frame(), FIELDS, typed)
    formats.write_parquet(_frame(), FIELDS, iso, iso_dates=True)
    assert str(pq.read_schema(typed).field("fecha_inicio").type) == "date32[day]"
    assert pq.read_table(iso).column("fecha_inicio").to_pylist()[0] == "2020-02-29"
    assert pq.read_table(typed).column("salario_mensual").to_pylist()[0] == -125.5


def test_chunked_writing_keeps_every_row(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "CHUNK_ROWS", 4)
    rows = [{"nombre": f"N{i}", "apellido": "B", "cedula": "8-1-1", "cargo": "C", "salario_mensual": float(i),
             "gasto_representacion": 0.0, "fecha_inicio": "2020-01-01"} for i in range(10)]
    frame = planilla_frame("2025-01", rows)
    formats.write_csv(frame, FIELDS, tmp_path / "a.csv")
    formats.write_json(frame, FIELDS, tmp_path / "a.json")
    assert [r["nombre"] for r in _read_csv(tmp_path / "a.csv")] == [f"N{i}" for i in range(10)]
    assert len(json.loads((tmp_path / "a.json").read_text())) == 10
    assert pd.read_csv(tmp_path / "a.csv", encoding="utf-8-sig")["salario_mensual"].sum() == 45


def test_xlsx_continues_on_another_sheet_past_the_row_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "XLSX_MAX_ROWS", 4)
    path = tmp_path / "a.xlsx"
    formats.write_xlsx(_frame(), FIELDS, path, sheet_title="Planilla histórico", document_date=dt.datetime(2025, 1, 1))
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Planilla histórico", "Planilla histórico (2)"]
    assert [ws.max_row for ws in workbook] == [5, 3]
    assert workbook.worksheets[1].cell(row=1, column=1).value == "Período"


def test_empty_frame_gives_files_with_headers_only(tmp_path):
    empty = planilla_frame("2025-01", [])
    formats.write_xlsx(empty, FIELDS, tmp_path / "a.xlsx", sheet_title="x", document_date=dt.datetime(2025, 1, 1))
    formats.write_csv(empty, FIELDS, tmp_path / "a.csv")
    formats.write_json(empty, FIELDS, tmp_path / "a.json")
    assert openpyxl.load_workbook(tmp_path / "a.xlsx").active.max_row == 1
    assert _read_csv(tmp_path / "a.csv") == []
    assert json.loads((tmp_path / "a.json").read_text()) == []


def _write_table(tmp_path, fields, columns: dict, title="Tabla"):
    path = tmp_path / "t.xlsx"
    formats.write_xlsx(pd.DataFrame(columns), fields, path, sheet_title=title, document_date=dt.datetime(2025, 3, 1))
    return path


def _field(name, kind):
    return Field(name=name, type=kind, title=name.capitalize(), description="")


def _calamine_rows(path, sheet=0):
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(sheet).to_python()


def test_xlsx_reads_back_the_same_typed_values_in_calamine_and_openpyxl(tmp_path):
    path = tmp_path / "a.xlsx"
    formats.write_xlsx(_frame(), FIELDS, path, sheet_title="Planilla 2025-01", document_date=dt.datetime(2025, 1, 1))
    rows = _calamine_rows(path)
    assert rows[0][:3] == ["Período", "Unidad administrativa", "Nombre"]
    assert [r[2] for r in rows[1:]] == ["'" + t for t in DANGEROUS]
    assert rows[1][7] == -125.5 and rows[1][8] == "" and rows[2][8] == 0.0
    assert rows[1][9] == dt.date(2020, 2, 29)
    sheet = openpyxl.load_workbook(path).active
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1]) and not sheet.cell(row=2, column=3).font.bold


def test_xlsx_text_keeps_xml_special_characters_line_breaks_and_spaces(tmp_path):
    texts = ['A & B <c> "d" \'e\'', "línea 1\nlínea 2", "x\ry", "  espacios  ", "tab\tinterior", "ñ€😀"]
    path = _write_table(tmp_path, [_field("texto", "string")], {"texto": texts})
    assert [r[0] for r in _calamine_rows(path)[1:]] == texts
    sheet = openpyxl.load_workbook(path).active
    assert [sheet.cell(row=r, column=1).value for r in range(2, 2 + len(texts))] == texts


def test_xlsx_numbers_round_trip_exactly_and_non_finite_are_empty(tmp_path):
    numbers = [0.1 + 0.2, 1e16, 1e-7, -0.0, 12345678.25, float("inf"), float("nan")]
    fields = [_field("monto", "number"), _field("cantidad", "integer"), _field("activo", "boolean")]
    path = _write_table(tmp_path, fields, {
        "monto": numbers, "cantidad": pd.array([1, None, -3, 2**40, 0, 5, 6], dtype="Int64"),
        "activo": pd.array([True, False, None, True, True, False, True], dtype="boolean"),
    })
    rows = _calamine_rows(path)[1:]
    assert [r[0] for r in rows[:5]] == numbers[:5]
    assert rows[5][0] == "" and rows[6][0] == ""
    assert [r[1] for r in rows[:4]] == [1, "", -3, 2**40]
    assert [r[2] for r in rows[:3]] == [True, False, ""]
    sheet = openpyxl.load_workbook(path).active
    assert sheet.cell(row=2, column=1).value == 0.1 + 0.2 and sheet.cell(row=2, column=3).value is True


def test_xlsx_dates_around_excel_1900_quirks(tmp_path):
    dates = pd.to_datetime(pd.Series(["1900-02-28", "1900-03-01", "2024-12-31 18:30", None, "1850-07-04"]), format="mixed")
    path = _write_table(tmp_path, [_field("fecha", "date")], {"fecha": dates})
    rows = [r[0] for r in _calamine_rows(path)[1:]]
    assert rows[:4] == [dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.date(2024, 12, 31), ""]
    assert rows[4] == "1850-07-04"  # Excel has no dates before 1900: kept as ISO text
    sheet = openpyxl.load_workbook(path).active
    cells = [sheet.cell(row=r, column=1) for r in range(2, 7)]
    assert [c.value for c in cells[:3]] == [dt.datetime(1900, 2, 28), dt.datetime(1900, 3, 1), dt.datetime(2024, 12, 31)]
    assert all(c.is_date and c.number_format == "yyyy-mm-dd" for c in cells[:3])
    assert cells[4].data_type == "s"


def test_xlsx_text_longer_than_excel_allows_is_cut_to_its_limit(tmp_path):
    path = _write_table(tmp_path, [_field("texto", "string")], {"texto": ["á" * 40_000]})
    assert _calamine_rows(path)[1][0] == "á" * 32_767


def test_xlsx_parts_are_well_formed_with_fixed_dates(tmp_path):
    path = tmp_path / "a.xlsx"
    formats.write_xlsx(_frame(), FIELDS, path, sheet_title="Viáticos & <otros>", document_date=dt.datetime(2025, 2, 1))
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            ElementTree.fromstring(archive.read(info.filename))
        assert b"2025-02-01T00:00:00Z" in archive.read("docProps/core.xml")
    assert openpyxl.load_workbook(path).sheetnames == ["Viáticos & <otros>"]


def test_xlsx_continuation_sheets_read_in_calamine(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "XLSX_MAX_ROWS", 4)
    monkeypatch.setattr(formats, "CHUNK_ROWS", 3)
    path = tmp_path / "a.xlsx"
    formats.write_xlsx(_frame(), FIELDS, path, sheet_title="Planilla histórico", document_date=dt.datetime(2025, 1, 1))
    first, second = _calamine_rows(path, 0), _calamine_rows(path, 1)
    assert [r[2] for r in first[1:] + second[1:]] == ["'" + t for t in DANGEROUS]
    assert second[0][0] == "Período"


def test_xlsx_opens_in_libreoffice(tmp_path):
    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice (soffice) is missing: scripts/bootstrap.sh --test installs it")
    path = tmp_path / "a.xlsx"
    formats.write_xlsx(_frame(), FIELDS, path, sheet_title="Planilla", document_date=dt.datetime(2025, 1, 1))
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / "out"), str(path)],
                   check=True, capture_output=True, timeout=180)
    with open(tmp_path / "out" / "a.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["Período", "Unidad administrativa", "Nombre"]
    assert [r[2] for r in rows[1:]] == ["'" + t for t in DANGEROUS]
    assert rows[1][7:] == ["-125.5", "", "2020-02-29"]


def test_xlsx_uses_zip64_only_for_a_sheet_too_big_for_plain_zip(tmp_path, monkeypatch):
    path = tmp_path / "a.xlsx"
    formats.write_xlsx(_frame(), FIELDS, path, sheet_title="x", document_date=dt.datetime(2025, 1, 1))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").extra == b""
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 2_000)
    formats.write_xlsx(_frame(), FIELDS, path, sheet_title="x", document_date=dt.datetime(2025, 1, 1))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").extra.startswith(b"\x01\x00")
    assert [r[2] for r in _calamine_rows(path)[1:]] == ["'" + t for t in DANGEROUS]
    assert openpyxl.load_workbook(path).active.max_row == 1 + len(DANGEROUS)


def test_xlsx_rows_written_in_one_chunk_or_by_a_compressing_thread_give_the_same_bytes(tmp_path, monkeypatch):
    """A month of one chunk is written without the compressing thread, a larger one with it."""
    rows = [{"nombre": f"N{i}", "apellido": "Pérez", "cedula": "8-1-1", "cargo": "=C", "salario_mensual": i * 1.5,
             "gasto_representacion": 0.0, "fecha_inicio": "2020-01-01"} for i in range(25)]
    paths = [tmp_path / "one.xlsx", tmp_path / "threaded.xlsx"]
    for path, chunk in zip(paths, (25, 4), strict=True):
        monkeypatch.setattr(formats, "CHUNK_ROWS", chunk)
        formats.write_xlsx(planilla_frame("2025-01", rows), FIELDS, path, sheet_title="x",
                           document_date=dt.datetime(2025, 1, 1))
    assert sha256_file(paths[0]) == sha256_file(paths[1])
