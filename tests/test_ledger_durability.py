"""A run's ledger checkpoints survive the process being stopped without an fsync each; the finished
ledger is fsynced (it outlives a power cut too)."""

import json
import os

from transparencia.domain import Period, Workspace
from transparencia.flows.ledger import RunLedger


def _fsyncs(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    return calls


def test_checkpoints_are_written_whole_without_fsync_and_the_finished_ledger_with_one(tmp_path, monkeypatch):
    workspace = Workspace(tmp_path)
    ledger = RunLedger(run_id="r", period=Period(2026, 10), institution="SNM", target="local", dry_run=False, config="c")
    fsyncs = _fsyncs(monkeypatch)
    path = ledger.checkpoint(workspace)
    assert json.loads(path.read_text(encoding="utf-8"))["finished_at"] is None and fsyncs == []
    assert ledger.write(workspace) == path and len(fsyncs) == 1
    assert json.loads(path.read_text(encoding="utf-8"))["finished_at"]
