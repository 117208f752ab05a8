"""Rendering a release whose inputs did not change costs a fingerprint, not a render.

Rendering is deterministic (``publishers.render``): the same release gives the same bytes. So the
files of the last render are reused when everything rendering reads is the same: the month's and
the history's rows (index, columns, types and values), the validation report, the item, schema,
institution, privacy overrides, directorate, the months online and formats, and the code itself
(``domain.memo.code_fingerprint``). A memo beside the files records that fingerprint
and each file's sha256; it is trusted only when every file is still there with its recorded
sha256, and it is removed before a render starts, so an interrupted render never leaves a memo
that vouches for half-written files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from transparencia.domain import Frequency, OutputFormat, Period, atomic_write, sha256_file
from transparencia.domain.jsontypes import JsonObject
from transparencia.domain.memo import MAPPED_STAGES as MAPPED_STAGES  # the code the fingerprint covers, named here too
from transparencia.domain.memo import code_fingerprint
from transparencia.domain.memo import package_files as package_files
from transparencia.publishers.base import Coverage, DatasetSpec, DatastoreField, DatastoreTable, ResourceFile

if TYPE_CHECKING:  # render imports this module to memoise its output
    from transparencia.publishers.render import ItemRelease

MEMO_NAME = ".render-memo.json"


def frame_digest(frame: pd.DataFrame) -> bytes:
    """Index, column names, types and values of ``frame`` (row order included)."""
    digest = hashlib.sha256(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.digest()


def release_fingerprint(release: ItemRelease, wanted: Sequence[str]) -> str:
    """Everything ``render_release`` reads, as one sha256."""
    digest = hashlib.sha256()
    parts = (code_fingerprint(), repr(release.item), repr(release.schema), str(release.period), repr(release.institution),
             json.dumps(dict(release.privacy), sort_keys=True), release.directorate, json.dumps(list(wanted)),
             json.dumps(release.report.to_dict(), sort_keys=True, default=str, ensure_ascii=False),
             "*" if release.online is None else " ".join(sorted(str(p) for p in release.online)))
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    if release.rows_key is not None:  # a large month's rows cost a tenth of a second to hash
        digest.update(release.rows_key.encode())
        return digest.hexdigest()
    digest.update(frame_digest(release.frame))
    digest.update(frame_digest(release.history))
    return digest.hexdigest()


class RenderMemo:
    """The memo of the last render in ``out_dir``."""

    def __init__(self, out_dir: Path, fingerprint: str):
        self.out_dir, self.fingerprint = Path(out_dir), fingerprint
        self.path = self.out_dir / MEMO_NAME

    def load(self) -> tuple[DatasetSpec, list[ResourceFile]] | None:
        """The last render's dataset and files when its fingerprint matches and every file is intact."""
        try:
            memo = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if memo.get("fingerprint") != self.fingerprint:
            return None
        resources = [_resource(raw, self.out_dir) for raw in memo["resources"]]
        datastore_files = {Path(p): sha for p, sha in memo["datastore_files"].items()}
        intact = all(_has_sha(r.path, r.sha256) for r in resources) and all(
            _has_sha(self.out_dir / p, sha) for p, sha in datastore_files.items())
        return (_dataset(memo["dataset"]), resources) if intact else None

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)

    def save(self, dataset: DatasetSpec, resources: Sequence[ResourceFile]) -> None:
        """Record the render (only when every file lies under ``out_dir``, where the memo can vouch for it)."""
        tables = [r.datastore.rows_path for r in resources if r.datastore is not None]
        if not all(p.resolve().is_relative_to(self.out_dir.resolve()) for p in [*tables, *(r.path for r in resources)]):
            return
        memo = {
            "fingerprint": self.fingerprint,
            "dataset": _dataset_dict(dataset),
            "resources": [_resource_dict(r, self.out_dir) for r in resources],
            "datastore_files": {str(p.relative_to(self.out_dir)): sha256_file(p) for p in tables},
        }
        atomic_write(self.path, json.dumps(memo, ensure_ascii=False, sort_keys=True).encode("utf-8"),
                     durable=False)  # load() checks every file it vouches for


def _has_sha(path: Path, sha256: str) -> bool:
    return path.is_file() and sha256_file(path) == sha256


def _resource_dict(resource: ResourceFile, out_dir: Path) -> JsonObject:
    raw = dataclasses.asdict(resource)
    raw["path"] = str(resource.path.relative_to(out_dir))
    raw["period"] = str(resource.period) if resource.period else None
    if resource.datastore is not None:
        raw["datastore"]["rows_path"] = str(resource.datastore.rows_path.relative_to(out_dir))
    return raw


def _resource(raw: JsonObject, out_dir: Path) -> ResourceFile:
    table = raw.get("datastore")
    datastore = None if table is None else DatastoreTable(
        fields=tuple(DatastoreField(**f) for f in table["fields"]), rows_path=out_dir / table["rows_path"],
        primary_key=tuple(table["primary_key"]))
    period = Period.parse(raw["period"]) if raw["period"] else None
    return ResourceFile(**{**raw, "path": out_dir / raw["path"], "datastore": datastore,
                           "format": OutputFormat(raw["format"]), "period": period})


def _dataset_dict(dataset: DatasetSpec) -> JsonObject:
    coverage = dataset.coverage
    return {**dataclasses.asdict(dataset), "coverage": [str(coverage.first), str(coverage.last)] if coverage else None}


def _dataset(raw: JsonObject) -> DatasetSpec:
    frequency, coverage = raw.get("frequency"), raw.get("coverage")
    return DatasetSpec(**{**raw, "tags": tuple(raw["tags"]), "frequency": Frequency(frequency) if frequency else None,
                          "coverage": Coverage.of(coverage) if coverage else None})
