"""Validating a month whose extraction, item and other stored months did not change costs a fingerprint.

Validation is a pure function of the extraction (rows and the account of how they were read), the
item and its schema, the period, the item's other stored months (the cross-month check) and the
code. Their fingerprint is kept with the report, one file per item and month under
``<data_dir>/cache/validacion/`` (``Workspace.validation_cache``); a re-run with the same
fingerprint reuses the report instead of running the suite again. Any difference, or an unreadable file, means validating again.

The report is kept as a pickle, read back by ``domain.memo.load_pickle``, which builds only the
package's own classes and a few plain value types: a file planted in the data folder cannot run
code, it only fails to load (and the month is validated again).
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from collections.abc import Mapping

import pandas as pd

from transparencia.domain import Period, Workspace, atomic_write
from transparencia.domain.memo import UNREADABLE, code_fingerprint, load_pickle
from transparencia.publishers.render_memo import frame_digest
from transparencia.schemas.catalog import Item
from transparencia.sources.extraction import Extraction
from transparencia.validation.findings import ValidationReport


def extraction_digest(extraction: Extraction) -> bytes:
    """The extraction's rows and every other field (sources, mappings, dropped rows, coercions, failures).

    The rows of an extraction read from an archived input are its ``input_key`` (``sources.memo``:
    the same key, the same rows), which costs nothing where hashing a large month's rows costs a
    tenth of a second."""
    digest = hashlib.sha256(extraction.input_key.encode() if extraction.input_key else frame_digest(extraction.frame))
    for f in dataclasses.fields(extraction):
        if f.name != "frame":
            digest.update(f"{f.name}={getattr(extraction, f.name)!r}\0".encode())
    return digest.digest()


def validation_key(extraction: Extraction, item: Item, period: Period, published: Mapping[str, pd.DataFrame]) -> str:
    digest = hashlib.sha256(code_fingerprint().encode())
    digest.update(extraction_digest(extraction))
    digest.update(f"{item!r}\0{item.table_schema()!r}\0{period}\0".encode())
    for month in sorted(published):
        digest.update(month.encode())
        digest.update(frame_digest(published[month]))
    return digest.hexdigest()


class ValidationMemo:
    """The last validation report of each item and month, with the fingerprint it answers."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def load(self, slug: str, period: Period, key: str) -> ValidationReport | None:
        try:
            with self.workspace.validation_file(slug, period).open("rb") as handle:
                stored_key, report = load_pickle(handle)
        except UNREADABLE:
            return None
        return report if stored_key == key else None

    def save(self, slug: str, period: Period, key: str, report: ValidationReport) -> None:
        data = pickle.dumps((key, report), protocol=pickle.HIGHEST_PROTOCOL)
        atomic_write(self.workspace.validation_file(slug, period), data, durable=False)  # unreadable: validated again
