"""Monitor benchmark: the national table of many institutions read from the local CKAN.

Publishes (once; later runs find them unchanged) ``BENCH_INSTITUTIONS`` organizations named
``bench-mon-NNN``, each with its compliance report of this month and the month before, then times
what ``transparencia monitor`` does: list the organizations, page through the report datasets,
download every month's JSON report, build the table and write its four files. The baseline printed
beside it, measured in the same run, is one ``package_search`` page of the same datasets.

    python -m bench.bench_monitor                    # 200 institutions (needs scripts/ckan-local/start.sh)
    BENCH_INSTITUTIONS=30 python -m bench.bench_monitor

Target: 200 institutions in ≤ 60 s.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from transparencia.domain import ItemStatus, Period
from transparencia.publishers.ckan import CkanPublisher
from transparencia.reports import compliance, monitor
from transparencia.reports.compliance import ComplianceReport, ItemReport
from transparencia.reports.portal import PortalReader, read_reports

INSTITUTIONS = int(os.environ.get("BENCH_INSTITUTIONS", "200"))
BASE = Path(os.environ.get("CKAN_BASE", "/tmp/transparencia-ckan"))
PERIOD, PREVIOUS = "2025-03", "2025-02"
PREFIX = "bench-mon-"


def report(number: int, period: str) -> dict:
    met = (number * 7) % 25
    statuses = [ItemStatus.PUBLISHED] * met + [ItemStatus.NOT_RECEIVED] * (24 - met)
    items = [ItemReport(f"{n + 1}.0", f"Punto {n + 1}", "dataset", "monthly", s, "Dirección")
             for n, s in enumerate(statuses)]
    return ComplianceReport(f"Institución {number:03d}", f"BM{number:03d}", Period.parse(period), items).to_dict()


def publish_one(url: str, token: str, number: int, folder: Path) -> int:
    import ckanapi

    name = f"{PREFIX}{number:03d}"
    admin = ckanapi.RemoteCKAN(url, apikey=token)
    try:
        admin.action.organization_show(id=name)
    except ckanapi.NotFound:
        admin.action.organization_create(name=name, title=f"Entidad {number:03d}")
    resources = []
    for period in (PERIOD, PREVIOUS):
        data = report(number, period)
        path = folder / f"{name}-{period}.json"
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        resources += compliance.report_resources(ComplianceReport.from_dict(data), {"json": path})
    spec = compliance.report_dataset(ComplianceReport.from_dict(report(number, PERIOD)), name, "cc-zero")
    result = CkanPublisher(url, token).sync(spec, resources)
    if result.error:
        raise SystemExit(result.error)
    return result.writes


def main() -> None:
    url = (BASE / "ckan-url").read_text().strip()
    token = (BASE / "secrets" / "api-token").read_text().strip()
    folder = Path(tempfile.mkdtemp(prefix="bench-monitor-"))
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        writes = sum(pool.map(lambda n: publish_one(url, token, n, folder), range(1, INSTITUTIONS + 1)))
    print(f"preparación: {INSTITUTIONS} instituciones en el portal ({writes} escrituras) en "
          f"{time.perf_counter() - started:.1f} s", flush=True)

    reader = PortalReader(url)
    started = time.perf_counter()
    reader.action("package_search", fq="tags:cumplimiento", rows=1000)
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    months = Period.parse(PERIOD), Period.parse(PREVIOUS)
    organizations, reports = read_reports(reader, months, [f"{PREFIX}*"])
    read = time.perf_counter() - started
    table = monitor.build_table(*months, organizations, reports)
    monitor.write_table(table, folder / "monitor")
    total = time.perf_counter() - started
    downloads = sum(len(r.contents) + len(r.problems) for r in reports)
    print(f"carga del sistema (1 min): {os.getloadavg()[0]:.1f} en {os.cpu_count()} núcleos")
    print(f"una página de package_search (referencia): {baseline:.2f} s")
    print(f"lectura del portal: {len(organizations)} organizaciones, {len(reports)} informes, {downloads} descargas: "
          f"{read:.1f} s ({read / baseline:.0f}× la referencia)")
    print(f"monitor completo ({len(table.rows)} instituciones, tabla y cuatro archivos): {total:.1f} s  "
          f"(objetivo ≤ 60 s para 200)")
    sys.exit(0)


if __name__ == "__main__":
    main()
