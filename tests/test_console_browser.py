"""The officer's console as the officer sees it: the Prefect UI, rendered by a real headless Chromium,
shows a release's artifacts on its flow-run page, and the 24-item table with Spanish statuses."""

from __future__ import annotations

import pytest
from browser import dump_dom, screenshot, visible_text
from institutions import sample_institution

from transparencia.domain import Period
from transparencia.flows.artifacts import ArtifactKeys
from transparencia.flows.release import run_release

pytestmark = [pytest.mark.browser, pytest.mark.prefect]
MONTH = Period(2025, 3)  # the demo month: one source missing, items rejected
SETTLE_MS = 20_000  # virtual time for the UI to fetch the run and its artifacts, and render them
WINDOW = (1440, 900)


def _release_on(ui: str, tmp_path):
    """Run the demo month against the UI's server; the result and the id of its table artifact."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
    from prefect.settings import PREFECT_API_URL, temporary_settings

    path = sample_institution(tmp_path, month=MONTH)
    with temporary_settings(updates={PREFECT_API_URL: f"{ui}/api"}):
        result = run_release(MONTH, path, target="local")
        with get_client(sync_client=True) as client:
            [table] = client.read_artifacts(artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[ArtifactKeys.of("SNM").items]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[result.flow_run_id])))
    return result, table.id


def test_the_flow_run_page_shows_the_months_artifacts_and_the_table_its_items(prefect_ui, tmp_path):
    result, table_id = _release_on(prefect_ui, tmp_path)
    keys = ArtifactKeys.of("SNM")

    run_page = f"{prefect_ui}/v2/runs/flow-run/{result.flow_run_id}?tab=Artifacts"
    text = visible_text(dump_dom(run_page, tmp_path / "profile", settle_ms=SETTLE_MS))
    for key in (keys.items, keys.findings, keys.links):
        assert key in text, text[-2000:]
    assert "Los 24 puntos de SNM, marzo de 2025 (2025-03)" in text
    screenshot(run_page, tmp_path / "ejecucion-artefactos.png", tmp_path / "profile", WINDOW, 1, SETTLE_MS)

    table_page = f"{prefect_ui}/v2/artifacts/artifact/{table_id}"
    text = visible_text(dump_dom(table_page, tmp_path / "profile", settle_ms=SETTLE_MS))
    assert "Punto Estado Nombre Filas Motivo" in text, text[-2000:]
    first = result.items[0]  # the table's first page: each row its item, status and name, in Spanish
    assert f"{first.code} {first.status.short_label} {first.name}" in text
    screenshot(table_page, tmp_path / "tabla-de-puntos.png", tmp_path / "profile", WINDOW, 1, SETTLE_MS)
