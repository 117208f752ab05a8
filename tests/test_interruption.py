"""A run stopped by SIGTERM mid-month: `transparencia run` in a real subprocess, stopped while one
item waits on its database and the others are already published.

The Finanzas database (SQLite) is held under an exclusive lock by the test, so item 10.2 waits
inside its query for as long as the test wants: the run is mid-month for certain, and the signal is
sent once the ledger shows a published item, never after a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from institutions import sample_document, write_institution
from waiting import PATIENCE, until

from transparencia.domain import Period
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month

pytestmark = pytest.mark.prefect
ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("transparencia")
MONTH = Period(2025, 3)


def _institution(folder: Path) -> Path:
    """The sample institution with its demo month; its database waits an hour for a lock, not 10 s."""
    document = sample_document()
    for directorate in document["directorates"]:
        for source in directorate["sources"]:
            if source["type"] == "database":
                source["connect_timeout"] = 3600
    config = write_institution(folder, document)
    write_month(load_config(config), MONTH)
    return config


@contextmanager
def database_held(folder: Path) -> Iterator[Callable[[], None]]:
    """Hold the Finanzas database under an exclusive lock; yields the function that lets it go."""
    connection = sqlite3.connect(folder / "inbox" / "finanzas" / "contabilidad.sqlite", isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    try:
        yield connection.close
    finally:
        connection.close()


def _environment(**settings: str) -> dict[str, str]:
    """The environment a user's shell gives the CLI: without the test session's Prefect console levels."""
    kept = {key: value for key, value in os.environ.items()
            if not key.startswith("PREFECT_LOGGING_") and key != "PREFECT_API_URL"}
    return {**kept, **settings}


def _start(config: Path, env: dict[str, str]) -> subprocess.Popen:
    """`transparencia run` in its own session (so everything it started can be looked for afterwards)."""
    return subprocess.Popen([str(CLI), "run", "--period", str(MONTH), "--config", str(config)], cwd=config.parent,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            text=True)



def _ledgers(folder: Path) -> list[dict]:
    ledgers = []
    for path in sorted((folder / "runs" / str(MONTH)).glob("*.json")):
        try:
            ledgers.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):  # a ledger is written atomically; a reader may lose the race
            continue
    return ledgers


def _published_item(folder: Path) -> dict | None:
    """The running ledger once it lists an item written."""
    return next((ledger for ledger in _ledgers(folder) if ledger["outputs"]), None)


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".incoming-")]


def test_sigterm_mid_run_ends_cancelled_with_the_ledger_of_what_was_written(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client

    config = _institution(tmp_path)
    env = _environment(PREFECT_API_URL=prefect_server)
    with database_held(tmp_path) as release:
        run = _start(config, env)
        running = until(lambda: _published_item(tmp_path), "an item written", run)
        assert running["finished_at"] is None
        written = {o["item"] for o in running["outputs"]}
        run.send_signal(signal.SIGTERM)

        with get_client(sync_client=True) as client:
            state = until(lambda: (s := client.read_flow_run(running["flow_run_id"]).state).is_final() and s,
                           "the flow run's final state")
        assert state.is_cancelled(), state
        assert "interrumpida por la señal SIGTERM" in state.message
        release()  # the item still waiting on its database may now finish, and writes nothing more
        output, _ = run.communicate(timeout=PATIENCE)

    assert run.returncode == 143, output  # 128 + SIGTERM, as shells report it
    assert "interrumpida por la señal SIGTERM" in output and "Traceback" not in output
    ledger = next(ledger for ledger in _ledgers(tmp_path) if ledger["run_id"] == running["run_id"])
    assert ledger["interrupted"]["signal"] == "SIGTERM" and ledger["finished_at"]
    assert written <= {o["item"] for o in ledger["outputs"]}
    for output_record in ledger["outputs"]:
        assert Path(output_record["path"]).is_file()
    assert "10.2" not in {o["item"] for o in ledger["outputs"]}  # still waiting when the signal came
    assert _temporaries(tmp_path) == []

    again = subprocess.run([str(CLI), "run", "--period", str(MONTH), "--config", str(config)], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=PATIENCE)
    assert again.returncode == 1, again.stdout + again.stderr  # the demo month's deliberate errors, nothing else
    last = _ledgers(tmp_path)[-1]  # run ids sort by their start
    assert last["run_id"] != running["run_id"] and "interrupted" not in last and last["items"]["10.2"]["status"] == "publicado_con_advertencias"
    assert _temporaries(tmp_path) == []


def test_sigterm_leaves_no_temporary_prefect_server_behind(tmp_path):
    """Without PREFECT_API_URL the CLI starts a temporary Prefect server: stopping the run stops it too."""
    config = _institution(tmp_path)
    env = _environment()
    with database_held(tmp_path) as release:
        run = _start(config, env)
        running = until(lambda: _published_item(tmp_path), "an item written", run)
        run.send_signal(signal.SIGTERM)
        until(lambda: any(ledger.get("interrupted") for ledger in _ledgers(tmp_path)), "the interruption recorded",
               run)
        release()
        output, _ = run.communicate(timeout=PATIENCE)
    assert run.returncode == 143, output
    with pytest.raises(ProcessLookupError):  # nothing the run started is left in its session
        os.killpg(run.pid, 0)
    assert running["run_id"] and _temporaries(tmp_path) == []
