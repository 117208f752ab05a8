"""Writing files so a crash never leaves a half-written one, hashing them, and reading YAML.

``atomic_write`` is the one way the tool replaces a file: the bytes go to a temporary file beside
the target, are flushed to disk, and the temporary file is renamed over the target (one atomic
step on POSIX). ``write_if_changed`` is the same write skipped when the file already holds those
bytes (its mtime stays: what makes a re-run of an unchanged month write nothing). ``file_lock``
is the one lock between threads and processes writing into the same folder. ``sha256_file`` is
the one digest: publishers compare it to skip unchanged files. ``load_yaml`` is how the catalog,
the schemas and the configuration files are parsed.

Every temporary file is made by ``temporary_beside``, which knows the ones in flight: when a run is
interrupted (Ctrl+C, SIGTERM) ``discard_temporaries`` deletes them and refuses new ones, so the
threads still finishing their task cannot leave a half-written ``.tmp`` behind.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import cache
from pathlib import Path
from typing import IO, Any

import yaml

PUBLIC_MODE = 0o644  # what a published or archived file is readable as (mkstemp creates 0600)


class WritesStopped(Exception):
    """The process is stopping (``discard_temporaries``): no file is started any more."""


class _InFlight:
    """The temporary files being written, and whether new ones may still start."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.paths: set[Path] = set()
        self.writer: int | None = None  # once stopping, the one thread still writing (the one recording the stop)


_IN_FLIGHT = _InFlight()


@contextmanager
def temporary_beside(folder: Path, prefix: str, suffix: str = "") -> Iterator[tuple[int, Path]]:
    """A new temporary file in ``folder`` (its descriptor and path), deleted when the block ends unless
    it was renamed into place; ``discard_temporaries`` deletes it sooner."""
    with _IN_FLIGHT.lock:
        if _IN_FLIGHT.writer not in (None, threading.get_ident()):
            raise WritesStopped("La ejecución se está deteniendo: no se escriben más archivos.")
        handle, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
        path = Path(name)
        _IN_FLIGHT.paths.add(path)
    try:
        yield handle, path
    except OSError:
        if _IN_FLIGHT.writer not in (None, threading.get_ident()):  # discarded under the writer's feet
            raise WritesStopped("La ejecución se detuvo: el archivo a medio escribir se descartó.") from None
        raise
    finally:
        with _IN_FLIGHT.lock:
            _IN_FLIGHT.paths.discard(path)
        path.unlink(missing_ok=True)


def discard_temporaries() -> list[Path]:
    """Delete every temporary file in flight and refuse new ones to every other thread, for the rest of
    the process: what an interrupted run does before it ends (the calling thread may still write its
    record of the stop). The other writers then fail at their rename. Returns the deleted."""
    with _IN_FLIGHT.lock:
        _IN_FLIGHT.writer = threading.get_ident()
        removed = sorted(p for p in _IN_FLIGHT.paths if p.exists())
        for path in removed:
            path.unlink(missing_ok=True)
        return removed


def load_yaml(text: str) -> Any:
    """A YAML document read safely (plain data, never Python objects), with libyaml's C parser
    when PyYAML has it: eight times faster on the catalog, which every command and extraction reads.
    Errors are PyYAML's ``YAMLError``, with the line in ``problem_mark`` either way."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes, *, check: Callable[[Path], None] | None = None,
                 durable: bool = True) -> None:
    """Replace ``path`` with ``data`` in one step (temporary file, fsync, rename).

    ``check`` may inspect the complete temporary file and raise to abandon the write. ``durable=False``
    skips the fsync, for a memo whose reader verifies what it reads (a file a crash left empty is
    only a memo that does not answer)."""
    atomic_fill(path, lambda handle: handle.write(data), check=check, durable=durable)


def write_if_changed(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """``atomic_write`` unless ``path`` already holds ``data``; True when the file was written."""
    path = Path(path)
    if path.exists() and path.read_bytes() == data:
        return False
    atomic_write(path, data, durable=durable)
    return True


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the ``with`` block: threads and
    processes writing into the same folder take turns."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def atomic_copies(pairs: Sequence[tuple[Path, Path]], *, check: Callable[[Path, Path], None] | None = None) -> None:
    """Replace each ``path`` with a copy of its ``source``, each in one step as ``atomic_write`` does,
    all made durable together: every temporary file is written, then one sync of their filesystem
    makes them durable where an ``fsync`` each would commit the journal once per file (a dataset's
    dozen files), then ``check(source, temporary)`` inspects each, and only then are they all
    renamed into place (one refused leaves every target as it was)."""
    with ExitStack() as stack:
        made = []
        for source, path in pairs:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = stack.enter_context(temporary_beside(path.parent, f".{path.name}.", ".tmp"))
            stack.callback(os.close, handle)
            with os.fdopen(handle, "wb", closefd=False) as out, open(source, "rb") as original:
                shutil.copyfileobj(original, out)
            made.append((source, path, handle, temporary))
        _make_durable([handle for *_, handle, _ in made])
        if check is not None:
            for source, _, _, temporary in made:
                check(source, temporary)
        for _, path, _, temporary in made:
            os.chmod(temporary, PUBLIC_MODE)
            os.replace(temporary, path)


def _make_durable(handles: Sequence[int]) -> None:
    """Flush the open files ``handles`` to disk: one ``syncfs`` when they share a filesystem on
    Linux, else (or when it fails) an ``fsync`` each."""
    devices = {os.fstat(handle).st_dev for handle in handles}
    if len(devices) == 1 and sys.platform.startswith("linux") and _libc().syncfs(handles[0]) == 0:
        return
    for handle in handles:
        os.fsync(handle)


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def atomic_fill(path: Path, fill: Callable[[IO[bytes]], object], *, check: Callable[[Path], None] | None = None,
                durable: bool = True) -> None:
    """``atomic_write`` of what ``fill`` writes to the open temporary file, for content streamed rather
    than held in memory; an exception from ``fill`` leaves ``path`` as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with temporary_beside(path.parent, f".{path.name}.", ".tmp") as (handle, temporary):
        with os.fdopen(handle, "wb") as out:
            fill(out)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if check is not None:
            check(temporary)
        os.chmod(temporary, PUBLIC_MODE)
        os.replace(temporary, path)
