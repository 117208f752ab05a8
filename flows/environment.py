"""Prefect's environment for transparencia: offline, patient at start-up, quiet on the console.

Prefect reads these settings when it is imported, so callers apply them first; this module imports
nothing of Prefect. Values a user has already set win.
"""

from __future__ import annotations

import os
from pathlib import Path

_CONSOLE_HANDLERS = ("CONSOLE", "CONSOLE_FLOW_RUNS", "CONSOLE_TASK_RUNS")


def configure_prefect(console_level: str | None = "CRITICAL", home: Path | None = None) -> None:
    """Never phone home; give the first temporary server time to start (about 28 s on a new
    database, over Prefect's 20 s default); keep Prefect's console logs at ``console_level`` (the
    CLI shows its own progress; runs still log in full to the Prefect server). ``None`` leaves the
    console as Prefect sets it, for long-running processes such as ``serve``. ``home`` (the
    institution's ``Workspace.prefect_home``) keeps Prefect's database and settings beside the
    institution's other files instead of the user's ``~/.prefect``, unless PREFECT_HOME is set."""
    if home is not None and "PREFECT_HOME" not in os.environ:
        home = Path(home).resolve()
        home.mkdir(parents=True, exist_ok=True)  # Prefect makes only the last folder, and gives up quietly
        os.environ["PREFECT_HOME"] = str(home)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if console_level is not None:
        for handler in _CONSOLE_HANDLERS:
            os.environ.setdefault(f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL", console_level)
