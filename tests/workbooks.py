"""One way for a test to write a spreadsheet a directorate could send: named sheets of rows, merged ranges."""

from __future__ import annotations

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
