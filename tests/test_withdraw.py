"""Withdrawing a month published in error, and publishing the corrected month again, on the local
catalog and on a real CKAN: the month leaves the target (files, DataStore, history, catalog), a
public dated record stays in the dataset, the ledger keeps an entry, and the month's compliance
report stops counting the item as online."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from pathlib import Path

import pandas as pd
import pytest
import requests
from ckan_proxy import FaultProxy
from institutions import viaticos_institution
from test_datapackage import assert_valid_package
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import Period, Target
from transparencia.errors import TransparenciaError
from transparencia.flows.release import run_release
from transparencia.flows.store import MonthStore
from transparencia.flows.withdraw import withdraw_month
from transparencia.publishers.names import portal_dataset_name
from transparencia.schemas import load_catalog
from transparencia.sources.demo import Banner, sample_frame, write_xlsx

pytestmark = pytest.mark.prefect
VIATICOS = load_catalog().get("viaticos")
REASON = "Se publicó el archivo de febrero en el mes equivocado"



def _institution(folder: Path, organization: str = "snm-retiros", acronym: str = "SNM") -> Path:
    return viaticos_institution(folder, organization, acronym)


def _month(folder: Path, period: str, rows: int, seed: int = 0) -> pd.DataFrame:
    schema = VIATICOS.table_schema()
    frame = sample_frame(schema, Period.parse(period), rows, seed=seed)
    banner = Banner("Servicio Nacional de Migración", schema.title, Period.parse(period), dt.date(2025, 3, 3), "Dirección de Finanzas")
    write_xlsx([("Viáticos", schema, frame)], folder / "inbox" / period / "finanzas" / "viaticos.xlsx", banner)
    return frame


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_withdraw_and_republish_on_the_local_catalog(prefect_server, tmp_path):
    config = _institution(tmp_path)
    _month(tmp_path, "2025-01", 6)
    assert run_release(Period.parse("2025-01"), config).exit_code == 0
    _month(tmp_path, "2025-02", 4)
    assert run_release(Period.parse("2025-02"), config).exit_code == 0
    folder = tmp_path / "published" / "snm-retiros" / "snm-viaticos"
    assert len(_csv_rows(folder / "viaticos-historico.csv")) == 10

    result = CliRunner().invoke(app, ["retirar", "viaticos", "--period", "2025-02", "--motivo", REASON,
                                      "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "Retirado el punto 11.6, mes 2025-02" in result.output

    metadata = json.loads((folder / "metadatos.json").read_text(encoding="utf-8"))
    names = {r["name"] for r in metadata["resources"]}
    assert not any("2025-02" in n for n in names)
    assert not list(folder.glob("viaticos-2025-02*"))
    assert {r["periodo"] for r in _csv_rows(folder / "viaticos-historico.csv")} == {"2025-01"}
    assert len(_csv_rows(folder / "viaticos-historico.csv")) == 6
    assert metadata["dataset"]["extras"]["cobertura temporal"] == "2025-01"
    assert_valid_package(folder / "datapackage.json")  # describes only the months that remain
    assert "2025-02" not in (folder / "viaticos-grafico.svg").read_text(encoding="utf-8")
    [record] = _csv_rows(folder / "viaticos-retiros.csv")
    assert record["periodo"] == "2025-02" and record["motivo"] == REASON
    assert record["fecha_retiro"] == dt.date.today().isoformat()
    assert "Viáticos 2025-02 (CSV)" in record["recursos_retirados"]
    catalog = (tmp_path / "published" / "catalog.json").read_text(encoding="utf-8")
    assert "viaticos-2025-02" not in catalog and "viaticos-retiros.csv" in catalog
    assert MonthStore(tmp_path / "store", "snm-retiros").months("viaticos") == [Period(2025, 1)]

    report = json.loads((tmp_path / "reports" / "2025-02" / "informe-cumplimiento-2025-02.json").read_text("utf-8"))
    item = next(i for i in report["items"] if i["code"] == "11.6")
    assert item["status"] == "retirado" and not item["fulfilled"] and item["url"] is None
    assert REASON in item["detail"] and item["status_label"].startswith("Retirado")
    ledgers = [json.loads(p.read_text("utf-8")) for p in (tmp_path / "runs" / "2025-02").glob("*.json")]
    [entry] = [ledger["withdrawal"] for ledger in ledgers if "withdrawal" in ledger]
    assert entry["reason"] == REASON and entry["stored_month_removed"]

    # Run again while the corrected file has not come: the item still reads "retirado", with its reason.
    (tmp_path / "inbox" / "2025-02" / "finanzas" / "viaticos.xlsx").unlink()
    again = run_release(Period.parse("2025-02"), config)
    row = next(i for i in again.items if i.code == "11.6")
    assert again.exit_code == 1 and row.status == "retirado" and REASON in row.detail

    # The corrected month goes back in place: same resource names, history rebuilt, record kept.
    _month(tmp_path, "2025-02", 5, seed=7)
    assert run_release(Period.parse("2025-02"), config).exit_code == 0
    metadata = json.loads((folder / "metadatos.json").read_text(encoding="utf-8"))
    assert {r["name"] for r in metadata["resources"]} >= names | {"Viáticos 2025-02 (CSV)"}
    assert len(_csv_rows(folder / "viaticos-historico.csv")) == 11
    assert len(_csv_rows(folder / "viaticos-retiros.csv")) == 1


def test_withdrawing_a_month_never_published_is_refused_without_a_trace(tmp_path):
    config = _institution(tmp_path)
    result = CliRunner().invoke(app, ["retirar", "viaticos", "--period", "2025-05", "--motivo", REASON,
                                      "--config", str(config)])
    assert result.exit_code == 2
    assert "no tiene publicado el mes 2025-05" in result.output
    assert not (tmp_path / "runs").exists() and not (tmp_path / "published" / "snm-retiros").exists()


def test_a_reason_is_required(tmp_path):
    config = _institution(tmp_path)
    result = CliRunner().invoke(app, ["retirar", "viaticos", "--period", "2025-01", "--motivo", "  ",
                                      "--config", str(config)])
    assert result.exit_code == 2 and "motivo" in result.output


@pytest.mark.ckan
def test_withdraw_on_ckan_removes_the_month_and_its_datastore_table(prefect_server, ckan_server, ckan_org,
                                                                    tmp_path, monkeypatch):
    import ckanapi

    ckan_server.as_target(monkeypatch)
    acronym = f"r{uuid.uuid4().hex[:6]}"
    config = _institution(tmp_path, ckan_org, acronym)
    _month(tmp_path, "2025-01", 5)
    assert run_release(Period.parse("2025-01"), config, target="ckan").exit_code == 0
    _month(tmp_path, "2025-02", 3)
    assert run_release(Period.parse("2025-02"), config, target="ckan").exit_code == 0
    ckan = ckan_server.admin()
    dataset = portal_dataset_name(ckan_org, f"{acronym}-viaticos")
    before = {r["name"]: r for r in ckan.action.package_show(id=dataset)["resources"]}
    february = before["Viáticos 2025-02 (CSV)"]
    assert february["datastore_active"]

    result = withdraw_month(config, "viaticos", Period.parse("2025-02"), REASON, target=Target.CKAN)

    after = {r["name"]: r for r in ckan.action.package_show(id=dataset)["resources"]}
    assert not any("2025-02" in name for name in after)
    assert set(result.removed) >= {"Viáticos 2025-02 (CSV)", "Viáticos 2025-02 (JSON)"}
    with pytest.raises(ckanapi.NotFound):
        ckan.action.datastore_search(resource_id=february["id"])
    history = after["Viáticos — histórico (CSV)"]
    assert history["sha256"] != before["Viáticos — histórico (CSV)"]["sha256"]
    assert ckan.action.datastore_search(resource_id=after["Viáticos 2025-01 (CSV)"]["id"])["total"] == 5
    record = after["Viáticos — retiros de publicación (CSV)"]
    assert "retirados" in record["description"]
    extras = {e["key"]: e["value"] for e in ckan.action.package_show(id=dataset)["extras"]}
    assert extras["cobertura temporal"] == "2025-01"
    report = ckan.action.package_show(id=portal_dataset_name(ckan_org, f"{acronym}-informe-cumplimiento"))
    assert any(r["name"] == "Informe de cumplimiento 2025-02 (JSON)" for r in report["resources"])
    local = json.loads((tmp_path / "reports" / "2025-02" / "informe-cumplimiento-2025-02.json").read_text("utf-8"))
    assert not next(i for i in local["items"] if i["code"] == "11.6")["fulfilled"]


@pytest.mark.ckan
def test_a_withdrawal_stopped_part_way_is_finished_by_the_next_and_its_record_lists_every_file(
        prefect_server, ckan_server, ckan_org, ckan_acronym, tmp_path, monkeypatch):
    ckan_server.as_target(monkeypatch)
    config = _institution(tmp_path, ckan_org, ckan_acronym)
    for period, rows in (("2025-01", 5), ("2025-02", 3)):
        _month(tmp_path, period, rows)
        assert run_release(Period.parse(period), config, target="ckan").exit_code == 0
    ckan = ckan_server.admin()
    dataset = portal_dataset_name(ckan_org, f"{ckan_acronym}-viaticos")
    february = {r["name"] for r in ckan.action.package_show(id=dataset)["resources"] if r.get("periodo") == "2025-02"}
    assert len(february) > 3

    with FaultProxy(ckan_server.url) as proxy:
        monkeypatch.setenv("CKAN_URL", proxy.url)
        proxy.plan("resource_delete", "pass", "pass", "409")  # the third file is refused
        with pytest.raises(TransparenciaError, match="Ya se retiraron 2 archivos") as stopped:
            withdraw_month(config, "viaticos", Period.parse("2025-02"), REASON, target=Target.CKAN)
    left = {r["name"] for r in ckan.action.package_show(id=dataset)["resources"]} & february
    assert len(left) == len(february) - 2 and "vuelva a ejecutar el mismo retiro" in stopped.value.message

    monkeypatch.setenv("CKAN_URL", ckan_server.url)
    result = withdraw_month(config, "viaticos", Period.parse("2025-02"), REASON, target=Target.CKAN)

    after = {r["name"]: r for r in ckan.action.package_show(id=dataset)["resources"]}
    assert not february & set(after)
    assert set(result.removed) == february
    record = requests.get(after["Viáticos — retiros de publicación (CSV)"]["url"], timeout=30)
    [row] = list(csv.DictReader(io.StringIO(record.content.decode("utf-8-sig"))))
    assert row["periodo"] == "2025-02" and set(row["recursos_retirados"].split("; ")) == february
