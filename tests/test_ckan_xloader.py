"""Where the portal runs ckanext-xloader, a month's table is loaded by its job (PostgreSQL COPY of the
uploaded CSV) and verified as after inserts; when the job fails or its table differs, the month is
loaded in bounded inserts instead; either way, exactly once and unseen until complete (issue 21, part 6).

The local CKAN runs xloader and its job worker (scripts/ckan-local/start.sh). The publisher reaches it
through a loopback proxy that refuses request bodies over 1 MB and counts every action; an anonymous
reader polls the organization meanwhile (tests/portal_poller.py).
"""

from __future__ import annotations

import dataclasses
import logging
import threading

import psycopg
import pytest
from ckan_proxy import FaultProxy, through
from ckan_release import dataset_spec, expected_totals, month_rows, render_release, sha256_of, table_totals
from ckan_server import published
from ckanapi import NotFound
from portal_poller import PortalPoller
from waiting import until

from transparencia.publishers import ckan
from transparencia.publishers.ckan_xloader import XloaderCopy
from transparencia.publishers.names import staging_dataset_name

pytestmark = pytest.mark.ckan

MONTH = "Planilla 2025-01 (CSV)"
LIMIT = 1_000_000  # the gateway's body limit, in bytes
TYPES = {"periodo": "text", "posicion": "int4", "unidad_administrativa": "text", "cargo": "text",
         "salario": "numeric", "fecha_inicio": "date"}


@pytest.fixture
def proxy(ckan_server):
    with FaultProxy(ckan_server.url, delay=600, offers_xloader=True) as running:
        running.max_body = LIMIT
        yield running


def calls(proxy: FaultProxy, action: str) -> int:
    return sum(1 for seen, _fault in proxy.seen if seen == action)


def column_types(server, resource_id: str) -> dict[str, str]:
    fields = server.admin().action.datastore_search(resource_id=resource_id, limit=0)["fields"]
    return {f["id"]: f["type"] for f in fields if f["id"] != "_id"}


def xloader_loads(server, resource_id: str) -> list[str]:
    """The final status of each xloader job that loaded the resource's file, oldest first, as xloader's own
    job database records them (its API shows only the latest job; a job that finds the file's hash
    unchanged loads nothing and is not counted)."""
    ini = (server.base / "etc" / "ckan.ini").read_text().splitlines()
    uri = next(line.split("=", 1)[1].strip() for line in ini if line.startswith("ckanext.xloader.jobs_db.uri"))
    with psycopg.connect(uri) as db:
        found = db.execute("SELECT j.status FROM jobs j JOIN metadata m ON m.job_id = j.job_id "
                           "WHERE m.key = 'resource_id' AND m.value = %s AND EXISTS "
                           "(SELECT 1 FROM logs l WHERE l.job_id = j.job_id AND l.message = 'Loading CSV') "
                           "ORDER BY j.requested_timestamp", (resource_id,)).fetchall()
    return [status for (status,) in found]


def has_table(server, resource_id: str) -> bool:
    """Whether the DataStore database holds a table for the resource, read in the database itself: the API
    cannot be asked about a resource CKAN has purged."""
    env = dict(line.split("=", 1) for line in (server.base / "ckan.env").read_text().splitlines() if "=" in line)
    with psycopg.connect(env["CKAN_DATASTORE_WRITE_URL"]) as db:
        return db.execute("SELECT to_regclass(%s) IS NOT NULL", (f'public."{resource_id}"',)).fetchone()[0]


def job_logs(server, resource_id: str) -> list[str]:
    found = server.admin().action.xloader_status(resource_id=resource_id)
    return [entry["message"] for entry in (found.get("task_info") or {}).get("logs", [])]


def assert_published_exactly(server, name: str, files, month) -> None:
    resources = published(server, name)
    assert set(resources) == {f.name for f in files}
    table = resources[MONTH]
    assert table_totals(server, table["id"]) == expected_totals(month)
    assert column_types(server, table["id"]) == TYPES
    assert table["hash"] == sha256_of(files[0].path)  # the publisher's digest, not the MD5 xloader writes
    views = server.admin().action.resource_view_list(id=table["id"])
    assert [(v["view_type"], v["title"]) for v in views] == [("datatables_view", "Tabla")]
    assert server.admin().action.package_show(id=staging_dataset_name(name))["resources"] == []


def settled_digests(server, name: str) -> dict[str, tuple[str, str]]:
    """Each public resource's xloader job state if still queued or running (else empty), and its ``hash``:
    read as the sync returns, a job the portal queued for any upload (a file without a table too) and
    not waited for is still at work, or has just put its MD5 in ``hash``."""
    def busy(resource_id: str) -> str:
        try:
            state = server.admin().action.xloader_status(resource_id=resource_id)["status"]
        except NotFound:
            return ""
        return state if state in ("pending", "submitting", "running", "running_but_viewable") else ""
    return {r["name"]: (busy(r["id"]), r["hash"]) for r in published(server, name).values()}


def publish_twice_on_a_submitting_portal(ckan_server, ckan_org, tmp_path, rows: int) -> FaultProxy:
    """Publish a planilla month of ``rows`` through a portal whose xloader submits every upload, with
    the anonymous poller watching, then publish it again: the month is exact and public at once, the
    re-run writes nothing. Returns the proxy, to count the calls made."""
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", rows)
    files = render_release(tmp_path, {"2025-01": month})
    with ckan_server.auto_submitting() as portal, FaultProxy(portal, delay=600, offers_xloader=True) as proxy:
        with PortalPoller(ckan_server.url, ckan_org) as poller:
            result = through(proxy, ckan_server).sync(dataset_spec(ckan_org, name), files)
            shown_after_every_job = settled_digests(ckan_server, name)
            poller.wait_polls(2)
        again = through(proxy, ckan_server)
        rerun = again.sync(dataset_spec(ckan_org, name), files)
    assert result.error is None, result.error
    assert shown_after_every_job == {f.name: ("", f.sha256) for f in files}
    assert_published_exactly(ckan_server, name, files, month)
    poller.assert_clean()
    assert rerun.writes == 0 and again.client.writes == 0
    return proxy


def test_xloader_loads_the_month_exact_and_a_rerun_writes_nothing(ckan_server, ckan_org, proxy, tmp_path):
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", 20_000)
    files = render_release(tmp_path, {"2025-01": month})

    with PortalPoller(ckan_server.url, ckan_org) as poller:
        result = through(proxy, ckan_server).sync(dataset_spec(ckan_org, name), files)
        poller.wait_polls(2)
    again = through(proxy, ckan_server)

    assert result.error is None, result.error
    assert calls(proxy, "xloader_submit") == 1 and calls(proxy, "datastore_upsert") == 0
    assert_published_exactly(ckan_server, name, files, month)
    poller.assert_clean()
    assert again.sync(dataset_spec(ckan_org, name), files).writes == 0 and again.client.writes == 0
    first = {"posicion": 1, "salario": float(month["salario"][0])}  # the table keeps its primary key
    ckan_server.admin().action.datastore_upsert(resource_id=published(ckan_server, name)[MONTH]["id"],
                                                records=[first], method="update", force=True)


def test_a_100k_row_month_publishes_exactly_once_through_a_1_mb_body_limit(ckan_server, ckan_org, proxy, tmp_path):
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", 100_000)
    files = render_release(tmp_path, {"2025-01": month})

    with PortalPoller(ckan_server.url, ckan_org) as poller:
        result = through(proxy, ckan_server, max_body=LIMIT).sync(dataset_spec(ckan_org, name), files)
        poller.wait_polls(2)
    again = through(proxy, ckan_server, max_body=LIMIT)

    assert result.error is None, result.error
    assert proxy.refused == 0 and 0 < proxy.largest <= LIMIT
    assert calls(proxy, "xloader_submit") == 1
    assert_published_exactly(ckan_server, name, files, month)
    poller.assert_clean()
    assert again.sync(dataset_spec(ckan_org, name), files).writes == 0 and again.client.writes == 0


def test_a_portal_that_submits_every_upload_loads_the_month_once_more_never_twice_at_once(ckan_server, ckan_org,
                                                                                          tmp_path):
    """Most portals run xloader with its default formats: the upload itself queues a job (the portal's).
    The publisher waits for it before it makes its typed table, then loads it with its own job; its later
    writes (the standard fields, the attachment) change no file URL, so no third job reloads the public table."""
    name, proxy = f"{ckan_org}-planilla", publish_twice_on_a_submitting_portal(ckan_server, ckan_org, tmp_path, 20_000)

    assert calls(proxy, "xloader_submit") == 1 and calls(proxy, "datastore_upsert") == 0
    assert xloader_loads(ckan_server, published(ckan_server, name)[MONTH]["id"]) == ["complete", "complete"]


def test_on_a_portal_that_submits_every_upload_a_small_month_is_inserted_after_the_portals_job(ckan_server, ckan_org,
                                                                                                tmp_path):
    """The portal's own job for the upload would replace a table filled in inserts, during or after the
    inserts; they start once it has ended, and what it left (its default view, the MD5 in ``hash``) goes."""
    name, proxy = f"{ckan_org}-planilla", publish_twice_on_a_submitting_portal(ckan_server, ckan_org, tmp_path, 3_000)

    assert calls(proxy, "xloader_submit") == 0 and calls(proxy, "datastore_upsert") == 1
    assert xloader_loads(ckan_server, published(ckan_server, name)[MONTH]["id"]) == ["complete"]


def test_a_small_month_is_loaded_in_inserts_sooner_than_by_a_job(ckan_server, ckan_org, proxy, tmp_path):
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", 500)
    files = render_release(tmp_path, {"2025-01": month})

    result = through(proxy, ckan_server).sync(dataset_spec(ckan_org, name), files)

    assert result.error is None, result.error
    assert calls(proxy, "xloader_submit") == 0 and calls(proxy, "datastore_upsert") == 1
    assert_published_exactly(ckan_server, name, files, month)


@pytest.mark.parametrize(("csv_fault", "why"), [("failed job", "terminó con error"),
                                                ("different table", "filas: se esperaban 10000, hay 9999")],
                         ids=["failed job", "different table"])
def test_when_xloader_fails_or_differs_the_month_is_loaded_in_bounded_inserts(ckan_server, ckan_org, proxy,
                                                                              tmp_path, caplog, csv_fault, why):
    """The uploaded CSV is not the validated month: xloader's COPY fails on a salary that is not a number,
    or loads a table one row short; the table is loaded from the month's rows in inserts instead."""
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", 10_000)
    files = render_release(tmp_path, {"2025-01": month})
    text = files[0].path.read_text(encoding="utf-8").splitlines(keepends=True)
    if csv_fault == "failed job":
        text[1] = text[1].replace(",1000.0,", ",no es un número,")
    else:
        del text[-1]
    files[0].path.write_text("".join(text), encoding="utf-8")
    files[0] = dataclasses.replace(files[0], sha256=sha256_of(files[0].path))

    with PortalPoller(ckan_server.url, ckan_org) as poller, caplog.at_level(logging.WARNING, "transparencia"):
        result = through(proxy, ckan_server, max_body=LIMIT).sync(dataset_spec(ckan_org, name), files)
        poller.wait_polls(2)

    assert result.error is None, result.error
    assert any("xloader no sirvió" in r.message and why in r.message for r in caplog.records), caplog.text
    assert calls(proxy, "xloader_submit") == 1 and calls(proxy, "datastore_upsert") >= 1
    assert_published_exactly(ckan_server, name, files, month)
    poller.assert_clean()
    again = through(proxy, ckan_server, max_body=LIMIT)
    assert again.sync(dataset_spec(ckan_org, name), files).writes == 0 and again.client.writes == 0


@pytest.mark.ckan_restart
def test_a_job_that_never_starts_is_abandoned_and_the_month_loaded_in_inserts(ckan_server, ckan_org, proxy, tmp_path,
                                                                             monkeypatch):
    """The job worker is stopped: the job waits in the queue past the publisher's patience. The staging
    resource is deleted and the file staged again for inserts; the job, run once the worker is back,
    finds nothing to load, and the published table stays exact."""
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", 3_000)
    files = render_release(tmp_path, {"2025-01": month})
    monkeypatch.setattr(ckan, "table_loader", lambda client, max_body: XloaderCopy(max_body, base_wait=3.0,
                                                                                    wait_per_row=0.0, min_rows=0))
    writes: list[dict] = []

    ckan_server.stop_worker()
    try:
        with PortalPoller(ckan_server.url, ckan_org) as poller:
            result = through(proxy, ckan_server, max_body=LIMIT, on_write=writes.append).sync(
                dataset_spec(ckan_org, name), files)
            poller.wait_polls(2)
    finally:
        ckan_server.start()
    abandoned = [w["objeto"] for w in writes if w["accion"] == "resource_delete"]
    until(lambda: ckan_server.admin().action.xloader_status(resource_id=abandoned[0])["status"] == "error",
          "the abandoned job to find its resource gone")

    assert result.error is None, result.error
    assert len(abandoned) == 1 and calls(proxy, "datastore_upsert") >= 1
    assert_published_exactly(ckan_server, name, files, month)
    poller.assert_clean()
    again = through(proxy, ckan_server, max_body=LIMIT)
    assert again.sync(dataset_spec(ckan_org, name), files).writes == 0 and again.client.writes == 0


@pytest.mark.ckan_restart
def test_a_job_that_starts_as_its_staging_resource_is_abandoned_leaves_no_table(ckan_server, ckan_org, tmp_path,
                                                                               monkeypatch):
    """The portal submitted the upload itself, and its job waited in the queue past the publisher's patience
    (the worker is stopped); it starts between the publisher's last look at it and the deletion of its
    staging resource (held until the job has fetched the file). The job then makes a table for a deleted
    resource, which the re-staging purges; the publisher waits for the job to end and drops that table."""
    name = f"{ckan_org}-planilla"
    month = month_rows("2025-01", 20_000)
    files = render_release(tmp_path, {"2025-01": month})
    monkeypatch.setattr(ckan, "table_loader", lambda client, max_body: XloaderCopy(max_body, base_wait=30.0,
                                                                                    wait_per_row=0.0, min_rows=0))
    outcome = {}

    ckan_server.stop_worker()
    try:
        with (ckan_server.auto_submitting(second_worker=False) as portal,
              FaultProxy(portal, delay=600, offers_xloader=True) as proxy,
              PortalPoller(ckan_server.url, ckan_org) as poller):
            proxy.plan("resource_delete", "hold")
            publisher = threading.Thread(target=lambda: outcome.update(result=through(proxy, ckan_server).sync(
                dataset_spec(ckan_org, name), files)))
            publisher.start()
            until(lambda: proxy.arrived["resource_delete"].is_set(), "the publisher to abandon the queued job")
            abandoned = ckan_server.admin().action.package_show(id=staging_dataset_name(name))["resources"][0]["id"]
            ckan_server.start()
            until(lambda: "Loading CSV" in job_logs(ckan_server, abandoned), "the job to fetch the file")
            proxy.resume.set()
            publisher.join()
            poller.wait_polls(2)
    finally:
        ckan_server.start()
    until(lambda: ckan_server.admin().action.xloader_status(resource_id=abandoned)["status"] in ("complete", "error"),
          "the abandoned job to end")

    assert outcome["result"].error is None, outcome["result"].error
    assert not has_table(ckan_server, abandoned)
    assert_published_exactly(ckan_server, name, files, month)
    poller.assert_clean()
