"""The raw-input archive: every input, exactly as it arrived, before anything reads it.

Layout (``Workspace.raw``): ``<data_dir>/raw/<period>/<directorate>/<name>`` (a file's original
bytes; a database extract as Parquet) and one ``<data_dir>/raw/<period>/manifest.json``:

    {"period": "2025-01",
     "inputs": {"rrhh/planilla.xlsx": {"directorate": "rrhh", "name": "planilla.xlsx",
                 "revisions": [{"revision": 1, "path": "rrhh/planilla.xlsx", "sha256": "...",
                                "size": 1234, "archived_at": "2025-02-05T11:00:00+00:00",
                                "arrived_at": "2025-02-03T14:12:09+00:00",
                                "origin": "inbox/2025-01/rrhh/planilla.xlsx"}]}},
     "runs": {"<run id>": {"inputs": {"rrhh/planilla.xlsx": 1}}}}

An archived file is never overwritten. The same bytes again reuse their revision; changed bytes
become a new revision beside the old one (``planilla.r2.xlsx``), and each run records which
revision it used, so any published month can be traced back to the exact bytes it came from.
A file's revision also records when it arrived (``arrived_at``: the inbox file's modification time,
when it was saved there, not when a run read it); a database extract arrives when it is read
(``arrived_at`` null). ``arrivals`` gives them per directorate, for the punctuality table.
Files and the manifest are written to a temporary name and renamed into place; a lock file
serialises concurrent archiving into the same period (tasks of one flow run in parallel).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NotRequired, TypedDict

import pandas as pd

from transparencia.domain import Period, Workspace, atomic_write, file_lock
from transparencia.domain.files import temporary_beside
from transparencia.errors import InputError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchivedInput:
    key: str  # "<directorate>/<name>", the input's identity across revisions
    revision: int
    path: Path  # the archived copy
    sha256: str
    size: int
    reused: bool  # True when these bytes were already archived


class Revision(TypedDict):
    """One archived version of an input, as the manifest records it."""

    revision: int
    path: str  # relative to the period's raw folder
    sha256: str
    size: int
    archived_at: str  # ISO timestamp, UTC
    # When a file arrived in the inbox (its modification time, ISO, UTC); null for a database extract,
    # absent in manifests written before it was recorded (then archived_at stands for it)
    arrived_at: NotRequired[str | None]
    origin: str  # where the bytes came from (the inbox file, the query)


class ArchivedEntry(TypedDict):
    directorate: str
    name: str
    revisions: list[Revision]


class RunEntry(TypedDict):
    inputs: dict[str, int]  # input key -> the revision the run read


class Manifest(TypedDict):
    """``raw/<AAAA-MM>/manifest.json``: every input archived for the month, and what each run read."""

    period: str
    inputs: dict[str, ArchivedEntry]
    runs: dict[str, RunEntry]


class InputRecord(TypedDict):
    """An input a run read, as the run ledger records it (None where the manifest lacks the revision)."""

    key: str
    revision: int
    sha256: str | None
    size: int | None
    origin: str | None


def read_manifest(workspace: Workspace, period: Period) -> Manifest:
    """The period's manifest (an empty one if nothing was archived yet)."""
    path = workspace.raw_manifest(period)
    if not path.exists():
        return {"period": str(period), "inputs": {}, "runs": {}}
    loaded: Manifest = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def run_inputs(workspace: Workspace, period: Period, run_id: str) -> list[InputRecord]:
    """The inputs run ``run_id`` read, each with the revision it used and that revision's sha256,
    size and origin: what the run ledger records to trace a published month to its bytes."""
    manifest = read_manifest(workspace, period)
    run = manifest["runs"].get(run_id)
    used = run["inputs"] if run is not None else {}
    return [_input_record(key, revision, manifest["inputs"][key]["revisions"]) for key, revision in used.items()]


def run_input_path(workspace: Workspace, period: Period, run_id: str, directorate: str, *,
                   origin: str | None = None, name: str | None = None) -> Path | None:
    """The archived copy of ``directorate``'s input that run ``run_id`` read, found by where it came
    from (``origin``: the inbox file as the run named it) or by its archived ``name``; None when the
    run read no such input."""
    manifest = read_manifest(workspace, period)
    used = manifest["runs"].get(run_id, {"inputs": {}})["inputs"]
    for key, number in used.items():
        entry = manifest["inputs"][key]
        revision = next((r for r in entry["revisions"] if r["revision"] == number), None)
        if revision is None or entry["directorate"] != directorate:
            continue
        if entry["name"] == name or (origin is not None and revision["origin"] == origin):
            return workspace.raw(period) / revision["path"]
    return None


def _input_record(key: str, revision: int, revisions: list[Revision]) -> InputRecord:
    entry = next((r for r in revisions if r["revision"] == revision), None)
    if entry is None:
        return {"key": key, "revision": revision, "sha256": None, "size": None, "origin": None}
    return {"key": key, "revision": revision, "sha256": entry.get("sha256"), "size": entry.get("size"),
            "origin": entry.get("origin")}


def arrivals(workspace: Workspace, period: Period) -> dict[str, list[dt.datetime]] | None:
    """When each directorate's files for ``period`` first arrived (one time per file; a later revision
    of the same file keeps its first arrival), or None when no run ever read the month. A directorate
    that sent nothing has no entry; database extracts are left out (nothing is sent)."""
    manifest = read_manifest(workspace, period)
    if not manifest["runs"] and not any(workspace.runs(period).glob("*.json")):
        return None
    found: dict[str, list[dt.datetime]] = {}
    for entry in manifest["inputs"].values():
        first = min(entry["revisions"], key=lambda r: r["revision"], default=None)
        arrived = None if first is None else first.get("arrived_at", first["archived_at"])
        if arrived is not None:
            found.setdefault(entry["directorate"], []).append(dt.datetime.fromisoformat(arrived))
    return found


def revision_name(name: str, revision: int) -> str:
    """``planilla.xlsx`` for the first revision, ``planilla.r2.xlsx`` for the second."""
    if revision == 1:
        return name
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.r{revision}.{suffix}" if dot and stem else f"{name}.r{revision}"


def archive_file(workspace: Workspace, period: Period, directorate: str, source: Path, run_id: str,
                 *, name: str | None = None, origin: str | None = None) -> ArchivedInput:
    """Archive a file's original bytes (copied once, hashed while copied)."""
    try:
        stream = open(source, "rb")  # noqa: SIM115 - closed by the with below, after the error is reworded
    except OSError as exc:
        raise InputError(f"No se puede leer '{source}' para archivarlo: {exc.strerror}") from None
    with stream:
        arrived = dt.datetime.fromtimestamp(os.fstat(stream.fileno()).st_mtime, dt.UTC)
        return _archive(workspace, period, directorate, name or Path(source).name, stream, run_id,
                        origin or str(source), arrived)


def archive_frame(workspace: Workspace, period: Period, directorate: str, name: str, frame: pd.DataFrame,
                  run_id: str, *, origin: str | None = None) -> ArchivedInput:
    """Archive a database extract as Parquet, exactly as the query returned it."""
    name = name if name.endswith(".parquet") else f"{name}.parquet"
    return _archive(workspace, period, directorate, name, io.BytesIO(frame_to_parquet(frame)), run_id,
                    origin or name)


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet bytes of a raw extract; a column mixing types (rare in SQL) is kept as text."""
    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, index=False)
    except (TypeError, ValueError):  # pyarrow's ArrowTypeError / ArrowInvalid
        mixed = frame.copy()
        for column in mixed.columns:
            if mixed[column].dtype == object:
                mixed[column] = mixed[column].map(lambda v: None if v is None or v != v else str(v))
        buffer = io.BytesIO()
        mixed.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _archive(workspace: Workspace, period: Period, directorate: str, name: str, stream: BinaryIO, run_id: str,
             origin: str, arrived: dt.datetime | None = None) -> ArchivedInput:
    name = Path(name).name  # never let a name escape the directorate folder
    root = workspace.raw(period)
    folder = root / directorate
    folder.mkdir(parents=True, exist_ok=True)
    key = f"{directorate}/{name}"
    with file_lock(root / ".manifest.lock"), temporary_beside(folder, ".incoming-") as (handle, temp):
        sha256, size = _copy_hashing(stream, handle)
        manifest = read_manifest(workspace, period)
        entry = manifest["inputs"].setdefault(key, {"directorate": directorate, "name": name, "revisions": []})
        match = next((r for r in entry["revisions"] if r["sha256"] == sha256), None)
        if match is not None:
            temp.unlink()
            revision, reused = match["revision"], True
        else:
            revision = _next_revision(folder, name, entry["revisions"])
            os.rename(temp, folder / revision_name(name, revision))
            entry["revisions"].append({
                "revision": revision, "path": f"{directorate}/{revision_name(name, revision)}",
                "sha256": sha256, "size": size,
                "archived_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "arrived_at": None if arrived is None else arrived.isoformat(timespec="seconds"),
                "origin": origin,
            })
            reused = False
        manifest["runs"].setdefault(run_id, {"inputs": {}})["inputs"][key] = revision
        atomic_write(workspace.raw_manifest(period), json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    return ArchivedInput(key=key, revision=revision, path=folder / revision_name(name, revision),
                         sha256=sha256, size=size, reused=reused)


def _next_revision(folder: Path, name: str, revisions: list[Revision]) -> int:
    """One past the last recorded revision, skipping any file already on disk (never overwrite)."""
    revision = max((r["revision"] for r in revisions), default=0) + 1
    while (folder / revision_name(name, revision)).exists():
        revision += 1
    return revision


def _copy_hashing(stream: BinaryIO, handle: int) -> tuple[str, int]:
    """Copy ``stream`` into the open temporary file ``handle``; its sha256 and size."""
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(handle, "wb") as out:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size

