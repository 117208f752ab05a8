"""Extracting an item from a spreadsheet or CSV file as directorates really produce them.

The header is found by matching the schema's field names and synonyms (banners above it, a header
over two merged rows), the sheet by configured name or else by the best header match; two columns
matching one field stop the extraction, naming both. A value merged over several rows applies to
each of them. Blank rows, totals and subtotals ("TOTAL", "Sub-total Finanzas") wherever they
stand, headers repeated on each printed page or pasted block, a numbering row under the header
("(1) (2) (3)"), footnotes ("Fuente: …"), a printed page's lines ("Página 1 de 3"), signature
blocks and one-cell notes or headings between blocks are dropped and listed; a "Sin movimientos en
el período" line declares an empty month. Values are typed by ``normalise``. The result is an
``Extraction`` whose frame index is the row number the officer sees in Excel (or the CSV line
number).
"""

from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from transparencia.domain import Period
from transparencia.domain.period import months_named
from transparencia.errors import InputError
from transparencia.schemas.catalog import Item
from transparencia.schemas.table import TableSchema
from transparencia.sources import workbook
from transparencia.sources.csvfile import read_csv_text
from transparencia.sources.extraction import Coercion, DroppedRow, Extraction, SourceRef
from transparencia.sources.headers import HeaderLocation, competing_columns, find_header, fold, seen_headers
from transparencia.sources.normalise import factorised, normalise_factorised, period_supplied

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".xlsb"}
TOTAL_LABEL = (r"^\s*(?:sub\s*[-_.]?\s*)?total(?:es)?\b|^\s*(?:gran|suma|monto)\s+total\b|^\s*t\s+o\s+t\s+a\s+l\b|"
               r"^\s*sumas?\s*(?:$|:|\b(?:general|por|de\s+la|del)\b)|"
               # a count in place of the word: "2 funcionarios", "15 registros"
               r"^\s*\d+\s+(?:funcionari[oa]s?|servidor(?:es|as?)?|colaborador(?:es|as?)?|emplead[oa]s?|personas?|"
               r"registros?)(?:\s+p[uú]blic[oa]s|\s+en\s+total)?\s*:?\s*$")
# Also the lines a printed sheet carries at each page break: "Página 1 de 3", "Impreso: 05/02/2025".
FOOTNOTE_LABEL = (
    r"^\s*(?:fuente|nota|notas|observaci[oó]n(?:es)?|elaborado|preparado|revisado|aprobado|"
    r"fecha\s+de\s+(?:actualizaci[oó]n|corte|elaboraci[oó]n|impresi[oó]n)|\*|"
    r"p[aá]g(?:ina)?\.?\s*\d+(?:\s*(?:de|/)\s*\d+)?\s*$|page\s+\d+|impreso\b)"
)
# How a directorate says it had nothing to report this month (the template's instructions ask for
# the first of these); an empty sheet alone never says so.
NO_MOVEMENT = (r"\bsin\s+movimientos?\b|\bsin\s+registros?\s+(?:en|durante|para)\s+el\s+(?:per[ií]odo|mes)\b|"
               r"\bno\s+(?:hubo|hay|se\s+registraron|se\s+realizaron|se\s+presentaron)\s+(?:movimientos?|registros?)\b")
# The lines a form leaves for signatures ("_______", "Firma:"); under them come names and titles.
SIGNATURE_LINE = r"^\s*(?:[_.\-]{3,}|firma\s*:?)\s*$"
SIGNATURES_SIDE_BY_SIDE = 4  # "Elaborado por", "Revisado por", "Aprobado por", "Vo. Bo."
# A numbering row under the header, as government forms have: "(1)", "[2]", "3.", "Col. 4", "(a)".
NUMBERING = r"^\s*[(\[]?\s*(?:col(?:umna)?\.?\s*)?(\d{1,2}|[a-z])\s*[)\].]?\s*$"
DROPPED_TEXT = 80
_TOTAL = re.compile(TOTAL_LABEL, re.IGNORECASE)
_FOOTNOTE = re.compile(FOOTNOTE_LABEL, re.IGNORECASE)
_NO_MOVEMENT = re.compile(NO_MOVEMENT, re.IGNORECASE)
_NUMBERING = re.compile(NUMBERING, re.IGNORECASE)
_SIGNATURE_LINE = re.compile(SIGNATURE_LINE, re.IGNORECASE)


@dataclass
class Grid:
    """Rows of cells and the row number the officer sees for each one."""

    rows: list[list]
    row_numbers: list[int]
    sheet: str | None = None
    merged_spans: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # row offset -> column spans
    first_col: int = 0  # 0-based sheet column of rows[*][0]
    merged_fills: list[tuple[int, int]] = field(default_factory=list)  # (row, column) offsets filled from a merge

    def column_label(self, position: int) -> str:
        """How the officer finds a column: its letter in a sheet, its number in a CSV."""
        if self.sheet is None:
            return f"columna {position + 1}"
        return f"columna {workbook.column_letters(self.column_number(position))}"

    def column_number(self, position: int) -> int:
        """The 1-based column of ``rows[*][position]`` in the sheet (in a CSV, its field number)."""
        return self.first_col + position + 1


def extract_file(path: str | Path, item: Item, *, sheet: str | None = None,
                 directorate: str | None = None, period: Period | None = None) -> Extraction:
    """Read ``path`` (.xlsx, .xlsm, .xls, .ods or .csv, whatever its extension says) into ``item``'s schema.

    ``period``, when known, fills ``periodo`` for files that do not carry that column.
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


def _extract_file(path: Path, item: Item, sheet: str | None, directorate: str | None, period: Period | None) -> Extraction:
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
        grid = _choose_sheet(path, kind, schema, sheet, period)
    source = SourceRef("file", str(path), grid.sheet, directorate)
    extraction = _extract_grid(grid, schema, source, period)
    if kind == "xlsx" and grid.sheet is not None and _has_empty_values(extraction):
        errors = workbook.error_cells(path, grid.sheet)
        if errors:  # only a sheet holding errors is extracted again, with them where they are
            _restore_errors(grid, errors)
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
    if kind in ("pdf", "image", "word"):
        what = {"pdf": "un documento PDF", "image": "una imagen", "word": "un documento de texto (Word)"}[kind]
        raise InputError(
            f"El archivo '{path}' es {what}, no un libro de Excel ni un CSV: sus datos no se pueden leer como "
            "tabla. Envíe el libro de Excel (.xlsx) o el CSV del que salió."
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
    fills: list[tuple[int, int]] = []
    for (r0, c0), (r1, c1) in sheet.merged:
        top, left = r0 + 1 - sheet.first_row, c0 - sheet.first_col
        if c1 > c0:
            spans.setdefault(top, []).append((left, c1 - sheet.first_col))
        if r1 > r0:
            fills += _fill_down(sheet.rows, top, left, r1 - r0)
    numbers = list(range(sheet.first_row, sheet.first_row + len(sheet.rows)))
    return Grid(sheet.rows, numbers, sheet.name, spans, sheet.first_col, fills)


def _has_empty_values(extraction: Extraction) -> bool:
    """Whether a data row has no value in a column of the file: the only place an Excel error can
    hide, since calamine reads an error cell as empty. A sheet whose every data cell has a value
    (the usual large planilla) is not looked at again."""
    read = [name for name in extraction.column_map if name in extraction.frame]
    return bool(read) and bool(extraction.frame[read].isna().to_numpy().any())


def _restore_errors(grid: Grid, errors: dict[tuple[int, int], str]) -> None:
    """Write each Excel error ('#DIV/0!') into the cell calamine read as empty, so the cell is
    reported where it is (``normalise`` knows the errors) instead of passing for an empty one."""
    if not errors or not grid.row_numbers:
        return
    first_row = grid.row_numbers[0]
    for (row, column), error in errors.items():
        r, c = row - first_row, column - 1 - grid.first_col
        if 0 <= r < len(grid.rows) and c >= 0:
            cells = grid.rows[r]
            if c >= len(cells):
                cells.extend([""] * (c + 1 - len(cells)))
            if cells[c] == "":
                cells[c] = error


def _fill_down(rows: list[list], top: int, column: int, below: int) -> list[tuple[int, int]]:
    """A value merged over several rows applies to each of them; Excel keeps it in the first cell only.

    Only the merge's first column is filled: the other columns of a block merge are the same cell."""
    if not (0 <= top < len(rows) and 0 <= column < len(rows[top]) and _filled(rows[top][column])):
        return []
    value, filled = rows[top][column], []
    for r in range(top + 1, min(top + below + 1, len(rows))):
        if column < len(rows[r]) and not _filled(rows[r][column]):
            rows[r][column] = value
            filled.append((r, column))
    return filled


def _choose_sheet(path: Path, kind: str, schema: TableSchema, wanted: str | None, period: Period | None) -> Grid:
    """The configured sheet, or else the sheet whose header names the most fields; in a workbook
    with a sheet per month, among the sheets named for ``period`` (see ``_sheets_of_the_month``)."""
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
    grids = _sheets_of_the_month(path, grids, period)
    grids = _sheets_titled_for_the_month(grids, schema, period)
    if len(grids) == 1:
        return grids[0]
    scored = [(_header_score(g, schema), -i, g) for i, g in enumerate(grids)]
    return max(scored, key=lambda s: s[:2])[2]


def _sheets_of_the_month(path: Path, grids: list[Grid], period: Period | None) -> list[Grid]:
    """In a workbook that keeps a sheet per month (two or more sheets name a month: "Enero",
    "FEB 2025", "2025-03"), the sheets named for ``period``; otherwise all of them.

    Every month's sheet has the same header, so the best header match would pick the first one
    and publish it as this month's. No sheet for the month stops the extraction, naming the sheets."""
    if period is None or len(grids) < 2:
        return grids
    named = [(g, months_named(g.sheet or "", period.year, abbreviated=True)) for g in grids]
    monthly = [(g, months) for g, months in named if len(months) == 1]
    if len(monthly) < 2:
        return grids
    ours = [g for g, months in monthly if months == {str(period)}]
    if not ours:
        raise InputError(
            f"El libro '{path}' tiene una hoja por mes ({', '.join(repr(g.sheet) for g, _ in monthly)}) y ninguna de "
            f"{period.label_es}. Agregue la hoja del mes, o indique cuál leer con 'sheet' en la configuración."
        )
    return ours


def _sheets_titled_for_the_month(grids: list[Grid], schema: TableSchema, period: Period | None) -> list[Grid]:
    """Among sheets with generic names ("Hoja1", "Hoja2") whose title rows each name one month
    ("PLANILLA DE ENERO 2025"), the ones titled for ``period``; otherwise all of them.

    Their headers match equally, so the best header match would read the first sheet; no sheet
    titled for the month leaves the choice (and validation's month check) as it was."""
    if period is None or len(grids) < 2:
        return grids
    titled = [(g, _title_months(g, schema, period)) for g in grids]
    if sum(len(months) == 1 for _, months in titled) < 2:
        return grids
    ours = [g for g, months in titled if months == {str(period)}]
    return ours or grids


def _title_months(grid: Grid, schema: TableSchema, period: Period) -> set[str]:
    """The months the rows above the sheet's header name."""
    location = find_header(grid.rows, schema, grid.merged_spans)
    if location is None:
        return set()
    return months_named(" ".join(_banner(grid.rows[:location.first_row])), period.year)


def _header_score(grid: Grid, schema: TableSchema) -> int:
    location = find_header(grid.rows, schema, grid.merged_spans)
    return location.match.score if location else 0


def _extract_grid(grid: Grid, schema: TableSchema, source: SourceRef, period: Period | None) -> Extraction:
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
    competing = competing_columns(location.match, location.headers, schema, grid.column_label)
    if competing:
        raise InputError(
            f"En {_where(source)} hay columnas que compiten por el mismo dato: {competing}. "
            "Deje una sola o cambie el encabezado de la que no corresponde."
        )
    start = location.first_row + location.row_count
    cells = _as_array(grid.rows[start:], len(location.headers))
    numbers = np.asarray(grid.row_numbers[start:], dtype=np.int64)
    columns = [factorised(cells[:, j]) for j in range(cells.shape[1])]
    reasons = _classify_rows(columns, location, _header_texts(grid, location, schema))
    dropped = [
        DroppedRow(int(numbers[i]), str(reasons[i]), _row_text(cells[i]))
        for i in np.flatnonzero(reasons != "")
    ]
    declared = _declared_empty(grid.rows[:location.first_row], grid.row_numbers, dropped)
    if declared is not None:
        reasons[numbers == declared[0]] = "declared_empty"
        dropped = [DroppedRow(d.row, "declared_empty", d.text) if d.row == declared[0] else d for d in dropped]
    keep = reasons == ""
    index = pd.Index(numbers[keep], name="fila")
    raw = {name: (columns[position][0][keep], columns[position][1]) for name, position in location.match.positions.items()}
    missing = location.match.missing
    filled: list[Coercion] = []
    supplied = period_supplied(missing, period, len(index))
    if supplied is not None:
        missing, filled = supplied
        raw["periodo"] = (np.zeros(len(index), dtype=np.intp), np.array([str(period)], dtype=object))
    elif period is not None and "periodo" in raw:
        raw["periodo"], filled = _blank_periods_filled(*raw["periodo"], period)
    frame, coercions, failures = normalise_factorised(raw, index, schema)
    merged = _merged_coercions(grid, start, keep, location.match.positions)
    return Extraction(
        item=schema.name,
        frame=frame,
        source=source,
        header_row=grid.row_numbers[location.first_row],
        column_map=location.match.column_map,
        column_numbers={name: grid.column_number(position) for name, position in location.match.positions.items()},
        missing_columns=missing,
        ignored_columns=location.match.ignored,
        dropped=dropped,
        coercions=filled + merged + coercions,
        failures=failures,
        declared_empty=None if declared is None else f"en el archivo, fila {declared[0]}: «{declared[1]}»",
        banner=_banner(grid.rows[:location.first_row]),
    )


def _blank_periods_filled(codes: np.ndarray, uniques: np.ndarray,
                          period: Period) -> tuple[tuple[np.ndarray, np.ndarray], list[Coercion]]:
    """Empty cells of a Período column take the run's month, said once (a coercion counting them),
    as when the file has no such column: the template lets the directorate leave it empty. A month
    written in a cell is kept, so one that contradicts the run is still an error."""
    blank_values = np.fromiter((not _filled(v) for v in uniques), dtype=bool, count=len(uniques))
    blank = np.append(blank_values, True)[codes]  # code -1 (a missing cell) reads the appended True
    count = int(blank.sum())
    if not count:
        return (codes, uniques), []
    filled_uniques = np.append(np.asarray(uniques, dtype=object), np.array([str(period)], dtype=object))
    return ((np.where(blank, len(uniques), codes), filled_uniques),
            [Coercion("periodo", "period_for_blank_cells", count, (("", str(period)),))])


def _banner(rows: list[list]) -> list[str]:
    """The title rows above the header, one text each ("PLANILLA DE ENERO 2025")."""
    return [" ".join(str(v).strip() for v in row if _filled(v)) for row in rows if any(_filled(v) for v in row)]


def _merged_coercions(grid: Grid, start: int, keep: np.ndarray, positions: dict[str, int]) -> list[Coercion]:
    """One coercion per field whose kept rows took a value from a cell merged over them."""
    fields = {position: name for name, position in positions.items()}
    counts: dict[str, int] = {}
    examples: dict[str, object] = {}
    for r, c in grid.merged_fills:
        if r >= start and c in fields and keep[r - start]:
            counts[fields[c]] = counts.get(fields[c], 0) + 1
            examples.setdefault(fields[c], grid.rows[r][c])
    return [Coercion(name, "merged_cell_filled", count, (("(celda combinada)", str(examples[name])),))
            for name, count in counts.items()]


def _declared_empty(banner: list[list], row_numbers: list[int], dropped: list[DroppedRow]) -> tuple[int, str] | None:
    """Where the directorate wrote that the month had no movements: (row number, text), or None.

    Looked for above the header and in the rows dropped below it: a sheet with data rows can
    carry the line too, and validation then reports the contradiction."""
    for offset, row in enumerate(banner):
        for value in row:
            if isinstance(value, str) and _NO_MOVEMENT.search(value):
                return row_numbers[offset], value.strip()
    for d in dropped:
        if d.reason in ("note", "footnote", "total") and _NO_MOVEMENT.search(d.text):
            return d.row, d.text
    return None


def _header_texts(grid: Grid, location: HeaderLocation, schema: TableSchema) -> dict[int, list[str]]:
    """Per mapped column, the texts that repeat its header when found in a data row.

    The header cells as written (each row of a two-row header) and the field's names, in the
    capitalisations people use: a header repeated on each printed page is the same text, one
    pasted from another block may be a synonym or differ in case."""
    header_rows = grid.rows[location.first_row:location.first_row + location.row_count]
    texts: dict[int, list[str]] = {}
    for name, j in location.match.positions.items():
        f = schema.field(name)
        written = [row[j] for row in header_rows if j < len(row) and isinstance(row[j], str)]
        spellings = {location.headers[j], f.title, name.replace("_", " "), *f.synonyms, *written}
        texts[j] = sorted({form for t in spellings if t.strip()
                           for form in (t.strip(), t.strip().upper(), t.strip().lower(), t.strip().capitalize(),
                                        t.strip().title())})
    return texts


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
    if rows and len(rows[0]) == width:
        array = np.empty((len(rows), width), dtype=object, order="F")
        try:
            array[:] = rows  # every row as wide as the first, as a sheet's always are
            return array
        except ValueError:  # a ragged row (CSV): numpy refuses it, nothing is broadcast
            pass
    widest = max(width, max((len(r) for r in rows), default=0))
    array = np.full((len(rows), widest), "", dtype=object, order="F")
    for i, row in enumerate(rows):
        array[i, : len(row)] = row
    return array


def _classify_rows(columns: list[tuple[np.ndarray, np.ndarray]], location: HeaderLocation,
                   header_texts: dict[int, list[str]]) -> np.ndarray:
    """Per row: '' to keep, or why it is dropped ('blank', 'repeated_header', 'numbering', 'total',
    'footnote', 'note').

    ``columns`` are the data rows' columns factorised (codes, distinct values): every test runs on
    the distinct values and reaches the rows through the codes.
    """
    n = len(columns[0][0]) if columns else 0
    reasons = np.full(n, "", dtype=object)
    if n == 0:
        return reasons
    filled = [_per_row(codes, _not_blank(uniques)) for codes, uniques in columns]
    counts = np.sum(filled, axis=0)
    mapped = len(location.match.positions)
    total_label, footnote_label = _labels(columns, filled, counts <= max(mapped - 1, 2))
    total_label |= _label_count(columns, filled, counts <= max(mapped // 2, 2), _TOTAL) > 0
    repeated = _repeated_header(columns, header_texts, counts, mapped)
    numbering = _numbering(columns, repeated)

    total = total_label & (counts < max(mapped, 2))
    # A signature block is as wide as the signatures side by side, never as wide as half the fields.
    block = counts <= min(SIGNATURES_SIDE_BY_SIDE, max(mapped // 2, 2))
    signatures = block & (counts > 0) & (_label_count(columns, filled, block, _SIGNATURE_LINE) == counts)
    footnote = (footnote_label & block) | signatures
    after_footnote = _run_after(footnote, block)  # the names and titles under "Fuente:" or the lines
    note = (counts == 1) & (mapped >= 4) & _any_text(columns, filled, counts == 1)

    reasons[note] = "note"
    reasons[after_footnote] = "footnote"
    reasons[total] = "total"
    reasons[numbering] = "numbering"
    reasons[repeated] = "repeated_header"
    reasons[counts == 0] = "blank"
    return reasons


def _not_blank(uniques: np.ndarray) -> np.ndarray:
    """Per distinct value: whether it fills its cell. Text of only spaces (non-breaking ones, tabs,
    ideographic spaces) does not: a row of them between people is a blank row, not a person with
    every field missing."""
    blank = np.fromiter((type(v) is str and (not v or v.isspace()) for v in uniques), dtype=bool, count=len(uniques))
    return ~blank


def _run_after(starts: np.ndarray, sparse: np.ndarray) -> np.ndarray:
    """Rows from a ``starts`` row on, through the unbroken run of ``sparse`` rows it belongs to:
    the lines under a note belong to it until data rows resume."""
    index = np.arange(len(starts))
    last_start = np.maximum.accumulate(np.where(starts, index, -1))
    run = np.cumsum(~sparse)
    return sparse & (last_start >= 0) & (run[np.maximum(last_start, 0)] == run)


def _repeated_header(columns: list[tuple[np.ndarray, np.ndarray]], header_texts: dict[int, list[str]],
                     counts: np.ndarray, mapped: int) -> np.ndarray:
    """Rows that repeat the header (each printed page, each pasted block): half the mapped columns
    hold their header's text, or every filled cell does (the second row of a two-row header).

    A row with half its mapped columns header-like has one in any ``mapped - half + 1`` of them,
    so those with the fewest distinct values are searched whole; the others only on the rows
    that could qualify (those, and rows too sparse to need half)."""
    threshold = max(2, (mapped + 1) // 2)
    by_size = sorted(header_texts, key=lambda j: len(columns[j][1]))
    candidates = counts < threshold
    for j in by_size[:max(len(by_size) - threshold + 1, 1)]:
        codes, uniques = columns[j]
        candidates |= _per_row(codes, pd.Index(uniques).isin(header_texts[j]))
    rows = np.flatnonzero(candidates)
    repeats = np.zeros(len(rows), dtype=int)
    for j, texts in header_texts.items():
        codes, uniques = columns[j]
        at = codes[rows]
        used = np.unique(at[at >= 0])
        like = np.zeros(len(uniques) + 1, dtype=bool)  # the last entry stands for a missing cell (-1)
        like[used] = pd.Index(uniques[used]).isin(texts)
        repeats += like[at]
    repeated = np.zeros(len(counts), dtype=bool)
    repeated[rows] = repeats >= threshold
    all_header = np.zeros(len(counts), dtype=bool)
    all_header[rows] = (repeats >= 1) & (repeats == counts[rows])
    several = np.zeros(len(counts), dtype=bool)
    several[rows] = repeats >= 2
    after = np.concatenate(([False], repeated[:-1]))
    return repeated | (all_header & (several | after))


def _numbering(columns: list[tuple[np.ndarray, np.ndarray]], repeated: np.ndarray) -> np.ndarray:
    """The row under the header (or under a repeated one) that numbers the columns: "(1) (2) … (10)"."""
    found = np.zeros(len(repeated), dtype=bool)
    for i in np.flatnonzero(np.concatenate(([True], repeated[:-1]))):
        values = [uniques[codes[i]] for codes, uniques in columns if codes[i] >= 0 and _filled(uniques[codes[i]])]
        found[i] = _numbers_columns(values)
    return found


def _numbers_columns(values: list) -> bool:
    """Whether the values are three or more increasing column numbers (or letters) and nothing else."""
    numbers = []
    for value in values:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
            numbers.append(int(value))
            continue
        found = _NUMBERING.match(value) if isinstance(value, str) else None
        if found is None:
            return False
        token = found[1].lower()
        numbers.append(int(token) if token.isdigit() else ord(token) - ord("a") + 1)
    return len(numbers) >= 3 and all(b > a for a, b in pairwise(numbers))


def _any_text(columns: list[tuple[np.ndarray, np.ndarray]], filled: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Per row among ``rows``: whether some filled cell holds text."""
    found = np.zeros(len(rows), dtype=bool)
    for (codes, uniques), column_filled in zip(columns, filled):
        at = np.flatnonzero(rows & column_filled)
        if len(at):
            is_text = np.fromiter((type(v) is str for v in uniques), dtype=bool, count=len(uniques))
            found[at] |= np.append(is_text, False)[codes[at]]
    return found


def _label_count(columns: list[tuple[np.ndarray, np.ndarray]], filled: list[np.ndarray], rows: np.ndarray,
                 pattern: re.Pattern) -> np.ndarray:
    """Per row among ``rows`` (0 for the others): how many filled cells are text that ``pattern``
    finds ("RRHH | Subtotal RRHH | 5,000.00": a subtotal labelled in its second column)."""
    found = np.zeros(len(rows), dtype=int)
    for (codes, uniques), column_filled in zip(columns, filled):
        at = np.flatnonzero(rows & column_filled)
        if len(at):
            found[at] += _label_matches(uniques, np.unique(codes[at]), pattern)[codes[at]]
    return found


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
