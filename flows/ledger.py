"""The run ledger: one JSON file per run, ``<data_dir>/runs/<period>/<run-id>.json`` (``Workspace.ledger``).

It answers "what exactly happened in this run": the inputs with their sha256, the outputs
written, every finding, every publish action, how long each step took, the final status of each
item and the Prefect flow-run id to find the logs. It never holds secrets: URLs are masked and
tokens never reach it.

Writes to a portal are journaled as they happen (``WriteJournal``, one JSON line per write call
that happened or may have happened, beside the ledger), so a run that fails or is killed midway
still tells exactly what it changed: the ledger folds the journal in when it is written.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transparencia.domain import Period, Target, Workspace, atomic_write
from transparencia.errors import TransparenciaError
from transparencia.publishers.base import ResultRecord
from transparencia.publishers.verification import Check, CheckRecord
from transparencia.sources.archive import InputRecord


def error_message(exc: BaseException) -> str:
    """An error in full, for the local ledger and log (never published)."""
    return exc.message if isinstance(exc, TransparenciaError) else f"{type(exc).__name__}: {exc}"


def new_run_id() -> str:
    """Sortable and unique: UTC time of the start plus a short random suffix."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def lease_task(period: Period) -> str:
    """What a release holding the portal's lease does, as a run waiting for it reads (Spanish)."""
    return f"publicación de {period}"


def latest_ledger(workspace: Workspace, period: Period) -> dict[str, Any] | None:
    """The ledger of the month's last release run (a withdrawal's is not one), as written; None when
    the month never ran."""
    for path in sorted(workspace.runs(period).glob("*.json"), reverse=True):  # run ids sort by time
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("run_id") and data.get("items") and not data.get("withdrawal"):
            return data
    return None


class WriteJournal:
    """Append-only JSON lines of portal writes, shared by the run's tasks (threads or processes)."""

    _lock = threading.Lock()

    def __init__(self, path: Path, tags: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        self.tags = tags or {}

    def tagged(self, **tags: str) -> WriteJournal:
        """The same journal, each entry marked with ``tags`` (e.g. the lease's writes)."""
        return WriteJournal(self.path, {**self.tags, **tags})

    @classmethod
    def for_run(cls, workspace: Workspace, period: Period, run_id: str) -> WriteJournal:
        return cls(workspace.write_journal(period, run_id))

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps({"momento": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **entry, **self.tags},
                          ensure_ascii=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass(frozen=True)
class LedgerNotes:
    """What the ledger keeps about one item beyond its row in the report (``flows.outcome``)."""

    errors: list[str] = field(default_factory=list)  # in full, with paths: the ledger is local
    findings: list[dict[str, Any]] | None = None  # every finding, unfiltered (None: not validated)
    outage: str | None = None  # the portal stopped answering while the item was published
    publish: ResultRecord | None = None  # the backend's actions
    output: dict[str, Any] | None = None  # the stored month: {"item", "path", "sha256", "written", "updated"}


@dataclass
class RunLedger:
    run_id: str
    period: Period
    institution: str
    target: str
    dry_run: bool
    config: str
    flow_run_id: str | None = None
    task_runner: str = "thread"
    started_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    finished_at: str | None = None
    inputs: list[InputRecord] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    findings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    publish: list[ResultRecord] = field(default_factory=list)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    withdrawal: dict[str, Any] | None = None  # what ``transparencia retirar`` removed, when and why
    review: dict[str, Any] | None = None  # the review before publishing: who decided what, when (``flows.review``)
    portal_writes: list[dict[str, Any]] = field(default_factory=list)  # from the WriteJournal
    verification: list[CheckRecord] = field(default_factory=list)  # read-back checks after publishing
    outage: str | None = None  # set when the portal stopped answering mid-run
    mail: dict[str, Any] = field(default_factory=dict)  # what the run e-mailed (``flows.notify.MailOutcome``)
    interrupted: dict[str, Any] | None = None  # {"signal": "SIGTERM", "at": ISO time} of a run stopped by a signal
    _clock: float = field(default_factory=time.perf_counter, repr=False)

    def note(self, code: str, notes: LedgerNotes) -> None:
        """Record what item ``code``'s stages left for the ledger."""
        self.errors.extend(notes.errors)
        if notes.findings is not None:
            self.findings[code] = notes.findings
        if notes.outage is not None:
            self.outage = notes.outage
        if notes.publish is not None and notes.publish not in self.publish:  # noted as it finished, then at the end
            self.publish.append(notes.publish)
        if notes.output is not None and notes.output not in self.outputs:
            self.outputs.append(notes.output)

    def keep_last_report(self) -> None:
        """After a portal outage the local compliance report is left as the last complete run wrote it."""
        self.errors.append(f"{self.outage} No se reescribió el informe de cumplimiento local: sigue el de la "
                           "última publicación completa.")

    def interrupt(self, signal_name: str) -> None:
        """The run was stopped by ``signal_name`` (SIGINT, SIGTERM): what it wrote so far is what the
        ledger lists; the items not listed were not written by this run."""
        self.interrupted = {"signal": signal_name, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        self.errors.append(f"Ejecución interrumpida por la señal {signal_name}: el registro lista lo que se "
                           "escribió hasta ese momento.")

    def report_failed(self, exc: BaseException) -> None:
        """The compliance report could not be published."""
        self.errors.append(f"Informe de cumplimiento: {error_message(exc)}")

    def verified(self, checks: Sequence[Check]) -> None:
        """Record the read-back checks; each one that failed is an error of the run."""
        self.verification = [c.to_dict() for c in checks]
        self.errors.extend(f"Verificación: {c.describe()}" for c in checks if not c.ok)

    def time(self, key: str, step: str, seconds: float) -> None:
        self.timings.setdefault(key, {})[step] = round(seconds, 4)

    @property
    def writes(self) -> int:
        """Local outputs written, plus the portal's write calls (journaled, so failed runs count too) or,
        for the local catalog, the publish actions. The portal lease's own writes are not counted."""
        local = sum(1 for o in self.outputs if o.get("written"))
        if Target(self.target).journals_writes:
            return local + sum(1 for w in self.portal_writes if w.get("tipo") != "bloqueo")
        return local + sum(p.get("writes", 0) for p in self.publish)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "period": str(self.period), "institution": self.institution,
            "target": self.target, "dry_run": self.dry_run, "config": self.config,
            "flow_run_id": self.flow_run_id, "task_runner": self.task_runner,
            "started_at": self.started_at, "finished_at": self.finished_at,
            "writes": self.writes, "items": self.items, "inputs": self.inputs, "outputs": self.outputs,
            "findings": self.findings, "publish": self.publish, "timings": self.timings,
            "errors": self.errors, "portal_writes": self.portal_writes, "verification": self.verification,
            "mail": self.mail,
            **({"withdrawal": self.withdrawal} if self.withdrawal else {}),
            **({"review": self.review} if self.review else {}),
            **({"interrupted": self.interrupted} if self.interrupted else {}),
        }

    def write(self, workspace: Workspace) -> Path:
        """Fold the write journal in and write the finished ledger (atomically: a reader never sees half of it)."""
        self.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.time("run", "total", time.perf_counter() - self._clock)
        return self.checkpoint(workspace, durable=True)

    def checkpoint(self, workspace: Workspace, *, durable: bool = False) -> Path:
        """Write the ledger as far as the run has got (``finished_at`` still empty while it runs): after
        each item is published, so that a run stopped even by SIGKILL leaves the list of its writes.
        A stopped process leaves what it wrote in the page cache, so a checkpoint is not fsynced (one
        per item, a small institution's 14 items cost about 40 ms); the finished ledger is."""
        self.portal_writes = WriteJournal.for_run(workspace, self.period, self.run_id).entries()
        path = (workspace.preview_ledger if self.dry_run else workspace.ledger)(self.period, self.run_id)
        atomic_write(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str).encode("utf-8"),
                     durable=durable)
        return path
