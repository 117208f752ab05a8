"""What is online is the truth (issue 18, part 1): the history, change summaries, totals, chart and
data package are rendered from the months the target holds, not from the data folder that publishes.

Two data folders (two machines, or a reinstall) publish alternate months of the planilla into one
local catalog: every month stays in the history, and every public file is byte for byte what one
data folder publishing every month gives, although the second folder only knows the other months as
the public reads them (cédulas masked). ``verificar`` reads the history back against every month
online. The same on a real CKAN at the end (marked ``ckan``), with an anonymous reader polling.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest
import requests
from institutions import one_item_institution
from portal_poller import PortalPoller

from transparencia.domain import Period, Target
from transparencia.flows import stages
from transparencia.flows.store import MonthStore
from transparencia.flows.verify import verify_period
from transparencia.publishers.names import portal_dataset_name
from transparencia.sources.config import load_config
from transparencia.sources.demo import sample_frame
from transparencia.sources.extraction import Extraction, SourceRef
from transparencia.validation.findings import ValidationReport

JAN, FEB, MAR = Period(2025, 1), Period(2025, 2), Period(2025, 3)
ROWS = 12

def planilla_institution(folder: Path, published: Path, organization: str = "snm-verdad",
                         acronym: str = "SNM") -> Path:
    """A data folder whose one directorate sends the planilla, publishing into ``published``."""
    return one_item_institution(folder, organization, acronym, "planilla", "rrhh", "Dirección de Recursos Humanos",
                                published)


def publish(config_path: Path, month: Period, target: Target = Target.LOCAL) -> int:
    """The release's publish stage for the month's planilla (the same rows whichever folder runs it)."""
    config = load_config(config_path)
    item = config.catalog.get("planilla")
    frame = sample_frame(item.table_schema(), month, ROWS)
    extraction = Extraction(item.code, frame, SourceRef("file", "planilla.xlsx"))
    report = ValidationReport(item.code, item.name, "planilla.xlsx", None, ROWS, month)
    published = stages.publish_month(config, item, month, extraction, report, "Dirección de Recursos Humanos",
                                     target, False)
    assert published
    return published.writes


def history_months(text: str) -> Counter[str]:
    """Rows of each month in a history CSV."""
    return Counter(row["periodo"] for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def _public_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _failed(config_path: Path, month: Period, target: Target = Target.LOCAL) -> list[str]:
    checks = verify_period(load_config(config_path), month, target)
    assert checks, f"nothing checked for {month}"
    return [c.describe() for c in checks if not c.ok]


def test_two_data_folders_publishing_alternate_months_keep_every_month_and_match_one_folder(tmp_path):
    shared, alone = tmp_path / "catalogo", tmp_path / "catalogo-de-una-carpeta"
    machine_a = planilla_institution(tmp_path / "a", shared)
    machine_b = planilla_institution(tmp_path / "b", shared)
    one_folder = planilla_institution(tmp_path / "una", alone)

    for month, machine in ((JAN, machine_a), (FEB, machine_b), (MAR, machine_a)):
        publish(machine, month)
        publish(one_folder, month)

    folder = shared / "snm-verdad" / "snm-planilla"
    history = (folder / "planilla-historico.csv").read_text(encoding="utf-8")
    # before: the history held only the months of the folder that published last (January and March)
    assert history_months(history) == {str(m): ROWS for m in (JAN, FEB, MAR)}
    # every public file is what one folder publishing every month gives: February's summary (compared
    # on B with January as read back) and March's (on A, with February as read back), the totals, chart
    # and data package
    assert _public_files(folder) == _public_files(alone / "snm-verdad" / "snm-planilla")
    # machine B never ran January or March, yet its store holds them now, as the public reads them
    assert MonthStore.of(load_config(machine_b)).months("planilla") == [JAN, FEB]
    # verificar on each folder checks the history online against every month online; on B, whose record
    # of the history predates March, the history read back is the check (before: B's own months only)
    assert _failed(machine_a, MAR) == []
    assert _failed(machine_b, FEB) == []
    checks = verify_period(load_config(machine_b), FEB, Target.LOCAL)
    assert [c.detail for c in checks if c.what == "histórico en línea"] == ["36 filas de 3 meses, cada mes en línea"]


def test_an_empty_data_folder_publishing_a_new_month_keeps_every_earlier_month(tmp_path):
    shared = tmp_path / "catalogo"
    first = planilla_institution(tmp_path / "equipo-viejo", shared)
    for month in (JAN, FEB):
        publish(first, month)
    reinstalled = planilla_institution(tmp_path / "equipo-nuevo", shared)

    publish(reinstalled, MAR)

    folder = shared / "snm-verdad" / "snm-planilla"
    assert history_months((folder / "planilla-historico.csv").read_text("utf-8")) == \
        {str(m): ROWS for m in (JAN, FEB, MAR)}
    assert _failed(reinstalled, MAR) == []
    assert publish(reinstalled, MAR) == 0  # the months read back are current: nothing to write again


def test_a_store_month_that_differs_from_the_one_online_is_read_back(tmp_path):
    shared = tmp_path / "catalogo"
    machine_a = planilla_institution(tmp_path / "a", shared)
    machine_b = planilla_institution(tmp_path / "b", shared)
    publish(machine_a, JAN)
    publish(machine_b, JAN)  # B has January too
    config_a = load_config(machine_a)
    item = config_a.catalog.get("planilla")
    corrected = sample_frame(item.table_schema(), JAN, ROWS - 2, seed=7)  # A publishes a correction of January
    extraction = Extraction(item.code, corrected, SourceRef("file", "planilla.xlsx"))
    report = ValidationReport(item.code, item.name, "planilla.xlsx", None, ROWS - 2, JAN)
    assert stages.publish_month(config_a, item, JAN, extraction, report, "RR. HH.", Target.LOCAL, False)

    publish(machine_b, FEB)  # B's January is not the one online any more

    folder = shared / "snm-verdad" / "snm-planilla"
    assert history_months((folder / "planilla-historico.csv").read_text("utf-8")) == \
        {str(JAN): ROWS - 2, str(FEB): ROWS}


@pytest.mark.ckan
def test_on_ckan_two_data_folders_publishing_alternate_months_keep_every_month(ckan_server, ckan_org, ckan_acronym,
                                                                               tmp_path, monkeypatch):
    ckan_server.as_target(monkeypatch)
    unused = tmp_path / "sin-uso"  # the local catalog's folder, which a CKAN run never writes
    machine_a = planilla_institution(tmp_path / "a", unused, ckan_org, ckan_acronym)
    machine_b = planilla_institution(tmp_path / "b", unused, ckan_org, ckan_acronym)

    for month, machine in ((JAN, machine_a), (FEB, machine_b), (MAR, machine_a)):
        publish(machine, month, Target.CKAN)

    # the public, reading anonymously, sees every month in the history
    public = requests.get(f"{ckan_server.url}/api/3/action/package_show",
                          params={"id": portal_dataset_name(ckan_org, f"{ckan_acronym}-planilla")},
                          timeout=30).json()["result"]
    history = next(r for r in public["resources"] if r["name"] == "Planilla — histórico (CSV)")
    text = requests.get(history["url"], timeout=30).content.decode("utf-8")
    # before: 2025-01 and 2025-03 only, the months of the folder that published last
    assert history_months(text) == {str(m): ROWS for m in (JAN, FEB, MAR)}
    # and what it reads agrees: the history's formats, the totals with their month's files, no loading
    # resource (the anonymous poller's checks, once, on the state the runs left; the states in between
    # are part 2 of the issue)
    reader = PortalPoller(ckan_server.url, ckan_org)
    reader.poll()
    reader.assert_clean(min_polls=0)
    assert _failed(machine_a, MAR, Target.CKAN) == []
    assert _failed(machine_b, FEB, Target.CKAN) == []
    assert publish(machine_b, FEB, Target.CKAN) == 0  # B's store now caches every month as online
