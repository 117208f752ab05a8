"""A directorate's own file, annotated: a copy of what it sent with a note on each cell to correct.

The archived original is never touched. An XLSX up to ``FULL_COPY_LIMIT`` is loaded with openpyxl
and saved under another name, its formats kept; anything else (a CSV, an .xls or .ods, a large
XLSX) is read by value and streamed into a new XLSX (openpyxl's write-only mode: a full load and
save of a 20,000-row workbook takes over a minute, the stream a fraction of it), each value in the
cell the directorate sees it in (the CSV's line as the row, its field as the column), so every
finding's cell ("G14") points at the same value. Each cell with a finding gets a fill (red for an
error, yellow for a warning) and a Spanish comment: what is wrong, and what to write instead. A
first sheet, "Observaciones", lists every finding with its sheet, row, the directorate's own
column header, cell and message. A query's findings get that list alone, keyed by the query's
columns (a query has no cells).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from transparencia.domain import Severity, atomic_write
from transparencia.output.formulas import neutralise
from transparencia.sources import workbook
from transparencia.sources.csvfile import read_csv_text
from transparencia.validation.findings import Finding, fix_for, where_suffix

LIST_SHEET = "Observaciones"
AUTHOR = "Oficial de transparencia"
FULL_COPY_LIMIT = 1_000_000  # bytes of XLSX loaded whole (formats kept); larger ones are streamed by value
FILLS = {Severity.ERROR: PatternFill("solid", fgColor="FFC7CE"), Severity.WARNING: PatternFill("solid", fgColor="FFEB9C")}
SEVERITY_LABELS = {Severity.ERROR: "Error", Severity.WARNING: "Advertencia"}
FILE_COLUMNS = ("Punto", "Gravedad", "Hoja", "Fila", "Columna", "Celda", "Observación", "Qué escribir")
QUERY_COLUMNS = ("Punto", "Gravedad", "Registro", "Columna de la consulta", "Observación", "Qué corregir")
WIDTHS = {"Observación": 80, "Qué escribir": 50, "Qué corregir": 50, "Columna": 24, "Columna de la consulta": 24}


@dataclass(frozen=True)
class ItemFinding:
    """A finding and the item it is about (one file can feed several items, one sheet each)."""

    item: str  # "11.3 Planilla"
    finding: Finding

    @property
    def remark(self) -> str:
        """The message without its place (the cell it is written on already says where)."""
        f = self.finding
        return f.message.removesuffix(where_suffix(f.header, f.cell))


# The findings of one cell, by sheet (None: a CSV's only sheet), row and 1-based column.
Marks = dict[str | None, dict[int, dict[int, list[ItemFinding]]]]


def annotate_file(archived: Path, findings: Sequence[ItemFinding], target: Path) -> Path:
    """Write ``target`` (XLSX): the directorate's file read from ``archived``, annotated."""
    kind = workbook.sniff(archived)
    if kind == "xlsx" and archived.stat().st_size <= FULL_COPY_LIMIT:
        return _annotated_whole(archived, findings, target)
    book = openpyxl.Workbook(write_only=True)
    _list_sheet(book, findings, FILE_COLUMNS, _file_row)
    marks = _marks(findings)
    for title, rows in _sheets_by_value(archived, kind):
        _stream(book.create_sheet(title), rows, marks.get(title if kind != "text" else None, {}))
    return _save(book, target)


def list_findings(findings: Sequence[ItemFinding], target: Path) -> Path:
    """Write ``target`` (XLSX): a query's findings, listed by record and the query's column."""
    book = openpyxl.Workbook(write_only=True)
    _list_sheet(book, findings, QUERY_COLUMNS, _query_row)
    return _save(book, target)


# --------------------------------------------------------------------------- a small XLSX, whole


def _annotated_whole(archived: Path, findings: Sequence[ItemFinding], target: Path) -> Path:
    book = openpyxl.load_workbook(archived)
    for sheet_name, rows in _marks(findings).items():
        if sheet_name not in book.sheetnames:
            continue
        for row, columns in rows.items():
            for column, group in columns.items():
                _mark(_anchor(book[sheet_name], row, column), group)
    _list_sheet(book, findings, FILE_COLUMNS, _file_row)
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False
    book.active = 0
    return _save(book, target)


def _anchor(sheet: Worksheet, row: int, column: int) -> Cell:
    """The cell to write on: a merged cell's note goes on the merge's first cell (never itself merged)."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(cell, MergedCell):
        merged = next(r for r in sheet.merged_cells.ranges if cell.coordinate in r)
        return cast(Cell, sheet.cell(row=merged.min_row, column=merged.min_col))
    return cell


# --------------------------------------------------------------------------- anything else, by value


def _sheets_by_value(archived: Path, kind: str) -> Iterator[tuple[str, Iterator[tuple[int, int, list]]]]:
    """Each sheet's title and its rows as (row number, first column, values), in order."""
    if kind == "text":
        text = read_csv_text(archived)
        yield _sheet_title(archived.stem), ((number, 0, row) for number, row in zip(text.line_numbers, text.rows))
        return
    for sheet in workbook.read_sheets(archived, kind):
        yield sheet.name[:31], ((sheet.first_row + i, sheet.first_col, row) for i, row in enumerate(sheet.rows))


def _stream(sheet: Any, rows: Iterator[tuple[int, int, list]], marks: dict[int, dict[int, list[ItemFinding]]]) -> None:
    """Append each row at its own number (gaps as empty rows), its marked cells filled and commented;
    text stays text (never read as a formula)."""
    written = 0
    for number, first_col, values in rows:
        while written < number - 1:
            sheet.append([])
            written += 1
        marked = marks.get(number, {})
        cells: list[Any] = [None] * first_col
        for j, value in enumerate(values):
            cells.append(_value_cell(sheet, None if value == "" else value, marked.get(first_col + j + 1)))
        for column in sorted(c for c in marked if c > len(cells)):  # a finding on an empty trailing cell
            cells += [None] * (column - 1 - len(cells)) + [_value_cell(sheet, None, marked[column])]
        sheet.append(cells)
        written = number


def _value_cell(sheet: Any, value: Any, group: list[ItemFinding] | None) -> object:
    if group is None and not (isinstance(value, str) and value.startswith("=")):
        return value
    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, str):
        cell.data_type = "s"
    if group is not None:
        _mark(cell, group)
    return cell


def _sheet_title(stem: str) -> str:
    """A CSV's only sheet, named after the file (Excel allows 31 characters, none of []:*?/\\)."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in stem).strip()
    return (cleaned or "Datos")[:31]


# --------------------------------------------------------------------------- marking cells


def _marks(findings: Sequence[ItemFinding]) -> Marks:
    """The findings that have a cell, by sheet, row and column (in order of first appearance)."""
    marks: Marks = {}
    for entry in findings:
        if entry.finding.cell:
            letters, row = coordinate_from_string(entry.finding.cell)
            column = column_index_from_string(letters)
            marks.setdefault(entry.finding.sheet, {}).setdefault(row, {}).setdefault(column, []).append(entry)
    return marks


def _mark(cell: Cell, group: list[ItemFinding]) -> None:
    """Fill the cell (red if any of its findings is an error) and write the comment."""
    worst = Severity.ERROR if any(e.finding.severity is Severity.ERROR for e in group) else Severity.WARNING
    cell.fill = FILLS[worst]
    comment = Comment(_comment_text(group), AUTHOR)
    comment.width, comment.height = 360, 160
    cell.comment = comment


def _comment_text(group: list[ItemFinding]) -> str:
    parts = []
    for entry in group:
        fix = fix_for(entry.finding.rule)
        parts.append(f"{entry.remark}\nQué escribir: {fix}" if fix else entry.remark)
    return "\n\n".join(parts)


# --------------------------------------------------------------------------- the list


def _file_row(entry: ItemFinding) -> tuple:
    f = entry.finding
    return (entry.item, SEVERITY_LABELS[f.severity], f.sheet, f.row, f.header, f.cell, entry.remark, fix_for(f.rule))


def _query_row(entry: ItemFinding) -> tuple:
    f = entry.finding
    return (entry.item, SEVERITY_LABELS[f.severity], f.row, f.header or f.column, entry.remark, fix_for(f.rule))


def _list_sheet(book: Workbook, findings: Sequence[ItemFinding], columns: Sequence[str],
                row_of: Callable[[ItemFinding], tuple]) -> None:
    """The first sheet: every finding, one per row, under a bold header that stays in view (written
    before any other row, as a write-only workbook requires)."""
    title = LIST_SHEET if LIST_SHEET not in book.sheetnames else f"{LIST_SHEET} (revisión)"
    sheet = book.create_sheet(title, 0)
    for j, name in enumerate(columns, start=1):
        sheet.column_dimensions[workbook.column_letters(j)].width = WIDTHS.get(name, 14)
    sheet.freeze_panes = "A2"
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for entry in sorted(findings, key=_place):
        sheet.append([neutralise(v) if isinstance(v, str) else v for v in row_of(entry)])


def _place(entry: ItemFinding) -> tuple[str, str, int]:
    """Item, sheet, row: the order in which the directorate goes through its file."""
    return entry.item, entry.finding.sheet or "", entry.finding.row or 0


def _save(book: Workbook, target: Path) -> Path:
    buffer = io.BytesIO()
    book.save(buffer)
    atomic_write(target, buffer.getvalue())
    return target
