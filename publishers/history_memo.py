"""A history file grows by the new month's rows when every month before it is provably unchanged.

Writing ``{slug}-historico.csv``/``.json`` in full each month costs as many months as the item has
published. When the month rendered sorts after every month the last history file holds, and that file
is provably the bytes a full write gives for those months, the new file is those bytes plus the month's
rows formatted by the same writer: byte for byte the full write, since both writers format each row by
itself (CSV: a header line, then one line per row; JSON: ``[``, records joined by ``,\\n``, ``\\n]\\n``).

Provably: a sidecar beside the render memo (a private file of the build folder: never published, never
a resource) records, per format, the layout the bytes were written under (``layout_key``), each month the
file holds with its stored content key (the month store's sha256; ``ItemRelease.month_keys``), its rows,
and the file's sha256, which is checked again while the bytes are copied. Anything else (an item's
first month, an earlier month re-run, a month changed or withdrawn, another layout, a missing or altered
file, unknown month keys as in a dry run's preview) is a full write, which records the sidecar afresh
when the keys are known. The sidecar is taken away before any history file is written, so an
interrupted render never leaves one that vouches for a half-written file.

XLSX is always written in full: its sheet states the row count (``<dimension>``) before the rows, and
a zip entry's deflate stream cannot be resumed, so a month more rewrites the whole sheet.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

import pandas as pd

from transparencia.domain import Period, atomic_write, sha256_file
from transparencia.domain.files import atomic_fill, temporary_beside
from transparencia.domain.memo import code_fingerprint
from transparencia.publishers import formats
from transparencia.schemas.table import Field

SIDECAR_NAME = ".history-memo.json"
# The writers whose files can grow, and the bytes that close each file after its rows.
_WRITERS: dict[str, Callable[[pd.DataFrame, Sequence[Field], Path], None]] = {
    "csv": formats.write_csv, "json": formats.write_json}
_TAILS = {"csv": b"", "json": b"\n]\n"}
_COPY_CHUNK = 1 << 20


def layout_key(fields: Sequence[Field], rules: Mapping[str, str]) -> str:
    """What the bytes of a history's rows depend on besides the rows: the published fields (names,
    types, formats), each field's personal-data treatment and the writers' code (``code_fingerprint``
    covers every module)."""
    parts = (code_fingerprint(), repr(list(fields)), json.dumps({n: str(r) for n, r in rules.items()}, sort_keys=True))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class HistoryMemo:
    """The sidecar of one build folder's history files, taken away while they are written."""

    def __init__(self, out_dir: Path, layout: str, keys: Mapping[Period, str] | None):
        """``keys``: each month the history holds (rows or not) with its stored content key; None when
        unknown (nothing is reused, nothing recorded)."""
        self.path = Path(out_dir) / SIDECAR_NAME
        self.layout = layout
        self.months = None if keys is None else [[str(p), keys[p]] for p in sorted(keys)]
        self.recorded = self._take()
        self.written: dict[str, dict] = {}

    def _take(self) -> dict[str, dict]:
        try:
            recorded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = {}
        self.path.unlink(missing_ok=True)
        return recorded if isinstance(recorded, dict) else {}

    def write(self, fmt: str, path: Path, period: Period, rows: int, month_rows: Callable[[], pd.DataFrame],
              fields: Sequence[Field], full: Callable[[], object], *, append: bool = True) -> str:
        """Write the history (``rows`` rows) to ``path``: by appending ``month_rows()`` (the history's rows
        of ``period``, published as a full write formats them) when the recorded file allows it, else by
        ``full()``. Returns the file's sha256."""
        sha256 = self._appended(fmt, path, period, month_rows, fields) if append else None
        if sha256 is None:
            full()
            sha256 = sha256_file(path)
        if self.months is not None and fmt in _WRITERS:
            self.written[fmt] = {"layout": self.layout, "months": self.months, "rows": rows, "sha256": sha256}
        return sha256

    def save(self) -> None:
        """Record the files written (none when the month keys were unknown)."""
        if self.written:
            atomic_write(self.path, json.dumps(self.written, sort_keys=True).encode("utf-8"), durable=False)

    def _appended(self, fmt: str, path: Path, period: Period, month_rows: Callable[[], pd.DataFrame],
                  fields: Sequence[Field]) -> str | None:
        """The new file's sha256 once ``period``'s rows are appended; None when the file cannot be reused."""
        entry = self.recorded.get(fmt)
        if fmt not in _WRITERS or self.months is None or not isinstance(entry, dict) or not path.is_file():
            return None
        earlier = [m for m in self.months if m[0] != str(period)]
        if entry.get("layout") != self.layout or entry.get("months") != earlier or len(earlier) == len(self.months) \
                or any(m[0] >= str(period) for m in earlier):
            return None
        segment = self._segment(fmt, month_rows(), fields, path)
        if fmt == "json" and entry.get("rows") and segment:
            segment = b"," + segment  # the record before it now has one after it
        return _grown(path, entry.get("sha256"), _TAILS[fmt], segment)

    @staticmethod
    def _segment(fmt: str, rows: pd.DataFrame, fields: Sequence[Field], path: Path) -> bytes:
        """The bytes ``rows`` add to a file of the format: what the writer writes for them alone, less
        the header line (CSV) or the brackets (JSON)."""
        with temporary_beside(path.parent, f".{path.name}.", ".rows") as (handle, scratch):
            os.close(handle)
            _WRITERS[fmt](rows, fields, scratch)
            data = scratch.read_bytes()
        if fmt == "csv":
            return data[data.index(b"\r\n") + 2:]
        return data[1:-len(_TAILS[fmt])]


class _Altered(Exception):
    """The history file is not the one its sidecar recorded."""


def _grown(path: Path, sha256: object, tail: bytes, segment: bytes) -> str | None:
    """Replace ``path`` with its bytes before ``tail``, then ``segment`` and ``tail``, when the file
    still has the recorded ``sha256`` (checked on the bytes copied); the new file's sha256, or None."""
    size = path.stat().st_size
    if size < len(tail):
        return None
    grown = hashlib.sha256()  # the bytes both files share; the old file's hash continues from a copy of it

    def fill(out: IO[bytes]) -> None:
        with open(path, "rb") as previous:
            left = size - len(tail)
            while left:
                chunk = previous.read(min(_COPY_CHUNK, left))
                if not chunk:
                    raise _Altered
                left -= len(chunk)
                grown.update(chunk)
                out.write(chunk)
            before, closing = grown.copy(), previous.read()
            before.update(closing)
            if closing != tail or before.hexdigest() != sha256:
                raise _Altered
        out.write(segment + tail)
        grown.update(segment + tail)

    try:
        atomic_fill(path, fill, durable=False)  # a build file: the render memo checks it before reuse
    except _Altered:
        return None
    return grown.hexdigest()
