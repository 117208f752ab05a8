"""Runs end the way people read them: a served or deployed run of a month with a missing file and a
rejected item ends in a Prefect state whose message says the outcome in Spanish, and its log lists
each unpublished item with its reason, without tracebacks or reprs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from institutions import sample_institution

from transparencia.domain import Period
from transparencia.flows.deploy import build_deployments

pytestmark = pytest.mark.prefect
ROOT = Path(__file__).resolve().parents[1]
MONTH = Period(2025, 3)


def _run_deployed(flow_run_id: str, api_url: str) -> None:
    """Execute a flow run the way a served or deployed one runs: Prefect's engine in a subprocess."""
    env = {**os.environ, "PREFECT_API_URL": api_url}
    subprocess.run([sys.executable, "-m", "prefect.engine", flow_run_id], cwd=ROOT, env=env, check=False,
                   capture_output=True, timeout=600)


def test_a_deployed_month_with_missing_and_rejected_items_ends_completed_in_spanish(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    config = sample_institution(tmp_path, month=MONTH)  # the demo month: one source missing, items rejected
    _scheduled, manual = build_deployments(config)
    deployment_id = manual.apply()
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment_id, parameters={"period": str(MONTH)})
        _run_deployed(str(run.id), prefect_server)
        state = client.read_flow_run(run.id).state
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])))
    text = "\n".join(log.message for log in logs)

    assert state is not None and state.is_completed(), (state, text)
    assert "puntos cumplidos" in (state.message or "") and "ReleaseResult" not in (state.message or "")
    assert "Traceback" not in text and "ReleaseResult(" not in text
    assert "Puntos que no se publicaron este mes, y por qué:" in text
    assert "no llegó el archivo del período 2025-03" in text  # the missing source, with its reason
    assert "Rechazado" in text
    assert not [log for log in logs if log.level >= 40], [log.message[:200] for log in logs if log.level >= 40]
