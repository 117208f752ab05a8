"""The demo month published to the real local CKAN through the flow."""

import json
from pathlib import Path

import pytest
from institutions import sample_institution
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import Period
from transparencia.flows.release import run_release
from transparencia.publishers.names import portal_dataset_name
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month

pytestmark = [pytest.mark.prefect, pytest.mark.ckan]
# Calls refused by a portal that went down mid-run: the client's 5 attempts of each call in flight then
# (45 and 50 seen); a run that carried on through the remaining items would make hundreds.
REFUSED_CALLS_AFTER_DOWN = 100


def test_demo_month_on_ckan(prefect_server, ckan_server, ckan_org, ckan_acronym, tmp_path, monkeypatch):
    sample_institution(tmp_path, organization=ckan_org, acronym=ckan_acronym)
    ckan_server.as_target(monkeypatch)
    config = load_config(tmp_path / "institution.yaml")
    write_month(config, Period(2025, 1), rows=10)

    result = run_release(Period.parse("2025-01"), tmp_path / "institution.yaml", target="ckan")
    statuses = {i.code: i.status for i in result.items}
    assert statuses["11.3"] == "publicado" and statuses["11.6"] == "rechazado" and statuses["10.5"] == "faltante"

    ckan = ckan_server.admin()
    names = {p["name"] for p in ckan.action.package_search(fq=f"organization:{ckan_org}", rows=100)["results"]}
    planilla, report_name = (portal_dataset_name(ckan_org, f"{ckan_acronym}-{slug}")
                             for slug in ("planilla", "informe-cumplimiento"))
    assert planilla in names and report_name in names
    assert portal_dataset_name(ckan_org, f"{ckan_acronym}-viaticos") not in names
    report = ckan.action.package_show(id=report_name)
    assert report["title"] == "Informe de cumplimiento de transparencia"
    assert {r["name"] for r in report["resources"]} >= {"Informe de cumplimiento 2025-01 (HTML)"}

    ledger = json.loads(Path(result.ledger_path).read_text(encoding="utf-8"))
    assert result.errors == [] and ledger["verification"]
    assert all(check["correcto"] for check in ledger["verification"]), ledger["verification"]
    assert {"histórico", "recursos"} <= {c["comprobacion"] for c in ledger["verification"]}
    assert any(c["comprobacion"].startswith("DataStore") for c in ledger["verification"])
    assert ledger["portal_writes"] and ledger["writes"] > 0

    again = run_release(Period.parse("2025-01"), tmp_path / "institution.yaml", target="ckan")
    assert again.writes == 0

    verify = ["verificar", "--period", "2025-01", "--target", "ckan", "--config", str(tmp_path / "institution.yaml")]
    checked = CliRunner().invoke(app, verify)
    assert checked.exit_code == 0, checked.output
    assert "correcto" in checked.output and "no coincide" not in checked.output
    planilla = next(r for r in ckan.action.package_show(id=planilla)["resources"] if r.get("datastore_active"))
    ckan.action.datastore_delete(resource_id=planilla["id"], filters={"periodo": "2025-01"}, force=True)
    drifted = CliRunner().invoke(app, verify)
    assert drifted.exit_code == 1 and "no coincide" in drifted.output


def test_a_portal_down_mid_run_stops_fast_keeps_the_report_and_ledgers_every_write(prefect_server, ckan_server,
                                                                                    ckan_org, ckan_acronym, tmp_path,
                                                                                    monkeypatch):
    from ckan_proxy import FaultProxy

    from transparencia.flows.progress import Step

    config_path = sample_institution(tmp_path, organization=ckan_org, acronym=ckan_acronym)
    ckan_server.as_target(monkeypatch)
    config = load_config(config_path)
    write_month(config, Period(2025, 1), rows=10)
    run_release(Period.parse("2025-01"), config_path, target="ckan")
    report = config.data_dir / "reports" / "2025-01" / "informe-cumplimiento-2025-01.json"
    before = report.read_bytes()

    write_month(config, Period(2025, 1), rows=12)
    with FaultProxy(ckan_server.url) as proxy:
        monkeypatch.setenv("CKAN_URL", proxy.url)

        def portal_goes_down(event) -> None:
            if event.step is Step.PUBLISHED:
                proxy.down = True

        failed = run_release(Period.parse("2025-01"), config_path, target="ckan", progress=portal_goes_down)
    refused = [action for action, fault in proxy.seen if fault == "503"]

    assert failed.exit_code == 1 and proxy.down
    assert any("No se reescribió el informe de cumplimiento local" in e for e in failed.errors), failed.errors
    assert report.read_bytes() == before
    ledger = json.loads(Path(failed.ledger_path).read_text(encoding="utf-8"))
    done = [w for w in ledger["portal_writes"] if w.get("tipo") != "bloqueo"]
    assert done and ledger["writes"] == len(done) + sum(1 for o in ledger["outputs"] if o.get("written"))
    assert len(refused) <= REFUSED_CALLS_AFTER_DOWN, refused  # the run stops; it does not retry every item
