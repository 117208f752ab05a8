"""Connectors by name, the period's extraction plan, and one failing source not stopping the others."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from institutions import write_institution
from workbooks import write_ods, write_workbook

from transparencia.domain import Period, Workspace
from transparencia.errors import ConfigError, InputError, TransientError
from transparencia.publishers.public import public_error
from transparencia.schemas import load_catalog
from transparencia.sources.archive import read_manifest
from transparencia.sources.config import load_config
from transparencia.sources.extraction import Extraction
from transparencia.sources.registry import (
    FileSettings,
    MissingInputError,
    connector,
    extract_configured,
    extract_source,
    find_input,
    planned_extractions,
)

PLANILLA_CSV = (
    "Período,Unidad,Nombre,Apellido,Cédula,Cargo,Condición,Salario,Gastos de representación,Fecha de inicio\n"
    "2025-01,Dirección de Recursos Humanos,María,Rodríguez,8-123-4567,Analista,PERMANENTE,1250.00,0,01/03/2019\n"
    "2025-01,Dirección de Finanzas,José,Pérez,8-222-3333,Contador,EVENTUAL,1100.50,0,15/06/2020\n"
)
QUERY = ("SELECT tipo AS \"Tipo de presupuesto\", programa, objeto AS \"Objeto del gasto\", asignado "
         "FROM ejecucion WHERE fecha >= :period_start AND fecha < :period_end")


def write_inputs(root: Path) -> None:
    folder = root / "inbox" / "2025-01" / "rrhh"
    folder.mkdir(parents=True)
    (folder / "PLANILLA enero.CSV").write_text(PLANILLA_CSV, encoding="utf-8")
    (folder / "~$planilla enero.csv").write_bytes(b"excel lock file")
    (root / "finanzas").mkdir()
    with sqlite3.connect(root / "finanzas" / "contabilidad.sqlite") as connection:
        connection.execute("CREATE TABLE ejecucion (fecha TEXT, tipo TEXT, programa TEXT, objeto TEXT, asignado REAL)")
        connection.executemany("INSERT INTO ejecucion VALUES (?, ?, ?, ?, ?)", [
            ("2025-01-31", "Funcionamiento", "01 Administración", "001", 5000.0),
            ("2025-01-31", "Inversión", "02 Control migratorio", "101", 800.0),
            ("2025-02-28", "Inversión", "02 Control migratorio", "101", 900.0),
        ])


def config_doc(**overrides) -> dict:
    doc = {
        "institution": {"name": "Servicio Nacional de Migración", "acronym": "SNM",
                        "organization": "servicio-nacional-de-migracion"},
        "directorates": [
            {"id": "rrhh", "name": "Dirección de Recursos Humanos", "sources": [
                {"id": "rrhh-planilla", "type": "file", "path": "inbox/{period}/rrhh/planilla*.csv",
                 "items": {"planilla": {}}},
                {"id": "rrhh-movimientos", "type": "file", "path": "inbox/{period}/rrhh/movimientos*.xlsx",
                 "items": {"contratacion-funcionarios": {}}},
            ]},
            {"id": "finanzas", "name": "Dirección de Finanzas", "sources": [
                {"id": "finanzas-db", "type": "database", "url": "sqlite:///finanzas/contabilidad.sqlite",
                 "items": {"ejecucion-presupuestaria": {"query": QUERY}}},
                {"id": "finanzas-pg", "type": "database", "url": "postgresql://lector@127.0.0.1:1/siafpa",
                 "password_env": "PRUEBA_CLAVE_SIAFPA", "connect_timeout": 2,
                 "items": {"viaticos": {"query": "SELECT * FROM v WHERE f >= :period_start AND f < :period_end"}}},
            ]},
        ],
    }
    doc.update(overrides)
    return doc


@pytest.fixture
def config_path(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PRUEBA_CLAVE_SIAFPA", "clave-SECRETA")
    write_inputs(tmp_path)
    return write_institution(tmp_path, config_doc())


def test_connectors_are_registered_by_name_with_typed_settings():
    assert connector("file").settings.__name__ == "FileSettings"
    assert connector("database").item_options.__name__ == "DatabaseItemOptions"
    with pytest.raises(ConfigError, match="tipo de fuente desconocido 'databse' \\(¿quiso decir 'database'\\?\\)"):
        connector("databse", "x")


def test_plan_lists_every_source_item_pair(config_path):
    config = load_config(config_path)
    pairs = [(source.id, code) for source, code in planned_extractions(config)]
    assert pairs == [("rrhh-planilla", "11.3"), ("rrhh-movimientos", "11.1"), ("finanzas-db", "10.2"),
                     ("finanzas-pg", "11.6")]


def test_item_marked_not_applicable_is_not_planned(config_path, tmp_path):
    override = tmp_path / "catalogo.yaml"
    override.write_text(yaml.safe_dump({"items": [{"code": "11.1", "applies": False, "reason": "No contrata"}]}),
                        encoding="utf-8")
    doc = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    doc["catalog"] = "catalogo.yaml"
    write_institution(config_path.parent, doc)
    codes = [code for _, code in planned_extractions(load_config(config_path))]
    assert "11.1" not in codes and "11.3" in codes


@dataclass
class _Outcome:
    extraction: Extraction | None = None
    error: Exception | None = None


def _extract_each(config, run_id=None) -> dict[str, _Outcome]:
    """Every planned pair extracted on its own, as the release flow's tasks do."""
    outcomes = {}
    for source, code in planned_extractions(config):
        try:
            outcomes[source.id] = _Outcome(extract_source(config, source, code, Period(2025, 1), run_id=run_id))
        except Exception as exc:
            outcomes[source.id] = _Outcome(error=exc)
    return outcomes


def test_good_sources_extract_while_broken_ones_report_why(config_path):
    outcomes = _extract_each(load_config(config_path), run_id="run-1")

    planilla = outcomes["rrhh-planilla"].extraction
    assert planilla is not None and planilla.rows == 2
    assert planilla.source.location == "inbox/2025-01/rrhh/PLANILLA enero.CSV"
    assert list(planilla.frame["cedula"]) == ["8-123-4567", "8-222-3333"]

    budget = outcomes["finanzas-db"].extraction
    assert budget is not None and budget.rows == 2
    assert list(budget.frame["objeto_gasto"]) == ["001", "101"]

    missing = outcomes["rrhh-movimientos"].error
    assert isinstance(missing, MissingInputError)  # "faltante", told apart from unusable input
    assert "carpeta de entrada" in missing.message
    assert missing.message.startswith("Dirección de Recursos Humanos, fuente 'rrhh-movimientos', punto 11.1")
    assert "no llegó el archivo del período 2025-01" in missing.message
    assert "inbox/2025-01/rrhh/movimientos*.xlsx" in missing.message

    unreachable = outcomes["finanzas-pg"].error
    assert isinstance(unreachable, TransientError)
    assert unreachable.message.startswith("Dirección de Finanzas, fuente 'finanzas-pg', punto 11.6 (Viáticos)")
    assert "lector:***@127.0.0.1:1/siafpa" in unreachable.message
    assert "clave-SECRETA" not in unreachable.message


def test_inputs_are_archived_before_reading_and_the_run_is_recorded(config_path, tmp_path):
    config = load_config(config_path)
    extract_source(config, "rrhh-planilla", "planilla", Period(2025, 1), run_id="run-1")
    extract_source(config, "finanzas-db", "10.2", Period(2025, 1), run_id="run-1")
    raw = tmp_path / "raw" / "2025-01"
    assert (raw / "rrhh" / "PLANILLA enero.CSV").read_text(encoding="utf-8") == PLANILLA_CSV
    assert (raw / "finanzas" / "finanzas-db.ejecucion-presupuestaria.parquet").is_file()
    manifest = read_manifest(Workspace(tmp_path), Period.parse("2025-01"))
    assert manifest["runs"]["run-1"]["inputs"] == {
        "rrhh/PLANILLA enero.CSV": 1, "finanzas/finanzas-db.ejecucion-presupuestaria.parquet": 1}
    assert json.dumps(manifest).count("sqlite:///") == 1  # the database extract's origin, as shown

    (tmp_path / "inbox" / "2025-01" / "rrhh" / "PLANILLA enero.CSV").write_text(
        PLANILLA_CSV.replace("1250.00", "1300.00"), encoding="utf-8")
    corrected = extract_source(config, "rrhh-planilla", "planilla", Period(2025, 1), run_id="run-2")
    assert corrected.frame["salario_mensual"].iloc[0] == 1300.0
    assert read_manifest(Workspace(tmp_path), Period.parse("2025-01"))["runs"]["run-2"]["inputs"]["rrhh/PLANILLA enero.CSV"] == 2
    assert (raw / "rrhh" / "PLANILLA enero.CSV").read_text(encoding="utf-8") == PLANILLA_CSV


def test_several_matching_files_are_named_not_guessed(config_path, tmp_path):
    folder = tmp_path / "inbox" / "2025-01" / "rrhh"
    (folder / "planilla enero (1).csv").write_text(PLANILLA_CSV, encoding="utf-8")
    with pytest.raises(InputError, match=r"hay 2 archivos que coinciden .*planilla enero \(1\)\.csv"):
        extract_source(load_config(config_path), "rrhh-planilla", "planilla", Period(2025, 1))


def test_find_input_ignores_case_lock_files_and_hidden_files(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("Planilla.XLSX", "~$Planilla.xlsx", ".planilla.xlsx", "viaticos.xlsx"):
        (tmp_path / "a" / name).write_bytes(b"x")
    assert [p.name for p in find_input(tmp_path, "a/planilla*.xlsx")] == ["Planilla.XLSX"]
    assert [p.name for p in find_input(tmp_path, "*/viaticos.xlsx")] == ["viaticos.xlsx"]
    assert find_input(tmp_path, "no-existe/*.xlsx") == []


def test_extract_configured_reads_a_database_source_for_validate(config_path, tmp_path):
    extraction = extract_configured(load_config(config_path), "finanzas-db", None, Period(2025, 1))
    assert extraction.item == "10.2" and extraction.rows == 2
    assert extraction.source.kind == "database"
    assert not (tmp_path / "raw").exists()  # validate does not archive


def test_extract_configured_explains_wrong_source_or_item(config_path):
    with pytest.raises(ConfigError, match="no hay ninguna fuente 'finanzas-bd' \\(¿quiso decir 'finanzas-db'\\?\\)"):
        extract_configured(load_config(config_path), "finanzas-bd", None, Period(2025, 1))
    with pytest.raises(ConfigError, match="La fuente 'finanzas-db' .* no alimenta el punto 11.3 .*alimenta: 10.2"):
        extract_configured(load_config(config_path), "finanzas-db", "planilla", Period(2025, 1))
    with pytest.raises(ConfigError, match="Período inválido"):
        Period.parse("enero")


def test_a_defect_in_one_connector_does_not_stop_the_others(config_path, monkeypatch):
    import transparencia.sources.registry as registry

    def broken(request):
        raise ZeroDivisionError("división por cero")

    monkeypatch.setitem(registry.CONNECTORS._entries, "database", registry.Connector(
        "database", connector("database").settings, connector("database").item_options, broken))
    outcomes = _extract_each(load_config(config_path))
    assert outcomes["rrhh-planilla"].extraction.rows == 2
    assert isinstance(outcomes["finanzas-db"].error, ZeroDivisionError)


def test_a_file_of_another_type_in_the_inbox_is_named(config_path, tmp_path):
    folder = tmp_path / "inbox" / "2025-01" / "rrhh"
    (folder / "PLANILLA enero.CSV").unlink()
    (folder / "planilla.pdf").write_bytes(b"%PDF-1.4\n")
    with pytest.raises(InputError) as caught:
        extract_source(load_config(config_path), "rrhh-planilla", "planilla", Period(2025, 1), run_id="run-1")
    assert not isinstance(caught.value, MissingInputError)
    assert ("llegó 'planilla.pdf' (PDF): se esperaba un libro de Excel o CSV que coincida con 'planilla*.csv'"
            in caught.value.message)


def test_errors_name_the_inbox_file_not_the_archived_copy(config_path, tmp_path):
    config = load_config(config_path)
    folder = tmp_path / "inbox" / "2025-01" / "rrhh"
    for version in (1, 2):  # a second, different file is archived as "PLANILLA enero.r2.CSV"
        (folder / "PLANILLA enero.CSV").write_text(f"Columna,Otra\n{version},x\n", encoding="utf-8")
        with pytest.raises(InputError) as caught:
            extract_source(config, "rrhh-planilla", "planilla", Period(2025, 1), run_id=f"run-{version}")
    message = caught.value.message
    assert "No se encontró la fila de encabezados en 'inbox/2025-01/rrhh/PLANILLA enero.CSV'" in message
    assert "raw" not in message and ".r2." not in message


def test_a_month_declared_empty_in_the_configuration_is_recorded_on_its_extraction(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUEBA_CLAVE_SIAFPA", "clave-SECRETA")
    write_inputs(tmp_path)
    doc = config_doc()
    finanzas = doc["directorates"][1]["sources"][0]["items"]["ejecucion-presupuestaria"]
    finanzas["empty_periods"] = ["2025-03"]
    config = load_config(write_institution(tmp_path, doc))
    empty = extract_source(config, "finanzas-db", "10.2", Period(2025, 3))
    assert empty.rows == 0 and "configuración" in empty.declared_empty
    assert extract_source(config, "finanzas-db", "10.2", Period(2025, 1)).declared_empty is None
    finanzas["empty_periods"] = ["marzo"]
    with pytest.raises(ConfigError, match="empty_periods: período inválido 'marzo'"):
        load_config(write_institution(tmp_path, doc))


def test_a_month_declared_empty_needs_no_file(config_path, tmp_path):
    doc = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    doc["directorates"][0]["sources"][0]["items"]["planilla"] = {}
    doc["directorates"][0]["sources"][1]["items"]["contratacion-funcionarios"] = {"empty_periods": ["2025-01"]}
    write_institution(config_path.parent, doc)
    extraction = extract_source(load_config(config_path), "rrhh-movimientos", "contratacion-funcionarios", Period(2025, 1))
    assert extraction.rows == 0 and "sin archivo" in extraction.declared_empty
    assert list(extraction.frame.columns) == load_catalog().get("contratacion-funcionarios").table_schema().field_names
    with pytest.raises(MissingInputError):
        extract_source(load_config(config_path), "rrhh-movimientos", "contratacion-funcionarios", Period(2025, 2))


def _planilla_expected_as_xlsx(config_path: Path) -> Path:
    """The configuration with the planilla expected as ``planilla*.xlsx``; its inbox folder, emptied."""
    doc = config_doc()
    doc["directorates"][0]["sources"][0]["path"] = "inbox/{period}/rrhh/planilla*.xlsx"
    write_institution(config_path.parent, doc)
    folder = config_path.parent / "inbox" / "2025-01" / "rrhh"
    (folder / "PLANILLA enero.CSV").unlink()
    return folder


PLANILLA_ROWS = [line.split(",") for line in PLANILLA_CSV.splitlines()]


@pytest.mark.parametrize("name,what", [("planilla enero.xls", "libro de Excel con extensión '.xls'"),
                                       ("planilla enero.ods", "hoja de cálculo OpenDocument"),
                                       ("planilla enero.csv", "texto CSV")])
def test_a_spreadsheet_of_another_extension_than_the_pattern_is_read_and_named(config_path, name, what):
    folder = _planilla_expected_as_xlsx(config_path)
    if name.endswith(".ods"):
        write_ods(folder / name, PLANILLA_ROWS)
    elif name.endswith(".csv"):
        (folder / name).write_text(PLANILLA_CSV, encoding="utf-8")
    else:  # an .xlsx saved under .xls: its content, not its extension, says how to read it
        write_workbook(folder / name, {"Planilla": PLANILLA_ROWS})
    extraction = extract_source(load_config(config_path), "rrhh-planilla", "planilla", Period(2025, 1), run_id="run-1")
    assert extraction.rows == 2 and extraction.source.location == f"inbox/2025-01/rrhh/{name}"
    assert extraction.notes[0] == (f"Se esperaba un archivo que coincida con 'planilla*.xlsx' y llegó '{name}' ({what}); "
                                   "se leyó ese archivo.")


def test_several_spreadsheets_of_other_extensions_are_refused_naming_them(config_path):
    folder = _planilla_expected_as_xlsx(config_path)
    write_workbook(folder / "planilla enero.xls", {"Planilla": PLANILLA_ROWS})
    write_ods(folder / "planilla enero.ods", PLANILLA_ROWS)
    with pytest.raises(InputError) as caught:
        extract_source(load_config(config_path), "rrhh-planilla", "planilla", Period(2025, 1))
    assert not isinstance(caught.value, MissingInputError)
    assert ("llegaron 'planilla enero.ods', 'planilla enero.xls' y ninguno coincide con 'planilla*.xlsx': "
            "envíe uno solo, con un nombre que coincida con 'planilla*.xlsx'.") in caught.value.message


def test_the_missing_file_message_names_the_folder_looked_in_but_the_public_one_no_path(config_path, tmp_path):
    config = load_config(config_path)
    with pytest.raises(MissingInputError) as caught:
        extract_source(config, "rrhh-movimientos", "contratacion-funcionarios", Period(2025, 1))
    assert f"en la carpeta de entrada (se buscó en '{tmp_path / 'inbox' / '2025-01' / 'rrhh'}')" in caught.value.message
    assert str(tmp_path) not in public_error(caught.value)
    assert "no llegó el archivo del período 2025-01 ('movimientos*.xlsx')" in public_error(caught.value)
    with pytest.raises(MissingInputError) as caught:
        extract_source(config, "rrhh-movimientos", "contratacion-funcionarios", Period(2025, 2))
    assert f"(la carpeta '{tmp_path / 'inbox' / '2025-02' / 'rrhh'}' no existe)" in caught.value.message


@pytest.mark.parametrize(("pattern", "name"), [
    ("inbox/{period}/rrhh/planilla*.xlsx", "planilla-2025-01.xlsx"),
    ("inbox/viaticos_{year}{month}.xlsx", "viaticos_202501.xlsx"),
    ("inbox/planilla_{period}*.xlsx", "planilla_2025-01.xlsx"),
    ("inbox/*/planilla*.xlsx", "planilla-2025-01.xlsx"),
    ("inbox/planilla?.xlsx", "planilla?.xlsx"),  # no single name says it: the pattern is given as is
])
def test_the_file_name_to_use_matches_the_configured_pattern(pattern, name):
    assert FileSettings(path=pattern).file_name(Period(2025, 1)) == name
