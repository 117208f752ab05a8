"""The run ledger: one JSON file per run, ``<data_dir>/runs/<period>/<run-id>.json``.

It answers "what exactly happened in this run": the inputs with their sha256, the outputs
written, every finding, every publish action, how long each step took, the final status of each
item and the Prefect flow-run id to find the logs. It never holds secrets: URLs are masked and
tokens never reach it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def new_run_id() -> str:
    """Sortable and unique: UTC time of the start plus a short random suffix."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


@dataclass
class RunLedger:
    run_id: str
    period: str
    institution: str
    target: str
    dry_run: bool
    config: str
    flow_run_id: str | None = None
    task_runner: str = "thread"
    started_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    finished_at: str | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    findings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    publish: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    withdrawal: dict[str, Any] | None = None  # what ``transparencia retirar`` removed, when and why
    _clock: float = field(default_factory=time.perf_counter, repr=False)

    def time(self, key: str, step: str, seconds: float) -> None:
        self.timings.setdefault(key, {})[step] = round(seconds, 4)

    @property
    def writes(self) -> int:
        return sum(p.get("writes", 0) for p in self.publish) + sum(1 for o in self.outputs if o.get("written"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "period": self.period, "institution": self.institution,
            "target": self.target, "dry_run": self.dry_run, "config": self.config,
            "flow_run_id": self.flow_run_id, "task_runner": self.task_runner,
            "started_at": self.started_at, "finished_at": self.finished_at,
            "writes": self.writes, "items": self.items, "inputs": self.inputs, "outputs": self.outputs,
            "findings": self.findings, "publish": self.publish, "timings": self.timings,
            "errors": self.errors, **({"withdrawal": self.withdrawal} if self.withdrawal else {}),
        }

    def write(self, data_dir: Path) -> Path:
        self.finished_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.time("run", "total", time.perf_counter() - self._clock)
        path = Path(data_dir) / "runs" / self.period / f"{self.run_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        return path
