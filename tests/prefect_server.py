"""Fixtures for a temporary Prefect server.

``prefect_server`` starts one real temporary Prefect server (SQLite in the isolated PREFECT_HOME
that conftest sets) for the whole session, with a start-up timeout long enough for a first start
on a slow machine; flows and deployments in the tests talk to it through PREFECT_API_URL.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def prefect_server():
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()
