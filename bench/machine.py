"""The machine's load when a benchmark starts, printed first: on a shared machine a figure is only
comparable with another taken at a similar load."""

from __future__ import annotations

import os


def load_line() -> str:
    """The 1, 5 and 15 minute load averages against the core count."""
    one, five, fifteen = os.getloadavg()
    return f"machine load at start: {one:.1f} / {five:.1f} / {fifteen:.1f} (1/5/15 min) on {os.cpu_count()} cores"


def print_load() -> None:
    print(load_line(), flush=True)
