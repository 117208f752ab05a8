"""Publish benchmark against the local CKAN (scripts/ckan-local/start.sh is run first; idempotent).

Prints, for one month of ``BENCH_ROWS`` rows (default 100,000):
  * the DataStore load rate of the publisher (fresh table, large insert chunks, parallel requests)
    beside a naive baseline measured in the same run: ckanapi ``datastore_upsert`` with default
    options in 2,000-row batches (target: >= 3x the baseline);
  * the time of the first publish of the month (all files + DataStore) and of re-publishing it
    unchanged (target: zero writes and <= 10% of the first publish).

    python -m bench.bench_publish            # BENCH_ROWS=5000 python -m bench.bench_publish to run small
"""

from __future__ import annotations

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

from transparencia.publishers.ckan import CkanPublisher  # noqa: E402
from transparencia.publishers.ckan_datastore import datastore_fields, iter_record_chunks, load_fresh_table  # noqa: E402

BASELINE_BATCH = 2_000


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


def publisher_load(publisher: CkanPublisher, ckan: ckanapi.RemoteCKAN, package_id: str, table) -> float:
    resource_id = empty_resource(ckan, package_id, "carga del publicador")
    started = time.perf_counter()
    load_fresh_table(publisher.client, resource_id, table, publisher.load_options)
    return time.perf_counter() - started


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "100000"))
    url, token = start_ckan()
    ckan = ckanapi.RemoteCKAN(url, apikey=token)
    suffix = uuid.uuid4().hex[:8]
    org = ckan.action.organization_create(name=f"bench-{suffix}")["name"]
    scratch = ckan.action.package_create(name=f"bench-{suffix}-carga", owner_org=org)["id"]
    workdir = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    files = render_release(workdir, {"2025-01": month_rows("2025-01", rows)})
    table = files[0].datastore
    publisher = CkanPublisher(url, token)

    baseline_s = naive_baseline(ckan, scratch, table)
    ours_s = publisher_load(publisher, ckan, scratch, table)

    spec = dataset_spec(org, f"bench-{suffix}-planilla")
    started = time.perf_counter()
    first = publisher.sync(spec, files)
    first_s = time.perf_counter() - started
    again = CkanPublisher(url, token)
    started = time.perf_counter()
    unchanged = again.sync(spec, files)
    again_s = time.perf_counter() - started
    if first.error or unchanged.error:
        sys.exit(f"publish failed: {first.error or unchanged.error}")

    print(f"DataStore load of {rows:,} rows against {url}")
    print(f"  baseline (ckanapi datastore_upsert, defaults, {BASELINE_BATCH:,}-row batches): "
          f"{baseline_s:7.2f} s  {rows / baseline_s:9,.0f} rows/s")
    print(f"  publisher (fresh table, {publisher.load_options.chunk_rows:,}-row insert chunks, "
          f"{publisher.load_options.parallel_requests} in flight):   {ours_s:7.2f} s  {rows / ours_s:9,.0f} rows/s")
    print(f"  speed-up: {baseline_s / ours_s:.1f}x  (target >= 3x)")
    print(f"First publish of the month ({len(files)} resources + DataStore): {first_s:.2f} s, "
          f"{first.writes} actions written, {publisher.client.writes} write calls")
    print(f"Re-publish unchanged: {again_s:.2f} s = {100 * again_s / first_s:.1f}% of the first "
          f"(target <= 10%), {again.client.writes} write calls (target 0)")


if __name__ == "__main__":
    main()
