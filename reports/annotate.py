"""A directorate's own file, annotated: a copy of what it sent with a note on each cell to correct.

The archived original is never touched: an XLSX is loaded from it and saved under another name;
anything else (a CSV, an .xls or .ods) is copied value by value into a new XLSX, each value in the
cell the directorate sees it in (the CSV's line as the row, its field as the column), so every
finding's cell ("G14") points at the same value. Each cell with a finding gets a fill (red for an
error, yellow for a warning) and a Spanish comment: what is wrong, and what to write instead. A
first sheet, "Observaciones", lists every finding with its sheet, row, the directorate's own
column header, cell and message. A query's findings get that list alone, keyed by the query's
columns (a query has no cells).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from transparencia.domain import Severity, atomic_write
from transparencia.output.formulas import neutralise
from transparencia.sources import workbook
from transparencia.sources.csvfile import read_csv_text
from transparencia.validation.findings import Finding, fix_for, where_suffix

LIST_SHEET = "Observaciones"
AUTHOR = "Oficial de transparencia"
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


def annotate_file(archived: Path, findings: Sequence[ItemFinding], target: Path) -> Path:
    """Write ``target`` (XLSX): the directorate's file read from ``archived``, annotated."""
    book = _copy_of(archived)
    for sheet_name, cell, group in _by_cell(findings):
        sheet = _sheet(book, sheet_name)
        if sheet is not None:
            _mark(sheet, cell, group)
    _list_sheet(book, findings, FILE_COLUMNS, _file_row)
    return _save(book, target)


def list_findings(findings: Sequence[ItemFinding], target: Path) -> Path:
    """Write ``target`` (XLSX): a query's findings, listed by record and the query's column."""
    book = _empty_book()
    _list_sheet(book, findings, QUERY_COLUMNS, _query_row)
    return _save(book, target)


# --------------------------------------------------------------------------- copying


def _copy_of(archived: Path) -> Workbook:
    """The file as an openpyxl workbook: an XLSX as it is (formats kept), anything else by value."""
    kind = workbook.sniff(archived)
    if kind == "xlsx":
        return openpyxl.load_workbook(archived)
    book = _empty_book()
    if kind == "text":
        text = read_csv_text(archived)
        _fill(book.create_sheet(_sheet_title(archived.stem)), zip(text.line_numbers, text.rows), 0)
        return book
    for sheet in workbook.read_sheets(archived, kind):
        _fill(book.create_sheet(sheet.name[:31]), enumerate(sheet.rows, start=sheet.first_row), sheet.first_col)
    return book


def _empty_book() -> Workbook:
    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])
    return book


def _fill(sheet: Worksheet, rows: Iterable[tuple[int, list]], first_col: int) -> None:
    """Each value in its own row and column; text stays text (never read as a formula)."""
    for number, row in rows:
        for j, value in enumerate(row):
            if value is None or value == "":
                continue
            cell = sheet.cell(row=number, column=first_col + j + 1, value=value)
            if isinstance(value, str):
                cell.data_type = "s"


def _sheet_title(stem: str) -> str:
    """A CSV's only sheet, named after the file (Excel allows 31 characters, none of []:*?/\\)."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in stem).strip()
    return (cleaned or "Datos")[:31]


def _sheet(book: Workbook, name: str | None) -> Worksheet | None:
    """The finding's sheet (a CSV's findings name none: its only sheet)."""
    if name is None:
        return next((s for s in book.worksheets if s.title != LIST_SHEET), None)
    return book[name] if name in book.sheetnames else None


# --------------------------------------------------------------------------- marking cells


def _by_cell(findings: Sequence[ItemFinding]) -> list[tuple[str | None, str, list[ItemFinding]]]:
    """The findings that have a cell, grouped by sheet and cell (in order of first appearance)."""
    groups: dict[tuple[str | None, str], list[ItemFinding]] = {}
    for entry in findings:
        if entry.finding.cell:
            groups.setdefault((entry.finding.sheet, entry.finding.cell), []).append(entry)
    return [(sheet, cell, group) for (sheet, cell), group in groups.items()]


def _mark(sheet: Worksheet, reference: str, group: list[ItemFinding]) -> None:
    """Fill the cell and write the comment (a merged cell's note goes on the merge's first cell)."""
    cell = sheet[reference]
    if isinstance(cell, MergedCell):
        merged = next(r for r in sheet.merged_cells.ranges if reference in r)
        cell = sheet.cell(row=merged.min_row, column=merged.min_col)
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


def _list_sheet(book: Workbook, findings: Sequence[ItemFinding], columns: Sequence[str], row_of) -> None:
    """The first sheet: every finding, one per row, under a bold header that stays in view."""
    title = LIST_SHEET if LIST_SHEET not in book.sheetnames else f"{LIST_SHEET} (revisión)"
    sheet = book.create_sheet(title, 0)
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for entry in sorted(findings, key=_place):
        sheet.append([neutralise(v) if isinstance(v, str) else v for v in row_of(entry)])
    for j, name in enumerate(columns, start=1):
        sheet.column_dimensions[workbook.column_letters(j)].width = WIDTHS.get(name, 14)
    sheet.freeze_panes = "A2"
    book.active = 0
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False


def _place(entry: ItemFinding) -> tuple[str, str, int]:
    """Item, sheet, row: the order in which the directorate goes through its file."""
    return entry.item, entry.finding.sheet or "", entry.finding.row or 0


def _save(book: Workbook, target: Path) -> Path:
    buffer = io.BytesIO()
    book.save(buffer)
    atomic_write(target, buffer.getvalue())
    return target
