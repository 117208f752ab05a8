"""Network faults between the publisher and the real local CKAN, injected by a loopback proxy.

Whatever is lost, failed, delayed or killed, the portal ends with exactly the validated month:
each resource once, the DataStore's row count and column sums equal to the rendered month's, and
no reader ever sees a partially loaded table.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import ckanapi
import pytest
from ckan_proxy import QUICK, FaultProxy, through
from ckan_release import dataset_spec, month_rows, render_release
from ckan_server import published

from transparencia.errors import TransientError
from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.ckan_client import RetryPolicy

pytestmark = pytest.mark.ckan

MONTH = "Planilla 2025-01 (CSV)"


@pytest.fixture
def proxy(ckan_server):
    with FaultProxy(ckan_server.url, delay=2.0) as running:
        yield running




def table_totals(server, resource_id: str) -> tuple[int, Decimal, int]:
    sql = f'SELECT count(*) AS n, sum(salario) AS s, sum(posicion) AS p FROM "{resource_id}"'
    row = server.admin().action.datastore_search_sql(sql=sql)["records"][0]
    return int(row["n"]), Decimal(str(row["s"])), int(row["p"])


def expected_totals(frame) -> tuple[int, Decimal, int]:
    return len(frame), sum((Decimal(repr(v)) for v in frame["salario"]), Decimal(0)), int(frame["posicion"].sum())


def test_lost_failed_and_late_answers_never_duplicate_a_row(ckan_server, ckan_org, proxy, tmp_path):
    name = f"{ckan_org}-planilla"
    first = month_rows("2025-01", 200)
    through(proxy, ckan_server).sync(dataset_spec(ckan_org, name), render_release(tmp_path / "v1", {"2025-01": first}))
    second = month_rows("2025-01", 240, salary_bump=1.25)
    files = render_release(tmp_path / "v2", {"2025-01": second})
    proxy.plan("resource_create", "drop", "503")
    proxy.plan("datastore_create", "drop", "502")
    proxy.plan("datastore_search_sql", "500", "429")
    proxy.plan("package_revise", "drop", "503")
    proxy.plan("resource_delete", "drop")
    proxy.plan("resource_patch", "502")

    result = through(proxy, ckan_server).sync(dataset_spec(ckan_org, name), files)

    assert result.error is None
    assert ("datastore_create", "drop") in proxy.seen and ("package_revise", "drop") in proxy.seen
    resources = published(ckan_server, name)
    assert set(resources) == {f.name for f in files}
    assert table_totals(ckan_server, resources[MONTH]["id"]) == expected_totals(second)
    again = through(proxy, ckan_server).sync(dataset_spec(ckan_org, name), files)
    assert again.writes == 0, [a for a in again.actions if a.action != "unchanged"]


def test_a_client_time_out_after_ckan_committed_does_not_load_twice(ckan_server, ckan_org, proxy, tmp_path):
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", 150)
    files = render_release(tmp_path, {"2025-01": month})
    proxy.delay = 6.0
    proxy.plan("datastore_create", "slow")
    patient = CkanPublisher(proxy.url, ckan_server.token, read_timeout=3.0,
                            retry=RetryPolicy(attempts=8, base_delay=0.05, max_delay=0.2))

    result = patient.sync(dataset_spec(ckan_org, name), files)

    assert result.error is None
    assert table_totals(ckan_server, published(ckan_server, name)[MONTH]["id"]) == expected_totals(month)


def test_a_drifted_table_is_repaired_by_the_next_run(ckan_server, ckan_org, tmp_path):
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", 120)
    files = render_release(tmp_path, {"2025-01": month})
    publisher = CkanPublisher(ckan_server.url, ckan_server.token, retry=QUICK)
    publisher.sync(dataset_spec(ckan_org, name), files)
    table = published(ckan_server, name)[MONTH]["id"]
    ckan_server.admin().action.datastore_upsert(resource_id=table, method="upsert", force=True,
                                                records=[{"posicion": 7, "salario": 1}])

    repair = CkanPublisher(ckan_server.url, ckan_server.token, retry=QUICK).sync(dataset_spec(ckan_org, name), files)

    datastore = next(a for a in repair.actions if a.target == "datastore")
    assert datastore.action == "update" and "suma de control de 'salario'" in datastore.detail
    assert table_totals(ckan_server, published(ckan_server, name)[MONTH]["id"]) == expected_totals(month)


class PublicReader(threading.Thread):
    """Polls the dataset as an anonymous reader and records every DataStore row count it sees."""

    def __init__(self, url: str, name: str):
        super().__init__(daemon=True)
        self.ckan, self.name = ckanapi.RemoteCKAN(url), name
        self.totals: set[int] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                for resource in self.ckan.action.package_show(id=self.name)["resources"]:
                    if resource.get("datastore_active"):
                        self.totals.add(self.ckan.action.datastore_search(resource_id=resource["id"], limit=0)["total"])
            except ckanapi.CKANAPIError:
                pass  # a resource switched or deleted between the two calls
            except OSError:
                time.sleep(0.2)  # the server is being restarted
            time.sleep(0.02)


@pytest.mark.ckan_restart
def test_ckan_killed_mid_load_never_shows_a_partial_table_and_the_rerun_converges(ckan_server, ckan_org, proxy,
                                                                                  tmp_path):
    name = f"{ckan_org}-planilla"
    old, new = month_rows("2025-01", 300), month_rows("2025-01", 3000, salary_bump=0.5)
    CkanPublisher(ckan_server.url, ckan_server.token).sync(dataset_spec(ckan_org, name),
                                                            render_release(tmp_path / "v1", {"2025-01": old}))
    files = render_release(tmp_path / "v2", {"2025-01": new})
    reader = PublicReader(ckan_server.url, name)
    reader.start()

    def kill_during_the_load() -> None:
        proxy.forwarding["datastore_create"].wait(60)
        time.sleep(0.1)
        ckan_server.stop_web()
        proxy.resume.set()

    proxy.delay = 300  # however long stopping CKAN takes on a busy machine
    proxy.plan("package_revise", "hold")  # the switch waits until CKAN is down
    killer = threading.Thread(target=kill_during_the_load)
    killer.start()
    try:
        with pytest.raises(TransientError):
            through(proxy, ckan_server).sync(dataset_spec(ckan_org, name), files)
    finally:
        killer.join()
        ckan_server.start()
    rerun = CkanPublisher(ckan_server.url, ckan_server.token, retry=QUICK).sync(dataset_spec(ckan_org, name), files)
    time.sleep(0.5)
    reader.stop.set()
    reader.join()

    assert rerun.error is None
    assert reader.totals <= {300, 3000}, f"un lector vio una tabla a medias: {sorted(reader.totals)}"
    resources = published(ckan_server, name)
    assert set(resources) == {f.name for f in files}
    assert table_totals(ckan_server, resources[MONTH]["id"]) == expected_totals(new)
