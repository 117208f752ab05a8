"""File writers for published tables: CSV, XLSX, JSON and Parquet, typed by the schema's fields.

Every writer is deterministic (same frame, same bytes), which is what lets publishers skip
unchanged files by sha256. Files are written in row chunks so a big frame is never copied whole.

Conventions a re-user can rely on:
  * CSV: UTF-8 with BOM (Excel shows accents), comma separated, CRLF line ends (RFC 4180), header = field names, ISO dates
    (AAAA-MM-DD), '.' as decimal mark, no thousands separators, empty cell for a missing value.
  * XLSX: header = field titles, numbers as numbers, dates as dates; a table longer than Excel's
    row limit continues on further sheets ("Planilla histórico (2)").
  * JSON: a list of records ``[{"campo": valor, ...}, ...]`` keyed by field name in schema order,
    UTF-8, ISO dates, numbers as numbers, ``null`` for a missing value.
  * Parquet: typed columns (text, float64, int64, date32 or ISO text, bool).
  * CSV and XLSX text cells starting with ``= + - @``, tab or carriage return get a leading ``'``
    so spreadsheet programs never run them as formulas; numbers are left as they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from transparencia.schemas.table import Field

CHUNK_ROWS = 20_000
# Excel's row limit minus the header: a longer table (a big history) continues on another sheet.
XLSX_MAX_ROWS = 1_048_575
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
# Zip entries and document properties carry this date so an XLSX does not change between runs.
_FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_CORE_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")

MEDIA_TYPES = {
    "CSV": "text/csv",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "JSON": "application/json",
    "PARQUET": "application/vnd.apache.parquet",
    "HTML": "text/html",
    "MD": "text/markdown",
}


def neutralise(text: str) -> str:
    """Prefix a text that a spreadsheet would read as a formula with ``'``."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _chunks(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), CHUNK_ROWS):
        yield frame.iloc[start:start + CHUNK_ROWS]


def _number_text(value: float) -> str:
    """Shortest plain decimal for a float: 1250.0 -> '1250', 0.1 -> '0.1', never '1e+16'."""
    return np.format_float_positional(value, trim="-")


def _csv_column(series: pd.Series, field: Field) -> pd.Series:
    """One column as the text a CSV cell holds ('' for missing)."""
    missing = series.isna()
    if field.type == "number":
        text = series.map(_number_text, na_action="ignore")
    elif field.type == "integer":
        text = series.astype("Int64").astype("string")
    elif field.type == "date":
        text = pd.to_datetime(series).dt.strftime("%Y-%m-%d")
    elif field.type == "boolean":
        text = series.map(lambda v: "true" if v else "false", na_action="ignore")
    else:
        text = series.astype("string")
        text = text.where(~text.str.match(_FORMULA_START).fillna(False), "'" + text)
    return text.astype(object).where(~missing, "")


def write_csv(frame: pd.DataFrame, fields: Sequence[Field], path: Path) -> None:
    """CSV for Excel and for machines: UTF-8 with BOM, ISO dates, '.' decimals, formulas neutralised."""
    names = [f.name for f in fields]
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(names)
        for chunk in _chunks(frame):
            columns = [_csv_column(chunk[f.name], f) for f in fields]
            writer.writerows(zip(*columns))


def _xlsx_value(value: object, field: Field) -> object:
    """A cell value of the field's type; text is cleaned of characters Excel refuses, and neutralised."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if field.type == "number":
        return None if value != value else float(value)
    if field.type == "integer":
        return int(value)
    if field.type == "date":
        return pd.Timestamp(value).date()
    if field.type == "boolean":
        return bool(value)
    if isinstance(value, float) and value != value:
        return None
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def _header_cells(sheet, fields: Sequence[Field]) -> list[WriteOnlyCell]:
    bold = Font(bold=True)
    cells = []
    for f in fields:
        cell = WriteOnlyCell(sheet, value=neutralise(f.title))
        cell.font = bold
        cells.append(cell)
    return cells


def write_xlsx(frame: pd.DataFrame, fields: Sequence[Field], path: Path, *, sheet_title: str,
               document_date: dt.datetime) -> None:
    """XLSX with typed cells; ``document_date`` fills the created/modified properties so bytes are stable."""
    workbook = Workbook(write_only=True)
    workbook.properties.created = document_date
    workbook.properties.creator = "transparencia"
    sheet, written, sheets = None, 0, 0
    for chunk in _chunks(frame):
        columns = [chunk[f.name].tolist() for f in fields]
        for row in zip(*columns):
            if sheet is None or written == XLSX_MAX_ROWS:
                sheets += 1
                sheet, written = _new_sheet(workbook, fields, _sheet_title(sheet_title, sheets)), 0
            sheet.append([_xlsx_value(v, f) for v, f in zip(row, fields)])
            written += 1
    if sheet is None:
        _new_sheet(workbook, fields, _sheet_title(sheet_title, 1))
    buffer = io.BytesIO()
    workbook.save(buffer)
    _write_deterministic_zip(buffer.getvalue(), path, document_date)


def _new_sheet(workbook: Workbook, fields: Sequence[Field], title: str):
    sheet = workbook.create_sheet(title=title)
    for index, f in enumerate(fields, 1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(f.title) + 4))
    sheet.freeze_panes = "A2"
    sheet.append(_header_cells(sheet, fields))
    return sheet


def _sheet_title(text: str, number: int) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\; later sheets get ' (2)', ' (3)'..."""
    suffix = "" if number == 1 else f" ({number})"
    return (re.sub(r"[\[\]:*?/\\]", " ", text) or "Datos")[:31 - len(suffix)] + suffix


def _write_deterministic_zip(data: bytes, path: Path, document_date: dt.datetime) -> None:
    """Rewrite the workbook zip with fixed entry dates and a fixed 'modified' property."""
    stamp = document_date.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                content = _CORE_MODIFIED.sub(rb"<dcterms:modified\1>" + stamp + rb"</dcterms:modified>", content)
            info = zipfile.ZipInfo(entry.filename, date_time=_FIXED_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, content)


def _json_column(series: pd.Series, field: Field) -> list[object]:
    missing = series.isna().tolist()
    if field.type == "date":
        values = pd.to_datetime(series).dt.strftime("%Y-%m-%d").tolist()
    elif field.type == "number":
        values = series.astype("float64").tolist()
    elif field.type == "integer":
        values = [None if m else int(v) for v, m in zip(series.tolist(), missing)]
    elif field.type == "boolean":
        values = [None if m else bool(v) for v, m in zip(series.tolist(), missing)]
    else:
        values = series.tolist()
    return [None if m else v for v, m in zip(values, missing)]


def write_json(frame: pd.DataFrame, fields: Sequence[Field], path: Path) -> None:
    """A JSON list of records, one per line, keys in schema order."""
    names = [f.name for f in fields]
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("[")
        first = True
        for chunk in _chunks(frame):
            columns = [_json_column(chunk[f.name], f) for f in fields]
            for row in zip(*columns):
                handle.write("\n" if first else ",\n")
                handle.write(json.dumps(dict(zip(names, row)), ensure_ascii=False, allow_nan=False))
                first = False
        handle.write("\n]\n")


_ARROW_TYPES = {
    "string": pa.string(), "yearmonth": pa.string(), "number": pa.float64(),
    "integer": pa.int64(), "date": pa.date32(), "boolean": pa.bool_(),
}


def _arrow_column(series: pd.Series, field: Field, iso_dates: bool) -> pa.Array:
    if field.type == "date":
        dates = pd.to_datetime(series)
        if iso_dates:
            return pa.array(dates.dt.strftime("%Y-%m-%d"), type=pa.string(), from_pandas=True)
        return pa.array(dates, from_pandas=True).cast(pa.date32())
    if field.type in ("string", "yearmonth"):
        return pa.array(series.astype(object), type=pa.string(), from_pandas=True)
    return pa.array(series, type=_ARROW_TYPES[field.type], from_pandas=True)


def write_parquet(frame: pd.DataFrame, fields: Sequence[Field], path: Path, *, iso_dates: bool = False) -> None:
    """Typed Parquet; with ``iso_dates`` date columns are ISO text (what a DataStore loader sends as is)."""
    arrays = [_arrow_column(frame[f.name], f, iso_dates) for f in fields]
    table = pa.Table.from_arrays(arrays, names=[f.name for f in fields])
    pq.write_table(table, path, compression="zstd", write_statistics=True)
