"""Shared test setup: keep every test off the network and out of the user's home.

Environment is set before anything imports Prefect or Great Expectations, so both read it.
Fixture plugins live beside this file, one module per real component they bring up.
"""

import os
import tempfile

from transparencia.flows.environment import configure_prefect

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# pytest-xdist's workers inherit COLUMNS=80, and rich fixes a console's width from COLUMNS when the
# console is made (the CLI's, at import): without it, each test's runner sets the width it needs.
os.environ.pop("COLUMNS", None)
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="transparencia-prefect-")
# The runs' own temporary Prefect servers (CLI subprocesses included) may take minutes to start while
# two test workers load two cores: a guard against a hang, not a measure.
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "600"
configure_prefect(console_level="WARNING")

pytest_plugins = ["ckan_server", "prefect_server", "smtp_server"]


def pytest_collection_modifyitems(items):
    """Run the CKAN tests last: `make test` starts CKAN in the background, so the other tests run while
    a first start installs and initialises it (a stable sort keeps every other order as collected)."""
    items.sort(key=lambda item: item.get_closest_marker("ckan") is not None)
