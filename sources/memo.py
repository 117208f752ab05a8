"""Reading an archived input again costs a fingerprint when its bytes did not change.

An extraction is a pure function of the input's bytes (the archived copy's sha256,
``sources.archive``), where they lie, the item, its schema and options, the source's settings and
directorate, the period and the code (``domain.memo.code_fingerprint``). Their fingerprint (the
input key) is kept with the extraction, one memo per item and month under
``<data_dir>/cache/extraccion/`` (``Workspace.extraction_files``): the rows as Parquet (the same
types and row numbers back) and the rest of the account as a pickle holding the key and the
Parquet's sha256, read back by ``domain.memo.load_pickle``. A re-run of an unchanged month reads
them instead of the workbook; any difference, or a memo that cannot be read whole, means reading
the input again. The input key also stands for the rows in the validation memo's key
(``Extraction.input_key``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import pickle
from collections.abc import Callable

import pandas as pd

from transparencia.domain import Period, Workspace, atomic_write, sha256_bytes
from transparencia.domain.memo import UNREADABLE, code_fingerprint, load_pickle
from transparencia.sources.extraction import Extraction


def input_key(input_sha256: str, *parts: object) -> str:
    """The fingerprint of an extraction: the input's bytes, the code, and ``parts`` (everything else
    the extraction reads, each by its ``repr``)."""
    digest = hashlib.sha256(f"{code_fingerprint()}\0{input_sha256}\0".encode())
    for part in parts:
        digest.update(f"{part!r}\0".encode())
    return digest.hexdigest()


class ExtractionMemo:
    """The last extraction of one item's month, with the input key it answers."""

    def __init__(self, workspace: Workspace, slug: str, period: Period) -> None:
        self.rows_path, self.account_path = workspace.extraction_files(slug, period)

    def recall_or_extract(self, key: str, extract: Callable[[], Extraction]) -> Extraction:
        """The extraction kept under ``key``, or ``extract()`` kept under it; either carries the key."""
        extraction = self._load(key)
        if extraction is None:
            extraction = dataclasses.replace(extract(), input_key=key)
            self._save(extraction)
        return extraction

    def _load(self, key: str) -> Extraction | None:
        try:
            with self.account_path.open("rb") as handle:
                stored_key, rows_sha256, account = load_pickle(handle)
            if stored_key != key:
                return None
            rows = self.rows_path.read_bytes()
            if sha256_bytes(rows) != rows_sha256:
                return None
            return Extraction(frame=pd.read_parquet(io.BytesIO(rows)), **account)
        except UNREADABLE:
            return None

    def _save(self, extraction: Extraction) -> None:
        buffer = io.BytesIO()
        extraction.frame.to_parquet(buffer, engine="pyarrow", compression="zstd")
        rows = buffer.getvalue()
        account = {f.name: getattr(extraction, f.name) for f in dataclasses.fields(extraction) if f.name != "frame"}
        atomic_write(self.rows_path, rows, durable=False)  # the account vouches for the rows' sha256
        atomic_write(self.account_path, pickle.dumps((extraction.input_key, sha256_bytes(rows), account),
                                                     protocol=pickle.HIGHEST_PROTOCOL), durable=False)

