"""Frictionless Data Packages of the published datasets, checked by frictionless-py's own validator."""

import dataclasses
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import requests
from frictionless import validate
from release_samples import NEWCOMER, planilla_frame, planilla_release, publish_two_months

from transparencia.publishers import datapackage
from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.render import render_release


def _publish_two_months(root: Path, work: Path, privacy=None) -> Path:
    return publish_two_months(root, work, privacy) / "datapackage.json"


def assert_valid_package(path: Path) -> None:
    """frictionless-py validates the descriptor and every row of every CSV against its schema."""
    report = validate(str(path))
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "type", "note"])[:10]


def test_published_package_passes_frictionless(tmp_path):
    package = _publish_two_months(tmp_path / "pub", tmp_path / "work")
    assert_valid_package(package)
    descriptor = json.loads(package.read_text(encoding="utf-8"))
    names = [r["name"] for r in descriptor["resources"]]
    assert names == ["planilla-2025-01", "planilla-2025-02", "planilla-historico", "planilla-diccionario",
                     "planilla-2025-01-cambios", "planilla-2025-02-cambios"]
    fields = {f["name"]: f for f in descriptor["resources"][0]["schema"]["fields"]}
    assert fields["salario_mensual"]["title"] == "Salario mensual (B/.)"
    assert fields["salario_mensual"]["constraints"] == {"required": True, "exclusiveMinimum": 0}
    assert "PERMANENTE" in fields["condicion"]["constraints"]["enum"]
    assert "constraints" not in fields["cedula"] or "pattern" not in fields["cedula"]["constraints"]
    # the cédula is masked, so (periodo, cedula, cargo) is not a key of the published rows
    assert "primaryKey" not in descriptor["resources"][0]["schema"]


def test_published_key_is_declared_when_every_key_column_is_published_whole(tmp_path):
    package = _publish_two_months(tmp_path / "pub", tmp_path / "work", privacy={"cedula": "publish"})
    assert_valid_package(package)
    schema = json.loads(package.read_text(encoding="utf-8"))["resources"][0]["schema"]
    assert schema["primaryKey"] == ["periodo", "cedula", "cargo"]


def test_omitted_columns_are_not_described(tmp_path):
    package = _publish_two_months(tmp_path / "pub", tmp_path / "work", privacy={"cedula": "omit"})
    assert_valid_package(package)
    fields = json.loads(package.read_text(encoding="utf-8"))["resources"][0]["schema"]["fields"]
    assert "cedula" not in [f["name"] for f in fields]


def test_frictionless_catches_a_row_that_breaks_the_schema(tmp_path):
    """The check has teeth: a salary of 0 breaks exclusiveMinimum and the package no longer validates."""
    package = _publish_two_months(tmp_path / "pub", tmp_path / "work")
    month = package.parent / "planilla-2025-02.csv"
    month.write_text(month.read_text(encoding="utf-8-sig").replace(",1800,", ",0,"), encoding="utf-8-sig")
    report = validate(str(package))
    assert not report.valid
    # the changed file is caught twice: its row breaks the schema, its bytes no longer match the hash
    assert {error_type for [error_type] in report.flatten(["type"])} == {"constraint-error", "hash-count",
                                                                          "byte-count"}


def test_every_resource_carries_its_sha256_and_size_and_every_months_changes_are_described(tmp_path):
    """The package said nothing of its files' integrity and named only the latest month's changes CSV."""
    folder = publish_two_months(tmp_path / "pub", tmp_path / "work")
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        content = (folder / resource["path"]).read_bytes()
        assert resource["hash"] == f"sha256:{hashlib.sha256(content).hexdigest()}"
        assert resource["bytes"] == len(content)
    assert {"planilla-2025-01-cambios.csv", "planilla-2025-02-cambios.csv"} <= {r["path"] for r in descriptor["resources"]}


def test_a_file_the_target_does_not_hold_is_left_out():
    descriptor = {"resources": [{"name": "a", "path": "a.csv"}, {"name": "b", "path": "b.csv"}]}
    held = datapackage.as_held(descriptor, {"a.csv": datapackage.HeldFile("https://x/a.csv", "ab12", 7)})
    assert held["resources"] == [{"name": "a", "path": "https://x/a.csv", "hash": "sha256:ab12", "bytes": 7}]


@pytest.mark.ckan
def test_package_on_ckan_points_at_the_portal_files_and_passes_frictionless(ckan_server, ckan_org, tmp_path):
    january, february = planilla_frame("2025-01"), planilla_frame("2025-02", [NEWCOMER])
    publisher = CkanPublisher(ckan_server.url, ckan_server.token, public_url=ckan_server.url)
    for release, folder in ((planilla_release("2025-01", history=january, frame=january), "a"),
                            (planilla_release("2025-02", history=pd.concat([january, february]), frame=february),
                             "b")):
        spec, resources = render_release(release, tmp_path / folder)
        spec = dataclasses.replace(spec, organization=ckan_org, name=f"{ckan_org}-planilla")
        assert publisher.sync(spec, resources).error is None

    package = ckan_server.admin().action.package_show(id=f"{ckan_org}-planilla")
    assert "Último mes publicado, 2025-02: personas 1; total de Salario mensual (B/.) 1,800" in package["notes"]
    by_name = {r["name"]: r for r in package["resources"]}
    assert {"Planilla 2025-02 — cambios respecto al mes anterior (CSV)", "Planilla — gráfico mensual (SVG)",
            "Planilla 2025-02 — cambios respecto al mes anterior (JSON)"} <= set(by_name)
    descriptor_url = by_name["Planilla — paquete de datos (datapackage.json)"]["url"]
    local = tmp_path / "descargado" / "datapackage.json"
    local.parent.mkdir()
    local.write_bytes(requests.get(descriptor_url, timeout=30).content)
    descriptor = json.loads(local.read_text(encoding="utf-8"))
    assert len(descriptor["resources"]) == 6  # both months' change summaries
    assert all(r["path"].startswith(ckan_server.url) for r in descriptor["resources"])
    assert all(r["hash"].startswith("sha256:") and r["bytes"] > 0 for r in descriptor["resources"])
    assert_valid_package(local)  # frictionless downloads every CSV from the portal and checks its rows
