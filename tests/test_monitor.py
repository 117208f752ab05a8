"""The national monitor: reading published reports (any version), the table, and the real portal."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
import requests
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import ItemStatus, Period
from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.names import portal_dataset_name
from transparencia.reports import compliance
from transparencia.reports.antai import AntaiBand, AntaiScore
from transparencia.reports.compliance import ComplianceReport, ItemReport
from transparencia.reports.monitor import (
    CON_INFORME,
    ILEGIBLE,
    SIN_INFORME,
    UnreadableReport,
    build_table,
    check_claims,
    monitor_resources,
    read_report,
    render,
)
from transparencia.reports.portal import Organization, PortalReader, PublishedReport, read_reports

PERIOD, PREVIOUS = "2025-03", "2025-02"


def report_dict(met: int, applicable: int = 24, period: str = PERIOD, institution: str = "Institución") -> dict:
    """A report as the current version writes it: ``met`` published items, the rest missing or rejected."""
    statuses = ([ItemStatus.PUBLISHED] * met + [ItemStatus.REJECTED] * min(2, applicable - met)
                + [ItemStatus.NOT_RECEIVED] * max(0, applicable - met - 2)
                + [ItemStatus.NOT_APPLICABLE] * (24 - applicable))
    items = [ItemReport(f"{n + 1}.0", f"Punto {n + 1}", "dataset", "monthly", s, "Dirección")
             for n, s in enumerate(statuses)]
    return ComplianceReport(institution, "INS", Period.parse(period), items).to_dict()


def published(name: str, months: dict[str, dict], problems: dict[str, str] | None = None) -> PublishedReport:
    return PublishedReport(Organization(name, name.title()), f"{name}-informe-cumplimiento",
                           contents={Period.parse(m): report for m, report in months.items()},
                           problems={Period.parse(m): reason for m, reason in (problems or {}).items()})


# --------------------------------------------------------------------------- reading one report


def test_a_current_report_is_scored_with_its_missing_and_rejected_items():
    reading = read_report(report_dict(20), Period.parse(PERIOD))
    assert reading.score == AntaiScore(20, 24)
    assert reading.rejected == ("21.0", "22.0") and reading.missing == ("23.0", "24.0")


def test_an_older_report_without_summary_is_scored_from_its_items():
    old = report_dict(16, applicable=23)
    del old["summary"]
    assert read_report(old, Period.parse(PERIOD)).score == AntaiScore(16, 23)


def test_the_score_comes_from_the_file_and_metadata_that_claims_more_makes_it_untrustworthy():
    data = report_dict(20)
    points = compliance.report_points(ComplianceReport.from_dict(data))
    check_claims(read_report(data, Period.parse(PERIOD)), points)  # honest metadata: no complaint
    with pytest.raises(UnreadableReport, match="dicen 24 de 24 puntos, pero el informe publicado dice 20 de 24"):
        check_claims(read_report(data, Period.parse(PERIOD)), {**points, "puntos_cumplidos": "24"})
    tampered = published("alfa", {PERIOD: data})
    tampered.points[Period.parse(PERIOD)] = {**points, "puntos_cumplidos": "24"}
    [row] = build_table(Period.parse(PERIOD), Period.parse(PREVIOUS), [], [tampered]).rows
    assert row.state == ILEGIBLE and row.score.met == 0 and "no se puede confiar" in row.note


def test_a_report_of_another_month_or_without_points_is_unreadable_with_the_reason():
    with pytest.raises(UnreadableReport, match="2025-02"):
        read_report(report_dict(24, period=PREVIOUS), Period.parse(PERIOD))
    with pytest.raises(UnreadableReport, match="summary"):
        read_report({"institution": "X", "period": PERIOD}, Period.parse(PERIOD))
    with pytest.raises(UnreadableReport, match="status"):
        read_report({"period": PERIOD, "items": [{"code": "1.0"}]}, Period.parse(PERIOD))


# --------------------------------------------------------------------------- the table


def test_every_organization_is_a_row_and_ties_share_a_position():
    orgs = [Organization(n, n.title()) for n in ("alfa", "beta", "gamma", "delta", "eps")]
    reports = [
        published("alfa", {PERIOD: report_dict(24, institution="Alfa"), PREVIOUS: report_dict(20, period=PREVIOUS)}),
        published("beta", {PERIOD: report_dict(24, institution="Beta")}),
        published("gamma", {PERIOD: report_dict(10, institution="Gamma")}),
        published("delta", {}, problems={PERIOD: "el archivo no es JSON válido"}),
    ]
    table = build_table(Period.parse(PERIOD), Period.parse(PREVIOUS), orgs, reports)
    by_org = {r.organization: r for r in table.rows}
    assert [r.organization for r in table.rows][:3] == ["alfa", "beta", "gamma"]
    assert by_org["alfa"].rank == by_org["beta"].rank == 1 and by_org["gamma"].rank == 3
    assert by_org["alfa"].change == 100 - 83 and by_org["beta"].change is None
    assert by_org["eps"].state == SIN_INFORME and by_org["eps"].score.percentage == 0
    assert by_org["delta"].state == ILEGIBLE and "no es JSON" in by_org["delta"].note
    assert [b["count"] for b in table.bands()] == [2, 0, 1, 2]
    assert table.share(AntaiBand.FULL) == 40


def test_press_summary_and_chart_are_in_spanish():
    orgs = [Organization(n, n.title()) for n in ("alfa", "beta", "gamma")]
    table = build_table(Period.parse(PERIOD), Period.parse(PREVIOUS), orgs, [published("alfa", {PERIOD: report_dict(24)})])
    md, html = render(table, "md"), render(table, "html")
    assert "1 institución (33 %) cumple con el 100 %" in md
    assert "2 de ellas sin informe publicado del mes" in md
    assert "<svg" in html and "Cumple con el 100 %" in html and "1 (33 %)" in html


def test_the_csv_neutralises_every_formula_trigger_including_tab_and_carriage_return():
    orgs = [Organization(n, n.title()) for n in ("alfa", "beta", "gamma", "delta")]
    names = {"alfa": "=1+1", "beta": "\tcmd", "gamma": "\r=2", "delta": "@SUM(A1)"}
    table = build_table(Period.parse(PERIOD), Period.parse(PREVIOUS), orgs,
                        [published(n, {PERIOD: report_dict(24, institution=text)}) for n, text in names.items()])
    text = render(table, "csv")
    assert text.startswith("\ufeff")
    institutions = [row[1] for row in csv.reader(io.StringIO(text[1:], newline=""))][1:]
    assert sorted(institutions) == sorted(f"'{name}" for name in names.values())


# --------------------------------------------------------------------------- the real portal

# (points met, applicable) per institution: every band, including "no aplica" and 0 % with a report.
SCORES = [(24, 24)] * 8 + [(23, 24), (20, 24), (16, 24), (16, 23), (18, 24), (22, 24)] + \
         [(15, 24), (1, 24), (8, 24), (12, 24), (15, 23), (5, 24)] + [(0, 24)] * 3 + [(24, 24)] * 3
# Besides these 26: an older report without summary or ``tipo``, an unreadable one, four without report.


def _publish_report(publisher: CkanPublisher, org: str, acronym: str, months: dict[str, dict], tmp: Path,
                    old_version: bool = False) -> None:
    report = ComplianceReport.from_dict(next(iter(months.values())))
    report.acronym = acronym
    spec = compliance.report_dataset(report, org, "cc-zero")
    if old_version:  # no ``tipo`` extra on the dataset, no point metadata on the resources
        spec = dataclasses.replace(spec, kind=None, legal_basis=None)
    paths = {}
    resources = []
    for period, data in months.items():
        path = tmp / f"{acronym}-{period}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        paths[period] = path
        month = ComplianceReport.from_dict(data)
        resources += compliance.report_resources(month, {"json": path})
    if old_version:
        resources = [dataclasses.replace(r, extras={}) for r in resources]
    result = publisher.sync(spec, resources)
    assert result.error is None, result.error


@pytest.mark.ckan
def test_monitor_reads_the_portal_and_publishes_the_national_table(ckan_server, tmp_path, monkeypatch):
    admin = ckan_server.admin()
    prefix = f"mon-{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}-{n:02d}" for n in range(32)]
    for name in names:
        admin.action.organization_create(name=name, title=f"Entidad {name[-2:]}")
    publisher = CkanPublisher(ckan_server.url, ckan_server.token)

    def publish(index: int) -> None:
        name, acronym = names[index], names[index].replace("-", "")
        if index < len(SCORES):
            met, applicable = SCORES[index]
            months = {PERIOD: report_dict(met, applicable, institution=f"Institución {index:02d}")}
            if index % 3 == 0:
                months[PREVIOUS] = report_dict(max(met - 4, 0), applicable, period=PREVIOUS)
            _publish_report(publisher, name, acronym, months, tmp_path)
        elif index == 26:  # an earlier version: no summary, no ``tipo`` extra
            old = report_dict(17, institution="Institución antigua")
            del old["summary"]
            _publish_report(publisher, name, acronym, {PERIOD: old}, tmp_path, old_version=True)
        elif index == 27:  # an earlier version's report, damaged
            _publish_report(publisher, name, acronym, {PERIOD: report_dict(24)}, tmp_path, old_version=True)
            ckan_dataset = admin.action.package_show(id=portal_dataset_name(name, f"{acronym}-informe-cumplimiento"))
            broken = tmp_path / "roto.json"
            broken.write_bytes(b"{roto")
            with broken.open("rb") as handle:
                admin.action.resource_patch(id=ckan_dataset["resources"][0]["id"], upload=handle)
        # 28-31: organizations that published no report

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(publish, range(len(names))))

    monkeypatch.setenv("CKAN_API_TOKEN", ckan_server.token)
    out = tmp_path / "monitor"
    runner = CliRunner()
    done = runner.invoke(app, ["monitor", "--period", PERIOD, "--portal", ckan_server.url, "-o", str(out),
                               "--only", f"{prefix}-*", "--publish", "--organization", names[0]])
    assert done.exit_code == 0, done.output

    table = json.loads((out / PERIOD / f"monitoreo-nacional-{PERIOD}.json").read_text(encoding="utf-8"))
    rows = {r["organization"]: r for r in table["ranking"]}
    assert set(rows) == set(names)  # no other test's organization, none of ours skipped
    assert [b["count"] for b in table["bands"]] == [11, 6 + 1, 6, 3 + 1 + 4]
    assert rows[names[0]]["rank"] == 1 and rows[names[0]]["percentage"] == 100
    assert rows[names[0]]["change"] == 100 - 83  # the previous month read from the portal
    assert rows[names[11]]["met"] == 16 and rows[names[11]]["applicable"] == 23
    assert rows[names[26]]["institution"] == "Institución antigua" and rows[names[26]]["met"] == 17
    assert rows[names[27]]["report"] == ILEGIBLE and "sha256" in rows[names[27]]["note"]
    assert rows[names[31]]["report"] == SIN_INFORME and rows[names[31]]["percentage"] == 0
    assert rows[names[31]]["institution"] == "Entidad 31"
    said = " ".join(done.output.split())
    assert f"({names[27]}): No se pudo leer el informe: el archivo no coincide con el sha256" in said

    with (out / PERIOD / f"monitoreo-nacional-{PERIOD}.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 32
    md = (out / PERIOD / f"monitoreo-nacional-{PERIOD}.md").read_text(encoding="utf-8")
    assert "11 instituciones (34 %) cumplen con el 100 %" in md

    national = admin.action.package_show(id=f"{names[0]}-monitoreo-nacional-transparencia")
    resource = next(r for r in national["resources"] if r["format"] == "JSON")
    assert requests.get(resource["url"], timeout=30).json()["institutions"] == 32
    again = runner.invoke(app, ["monitor", "--period", PERIOD, "--portal", ckan_server.url, "-o", str(out),
                                "--only", f"{prefix}-*", "--publish", "--organization", names[0]])
    assert again.exit_code == 0 and "(0 escrituras)" in " ".join(again.output.split())


@pytest.mark.ckan
def test_a_tampered_score_or_file_is_caught_by_the_monitor(ckan_server, tmp_path):
    """Editing ``puntos_cumplidos`` to 24, the recorded ``hash``, or the file itself never ranks an
    institution 24 of 24: the score is read from the file, checked against its recorded sha256."""
    admin = ckan_server.admin()
    prefix = f"tam-{uuid.uuid4().hex[:6]}"
    names = {case: f"{prefix}-{case}" for case in ("honesta", "puntos", "hash", "archivo")}
    publisher = CkanPublisher(ckan_server.url, ckan_server.token)
    for case, name in names.items():
        admin.action.organization_create(name=name, title=f"Entidad {case}")
        _publish_report(publisher, name, name.replace("-", ""), {PERIOD: report_dict(21, institution=case)}, tmp_path)

    def resource(case: str) -> dict:
        package = admin.action.package_show(id=portal_dataset_name(names[case], f"{names[case].replace('-', '')}-informe-cumplimiento"))
        return next(r for r in package["resources"] if r["format"] == "JSON")

    admin.action.resource_patch(id=resource("puntos")["id"], puntos_cumplidos="24")
    admin.action.resource_patch(id=resource("hash")["id"], hash="0" * 64)
    perfect = tmp_path / "perfecto.json"
    perfect.write_text(json.dumps(report_dict(24, institution="archivo")), encoding="utf-8")
    with perfect.open("rb") as handle:
        admin.action.resource_patch(id=resource("archivo")["id"], upload=handle)

    orgs, reports = read_reports(PortalReader(ckan_server.url), [Period.parse(PERIOD)], [f"{prefix}-*"])
    table = build_table(Period.parse(PERIOD), Period.parse(PREVIOUS), orgs, reports)
    rows = {r.organization: r for r in table.rows}
    assert (rows[names["honesta"]].state, rows[names["honesta"]].score) == (CON_INFORME, AntaiScore(21, 24))
    assert rows[names["honesta"]].rank == 1
    for case in ("puntos", "hash", "archivo"):
        row = rows[names[case]]
        assert row.state == ILEGIBLE and row.score.met == 0, (case, row)
    assert "dicen 24 de 24 puntos, pero el informe publicado dice 21 de 24" in rows[names["puntos"]].note
    assert "no coincide con el sha256" in rows[names["hash"]].note
    assert "no coincide con el sha256" in rows[names["archivo"]].note


def test_a_dataset_listed_twice_by_the_search_index_counts_once():
    package = {"id": "p1", "name": "abc-informe-cumplimiento", "organization": {"name": "abc"}, "resources": []}

    class TwiceListed(PortalReader):
        def action(self, name, **params):
            return {"count": 2, "results": [package, dict(package)]}

    assert len(list(TwiceListed("http://portal.invalid").report_packages())) == 1


def test_a_report_download_that_meets_a_5xx_is_retried_by_the_client(monkeypatch):
    """The monitor's downloads go through publishers' CkanClient, whose retries they share (attempts
    counted on a loopback server; the waits are skipped)."""
    answers = [503, 502, 200]
    served: list[str] = []

    class Flaky(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            served.append(self.path)
            status = answers.pop(0)
            body = json.dumps({"institution": "Entidad"} if status == 200 else {}).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    monkeypatch.setattr("transparencia.publishers.ckan_client.time.sleep", lambda seconds: None)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert PortalReader(url).download_json(f"{url}/informe.json") == {"institution": "Entidad"}
    finally:
        server.shutdown()
        server.server_close()
    assert served == ["/informe.json"] * 3


def test_one_institution_is_counted_in_the_singular():
    """"1 instituciones" read wrong in the table's subtitle, its summary and its resource description."""
    orgs = [Organization("alfa", "Alfa")]
    table = build_table(Period.parse(PERIOD), Period.parse(PREVIOUS), orgs, [published("alfa", {PERIOD: report_dict(24)})])
    md, html = render(table, "md"), render(table, "html")
    assert "Se evaluaron 1 institución con" in md and "— 1 institución —" in html
    [resource] = monitor_resources(table, {"csv": Path(__file__)})
    assert resource.description.endswith(": 1 de 1 institución cumple con el 100 %.")


def test_an_overdue_document_is_listed_as_vencido_not_as_missing():
    """A stale document is online: the monitor shows it under "vencidos"."""
    data = report_dict(20)  # 21.0-22.0 rejected, 23.0-24.0 missing
    data["items"][22]["status"] = ItemStatus.OUTDATED.value
    reading = read_report(data, Period.parse(PERIOD))
    assert reading.outdated == ("23.0",) and reading.missing == ("24.0",)
    orgs = [Organization("alfa", "Alfa")]
    table = build_table(Period.parse(PERIOD), Period.parse(PREVIOUS), orgs, [published("alfa", {PERIOD: data})])
    [row] = list(csv.DictReader(io.StringIO(render(table, "csv").lstrip("\ufeff"))))
    assert (row["puntos_faltantes"], row["puntos_vencidos"]) == ("24.0", "23.0")
    assert "<th>Puntos vencidos</th>" in render(table, "html")
