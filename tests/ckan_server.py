"""Fixtures for the real local CKAN server (scripts/ckan-local/).

``ckan_server`` runs ``scripts/ckan-local/start.sh`` once per test session (idempotent: about two
minutes on a clean machine, seconds when already running) and fails the session if CKAN cannot
be started: the CKAN tests must run in CI, never be skipped silently. Each test gets its own
organization (``ckan_org``) so tests never see each other's datasets. With several test workers,
the tests that stop or restart the server (``ckan_restart``) wait until no other CKAN test runs.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ckanapi
import pytest
import requests
from waiting import until

from transparencia.publishers.ckan_client import reset_breakers

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts" / "ckan-local"
DEFAULT_BASE = "/tmp/transparencia-ckan"


@dataclass(frozen=True)
class CkanServer:
    url: str
    token: str
    base: Path

    def admin(self) -> ckanapi.RemoteCKAN:
        return ckanapi.RemoteCKAN(self.url, apikey=self.token)

    @property
    def token_file(self) -> Path:
        """The sysadmin's API token as start.sh writes it, for a CLI's CKAN_API_TOKEN_FILE."""
        return self.base / "secrets" / "api-token"

    def as_target(self, monkeypatch: pytest.MonkeyPatch, url: str | None = None) -> None:
        """Point the CLI's CKAN target at this server (or at ``url``, a proxy in front of it), with the
        token read from its file, as an officer's environment does (never a token in the environment)."""
        monkeypatch.setenv("CKAN_URL", url or self.url)
        monkeypatch.delenv("CKAN_API_TOKEN", raising=False)
        monkeypatch.setenv("CKAN_API_TOKEN_FILE", str(self.token_file))

    def start(self) -> None:
        """Start (or restart) the server; the client's circuit breakers start closed, as in a new run."""
        _run_script("start.sh", self.base)
        reset_breakers()

    def stop_web(self) -> None:
        """Stop only the CKAN web process (start() brings it back)."""
        _run_script("stop.sh", self.base, "--web")

    def stop_worker(self) -> None:
        """Stop only the job worker that runs xloader's jobs (start() brings it back)."""
        _run_script("stop.sh", self.base, "--worker")

    @contextmanager
    def auto_submitting(self, second_worker: bool = True) -> Iterator[str]:
        """The URL of a second web process of this CKAN whose ckanext-xloader has its default formats, and
        so submits every CSV upload itself, as most portals do: on ``resource_create``, and on an update
        that changes the file's URL or ``last_modified``; with a second job worker (unless not
        ``second_worker``), so two jobs can run at once, as on a portal with several. The same database
        and storage; only the plugin's submission and the number of workers differ from the shared
        server's (whose formats are empty, start.sh)."""
        ini = self.base / "etc" / "ckan.ini"
        auto_ini = ini.with_name("ckan-autosubmit.ini")
        kept = [line for line in ini.read_text().splitlines() if not line.startswith("ckanext.xloader.formats")]
        auto_ini.touch(mode=0o600)
        auto_ini.write_text("\n".join(kept) + "\n")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        ckan = [str(self.base / "venv" / "bin" / "ckan"), "-c", str(auto_ini)]
        log = self.base / "logs" / "ckan-autosubmit.log"
        with open(log, "ab") as output:
            web = subprocess.Popen([*ckan, "run", "-H", "127.0.0.1", "-p", str(port), "--disable-reloader",
                                    "--threaded"], stdout=output, stderr=subprocess.STDOUT)
            workers = [subprocess.Popen([*ckan, "jobs", "worker"], stdout=output, stderr=subprocess.STDOUT)
                       for _ in range(second_worker)]
        try:
            until(lambda: web.poll() is not None or _answers(url), "the auto-submitting CKAN web process to answer")
            if web.poll() is not None:
                pytest.fail(f"the auto-submitting CKAN web process ended ({web.returncode}), see {log}")
            yield url
        finally:
            for process in (web, *workers):
                process.terminate()
                process.wait(timeout=60)


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/3/action/status_show", timeout=5).ok
    except requests.ConnectionError:
        return False


def _run_script(name: str, base: Path, *args: str) -> None:
    env = {**os.environ, "CKAN_BASE": str(base)}
    done = subprocess.run([str(SCRIPTS / name), *args], env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"{name} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _base() -> Path:
    return Path(os.environ.get("CKAN_BASE", DEFAULT_BASE))


@contextmanager
def _turn(exclusive: bool) -> Iterator[None]:
    """Take this test's turn on the shared CKAN, across the test workers: shared by the CKAN tests, and
    alone for a test that stops or restarts the server (marker ``ckan_restart``). The gate makes the
    turns fair: a restart waiting for its turn holds the gate, so no new test starts before it."""
    base = _base()
    base.mkdir(parents=True, exist_ok=True)
    with open(base / ".tests-gate", "a") as gate, open(base / ".tests-turn", "a") as turn:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(turn, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        yield


@pytest.fixture(autouse=True)
def _ckan_turn(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that uses the CKAN server runs in its turn (see ``_turn``); the others run freely."""
    if "ckan_server" not in request.fixturenames:
        yield
        return
    with _turn(exclusive=request.node.get_closest_marker("ckan_restart") is not None):
        yield


@pytest.fixture(scope="session")
def ckan_server() -> Iterator[CkanServer]:
    """The server; while it runs, ``CKAN_PUBLIC_URL`` names its own (loopback) address as the public
    one, as an officer would for a portal reached only here: a run through a loopback address with no
    public address is refused (``CkanPublisher.preflight``). A test of links sets another one."""
    base = _base()
    with _turn(exclusive=True):  # not while a test of another worker has the server stopped
        _run_script("start.sh", base)
    url = (base / "ckan-url").read_text().strip()
    token = (base / "secrets" / "api-token").read_text().strip()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CKAN_PUBLIC_URL", url)
        yield CkanServer(url=url, token=token, base=base)


@pytest.fixture
def ckan_org(ckan_server: CkanServer) -> str:
    """A fresh organization, unique to the test."""
    name = f"org-test-{uuid.uuid4().hex[:10]}"
    ckan_server.admin().action.organization_create(name=name, title=f"Institución de prueba {name[-10:]}")
    return name


@pytest.fixture
def ckan_acronym() -> str:
    """An acronym unique to the test: the local CKAN keeps what earlier runs published, and a test that
    publishes into an organization of its own under a shared acronym would still meet another test's
    datasets under the names of versions before qualified names (``names.portal_dataset_name``)."""
    return f"t{uuid.uuid4().hex[:6]}"


def published(server: CkanServer, name: str) -> dict[str, dict]:
    """A dataset's resources by name, checking that no name is listed twice."""
    resources = server.admin().action.package_show(id=name)["resources"]
    counts = Counter(r["name"] for r in resources)
    assert all(n == 1 for n in counts.values()), f"recursos repetidos: {counts}"
    return {r["name"]: r for r in resources}
