"""Publishing is a function of what is online, never of which month ran last (issue 22, part 1).

Three months run in the order 3, 1, 2, 1: whatever describes the dataset as a whole (description,
totals, page, chart, data package, catalog) names the newest month online, the last run writes no
public file, and ``verificar`` passes on every month. A corrected earlier month changes only its own
files, the history, and the change summary of the month that compares with it. On the local catalog
(the release's stages without Prefect), and the same order on a real CKAN (marked ``ckan``)."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest
from institutions import viaticos_institution

from transparencia.domain import Period, Target
from transparencia.flows import stages
from transparencia.flows.verify import verify_period
from transparencia.publishers.names import portal_dataset_name
from transparencia.publishers.render import LATEST_MONTH
from transparencia.sources.config import load_config
from transparencia.sources.demo import sample_frame
from transparencia.sources.extraction import Extraction, SourceRef
from transparencia.validation.findings import ValidationReport

JAN, FEB, MAR = Period(2025, 1), Period(2025, 2), Period(2025, 3)
ROWS = {JAN: 6, FEB: 4, MAR: 5}



def _publish(config_path: Path, month: Period, target: Target = Target.LOCAL, seed: int | None = None) -> int:
    """The release's publish stage for a valid month of viáticos, as ``run`` calls it; its writes.
    The same month always gets the same rows unless ``seed`` says otherwise (a corrected file)."""
    config = load_config(config_path)
    item = config.catalog.get("viaticos")
    rows = ROWS[month]
    frame = sample_frame(item.table_schema(), month, rows, seed=month.month if seed is None else seed)
    extraction = Extraction(item.code, frame, SourceRef("file", "viaticos.xlsx"))
    report = ValidationReport(item.code, item.name, "viaticos.xlsx", None, rows, month)
    published = stages.publish_month(config, item, month, extraction, report, "Dirección de Finanzas", target, False)
    assert published
    return published.writes


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every public file of the local catalog: its sha256 and mtime (a rewrite of equal bytes shows too)."""
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".lock"}


def _changed(before: dict[str, tuple[str, int]], after: dict[str, tuple[str, int]]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def _failed(config_path: Path, month: Period, target: Target = Target.LOCAL) -> list[str]:
    checks = verify_period(load_config(config_path), month, target)
    assert checks, f"nothing checked for {month}"
    return [c.describe() for c in checks if not c.ok]


def _local_public_texts(folder: Path, root: Path) -> dict[str, str]:
    """What describes the dataset as a whole, as the public reads it in the local catalog."""
    metadata = json.loads((folder / "metadatos.json").read_text("utf-8"))
    package = json.loads((folder / "datapackage.json").read_text("utf-8"))
    return {"descripción": metadata["dataset"]["notes"], "datapackage": package["description"],
            "página": (folder / "index.html").read_text("utf-8"), "catálogo": (root / "catalog.json").read_text("utf-8")}


def test_three_months_run_3_1_2_1_describe_month_3_and_the_last_run_writes_nothing(tmp_path):
    config = viaticos_institution(tmp_path, "snm-orden")
    root = tmp_path / "published"
    folder = root / "snm-orden" / "snm-viaticos"

    for month in (MAR, JAN, FEB):
        _publish(config, month)
        texts = _local_public_texts(folder, root)
        # before: running January after March made every one of these say "Último mes publicado, 2025-01"
        assert LATEST_MONTH.findall(texts["descripción"]) == ["2025-03"], month
        assert LATEST_MONTH.findall(texts["datapackage"]) == ["2025-03"], month
        assert "Último mes publicado, 2025-03" in texts["página"] and "Último mes publicado, 2025-01" not in texts["página"]
        assert "Último mes publicado, 2025-01" not in texts["catálogo"], month

    before = _snapshot(root)
    assert _publish(config, JAN) == 0  # before: 2 writes, 5 public files (description, page, package, catalogs)
    assert _changed(before, _snapshot(root)) == set()

    for month in (JAN, FEB, MAR):
        assert _failed(config, month) == [], month  # before: "descripción: describe 2025-01; …es 2025-03"
    summary = json.loads((folder / "viaticos-2025-03-cambios.json").read_text("utf-8"))
    assert summary["previous_period"] == "2025-02"  # March compares with February, published after it


def test_a_corrected_earlier_month_changes_only_its_files_the_history_and_the_summary_comparing_with_it(tmp_path):
    config = viaticos_institution(tmp_path, "snm-orden")
    root = tmp_path / "published"
    folder = root / "snm-orden" / "snm-viaticos"
    for month in (MAR, JAN, FEB):
        _publish(config, month)
    notes = _local_public_texts(folder, root)["descripción"]
    before = _snapshot(root)

    assert _publish(config, JAN, seed=99) > 0  # the directorate's late correction of January

    prefix = "snm-orden/snm-viaticos/"
    changed = {name.removeprefix(prefix) for name in _changed(before, _snapshot(root))}
    january = {f"viaticos-2025-01.{fmt}" for fmt in ("csv", "json")}
    history = {f"viaticos-historico.{fmt}" for fmt in ("csv", "json")} | {"viaticos-grafico.svg"}
    following = {f"viaticos-2025-02-cambios.{fmt}" for fmt in ("csv", "json")}  # February compares with January
    listings = {"metadatos.json", "datapackage.json", "index.html", "catalog.json"}  # each file's sha256 and size
    assert january <= changed and history <= changed and following <= changed
    assert changed <= january | history | following | listings | {"viaticos-2025-01-cambios.csv",
                                                                  "viaticos-2025-01-cambios.json"}
    assert not any("2025-03" in name for name in changed)  # March and its summary stay as they were
    assert _local_public_texts(folder, root)["descripción"] == notes  # still March's totals and changes
    for month in (JAN, FEB, MAR):
        assert _failed(config, month) == [], month


@pytest.mark.ckan
def test_on_ckan_3_1_2_1_describes_month_3_and_the_last_run_writes_nothing(ckan_server, ckan_org, tmp_path,
                                                                          monkeypatch):
    ckan_server.as_target(monkeypatch)
    acronym = f"o{uuid.uuid4().hex[:6]}"
    config = viaticos_institution(tmp_path, ckan_org, acronym)
    dataset = portal_dataset_name(ckan_org, f"{acronym}-viaticos")

    for month in (MAR, JAN, FEB):
        _publish(config, month, Target.CKAN)
        notes = ckan_server.admin().action.package_show(id=dataset)["notes"]
        assert LATEST_MONTH.findall(notes) == ["2025-03"], month

    assert _publish(config, JAN, Target.CKAN) == 0
    for month in (JAN, FEB, MAR):
        assert _failed(config, month, Target.CKAN) == [], month
