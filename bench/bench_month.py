"""A small institution's month from scratch, as the officer waits for it: the demo's inputs (about
40 rows per item), a new data folder, ``transparencia run`` as a whole process, local target.

Two cases, each timed as a process's wall time:

* a CLI run that starts its own temporary Prefect server (no PREFECT_API_URL), target <= 6 s;
* a run against a Prefect server already running (started first, not timed), target <= 3 s.

A third figure is measured in the same run as the floor of both: a process that only imports what
a run imports (the CLI, Prefect and the flow, Great Expectations as validation imports it) and exits.

A new data folder's Prefect database starts as a copy of an empty one this Prefect version already
migrated (``flows.server.database_template``, kept in the user's cache): only a machine's first
run ever pays the migrations. When the template is missing, one untimed run makes it first.

    python -m bench.bench_month            # BENCH_ROUNDS=3 (median of each case)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import print_load
from transparencia.domain import Period
from transparencia.flows.environment import configure_prefect
from transparencia.flows.server import TemporaryServer, database_template
from transparencia.sources.config import DEFAULT_CONFIG, load_config
from transparencia.sources.demo import write_month

PERIOD = Period.parse("2026-10")
OWN_SERVER_TARGET, RUNNING_SERVER_TARGET = 6.0, 3.0


def fresh_institution(folder: Path) -> Path:
    """The demo's institution in ``folder``, with the month's inputs written and nothing else."""
    for name in ("institution.yaml", "catalog-override.yaml"):
        shutil.copy(DEFAULT_CONFIG.parent / name, folder / name)
    config = folder / "institution.yaml"
    write_month(load_config(config), PERIOD)
    return config


def timed_run(environment: dict[str, str]) -> float:
    """One ``transparencia run`` of the month in a new folder; its wall time (exit 1 is the demo's
    deliberate rejections)."""
    with tempfile.TemporaryDirectory(prefix="bench-month-") as folder:
        config = fresh_institution(Path(folder))
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "transparencia", "run", "--period", str(PERIOD),
                               "--config", str(config), "--target", "local", "--sin-correo"],
                              env=environment, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"transparencia run exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return seconds


IMPORTS = ("import transparencia.cli.run, transparencia.flows.release; "
           "from transparencia.validation.expectations import _gx_runtime; _gx_runtime()")


def timed_imports(environment: dict[str, str]) -> float:
    """A process that imports what a run imports, and exits: its wall time."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS], env=environment, check=True)
    return time.perf_counter() - started


def main() -> None:
    print_load()
    configure_prefect()  # offline, as the CLI: the running server below reads the same settings
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    environment = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    print(f"rounds: {rounds} (median)", flush=True)
    if not database_template().is_file():
        print("Prefect's database template is missing: one untimed run makes it", flush=True)
        timed_run(environment)
    own = statistics.median(timed_run(environment) for _ in range(rounds))
    print(f"month from scratch, CLI starts its own Prefect server: {own:.2f} s  "
          f"-> {own / OWN_SERVER_TARGET:.2f}x the {OWN_SERVER_TARGET:.0f} s target", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-month-prefect-") as home:
        os.environ["PREFECT_HOME"] = home
        server = TemporaryServer.launch()
        try:
            server.wait(timeout=float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")))
            running = statistics.median(timed_run({**environment, "PREFECT_API_URL": server.api_url})
                                        for _ in range(rounds))
        finally:
            server.stop()
    print(f"month from scratch, Prefect server already running:    {running:.2f} s  "
          f"-> {running / RUNNING_SERVER_TARGET:.2f}x the {RUNNING_SERVER_TARGET:.0f} s target")
    print(f"ratio own server / running server: {own / running:.2f}x")
    imports = statistics.median(timed_imports(environment) for _ in range(rounds))
    print(f"imports alone (CLI, Prefect, Great Expectations), the floor of both: {imports:.2f} s  "
          f"-> {imports / RUNNING_SERVER_TARGET:.2f}x the {RUNNING_SERVER_TARGET:.0f} s target, "
          f"{imports / running:.0%} of the running-server case")


if __name__ == "__main__":
    main()
