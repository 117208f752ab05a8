"""Frictionless Data Packages of the published datasets, checked by frictionless-py's own validator."""

import json
from pathlib import Path

from frictionless import validate
from release_samples import publish_two_months


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
                     "planilla-2025-02-cambios"]
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
    assert {error_type for [error_type] in report.flatten(["type"])} == {"constraint-error"}
