"""The release posts the punctuality table as its table artifact and keeps it out of the public catalog."""

from __future__ import annotations

import json

import pytest
from institutions import sample_institution

from transparencia.domain import Period
from transparencia.flows.punctuality import punctuality_key
from transparencia.flows.release import run_release
from transparencia.sources.config import load_config

pytestmark = pytest.mark.prefect
MONTH = Period(2025, 3)


def test_the_run_posts_the_punctuality_table_and_publishes_none_of_it(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    config_path = sample_institution(tmp_path, month=MONTH)  # the demo month: one directorate sent nothing
    config = load_config(config_path)
    result = run_release(MONTH, config_path)

    with get_client(sync_client=True) as client:  # this run's: other tests publish the sample institution too
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[punctuality_key("SNM")]),
            flow_run_id=ArtifactFilterFlowRunId(any_=[result.flow_run_id])))
    assert [a.type for a in artifacts] == ["table"]
    data = artifacts[0].data
    rows = json.loads(data) if isinstance(data, str) else data
    internal = json.loads(config.workspace.internal_report(MONTH, f"puntualidad-{MONTH}.json").read_text("utf-8"))
    assert [row["Dirección"] for row in rows] == [d["name"] for d in internal["directorates"]]
    assert all(row[str(MONTH.shift(-1))] == "sin ejecución" for row in rows)  # no run read February
    statuses = {row[str(MONTH)] for row in rows}
    assert "no llegó" in statuses  # the directorate that sent nothing
    assert all(s == "no llegó" or s.startswith("tarde (") for s in statuses)  # the demo's files arrived today

    public = [p for root in (config.publish.local_dir, config.workspace.reports) for p in root.rglob("*") if p.is_file()]
    assert public
    for path in public:
        assert "puntualidad" not in path.name.lower()
        text = path.read_bytes().decode("utf-8", "ignore").lower()
        assert "puntualidad" not in text and "sin ejecución" not in text, path
