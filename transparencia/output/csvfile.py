"""The one CSV writer of published files: UTF-8 with BOM (Excel shows accents), comma separated,
CRLF line ends (RFC 4180), every text cell neutralised against spreadsheet formulas.

``write_csv`` streams rows to a file (a big table is never held whole); ``csv_text`` gives the
same content in memory (the BOM as its first character), for files written only when it changed;
``write_csv_lines`` writes a body another writer already encoded (column-wise with Arrow), each cell
quoted by ``quote_strings`` exactly as the csv module quotes it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

import pyarrow as pa
import pyarrow.compute as pc

from transparencia.output.formulas import neutralise_cell

ENCODING = "utf-8-sig"
BOM = "\ufeff"
LINE_END = "\r\n"
# The characters that make the csv module (QUOTE_MINIMAL) quote a cell: the delimiter, the quote
# character and those of the line end.
_QUOTED_CHARACTERS = '[,"\r\n]'

Row = Sequence[object]


def write_csv(path: Path, rows: Iterable[Row], *, neutralised: bool = False) -> None:
    """Write ``rows`` (the header first) to ``path``.

    ``neutralised=True`` when the caller already made its text cells safe and every cell is text:
    the typed table writer neutralises column-wise with Arrow, and its numbers are texts (``'-5'``)
    that must not gain an apostrophe."""
    with open(path, "w", encoding=ENCODING, newline="") as handle:
        _write(handle, rows, neutralised)


def write_csv_lines(path: Path, header: Row, lines: Iterable[bytes | memoryview]) -> None:
    """``write_csv`` of ``header`` (not neutralised) followed by body ``lines`` already encoded: UTF-8,
    each line ending in ``LINE_END``, every cell quoted by ``quote_strings``."""
    out = io.StringIO(newline="")
    _write(out, [header], True)
    with open(path, "wb") as handle:
        handle.write((BOM + out.getvalue()).encode("utf-8"))
        for line in lines:
            handle.write(line)


def quote_strings(cells: pa.Array, *, only_cell: bool = False) -> pa.Array:
    """Each text as the csv module writes it as a cell: quoted, its quotes doubled, when it holds a comma,
    a quote or a line break. ``only_cell`` when it is a row's one cell: the csv module writes an empty
    one as ``""`` so the row is not a blank line."""
    needs_quotes = pc.match_substring_regex(cells, _QUOTED_CHARACTERS)
    if only_cell:
        needs_quotes = pc.or_(needs_quotes, pc.equal(pc.utf8_length(cells), 0))
    if not pc.any(needs_quotes).as_py():
        return cells
    quote = pa.scalar('"', cells.type)
    quoted = pc.binary_join_element_wise(quote, pc.replace_substring(cells, '"', '""'), quote,
                                         pa.scalar("", cells.type))
    return pc.if_else(needs_quotes, quoted, cells)


def csv_text(rows: Iterable[Row]) -> str:
    """What ``write_csv`` would write for ``rows``, as text: encoded as UTF-8 it gives the same bytes."""
    out = io.StringIO(newline="")
    _write(out, rows, False)
    return BOM + out.getvalue()


def _write(handle: TextIO, rows: Iterable[Row], neutralised: bool) -> None:
    writer = csv.writer(handle, lineterminator=LINE_END)
    writer.writerows(rows if neutralised else ([neutralise_cell(c) for c in row] for row in rows))
