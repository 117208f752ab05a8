"""Shared test setup: keep every test off the network and out of the user's home.

Environment is set before anything imports Prefect or Great Expectations, so both read it.
Fixture plugins live beside this file, one module per real component they bring up.
"""

import os
import tempfile

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="transparencia-prefect-")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

pytest_plugins = ["ckan_server", "prefect_server"]
