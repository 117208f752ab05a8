"""The smaller things an officer reads: Spanish everywhere (Typer's own help texts included),
counts that agree ("1 error"), no internal ids in published reports, the template's example in the
format it asks for, the short names the configuration needs, a hint to give --period, and the
catalog override documented by a sample that loads."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import Period
from transparencia.publishers.render import public_report
from transparencia.reports.compliance import ComplianceReport, report_dataset
from transparencia.schemas import load_catalog
from transparencia.sources.template import write_template
from transparencia.validation.findings import ValidationReport
from transparencia.wording import count

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)
ENGLISH = ("Show this message", "Usage:", "Options", "Arguments", "Commands", "[required]", "default:",
           "[OPTIONS]", "<str>", "<bool>", "<int", "<Path", "COMMAND")


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_is_spanish(command):
    result = runner.invoke(app, [*([command] if command else []), "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Muestra esta ayuda y termina." in result.output
    assert not [word for word in ENGLISH if word in result.output]


def test_usage_errors_are_spanish():
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "Falta la opción '--period'" in result.output and "Missing" not in result.output
    result = runner.invoke(app, ["items", "--jsn"])
    assert "No existe la opción" in result.output


def test_counts_agree_with_their_number():
    assert count(1, "error") == "1 error" and count(2, "error") == "2 errores"
    assert count(1, "advertencia") == "1 advertencia" and count(0, "fila") == "0 filas"
    assert count(1_250, "fila") == "1,250 filas"


def test_items_shows_the_short_names_whole():
    output = runner.invoke(app, ["items"]).output
    assert all(f" {slug} " in output for slug in ("planilla", "viaticos", "reglamento-interno", "solicitudes-informacion"))


def test_validate_without_period_suggests_it(tmp_path):
    path = tmp_path / "planilla.csv"
    path.write_text("Nombre,Apellido,Cédula,Cargo,Condición,Salario mensual,Gastos de representación,Fecha de inicio,"
                    "Unidad administrativa\nMaría,Rodríguez,8-123-4567,Analista,PERMANENTE,1250,0,01/03/2019,RR. HH.\n",
                    encoding="utf-8")
    result = runner.invoke(app, ["validate", "planilla", str(path)])
    assert "--period AAAA-MM" in result.output
    with_period = runner.invoke(app, ["validate", "planilla", str(path), "--period", "2025-01"])
    assert "Sugerencia" not in with_period.output


def test_the_template_example_date_matches_its_format(tmp_path):
    item = load_catalog().get("planilla")
    book = openpyxl.load_workbook(write_template(item, tmp_path / "planilla.xlsx"))
    rows = {row[0]: row for row in book["Instrucciones"].iter_rows(min_row=5, values_only=True)}
    start = rows["Fecha de inicio"]
    assert "dd/mm/aaaa" in start[2] and start[5] == "01/03/2019"


def test_published_validation_report_describes_conversions_in_spanish():
    item = load_catalog().get("planilla")
    report = ValidationReport(item.code, item.name, "planilla.xlsx", None, 2, Period(2025, 1), extraction={
        "coercions": [{"column": "periodo", "kind": "period_from_run", "count": 2, "examples": [["", "2025-01"]]},
                      {"column": "cargo", "kind": "whitespace", "count": 1, "examples": [[" Jefe ", "Jefe"]]}]})
    public = public_report(report, item.table_schema(), {f.name: f.personal_data for f in item.table_schema().fields})
    descriptions = [c["description"] for c in public["extraction"]["coercions"]]
    assert descriptions[0].startswith("período del mes publicado") and descriptions[1].startswith("espacios sobrantes")


def test_the_report_dataset_spells_its_extras_and_tags_like_the_items():
    dataset = report_dataset(ComplianceReport("Servicio", "SNM", Period(2025, 1), []), "snm", "cc-zero")
    assert "base legal" in dataset.extras and "base_legal" not in dataset.extras
    assert "ley-6-de-2002" in dataset.tags


def test_the_catalog_override_sample_renames_adds_and_marks_no_aplica():
    catalog = load_catalog(ROOT / "data" / "catalog-override.yaml")
    assert catalog.get("viaticos").name == "Viáticos de viajes oficiales"
    assert not catalog.get("subsidios").applies and "subsidios" in catalog.get("subsidios").reason
    assert catalog.get("memoria-anual").code == "I.1"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Catalog overrides" in readme and "applies: false" in readme
    assert "### Catalog overrides" in (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
