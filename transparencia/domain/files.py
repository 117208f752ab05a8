"""Writing files so a crash never leaves a half-written one, hashing them, and reading YAML.

``atomic_write`` is the one way the tool replaces a file: the bytes go to a temporary file beside
the target, are flushed to disk, and the temporary file is renamed over the target (one atomic
step on POSIX). ``write_if_changed`` is the same write skipped when the file already holds those
bytes (its mtime stays: what makes a re-run of an unchanged month write nothing). ``file_lock``
is the one lock between threads and processes writing into the same folder. ``sha256_file`` is
the one digest: publishers compare it to skip unchanged files. ``load_yaml`` is how the catalog,
the schemas and the configuration files are parsed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import yaml

PUBLIC_MODE = 0o644  # what a published or archived file is readable as (mkstemp creates 0600)


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


def atomic_write(path: Path, data: bytes, *, check: Callable[[Path], None] | None = None) -> None:
    """Replace ``path`` with ``data`` in one step (temporary file, fsync, rename).

    ``check`` may inspect the complete temporary file and raise to abandon the write."""
    _replace(path, lambda handle: handle.write(data), check)


def write_if_changed(path: Path, data: bytes) -> bool:
    """``atomic_write`` unless ``path`` already holds ``data``; True when the file was written."""
    path = Path(path)
    if path.exists() and path.read_bytes() == data:
        return False
    atomic_write(path, data)
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


def atomic_copy(source: Path, path: Path, *, check: Callable[[Path], None] | None = None) -> None:
    """Replace ``path`` with a copy of ``source`` in one step; ``check`` as in ``atomic_write``."""
    def copy(handle: IO[bytes]) -> None:
        with open(source, "rb") as original:
            shutil.copyfileobj(original, handle)

    _replace(path, copy, check)


def _replace(path: Path, fill: Callable[[IO[bytes]], object], check: Callable[[Path], None] | None) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
        if check is not None:
            check(temporary)
        os.chmod(temporary, PUBLIC_MODE)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
