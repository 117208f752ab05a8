"""File writers: Excel-safe CSV/XLSX (formula neutralisation, BOM), typed cells, deterministic bytes."""

import csv
import datetime as dt
import json

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from release_samples import planilla_frame
from transparencia.publishers import formats
from transparencia.schemas.table import load_schema

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
    assert formats.sha256_file(paths[0]) == formats.sha256_file(paths[1])


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
