"""Fixtures for a temporary Prefect server.

``prefect_server`` starts one real temporary Prefect server (SQLite in the isolated PREFECT_HOME
that conftest sets) for the whole session, with a start-up timeout long enough for a first start
on a slow machine; flows and deployments in the tests talk to it through PREFECT_API_URL.

``prefect_ui`` starts ``prefect server start`` with its web UI (the test harness above serves the API
only), in its own PREFECT_HOME, for the tests that look at the UI in a browser; flows reach it by
setting PREFECT_API_URL to its API for the run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

# A guard against a server that never starts, not a measure: a first start migrates a new SQLite
# database, about 30 s on two busy cores and minutes when other test workers load them too.
STARTUP_SECONDS = 600


@pytest.fixture(scope="session")
def prefect_server():
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=STARTUP_SECONDS):
        yield PREFECT_API_URL.value()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(api: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{api}/health", timeout=5).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    pytest.fail(f"el servidor de Prefect con interfaz no respondió en {api}")


@pytest.fixture(scope="session")
def prefect_ui(tmp_path_factory):
    """The address of a running Prefect server with its UI (its API under ``/api``)."""
    home, port = tmp_path_factory.mktemp("prefect-ui"), _free_port()
    address = f"http://127.0.0.1:{port}"
    env = {name: value for name, value in os.environ.items() if name != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(home), PREFECT_UI_API_URL=f"{address}/api")  # the UI asks its own port
    process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                "--port", str(port), "--no-services"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(f"{address}/api", process)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=60)
