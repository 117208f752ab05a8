"""Publish benchmark against the local CKAN (scripts/ckan-local/start.sh is run first; idempotent).

Prints, for one month of ``BENCH_ROWS`` rows (default 100,000):
  * the DataStore load rate of the publisher's two exactly-once loads: bounded inserts (the table
    created empty, then ``datastore_upsert`` inserts under the default body limit, 4 MB, then its
    fingerprint read back and compared; the same under a 1 MB limit) and, where the portal runs
    ckanext-xloader (the local CKAN does), xloader's COPY of the uploaded CSV (the typed table
    created empty, ``xloader_submit``, the job waited for, the fingerprint compared; the upload is
    timed apart: both paths upload the file), with the ratio of the two; and, measured in the same
    run, the previous load (the whole month in one ``datastore_create``, about 20 MB of JSON,
    verified) and a naive baseline, ckanapi ``datastore_upsert`` with default options in 2,000-row
    batches. Target: >= 10,000 rows/s verified;
  * the cost of verification: the fingerprint computed from the Parquet file, the one read back
    with SQL, and the full read-back of ``transparencia verificar`` for the month (downloads and
    sha256 of its files, DataStore fingerprint and data dictionary);
  * the time of the first publish of the month (all files + DataStore, prepared in the staging
    dataset and attached in one step) and of re-publishing it unchanged (target: zero writes and
    <= 10% of the first publish).

    python -m bench.bench_publish            # BENCH_ROWS=5000 python -m bench.bench_publish to run small
                                             # BENCH_BASELINE=0 skips the slow naive baseline
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import ckanapi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from ckan_release import dataset_spec, month_rows, render_release  # noqa: E402

from bench.machine import print_load  # noqa: E402
from transparencia.domain import Period  # noqa: E402
from transparencia.publishers.ckan import CkanPublisher  # noqa: E402
from transparencia.publishers.ckan_capabilities import portal_capabilities  # noqa: E402
from transparencia.publishers.ckan_client import CkanClient, RetryPolicy  # noqa: E402
from transparencia.publishers.ckan_datastore import MAX_BODY_BYTES, load_table, published_fingerprint  # noqa: E402
from transparencia.publishers.ckan_xloader import XloaderCopy, copy_table, table_loader  # noqa: E402
from transparencia.publishers.tables import (  # noqa: E402
    _fingerprint_of,
    datastore_fields,
    expected_fingerprint,
    iter_record_chunks,
)
from transparencia.publishers.verification import (  # noqa: E402
    Expected,
    StoredHistory,
    read_dataset_manifest,
    read_manifest,
    verify_dataset,
    write_manifest,
)

BASELINE_BATCH = 2_000
# The steps of xloader's job, as its log (``xloader_status``'s ``task_info``) marks their start and end.
JOB_STEPS = (("download", "Fetching from", "Downloaded ok"),
             ("re-encoding", "Ensuring character coding", "Copying to database"),
             ("COPY", "Copying to database", "...copying done"),
             ("_full_text column", "Creating search index", "...search index created"),
             ("indexes (a full-text one per text column)", "Creating column indexes", "...column indexes created"))


def start_ckan() -> tuple[str, str]:
    base = Path(os.environ.get("CKAN_BASE", "/tmp/transparencia-ckan"))
    subprocess.run([str(ROOT / "scripts" / "ckan-local" / "start.sh")], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "CKAN_BASE": str(base)})
    return (base / "ckan-url").read_text().strip(), (base / "secrets" / "api-token").read_text().strip()


def empty_resource(ckan: ckanapi.RemoteCKAN, package_id: str, name: str) -> str:
    return ckan.action.resource_create(package_id=package_id, name=name, url="")["id"]


def naive_baseline(ckan: ckanapi.RemoteCKAN, package_id: str, table) -> float:
    """ckanapi datastore_upsert, default options (method upsert), 2,000-row batches."""
    resource_id = empty_resource(ckan, package_id, "línea base")
    started = time.perf_counter()
    ckan.action.datastore_create(resource_id=resource_id, fields=datastore_fields(table),
                                 primary_key=list(table.primary_key), force=True)
    for records in iter_record_chunks(table, BASELINE_BATCH):
        ckan.action.datastore_upsert(resource_id=resource_id, records=records, force=True)
    return time.perf_counter() - started


def previous_load(publisher: CkanPublisher, ckan: ckanapi.RemoteCKAN, package_id: str, table) -> float:
    """The previous exactly-once load: the whole month in one ``datastore_create``, then verified."""
    resource_id = empty_resource(ckan, package_id, "carga en una petición")
    _fingerprint_of.cache_clear()
    started = time.perf_counter()
    records = [record for chunk in iter_record_chunks(table) for record in chunk]
    once = CkanClient(publisher.client.url, publisher._token, retry=RetryPolicy(attempts=1), read_timeout=3600)
    once.call("datastore_create", {"resource_id": resource_id, "fields": datastore_fields(table),
                                               "primary_key": list(table.primary_key), "records": records,
                                               "force": True})
    assert published_fingerprint(publisher.client, resource_id, table) == expected_fingerprint(table)
    return time.perf_counter() - started


def bounded_load(publisher: CkanPublisher, ckan: ckanapi.RemoteCKAN, package_id: str, table,
                 max_body: int) -> tuple[float, str]:
    """``load_table`` as the publisher runs it, fingerprint of the Parquet file included (not cached)."""
    resource_id = empty_resource(ckan, package_id, f"carga en inserciones de {max_body:,} bytes")
    _fingerprint_of.cache_clear()
    started = time.perf_counter()
    load_table(publisher.client, resource_id, table, max_body=max_body)
    return time.perf_counter() - started, resource_id


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def xloader_load(publisher: CkanPublisher, ckan: ckanapi.RemoteCKAN, package_id: str, csv: Path,
                 table) -> tuple[float, float, list[str], str]:
    """The month's CSV uploaded (timed apart), then ``copy_table`` as the publisher runs it: the typed
    table, xloader's job waited for, its fingerprint compared (computed from the Parquet file, not
    cached). Returns the upload's and the load's seconds, the fallback's warnings (none when
    xloader's table was the one kept) and the job's steps."""
    loader = table_loader(portal_capabilities(publisher.client), MAX_BODY_BYTES)
    if not isinstance(loader, XloaderCopy):
        sys.exit("the local CKAN does not offer ckanext-xloader: run scripts/ckan-local/start.sh")
    started = time.perf_counter()
    with csv.open("rb") as upload:
        resource_id = ckan.action.resource_create(package_id=package_id, name="carga con xloader", format="CSV",
                                                  upload=upload)["id"]
    upload_s = time.perf_counter() - started
    warnings = _Warnings()
    logging.getLogger("transparencia.publishers.ckan_xloader").addHandler(warnings)
    _fingerprint_of.cache_clear()
    started = time.perf_counter()
    copy_table(publisher.client, resource_id, table, expected_fingerprint(table), loader)
    copy_s = time.perf_counter() - started
    return upload_s, copy_s, warnings.messages, job_steps(publisher, resource_id)


def job_steps(publisher: CkanPublisher, resource_id: str) -> str:
    """Where xloader's job spent its time, from its own log."""
    logs = publisher.client.call("xloader_status", {"resource_id": resource_id})["task_info"]["logs"]

    def at(prefix: str) -> float | None:
        found = next((entry["timestamp"] for entry in logs if entry["message"].startswith(prefix)), None)
        return None if found is None else dt.datetime.fromisoformat(found).timestamp()

    parts = []
    for name, start, end in JOB_STEPS:
        began, ended = at(start), at(end)
        if began is not None and ended is not None:
            parts.append(f"{name} {ended - began:.1f} s")
    began, ended = at("Express Load starting"), at("Express Load completed")
    whole = f"{ended - began:.1f} s" if began is not None and ended is not None else "?"
    return f"job {whole}: " + ", ".join(parts)


def verification_costs(publisher: CkanPublisher, resource_id: str, table) -> tuple[float, float]:
    _fingerprint_of.cache_clear()
    started = time.perf_counter()
    expected_fingerprint(table)
    local_s = time.perf_counter() - started
    started = time.perf_counter()
    published_fingerprint(publisher.client, resource_id, table)
    return local_s, time.perf_counter() - started


def read_back(publisher: CkanPublisher, spec, files, workdir: Path, rows: int) -> tuple[float, int, list[str]]:
    """The checks of ``transparencia verificar`` for the month, as ``run`` makes them after publishing,
    against a store that holds the month's ``rows``. The benchmark's dataset is the test fixture's, whose
    description names no month as ``run``'s does: the description check fails, and says so."""
    month = Period(2025, 1)
    write_manifest(workdir, month, spec, files, rows, [month])
    expected = Expected(read_manifest(workdir, month), read_dataset_manifest(workdir))
    started = time.perf_counter()
    online = publisher.published_periods(spec.organization, spec.name)
    checks = verify_dataset("11.3", month, expected, StoredHistory(rows, [month]), publisher, online)
    return time.perf_counter() - started, len(checks), [c.describe() for c in checks if not c.ok]


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "100000"))
    print_load()
    url, token = start_ckan()
    ckan = ckanapi.RemoteCKAN(url, apikey=token)
    suffix = uuid.uuid4().hex[:8]
    org = ckan.action.organization_create(name=f"bench-{suffix}")["name"]
    scratch = ckan.action.package_create(name=f"bench-{suffix}-carga", owner_org=org)["id"]
    workdir = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    files = render_release(workdir, {"2025-01": month_rows("2025-01", rows)})
    table = files[0].datastore
    publisher = CkanPublisher(url, token)

    baseline_s = naive_baseline(ckan, scratch, table) if os.environ.get("BENCH_BASELINE", "1") != "0" else None
    previous_s = previous_load(publisher, ckan, scratch, table)
    ours_s, loaded = bounded_load(publisher, ckan, scratch, table, MAX_BODY_BYTES)
    small_s, _ = bounded_load(publisher, ckan, scratch, table, 1_000_000)
    upload_s, copy_s, fell_back, steps = xloader_load(publisher, ckan, scratch, files[0].path, table)
    local_fp_s, remote_fp_s = verification_costs(publisher, loaded, table)

    spec = dataset_spec(org, f"bench-{suffix}-planilla")
    fresh = CkanPublisher(url, token)
    started = time.perf_counter()
    first = fresh.sync(spec, files)
    first_s = time.perf_counter() - started
    again = CkanPublisher(url, token)
    started = time.perf_counter()
    unchanged = again.sync(spec, files)
    again_s = time.perf_counter() - started
    if first.error or unchanged.error:
        sys.exit(f"publish failed: {first.error or unchanged.error}")
    read_back_s, checks, failed = read_back(publisher, spec, files, workdir, rows)

    print(f"DataStore load of {rows:,} rows against {url}")
    if baseline_s is not None:
        print(f"  baseline (ckanapi datastore_upsert, defaults, {BASELINE_BATCH:,}-row batches): "
              f"{baseline_s:7.2f} s  {rows / baseline_s:9,.0f} rows/s")
    print(f"  previous load (one datastore_create, ~20 MB body, verified):  "
          f"{previous_s:7.2f} s  {rows / previous_s:9,.0f} rows/s")
    print(f"  bounded load ({MAX_BODY_BYTES / 1e6:.0f} MB inserts, verified):                "
          f"{ours_s:7.2f} s  {rows / ours_s:9,.0f} rows/s")
    print(f"  bounded load (1 MB inserts, verified):                        "
          f"{small_s:7.2f} s  {rows / small_s:9,.0f} rows/s")
    print(f"  xloader (COPY of the uploaded CSV, job waited for, verified):  "
          f"{copy_s:7.2f} s  {rows / copy_s:9,.0f} rows/s"
          + (f"  FELL BACK to inserts: {fell_back}" if fell_back else "")
          + f"  (its upload, as both paths pay it: {upload_s:.2f} s)")
    print(f"    xloader's {steps}")
    print(f"  bounded vs previous: {100 * (ours_s / previous_s - 1):+.1f}% time"
          + (f"; vs baseline: {baseline_s / ours_s:.1f}x faster" if baseline_s else ""))
    by_xloader = XloaderCopy().takes(table) and not fell_back
    rate = rows / copy_s if by_xloader else rows / ours_s
    print(f"  xloader vs bounded inserts (4 MB): {ours_s / copy_s:.2f}x the rate; the publisher's load on this "
          f"portal ({'xloader' if by_xloader else 'inserts'} for {rows:,} rows): {rate:,.0f} rows/s verified "
          f"(target >= 10,000: {'met' if rate >= 10_000 else 'NOT met'})")
    print(f"Verification: fingerprint from the Parquet file {local_fp_s:.2f} s, read back with SQL {remote_fp_s:.2f} s; "
          f"full read-back of the month ({checks} checks, {len(failed)} failed, downloads and sha256 included) "
          f"{read_back_s:.2f} s = {100 * read_back_s / first_s:.1f}% of the first publish")
    for failure in failed:
        print(f"  FAILED check: {failure}")
    print(f"First publish of the month ({len(files)} resources + DataStore): {first_s:.2f} s, "
          f"{first.writes} actions written, {fresh.client.writes} write calls")
    print(f"Re-publish unchanged (table fingerprint checked): {again_s:.2f} s = {100 * again_s / first_s:.1f}% of "
          f"the first (target <= 10%), {again.client.writes} write calls (target 0)")


if __name__ == "__main__":
    main()
