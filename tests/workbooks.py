"""One way for a test to write a spreadsheet a directorate could send: named sheets of rows, merged ranges;
or an OpenDocument sheet, written as its XML (``write_ods``)."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl

Rows = Sequence[Sequence[Any]]


def write_workbook(path: Path, sheets: Mapping[str, Rows], merges: Mapping[str, Sequence[str]] | None = None) -> Path:
    """An XLSX at ``path`` with ``sheets`` in order (title -> rows, each row appended as openpyxl does)
    and, per sheet title, the ranges to merge (``"A1:I1"``)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
        for merged in (merges or {}).get(title, ()):
            sheet.merge_cells(merged)
    book.save(path)
    return path


ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Planilla">{rows}</table:table>'
    '</office:spreadsheet></office:body></office:document-content>'
)


def _ods_cell(value, rows_spanned=1):
    if value is None:
        return "<table:covered-table-cell/>" if rows_spanned == 0 else "<table:table-cell/>"
    span = f' table:number-rows-spanned="{rows_spanned}" table:number-columns-spanned="1"' if rows_spanned > 1 else ""
    return f'<table:table-cell office:value-type="string"{span}><text:p>{value}</text:p></table:table-cell>'


def write_ods(path, rows):
    """An OpenDocument sheet; a cell given as (value, n) is merged over n rows, and 0 marks a covered cell."""
    body = "".join("<table:table-row>" + "".join(
        _ods_cell(*cell) if isinstance(cell, tuple) else _ods_cell(cell) for cell in row) + "</table:table-row>"
        for row in rows)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml",
                         '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                         'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                         '<manifest:file-entry manifest:full-path="/" '
                         'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                         '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                         '</manifest:manifest>')
        archive.writestr("content.xml", ODS_CONTENT.format(rows=body))
    return path
