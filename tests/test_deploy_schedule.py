"""The deployments exist on a real Prefect server with the right cron, timezone and parameters."""

from pathlib import Path

import pytest
import yaml

from transparencia.flows.deploy import MANUAL, REMINDERS, SCHEDULED, build_deployments, reminder_deployment

pytestmark = pytest.mark.prefect
ROOT = Path(__file__).resolve().parents[1]


def test_scheduled_and_manual_deployments(prefect_server):
    from prefect.client.orchestration import get_client

    scheduled, manual = build_deployments(ROOT / "data" / "institution.yaml")
    ids = [scheduled.apply(), manual.apply()]
    with get_client(sync_client=True) as client:
        stored = [client.read_deployment(i) for i in ids]
    by_name = {d.name: d for d in stored}
    schedule = by_name[SCHEDULED].schedules[0].schedule
    assert schedule.cron == "0 6 5 * *" and schedule.timezone == "America/Panama"
    assert by_name[MANUAL].schedules == []
    assert "period" in by_name[MANUAL].parameter_openapi_schema["properties"]
    assert by_name[SCHEDULED].parameters["config_path"].endswith("institution.yaml")


def test_prefect_yaml_declares_the_same_schedule():
    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    deployments = {d["name"]: d for d in doc["deployments"]}
    cron = deployments[SCHEDULED]["schedules"][0]
    assert cron["cron"] == "0 6 5 * *" and cron["timezone"] == "America/Panama"
    assert deployments[SCHEDULED]["entrypoint"] == "flows/release.py:monthly_release"
    assert deployments[MANUAL]["entrypoint"] == "flows/release.py:manual_release"  # the period is required
    assert deployments[SCHEDULED]["work_pool"]["name"] == deployments[MANUAL]["work_pool"]["name"]


def test_the_reminders_run_every_day_at_the_releases_hour(prefect_server):
    from prefect.client.orchestration import get_client

    deployment_id = reminder_deployment(ROOT / "data" / "institution.yaml", "30 7 10 * *", "America/Panama").apply()
    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment_id)
    assert stored.name == REMINDERS
    schedule = stored.schedules[0].schedule
    assert schedule.cron == "30 7 * * *" and schedule.timezone == "America/Panama"
    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    declared = {d["name"]: d for d in doc["deployments"]}[REMINDERS]
    assert declared["entrypoint"] == "flows/reminders.py:reminders_flow"
    assert declared["schedules"][0]["cron"] == "0 6 * * *"
