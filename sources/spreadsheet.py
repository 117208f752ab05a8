"""Extracting an item from a spreadsheet or CSV file as directorates really produce them.

The header is found by matching the schema's field names and synonyms (banners above it, a header
over two merged rows), the sheet by configured name or else by the best header match. Blank rows,
totals ("TOTAL", "Sub-total"), repeated headers and footnotes ("Fuente: …") are dropped and
listed; values are typed by ``normalise``. The result is an ``Extraction`` whose frame index is
the row number the officer sees in Excel (or the CSV line number).
"""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from transparencia.errors import InputError
from transparencia.schemas.catalog import Item
from transparencia.schemas.table import TableSchema
from transparencia.sources import workbook
from transparencia.sources.csvfile import read_csv_text
from transparencia.sources.extraction import DroppedRow, Extraction, SourceRef
from transparencia.sources.headers import HeaderLocation, find_header, fold, seen_headers
from transparencia.sources.normalise import normalise_factorised, period_supplied

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".xlsb"}
TOTAL_LABEL = r"^\s*(?:sub\s*[-_.]?\s*)?total(?:es)?\b|^\s*gran\s+total\b"
FOOTNOTE_LABEL = (
    r"^\s*(?:fuente|nota|notas|observaci[oó]n(?:es)?|elaborado|preparado|revisado|aprobado|"
    r"fecha\s+de\s+(?:actualizaci[oó]n|corte|elaboraci[oó]n)|\*)"
)
DROPPED_TEXT = 80
_TOTAL = re.compile(TOTAL_LABEL, re.IGNORECASE)
_FOOTNOTE = re.compile(FOOTNOTE_LABEL, re.IGNORECASE)


@dataclass
class Grid:
    """Rows of cells and the row number the officer sees for each one."""

    rows: list[list]
    row_numbers: list[int]
    sheet: str | None = None
    merged_spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # row offset -> column spans


def extract_file(path: str | Path, item: Item, *, sheet: str | None = None,
                 directorate: str | None = None, period: str | None = None) -> Extraction:
    """Read ``path`` (.xlsx, .xlsm, .xls, .ods or .csv, whatever its extension says) into ``item``'s schema.

    ``period`` (AAAA-MM), when known, fills ``periodo`` for files that do not carry that column.
    """
    with _collector_paused():
        return _extract_file(Path(path), item, sheet, directorate, period)


@contextmanager
def _collector_paused():
    """Pause Python's cycle collector while a sheet is read and typed.

    Reading creates a list per row and an object per cell, none of them in reference cycles;
    the collector would otherwise walk all of them again and again while they pile up (about
    0.1 s of every 100k rows). Only a collector that was running is restarted, so a caller
    that had paused it keeps it paused.
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def _extract_file(path: Path, item: Item, sheet: str | None, directorate: str | None, period: str | None) -> Extraction:
    if not path.is_file():
        raise InputError(f"No se encuentra el archivo '{path}'." if not path.exists()
                         else f"'{path}' es una carpeta, no un archivo.")
    schema = item.table_schema()
    kind = workbook.sniff(path)
    notes: list[str] = []
    if kind == "text":
        grid = _csv_grid(path, notes)
    else:
        _refuse_unreadable(path, kind)
        grid = _choose_sheet(path, kind, schema, sheet)
    source = SourceRef("file", str(path), grid.sheet, directorate)
    extraction = _extract_grid(grid, schema, source, period)
    extraction.item = item.code
    extraction.notes.extend(notes)
    return extraction


def _refuse_unreadable(path: Path, kind: str) -> None:
    if kind == "empty":
        raise InputError(f"El archivo '{path}' está vacío (0 bytes).")
    if kind in ("html", "xml2003"):
        what = "una página web (HTML)" if kind == "html" else "una hoja XML de Excel 2003"
        raise InputError(
            f"El archivo '{path}' no es un libro de Excel sino {what} con extensión '{path.suffix}'. "
            "Ábralo en Excel y use 'Guardar como' > 'Libro de Excel (.xlsx)'."
        )
    if kind == "encrypted":
        raise InputError(f"El libro '{path}' está protegido con contraseña: guárdelo sin contraseña y vuelva a intentarlo.")
    if kind == "zip":
        raise InputError(f"El archivo '{path}' es un ZIP que no contiene un libro de Excel ni de OpenDocument.")


def _csv_grid(path: Path, notes: list[str]) -> Grid:
    text = read_csv_text(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        notes.append(f"El archivo tiene extensión '{path.suffix}' pero es texto CSV; se leyó como CSV.")
    separator = {"\t": "tabulador"}.get(text.separator, f"'{text.separator}'")
    notes.append(f"CSV leído con codificación {text.encoding} y separador {separator}.")
    if text.repaired_lines:
        notes.append(f"{len(text.repaired_lines)} línea(s) venían en otra codificación (Windows-1252) y se "
                     f"repararon: {_numbers(text.repaired_lines)}.")
    return Grid(text.rows, text.line_numbers)


def _numbers(numbers: list[int], shown: int = 20) -> str:
    text = ", ".join(map(str, numbers[:shown]))
    return text if len(numbers) <= shown else f"{text} y {len(numbers) - shown} más"


def _sheet_grid(sheet: workbook.Sheet) -> Grid:
    spans: dict[int, list[tuple[int, int]]] = {}
    for (r0, c0), (_r1, c1) in sheet.merged:
        if c1 > c0:
            spans.setdefault(r0 + 1 - sheet.first_row, []).append((c0 - sheet.first_col, c1 - sheet.first_col))
    numbers = list(range(sheet.first_row, sheet.first_row + len(sheet.rows)))
    return Grid(sheet.rows, numbers, sheet.name, spans)


def _choose_sheet(path: Path, kind: str, schema: TableSchema, wanted: str | None) -> Grid:
    """The configured sheet, or else the sheet whose header names the most fields."""
    if wanted is not None:
        names = workbook.sheet_names(path, kind)
        matches = [n for n in names if fold(n) == fold(wanted)]
        if not matches:
            raise InputError(f"El libro '{path}' no tiene la hoja '{wanted}'. Hojas: {', '.join(names)}.")
        return _sheet_grid(workbook.read_sheets(path, kind, matches[:1])[0])
    sheets = workbook.read_sheets(path, kind)
    grids = [_sheet_grid(s) for s in sheets if any(any(v != "" for v in row) for row in s.rows)]
    if not grids:
        raise InputError(f"El libro '{path}' no tiene datos: todas sus hojas están vacías.")
    if len(grids) == 1:
        return grids[0]
    scored = [(_header_score(g, schema), -i, g) for i, g in enumerate(grids)]
    return max(scored, key=lambda s: s[:2])[2]


def _header_score(grid: Grid, schema: TableSchema) -> int:
    location = find_header(grid.rows, schema, grid.merged_spans)
    return location.match.score if location else 0


def _extract_grid(grid: Grid, schema: TableSchema, source: SourceRef, period: str | None) -> Extraction:
    if not _any_filled(grid.rows):
        raise InputError(f"{_where(source)} está vacía." if source.sheet else f"El archivo '{source.location}' está vacío.")
    location = find_header(grid.rows, schema, grid.merged_spans)
    if location is None:
        expected = ", ".join(f.title for f in schema.fields)
        seen = ", ".join(f"'{t}'" for t in seen_headers(grid.rows)) or "nada"
        raise InputError(
            f"No se encontró la fila de encabezados en {_where(source)}. "
            f"Se esperaban columnas como: {expected}. En las primeras filas se vio: {seen}."
        )
    start = location.first_row + location.row_count
    cells = _as_array(grid.rows[start:], len(location.headers))
    numbers = np.asarray(grid.row_numbers[start:], dtype=np.int64)
    columns = [pd.factorize(cells[:, j], use_na_sentinel=True) for j in range(cells.shape[1])]
    reasons = _classify_rows(columns, location)
    keep = reasons == ""
    dropped = [
        DroppedRow(int(numbers[i]), str(reasons[i]), _row_text(cells[i]))
        for i in np.flatnonzero(~keep)
    ]
    index = pd.Index(numbers[keep], name="fila")
    raw = {name: (columns[position][0][keep], columns[position][1]) for name, position in location.match.positions.items()}
    missing, filled = location.match.missing, []
    supplied = period_supplied(missing, period, len(index))
    if supplied is not None:
        missing, filled = supplied
        raw["periodo"] = (np.zeros(len(index), dtype=np.intp), np.array([str(period)], dtype=object))
    frame, coercions, failures = normalise_factorised(raw, index, schema)
    return Extraction(
        item=schema.name,
        frame=frame,
        source=source,
        header_row=grid.row_numbers[location.first_row],
        column_map=location.match.column_map,
        missing_columns=missing,
        ignored_columns=location.match.ignored,
        dropped=dropped,
        coercions=filled + coercions,
        failures=failures,
        banner=_banner(grid.rows[:location.first_row]),
    )


def _banner(rows: list[list]) -> list[str]:
    """The title rows above the header, one text each ("PLANILLA DE ENERO 2025")."""
    return [" ".join(str(v).strip() for v in row if _filled(v)) for row in rows if any(_filled(v) for v in row)]


def _where(source: SourceRef) -> str:
    return f"la hoja '{source.sheet}' de '{source.location}'" if source.sheet else f"'{source.location}'"


def _filled(value: object) -> bool:
    return value is not None and value != "" and not (isinstance(value, str) and not value.strip())


def _any_filled(rows: list[list]) -> bool:
    return any(_filled(v) for row in rows for v in row)


def _as_array(rows: list[list], width: int) -> np.ndarray:
    """A 2-D object array of the data rows, padded to the header's width (CSV rows can be ragged).

    Column-major, since everything after reads it a column at a time."""
    width = max([width, *(len(r) for r in rows[:1])]) if rows else width
    if rows and all(len(r) == width for r in (rows[0], rows[-1])) and len({len(r) for r in rows}) == 1:
        array = np.empty((len(rows), width), dtype=object, order="F")
        array[:] = rows
        return array
    widest = max(width, max((len(r) for r in rows), default=0))
    array = np.full((len(rows), widest), "", dtype=object, order="F")
    for i, row in enumerate(rows):
        array[i, : len(row)] = row
    return array


def _classify_rows(columns: list[tuple[np.ndarray, np.ndarray]], location: HeaderLocation) -> np.ndarray:
    """Per row: '' to keep, or why it is dropped ('blank', 'repeated_header', 'total', 'footnote').

    ``columns`` are the data rows' columns factorised (codes, distinct values): every test runs on
    the distinct values and reaches the rows through the codes.
    """
    n = len(columns[0][0]) if columns else 0
    reasons = np.full(n, "", dtype=object)
    if n == 0:
        return reasons
    filled = [_per_row(codes, (uniques != "") & (uniques != " ")) for codes, uniques in columns]
    counts = np.sum(filled, axis=0)
    mapped = len(location.match.positions)
    total_label, footnote_label = _labels(columns, filled, counts <= max(mapped - 1, 2))

    repeats = np.zeros(n, dtype=int)
    for position in location.match.positions.values():
        header = location.headers[position]
        if header:
            codes, uniques = columns[position]
            repeats += _per_row(codes, uniques == header)
    repeated = repeats >= max(2, (mapped + 1) // 2)

    total = total_label & (counts < max(mapped, 2))
    footnote = footnote_label & (counts <= 2)
    after_footnote = np.maximum.accumulate(footnote) & (counts <= 2)  # signature blocks after "Fuente:"

    reasons[after_footnote] = "footnote"
    reasons[total] = "total"
    reasons[repeated] = "repeated_header"
    reasons[counts == 0] = "blank"
    return reasons


def _labels(columns: list[tuple[np.ndarray, np.ndarray]], filled: list[np.ndarray],
            sparse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: whether its first filled value reads as a total label, and as a footnote label.

    Only ``sparse`` rows are looked at: a row with more filled cells is neither a total nor a
    footnote whatever its label says.
    """
    n = len(sparse)
    total_label = np.zeros(n, dtype=bool)
    footnote_label = np.zeros(n, dtype=bool)
    rows = np.flatnonzero(sparse)
    seen = np.zeros(len(rows), dtype=bool)
    for (codes, uniques), column_filled in zip(columns, filled):
        first = column_filled[rows] & ~seen  # this column holds the row's first filled value: its label
        if first.any():
            at, row_codes = rows[first], codes[rows[first]]
            labelled = np.unique(row_codes)
            total_label[at] = _label_matches(uniques, labelled, _TOTAL)[row_codes]
            footnote_label[at] = _label_matches(uniques, labelled, _FOOTNOTE)[row_codes]
        seen |= column_filled[rows]
    return total_label, footnote_label


def _per_row(codes: np.ndarray, per_distinct: np.ndarray) -> np.ndarray:
    """A per-distinct-value flag spread to the rows; missing cells (code -1) are False."""
    return np.append(per_distinct, False)[codes]


def _label_matches(uniques: np.ndarray, positions: np.ndarray, pattern: re.Pattern) -> np.ndarray:
    """Which distinct values, among ``positions``, are text that ``pattern`` finds."""
    flags = np.zeros(len(uniques), dtype=bool)
    candidates = uniques[positions]
    is_text = np.fromiter((type(v) is str for v in candidates), dtype=bool, count=len(candidates))
    for i in positions[is_text]:  # a numbered first column ("No.") leaves only its TOTAL and notes
        flags[i] = pattern.search(uniques[i]) is not None
    return flags


def _row_text(row: np.ndarray) -> str:
    text = " | ".join(str(v).strip() for v in row if _filled(v))
    return text if len(text) <= DROPPED_TEXT else text[: DROPPED_TEXT - 1] + "…"
