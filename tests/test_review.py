"""Approval before publishing, against a real Prefect server: a month under review (``publish.review``)
is extracted, validated and previewed, then waits paused for the officer's decision, and nothing
reaches the target until the decision arrives through Prefect's API. Then exactly the approved items
are published; a rejection, or no decision in time, publishes nothing and the run's state says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest
from institutions import sample_document, write_institution

from transparencia.domain import ItemStatus, Period
from transparencia.flows.deploy import build_deployments
from transparencia.publishers.names import portal_dataset_name, report_dataset_name
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month

pytestmark = pytest.mark.prefect
ROOT = Path(__file__).resolve().parents[1]
MONTH = Period(2025, 3)
OFFICER = "Ana Pérez"


def _reviewed_institution(folder: Path, timeout_minutes: float = 60, **institution: str) -> Path:
    """The sample institution with its demo month (a source missing, items rejected), under review."""
    document = sample_document()
    document["institution"].update(institution)
    document["publish"] = {**document.get("publish", {}), "target": "local", "review": True,
                           "review_timeout": timeout_minutes}
    path = write_institution(folder, document)
    write_month(load_config(path), MONTH, rows=10)
    return path


class DeployedRun:
    """A run of the manual deployment, executed as a served or deployed one is: Prefect's engine in a
    subprocess, which the test leaves waiting while it looks at the target and answers the review."""

    def __init__(self, config: Path, api_url: str, target: str | None = None, **env: str) -> None:
        from prefect.client.orchestration import get_client

        _scheduled, manual = build_deployments(config, target=target)
        with get_client(sync_client=True) as client:
            self.id = client.create_flow_run_from_deployment(manual.apply(), parameters={"period": str(MONTH)}).id
        env = {**os.environ, "PREFECT_API_URL": api_url, **env}
        self.process = subprocess.Popen([sys.executable, "-m", "prefect.engine", str(self.id)], cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def state(self):
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            return client.read_flow_run(self.id).state

    def paused(self):
        """The run's state once it pauses for the review (or ends without pausing)."""
        for _ in range(600):  # a guard against a hang, not a measure: the engine pauses when the preview is ready
            state = self.state()
            if state is not None and (state.is_paused() or state.is_final()):
                return state
            if self.process.poll() is not None:
                return self.state()
            time.sleep(1)
        raise AssertionError(f"the run never paused: {self.state()}")

    def finished(self):
        self.process.wait(timeout=600)
        return self.state()

    def logs(self) -> str:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

        with get_client(sync_client=True) as client:
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[self.id])))
        return "\n".join(log.message for log in logs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def deployed(prefect_server):
    runs: list[DeployedRun] = []

    def start(config: Path, target: str | None = None, **env: str) -> DeployedRun:
        runs.append(DeployedRun(config, prefect_server, target, **env))
        return runs[-1]

    yield start
    for run in runs:
        run.stop()


def _form_schema(run_id: UUID, state) -> dict:
    from prefect.input.actions import read_flow_run_input

    return read_flow_run_input(state.state_details.run_input_keyset["schema"], flow_run_id=run_id)


def _offered_codes(schema: dict) -> list[str]:
    """The items the form lets the officer leave out: those the preview would publish."""
    items = schema["properties"]["excluded"]["items"]
    return list(items["enum"])


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _published_datasets(config: Path) -> set[str]:
    """The datasets the local catalog holds (each has its metadata file)."""
    catalog = load_config(config).publish.local_dir
    return {p.parent.name for p in catalog.rglob("metadatos.json")}


def _report(config: Path) -> dict:
    path = load_config(config).workspace.report_file(MONTH, "json")
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_month_under_review_publishes_nothing_until_approved_then_exactly_the_approved_items(deployed, tmp_path):
    from prefect import resume_flow_run

    config = _reviewed_institution(tmp_path)
    institution = load_config(config)
    run = deployed(config)

    state = run.paused()
    assert state.is_paused(), state
    # Nothing has reached the target, the store or the public report while the officer decides.
    assert _files(institution.publish.local_dir) == []
    assert _files(institution.workspace.store) == []
    assert not institution.workspace.report_file(MONTH, "json").exists()
    schema = _form_schema(run.id, state)
    offered = _offered_codes(schema)
    assert len(offered) >= 2, offered
    assert schema["properties"]["decision"]["title"] == "Decisión"
    excluded, approved = offered[0], offered[1:]

    # An answer naming an item that is not in the preview is refused by the API: the run stays paused.
    with pytest.raises(RuntimeError):
        resume_flow_run(run.id, run_input={"decision": "aprobar todo excepto estos puntos", "excluded": ["99.9"],
                                           "officer": OFFICER})
    assert run.state().is_paused()
    assert _files(institution.publish.local_dir) == []

    resume_flow_run(run.id, run_input={"decision": "aprobar todo excepto estos puntos", "excluded": [excluded],
                                       "officer": OFFICER})
    final = run.finished()

    catalog = load_config(config).catalog
    names = {code: catalog.get(code).dataset_name(institution.institution.acronym) for code in offered}
    published = _published_datasets(config)
    assert {names[code] for code in approved} <= published
    assert names[excluded] not in published
    report = _report(config)
    rows = {row["code"]: row for row in report["items"]}
    assert rows[excluded]["status"] == ItemStatus.WITHHELD
    assert "excluido por el oficial en la revisión" in rows[excluded]["detail"].lower()
    assert all(rows[code]["status"] in (ItemStatus.PUBLISHED, ItemStatus.PUBLISHED_WITH_WARNINGS) for code in approved)
    assert report["review"]["officer"] == OFFICER and report["review"]["excluded"] == [excluded]
    assert report["review"]["decided_at"]
    assert f"aprobada por {OFFICER}" in report["review"]["sentence"]
    assert f"aprobada por {OFFICER}" in (final.message or "") and final.is_completed(), final
    logs = run.logs()
    assert f"Publicación aprobada por {OFFICER}" in logs
    assert f"{excluded} No aprobado: Excluido por el oficial en la revisión" in logs
    assert "Traceback" not in logs


def test_a_rejected_month_publishes_nothing_and_says_who_rejected_it(deployed, tmp_path):
    from prefect import resume_flow_run

    config = _reviewed_institution(tmp_path)
    institution = load_config(config)
    run = deployed(config)
    assert run.paused().is_paused()

    resume_flow_run(run.id, run_input={"decision": "rechazar", "officer": OFFICER})
    final = run.finished()

    assert final.is_cancelled() and final.name == "Rechazada", final
    assert f"rechazada por {OFFICER}" in final.message and "no se publicó nada" in final.message
    assert _files(institution.publish.local_dir) == []
    assert _files(institution.workspace.store) == []
    assert not institution.workspace.report_file(MONTH, "json").exists()
    ledger = json.loads(next(institution.workspace.runs(MONTH).glob("*.json")).read_text(encoding="utf-8"))
    assert ledger["review"]["decision"] == "rechazar" and ledger["review"]["officer"] == OFFICER


def test_no_decision_in_time_publishes_nothing_and_the_state_says_so(deployed, tmp_path):
    config = _reviewed_institution(tmp_path, timeout_minutes=0.05)  # 3 seconds to decide; nobody does
    institution = load_config(config)
    run = deployed(config)

    final = run.finished()

    assert final.is_cancelled() and final.name == "Sin aprobación", final
    assert "venció sin decisión" in final.message and "no se publicó nada" in final.message
    assert "never resumed" not in final.message
    assert _files(institution.publish.local_dir) == []
    assert not institution.workspace.report_file(MONTH, "json").exists()
    assert "La revisión venció sin decisión" in run.logs()


def test_the_cli_prints_where_to_decide_waits_and_publishes_what_was_approved(prefect_server, tmp_path):
    from prefect import resume_flow_run

    config = _reviewed_institution(tmp_path)
    institution = load_config(config)
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    cli = subprocess.Popen([sys.executable, "-m", "transparencia", "run", "--period", str(MONTH), "--config",
                            str(config)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    try:
        printed = []
        for line in cli.stdout:  # the CLI says where to decide, then waits
            printed.append(line)
            if "/flow-run/" in line:
                break
        address = next(word for word in "".join(printed).split() if "/flow-run/" in word)
        assert address.startswith(prefect_server.removesuffix("/api")), address
        assert _files(institution.publish.local_dir) == []
        run_id = UUID(address.rstrip("/").rsplit("/", 1)[-1])
        waiting = DeployedRun.__new__(DeployedRun)
        waiting.id, waiting.process = run_id, cli
        assert waiting.paused().is_paused()

        resume_flow_run(run_id, run_input={"decision": "aprobar todo", "officer": OFFICER})
        rest, _ = cli.communicate(timeout=600)
    finally:
        if cli.poll() is None:
            cli.kill()
    output = " ".join(("".join(printed) + rest).split())

    assert cli.returncode == 1, output  # the demo month has a missing source and rejected items
    assert f"Revisión antes de publicar: Publicación aprobada por {OFFICER}" in output
    assert _report(config)["review"]["officer"] == OFFICER
    assert _published_datasets(config)


@pytest.mark.ckan
def test_on_ckan_nothing_public_appears_before_approval_then_only_the_approved_datasets(deployed, ckan_server,
                                                                                          ckan_org, ckan_acronym, tmp_path):
    from prefect import resume_flow_run

    config = _reviewed_institution(tmp_path, organization=ckan_org, acronym=ckan_acronym)
    portal = ckan_server.admin()

    def public_datasets() -> set[str]:
        found = portal.action.package_search(fq=f"organization:{ckan_org}", rows=100, include_private=False)
        return {p["name"] for p in found["results"]}

    run = deployed(config, "ckan", CKAN_URL=ckan_server.url,
                   CKAN_API_TOKEN_FILE=str(ckan_server.token_file))
    state = run.paused()
    assert state.is_paused(), state
    assert public_datasets() == set()  # only the run's private lock exists on the portal while it waits
    offered = _offered_codes(_form_schema(run.id, state))
    excluded = offered[0]

    resume_flow_run(run.id, run_input={"decision": "aprobar todo excepto estos puntos", "excluded": [excluded],
                                       "officer": OFFICER})
    final = run.finished()

    institution = load_config(config)
    organization, acronym = institution.institution.organization, institution.institution.acronym
    names = {code: portal_dataset_name(organization, institution.catalog.get(code).dataset_name(acronym))
             for code in offered}
    published = public_datasets()
    assert final.is_completed(), final
    assert {names[code] for code in offered if code != excluded} <= published
    assert names[excluded] not in published
    assert portal_dataset_name(organization, report_dataset_name(acronym)) in published  # the approved month's report
