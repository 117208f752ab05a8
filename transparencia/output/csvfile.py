"""The one CSV writer of published files: UTF-8 with BOM (Excel shows accents), comma separated,
CRLF line ends (RFC 4180), every text cell neutralised against spreadsheet formulas.

``write_csv`` streams rows to a file (a big table is never held whole); ``csv_text`` gives the
same content in memory (the BOM as its first character), for files written only when it changed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from transparencia.output.formulas import neutralise_cell

ENCODING = "utf-8-sig"
BOM = "\ufeff"
LINE_END = "\r\n"

Row = Sequence[object]


def write_csv(path: Path, rows: Iterable[Row], *, neutralised: bool = False) -> None:
    """Write ``rows`` (the header first) to ``path``.

    ``neutralised=True`` when the caller already made its text cells safe and every cell is text:
    the typed table writer neutralises column-wise with Arrow, and its numbers are texts (``'-5'``)
    that must not gain an apostrophe."""
    with open(path, "w", encoding=ENCODING, newline="") as handle:
        _write(handle, rows, neutralised)


def csv_text(rows: Iterable[Row]) -> str:
    """What ``write_csv`` would write for ``rows``, as text: encoded as UTF-8 it gives the same bytes."""
    out = io.StringIO(newline="")
    _write(out, rows, False)
    return BOM + out.getvalue()


def _write(handle: TextIO, rows: Iterable[Row], neutralised: bool) -> None:
    writer = csv.writer(handle, lineterminator=LINE_END)
    writer.writerows(rows if neutralised else ([neutralise_cell(c) for c in row] for row in rows))
