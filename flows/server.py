"""The Prefect API a run reports to: the one configured, or one temporary server per process.

A served or deployed run, or a CLI run with ``PREFECT_API_URL`` set (or an API URL in the Prefect
profile), reuses that server. Otherwise the process starts one temporary server, once, the same one
Prefect itself would start (uvicorn on Prefect's app, UI off, SQLite under ``PREFECT_HOME``), but:

* started as soon as the CLI knows it will run a flow (``start``), so the server boots on the other
  core while this process imports Prefect and the stages and checks the sources, instead of
  after them with the flow waiting;
* without importing Prefect's server in this process (only the server's own process loads it);
* on a new database, from a copy of an empty database this Prefect version already migrated (kept
  in the user's cache, ``database_template``): a new data folder's first run then skips the
  migrations, which cost a first start seconds;
* waited for (``api``) by polling its health every few milliseconds, only when the flow needs it;
* kept for the rest of the process (the demo's two months share it) and stopped at exit, also when
  the run is interrupted (SIGTERM unwinds to the exit);
* without flow-run heartbeats: they let a server tell a crashed run, but this one stops with the
  run, and the flow's end would wait up to a second for the heartbeat thread's sleep;
* on Linux, told by the kernel to stop when this process dies (``PR_SET_PDEATHSIG``), so a run
  killed with SIGKILL, which has no exit, leaves no server behind. Linux ties the signal to the
  thread that started the child: the CLI starts it from its main thread.

This module imports nothing of Prefect at import time.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import importlib.util
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from transparencia.domain.files import atomic_copies
from transparencia.errors import TransientError

HEALTH_POLL_SECONDS = 0.02
DEFAULT_STARTUP_SECONDS = 120.0
PR_SET_PDEATHSIG = 1


def _dies_with_this_process() -> Callable[[], None] | None:
    """What the child runs between fork and exec: ask for SIGTERM when this process dies (or exit
    at once if it died already). ``prctl`` is looked up before the fork: the child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _default_database() -> Path | None:
    """The SQLite file Prefect's server will use: ``prefect.db`` in PREFECT_HOME, unless a database
    is set in the environment or the Prefect profiles (then None: that one is not ours to seed)."""
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser()
    if any("DATABASE" in name for name in os.environ if name.startswith("PREFECT_")):
        return None
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    with contextlib.suppress(OSError):
        if "DATABASE" in profiles.read_text(encoding="utf-8"):
            return None
    return home / "prefect.db"


def database_template() -> Path:
    """Where an empty database migrated by this Prefect version, with the block types of the Prefect
    collections installed registered, is kept for the next new one."""
    from importlib.metadata import entry_points, version

    collections = sorted(f"{e.name}={e.dist.version if e.dist else ''}" for e in entry_points(group="prefect.collections"))
    installed = hashlib.sha256(" ".join(collections).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "transparencia" / f"prefect-{version('prefect')}-{installed}.db"


def _seed(database: Path) -> bool:
    """Give a database that does not exist yet the template's copy, if there is one."""
    template = database_template()
    if database.exists() or not template.is_file():
        return False
    atomic_copies([(template, database)])
    return True


def _keep_as_template(database: Path) -> None:
    """Copy the database a server has just migrated, still empty, as the template (SQLite's backup
    reads a consistent copy while the server has it open). Only a speed-up: a failure is ignored."""
    template = database_template()
    partial = template.with_name(f".{template.name}.{os.getpid()}")
    with contextlib.suppress(OSError, sqlite3.Error):
        template.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(database)) as source, \
                contextlib.closing(sqlite3.connect(partial)) as copy:
            source.backup(copy)
        os.replace(partial, template)
    partial.unlink(missing_ok=True)


@dataclass
class TemporaryServer:
    """A Prefect API server in a child process, on a free loopback port. ``new_database``: the
    database it creates and migrates, kept as the template once it is ready."""

    process: subprocess.Popen
    port: int
    ready: bool = field(default=False)
    new_database: Path | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @classmethod
    def launch(cls) -> TemporaryServer:
        """Start the server's process (Prefect's own ephemeral-server command) without waiting."""
        spec = importlib.util.find_spec("prefect")  # where Prefect lies, without importing it here
        assert spec is not None and spec.origin is not None
        port = _free_port()
        database = _default_database()
        seeded = database is not None and _seed(database)
        environment = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
                       "PREFECT__SERVER_FINAL": "1"}
        if seeded:  # the template has the block types registered already
            environment.setdefault("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "false")
        new_database = database if database is not None and not database.exists() else None
        environment.pop("PREFECT_API_URL", None)
        process = subprocess.Popen(  # noqa: S603 -- our own interpreter and fixed arguments
            [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(spec.origin).parent.parent),
             "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "error", "--lifespan", "on"], env=environment,
            preexec_fn=_dies_with_this_process())
        return cls(process, port, new_database=new_database)

    def wait(self, timeout: float) -> None:
        """Until the server answers its health check; a server that exits or never answers is a
        transient error (the next run may start one)."""
        import httpx

        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5) as client:
            while not self.ready:
                if self.process.poll() is not None:
                    raise TransientError(f"El servidor temporal de Prefect terminó al iniciar (código "
                                         f"{self.process.returncode}); vuelva a ejecutar.")
                with contextlib.suppress(httpx.TransportError):
                    self.ready = client.get(f"{self.api_url}/health").is_success
                if not self.ready:
                    if time.monotonic() > deadline:
                        raise TransientError(f"El servidor temporal de Prefect no respondió en {timeout:.0f} s; "
                                             "vuelva a ejecutar, o inicie uno ('prefect server start') y exporte "
                                             "PREFECT_API_URL.")
                    time.sleep(HEALTH_POLL_SECONDS)
        if self.new_database is not None:
            _keep_as_template(self.new_database)
            self.new_database = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_server: TemporaryServer | None = None


def configured_api() -> str | None:
    """The API URL set in the environment or the Prefect profile, if any (imports Prefect's settings)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def _maybe_configured() -> bool:
    """Whether an API URL may be configured, read without importing Prefect: the environment, or
    the active profile's file naming one (``configured_api`` decides once Prefect is imported)."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    return "PREFECT_API_URL" in profiles.get("profiles", {}).get(active, {})


def start() -> None:
    """Begin starting this process's temporary server unless an API is (or may be) configured;
    returns at once. Call after ``configure_prefect`` (the server reads the same settings)."""
    if _server is None and not _maybe_configured():
        _launch()


def _launch() -> TemporaryServer:
    global _server
    _server = TemporaryServer.launch()
    atexit.register(_server.stop)
    return _server


@contextlib.contextmanager
def api() -> Iterator[str]:
    """The Prefect API for the block: the configured one, or this process's temporary server (started
    here if ``start`` was not called, and waited for), then also in the environment, so that worker
    processes started inside reach the same one."""
    global _server
    if _server is None or not _server.ready:
        configured = configured_api()
        if configured:
            if _server is not None:  # started early, but a profile names a server: use that one
                _server.stop()
                _server = None
            yield configured
            return
    server = _server or _launch()
    timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", DEFAULT_STARTUP_SECONDS))
    server.wait(timeout)
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield server.api_url
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
