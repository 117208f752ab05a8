"""The public sees the previous month or the new one, never a state in between (issue 18, part 2), and
a DataStore load fits under a gateway's body limit (issue 21, part 6).

Every test runs an anonymous reader polling the organization every 0.5 s (tests/portal_poller.py)
while the publisher is slowed, stopped, killed or refused by a loopback proxy in front of the real
local CKAN; the reader must never see a loading resource, a table short of its rows, totals without
their month, or history formats that disagree, and a re-run must leave the portal exact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from ckan_proxy import QUICK, FaultProxy, through
from ckan_release import dataset_spec, expected_totals, month_rows, render_release, table_totals
from ckan_server import published
from portal_poller import PortalPoller

from transparencia.domain import Period
from transparencia.errors import TransientError
from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.names import staging_dataset_name

pytestmark = pytest.mark.ckan

MONTH = "Planilla 2025-01 (CSV)"
LIMIT = 1_000_000  # the gateway's body limit, in bytes
ROWS = 20_000  # about 3 MB of JSON: a single request would be refused
CLI = Path(sys.executable).with_name("transparencia")
PATIENCE = 600


@pytest.fixture
def proxy(ckan_server):
    with FaultProxy(ckan_server.url, delay=PATIENCE) as running:
        yield running




def test_a_month_loads_through_a_1_mb_body_limit_exactly_once_unseen_until_complete(ckan_server, ckan_org, proxy,
                                                                                     tmp_path):
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", ROWS)
    files = render_release(tmp_path, {"2025-01": month})
    proxy.max_body = LIMIT

    with PortalPoller(ckan_server.url, ckan_org) as poller:
        refused = through(proxy, ckan_server, max_body=4_000_000).sync(dataset_spec(ckan_org, name), files)
        result = through(proxy, ckan_server, max_body=LIMIT).sync(dataset_spec(ckan_org, name), files)
        poller.wait_polls(2)

    assert "HTTP 413" in refused.error and "max_body_mb" in refused.error  # a whole 20k-row body is over 1 MB
    assert result.error is None, result.error
    assert proxy.refused == 1 and 0 < proxy.largest <= LIMIT
    assert sum(1 for action, _fault in proxy.seen if action == "datastore_upsert") >= 3
    resources = published(ckan_server, name)
    assert set(resources) == {f.name for f in files}
    assert table_totals(ckan_server, resources[MONTH]["id"]) == expected_totals(month)
    staging = staging_dataset_name(name)
    assert requests.get(f"{ckan_server.url}/api/3/action/package_show", params={"id": staging},
                        timeout=10).status_code == 403  # private: the public never sees what is being prepared
    assert ckan_server.admin().action.package_show(id=staging)["resources"] == []
    poller.assert_clean()
    assert through(proxy, ckan_server, max_body=LIMIT).sync(dataset_spec(ckan_org, name), files).writes == 0


@pytest.mark.ckan_restart
def test_ckan_restarted_mid_load_shows_nothing_in_between_and_the_rerun_repairs(ckan_server, ckan_org, proxy,
                                                                                tmp_path):
    name = f"{ckan_org}-planilla"
    old = {"2025-01": month_rows("2025-01", 300)}
    new = {**old, "2025-02": month_rows("2025-02", 3_000, salary_bump=0.5)}
    CkanPublisher(ckan_server.url, ckan_server.token).sync(dataset_spec(ckan_org, name),
                                                            render_release(tmp_path / "v1", old))
    files = render_release(tmp_path / "v2", new)

    def restart_during_the_load() -> None:
        proxy.arrived["datastore_upsert"].wait(PATIENCE)
        ckan_server.stop_web()
        proxy.resume.set()  # the held insert now meets a CKAN that is down

    proxy.plan("datastore_upsert", "pass", "hold")
    with PortalPoller(ckan_server.url, ckan_org) as poller:
        killer = threading.Thread(target=restart_during_the_load)
        killer.start()
        try:
            with pytest.raises(TransientError):
                through(proxy, ckan_server, max_body=50_000).sync(dataset_spec(ckan_org, name), files)
        finally:
            killer.join()
            ckan_server.start()
        poller.wait_polls(2)
        rerun = CkanPublisher(ckan_server.url, ckan_server.token, retry=QUICK).sync(dataset_spec(ckan_org, name), files)
        poller.wait_polls(2)

    assert rerun.error is None, rerun.error
    assert any(a.action == "delete" and "interrumpida" in a.detail for a in rerun.actions)  # the staged leftovers
    resources = published(ckan_server, name)
    assert set(resources) == {f.name for f in files}
    assert table_totals(ckan_server, resources["Planilla 2025-02 (CSV)"]["id"]) == expected_totals(new["2025-02"])
    assert ckan_server.admin().action.package_show(id=staging_dataset_name(name))["resources"] == []
    poller.assert_clean()


# --------------------------------------------------------------------------- `transparencia run`, killed


def _institution(folder: Path, url: str, server, organization: str, acronym: str) -> Path:
    """One item (viáticos, CSV with its DataStore table and JSON) published to CKAN through ``url``,
    with a small body limit so a month loads in several inserts; its links name the server itself."""
    from institutions import viaticos_institution

    config = viaticos_institution(folder, organization, acronym)
    text = config.read_text(encoding="utf-8").replace("  target: local\n", (
        "  target: ckan\n  ckan:\n"
        f"    url: {url}\n    public_url: {server.url}\n    token_file: {server.base / 'secrets' / 'api-token'}\n"
        "    max_body_mb: 0.05\n"))
    config.write_text(text, encoding="utf-8")
    return config


def _run(config: Path, month: Period, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(CLI), "run", "--period", str(month), "--config", str(config)], cwd=config.parent,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            text=True)


def _finished(config: Path, month: Period, env: dict[str, str]) -> str:
    run = _run(config, month, env)
    output, _ = run.communicate(timeout=PATIENCE)
    assert run.returncode == 0, output
    return output


def _killed_when(proxy: FaultProxy, action: str, run: subprocess.Popen) -> None:
    """SIGKILL the run (and everything it started) once ``action`` is held at the proxy, then let the
    held request reach CKAN, as a request already on its way does after its sender died."""
    assert proxy.arrived[action].wait(PATIENCE), run.communicate()[0]
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(PATIENCE)
    proxy.resume.set()


def _break_lease(server, organization: str) -> None:
    """What ``transparencia desbloquear`` does for a run killed on this host: its lease is let go."""
    ckan = server.admin()
    for package in ckan.action.package_search(fq=f'organization:"{organization}"', include_private=True,
                                              rows=100)["results"]:
        leases = [e for e in package.get("extras", []) if e["key"].startswith("bloqueo")]
        if leases:
            kept = [e for e in package["extras"] if not e["key"].startswith("bloqueo")]
            ckan.action.package_revise(match={"id": package["id"]}, filter=["-extras"], update={"extras": kept})


@pytest.mark.prefect
def test_sigkill_while_staging_and_while_attaching_then_a_rerun_repairs(prefect_server, ckan_server, ckan_org,
                                                                        ckan_acronym, tmp_path):
    from transparencia.sources.config import load_config
    from transparencia.sources.demo import write_month

    env = {**{k: v for k, v in os.environ.items()
              if not k.startswith(("PREFECT_LOGGING_", "CKAN_URL", "CKAN_API_TOKEN"))},
           "PREFECT_API_URL": prefect_server}
    months = [Period(2025, 1), Period(2025, 2), Period(2025, 3)]
    with FaultProxy(ckan_server.url, delay=PATIENCE) as proxy, PortalPoller(ckan_server.url, ckan_org) as poller:
        config = _institution(tmp_path, proxy.url, ckan_server, ckan_org, ckan_acronym)
        for month in months:
            write_month(load_config(config), month, rows=400, errors=False, missing=())
        _finished(config, months[0], env)

        proxy.plan("datastore_upsert", "pass", "hold")  # the second insert of February's staging table
        _killed_when(proxy, "datastore_upsert", _run(config, months[1], env))
        _break_lease(ckan_server, ckan_org)
        _finished(config, months[1], env)

        proxy.resume.clear()
        proxy.plan_matching("package_revise", b'"resources": [', "hold")  # March's attachment
        _killed_when(proxy, "package_revise", _run(config, months[2], env))
        _break_lease(ckan_server, ckan_org)
        _finished(config, months[2], env)
        poller.wait_polls(2)
        checked = subprocess.run([str(CLI), "verificar", "--period", str(months[2]), "--target", "ckan", "--config",
                                  str(config)], cwd=tmp_path, env=env, capture_output=True, text=True,
                                 timeout=PATIENCE)

    poller.assert_clean()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    dataset = next(name for name in poller.seen_datasets if name.endswith("viaticos"))
    resources = published(ckan_server, dataset)
    for month in months:
        table = resources[f"Viáticos {month} (CSV)"]
        assert ckan_server.admin().action.datastore_search(resource_id=table["id"], limit=0)["total"] == 400
