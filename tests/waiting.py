"""Waiting on a subprocess under test: poll for what it should do, fail instead of hanging."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import pytest

PATIENCE = 600  # seconds a wait may take before the test gives up instead of hanging: a guard, not a measure


def until(found: Callable[[], object], what: str, process: subprocess.Popen | None = None,
          every: float = 0.1) -> object:
    """Poll until ``found()`` gives something; fail (not hang) if the process ends first or it never does."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(f"the run ended ({process.returncode}) before {what}:\n{process.stdout.read()}")
        time.sleep(every)
    pytest.fail(f"gave up waiting for {what}")
