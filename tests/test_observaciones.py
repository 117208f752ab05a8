"""Observaciones (issue 20): each directorate gets its own files annotated and a letter, and only its own.

The month is the demo's (viáticos rejected, a database item with a warning, Compras sent nothing),
with a wrong salary in the planilla (RRHH) and a wrong amount in a CSV (Finanzas). Its run is the
real extraction, archiving and validation of every configured item, recorded in the ledger as the
release records it (``ledger_of``); the release's own call is tested in test_observaciones_release.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess

import openpyxl
import pytest
from institutions import sample_institution, write_institution
from test_database import QUERY as BUDGET_QUERY
from test_database import postgres_url  # noqa: F401  (the fixture: a PostgreSQL database with the budget)
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import ItemStatus, Period, ReleaseSchedule, sha256_file
from transparencia.errors import InputError
from transparencia.flows.observations import of_run
from transparencia.reports import annotate
from transparencia.reports.observaciones import ItemResult, write_observations
from transparencia.sources.archive import read_manifest
from transparencia.sources.config import InstitutionConfig, load_config
from transparencia.sources.registry import MissingInputError, extract_source, planned_extractions
from transparencia.validation import validate

PERIOD = Period(2025, 1)
RUN_ID = "20250205T110000Z-abcdef"


def ledger_of(config: InstitutionConfig) -> dict:
    """The run's ledger as the release writes it: each item's status, its findings and its source errors."""
    run_id = RUN_ID
    ledger: dict = {"run_id": run_id, "period": str(PERIOD), "items": {}, "findings": {}, "errors": []}
    for source, code in planned_extractions(config):
        item = config.catalog.get(code)
        try:
            extraction = extract_source(config, source, code, PERIOD, run_id=run_id)
        except MissingInputError:
            ledger["items"][code] = {"status": ItemStatus.NOT_RECEIVED}
            continue
        except InputError as exc:
            ledger["items"][code] = {"status": ItemStatus.SOURCE_ERROR}
            ledger["errors"].append(f"{code}: {exc.message}")
            continue
        report = validate(extraction, item, PERIOD)
        ledger["findings"][code] = [f.to_dict() for f in report.findings]
        status = ItemStatus.REJECTED if not report.valid else (
            ItemStatus.PUBLISHED_WITH_WARNINGS if report.warnings else ItemStatus.PUBLISHED)
        ledger["items"][code] = {"status": status}
    return ledger


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> InstitutionConfig:
    """The demo month with a negative salary in RRHH's planilla (H6) and a text amount in Finanzas' CSV (I6)."""
    config = load_config(sample_institution(tmp_path_factory.mktemp("institucion"), month=PERIOD))
    inbox = config.inbox / "inbox" / str(PERIOD)
    book = openpyxl.load_workbook(inbox / "rrhh" / "planilla.xlsx")
    book.active["H6"] = -5
    book.save(inbox / "rrhh" / "planilla.xlsx")
    csv = inbox / "finanzas" / "otros-pagos.csv"
    csv.write_bytes(csv.read_bytes().replace(b"B/. 3,091.79", b"tres mil", 1))
    return config


@pytest.fixture(scope="module")
def ledger(month) -> dict:
    return ledger_of(month)


@pytest.fixture(scope="module")
def written(month, ledger):
    return {o.directorate: o for o in of_run(month, PERIOD, ledger)}


def book_of(observations, name: str) -> openpyxl.Workbook:
    return openpyxl.load_workbook(next(p for p in observations.attachments if p.name == name))


def listed(book: openpyxl.Workbook) -> list[dict]:
    rows = list(book["Observaciones"].iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def all_text(observations) -> str:
    """Everything the directorate receives: both letters and every cell and comment of its files."""
    parts = [observations.letter_html, observations.letter_text]
    for path in observations.attachments:
        for sheet in openpyxl.load_workbook(path).worksheets:
            for row in sheet.iter_rows():
                parts += [str(c.value) for c in row if c.value is not None]
                parts += [c.comment.text for c in row if c.comment is not None]
    return "\n".join(parts)


def test_the_directorates_with_findings_or_missing_inputs_get_observaciones(written):
    assert sorted(written) == ["compras", "finanzas", "rrhh"]
    assert [o.code for o in written["compras"].owed] == ["10.5"] and not written["compras"].attachments
    assert {c.code for c in written["finanzas"].to_correct} == {"10.2", "11.6", "11.7"}


def test_each_findings_cell_is_filled_and_commented_and_the_list_comes_first(written):
    book = book_of(written["finanzas"], "viaticos-observaciones.xlsx")
    assert book.sheetnames[0] == "Observaciones" and book.active.title == "Observaciones"
    findings = listed(book)
    assert {(f["Hoja"], f["Celda"]) for f in findings} == {("Viáticos", "I13"), ("Viáticos", "L9")}
    for finding in findings:
        cell = book[finding["Hoja"]][finding["Celda"]]
        assert cell.fill.fgColor.rgb.endswith("FFC7CE")
        assert finding["Observación"] in cell.comment.text and "Qué escribir:" in cell.comment.text
    assert findings[0]["Columna"] == "Monto del viático (B/.)" and findings[0]["Fila"] == 9


def test_a_large_workbook_is_streamed_by_value_with_the_same_annotations(month, ledger, tmp_path, monkeypatch):
    monkeypatch.setattr(annotate, "FULL_COPY_LIMIT", 0)  # the viáticos workbook counts as large
    [finanzas] = of_run(month, PERIOD, ledger, tmp_path, only="finanzas")
    book = book_of(finanzas, "viaticos-observaciones.xlsx")
    assert book.sheetnames == ["Observaciones", "Viáticos", "Viajes"]
    for finding in listed(book):
        cell = book[finding["Hoja"]][finding["Celda"]]
        assert finding["Observación"] in cell.comment.text and cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert book["Viáticos"]["L9"].value == 245.5 and book["Viáticos"]["A5"].value == "Período"


def test_the_archived_original_stays_byte_identical(month, written):
    manifest = read_manifest(month.workspace, PERIOD)
    for entry in manifest["inputs"].values():
        for revision in entry["revisions"]:
            assert sha256_file(month.workspace.raw(PERIOD) / revision["path"]) == revision["sha256"]
    book = openpyxl.load_workbook(month.workspace.raw(PERIOD) / "finanzas" / "viaticos.xlsx")
    assert book.sheetnames == ["Viáticos", "Viajes"]
    assert all(c.comment is None for row in book["Viáticos"].iter_rows() for c in row)


def test_a_csv_source_gets_the_same_as_an_xlsx(written):
    book = book_of(written["finanzas"], "otros-pagos-observaciones.xlsx")
    [finding] = listed(book)
    assert (finding["Celda"], finding["Fila"], finding["Columna"]) == ("I6", 6, "Monto (B/.)")
    sheet = book.worksheets[1]
    assert sheet["I6"].value == "tres mil" and "tres mil" in sheet["I6"].comment.text
    assert sheet["A5"].value == "Período" and sheet["B6"].value == "María Rodríguez Rodríguez"


def test_a_database_source_gets_the_list_keyed_by_the_querys_columns(written):
    book = book_of(written["finanzas"], "finanzas-db-ejecucion-presupuestaria-observaciones.xlsx")
    assert book.sheetnames == ["Observaciones"]
    [finding] = listed(book)
    assert finding["Columna de la consulta"] == "asignado" and finding["Registro"] == 4
    assert finding["Gravedad"] == "Advertencia" and finding["Qué corregir"]


def test_libreoffice_converts_the_annotated_copy(written, tmp_path):
    if shutil.which("soffice") is None:
        pytest.fail("LibreOffice (soffice) is missing: scripts/bootstrap.sh --test installs it")
    source = next(p for p in written["finanzas"].attachments if p.name == "viaticos-observaciones.xlsx")
    done = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to",
                           "pdf", "--outdir", str(tmp_path), str(source)], capture_output=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "viaticos-observaciones.pdf").stat().st_size > 0


def test_the_letter_says_what_is_missing_what_to_correct_the_file_name_the_deadline_and_whom_to_ask(written):
    compras = written["compras"].letter_text
    assert "10.5 Contrataciones públicas (actos públicos): no llegó" in compras
    assert "«contrataciones-2025-01.csv»" in compras
    assert "5 de febrero de 2025 a las 06:00" in compras
    assert "oficial.transparencia@migracion.gob.pa" in compras
    finanzas = written["finanzas"]
    assert "11.6 Viáticos: 2 errores" in finanzas.letter_text and "«viaticos-observaciones.xlsx»" in finanzas.letter_text
    assert "celda L9 (columna «Monto del viático (B/.)»)" in finanzas.letter_text
    assert "«viaticos-2025-01.xlsx»" in finanzas.letter_text
    assert "<li>" in finanzas.letter_html and "celda L9 (columna «Monto del viático (B/.)»)" in finanzas.letter_html
    assert finanzas.letter_paths[0].read_text(encoding="utf-8") == finanzas.letter_html
    assert finanzas.subject == "Observaciones de enero de 2025: Dirección de Finanzas"


def test_each_directorate_sees_only_its_own_data(month, ledger, written):
    codes = {d.id: {c for s in d.sources for c in s.items} for d in month.directorates}
    for name, observations in written.items():
        text = all_text(observations)
        for other, other_codes in codes.items():
            if other == name:
                continue
            for code in other_codes:
                assert f"{code} {month.catalog.get(code).name}" not in text
                for finding in ledger["findings"].get(code, []):
                    assert finding["message"] not in text
                    if isinstance(finding["value"], str) and len(finding["value"]) > 3:
                        assert finding["value"] not in text
    assert "8-100-92434" not in all_text(written["finanzas"])  # a cédula of RRHH's planilla
    assert "-5" in all_text(written["rrhh"]) and "Batista" in all_text(written["rrhh"])


def test_a_corrected_month_leaves_no_old_observaciones(month, ledger, tmp_path):
    out = tmp_path / "obs"
    assert {o.directorate for o in of_run(month, PERIOD, ledger, out)} == {"compras", "finanzas", "rrhh"}
    corrected = {**ledger, "findings": {**ledger["findings"], "11.3": []},
                 "items": {**ledger["items"], "11.3": {"status": ItemStatus.PUBLISHED}}}
    (out / "finanzas" / "notas del oficial.txt").write_text("mías", encoding="utf-8")
    assert {o.directorate for o in of_run(month, PERIOD, corrected, out)} == {"compras", "finanzas"}
    assert not (out / "rrhh").exists()
    assert (out / "finanzas" / "notas del oficial.txt").read_text(encoding="utf-8") == "mías"  # not ours: kept


def test_an_input_that_could_not_be_read_is_owed_with_the_reason_and_no_path(month, tmp_path):
    source = month.source("compras-panamacompra")
    problem = (f"Departamento de Compras, fuente 'compras-panamacompra': El archivo '{month.inbox}/inbox/2025-01/"
               "compras/contrataciones.csv' es un documento PDF, no un libro de Excel ni un CSV")
    result = ItemResult(month.catalog.get("10.5"), source, ItemStatus.SOURCE_ERROR, problem=problem)
    [compras] = write_observations(month, PERIOD, [result], tmp_path)
    assert "10.5 Contrataciones públicas (actos públicos): llegó, pero no se pudo leer:" in compras.letter_text
    assert "contrataciones.csv' es un documento PDF" in compras.letter_text
    assert str(month.inbox) not in compras.letter_text + compras.letter_html


# --------------------------------------------------------------------------- the command


def write_ledger(config: InstitutionConfig, ledger: dict) -> None:
    path = config.workspace.ledger(PERIOD, ledger["run_id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ledger, ensure_ascii=False), encoding="utf-8")


def test_the_command_prepares_them_from_the_months_last_run(month, ledger, tmp_path):
    write_ledger(month, ledger)
    out = tmp_path / "salida"
    result = CliRunner().invoke(app, ["observaciones", "--period", "2025-01", "--direccion", "finanzas", "-o", str(out),
                                      "--config", str(month.path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Dirección de Finanzas" in result.output and "viaticos-observaciones.xlsx" in result.output
    assert sorted(p.name for p in (out / "finanzas").iterdir()) == [
        "carta.html", "carta.txt", "finanzas-db-ejecucion-presupuestaria-observaciones.xlsx",
        "otros-pagos-observaciones.xlsx", "viaticos-observaciones.xlsx"]
    assert [p.name for p in out.iterdir()] == ["finanzas"]


def test_the_command_refuses_an_unknown_directorate(month, ledger):
    write_ledger(month, ledger)
    result = CliRunner().invoke(app, ["observaciones", "--period", "2025-01", "--direccion", "juridica",
                                      "--config", str(month.path)])
    assert result.exit_code == 2
    assert "no hay ninguna dirección 'juridica'" in result.output


def test_the_command_refuses_a_month_never_run(month):
    result = CliRunner().invoke(app, ["observaciones", "--period", "2024-11", "--config", str(month.path)])
    assert result.exit_code == 2
    assert "El período 2024-11 no se ha ejecutado nunca" in result.output


def test_the_letters_deadline_follows_the_configured_schedule(month, ledger, tmp_path):
    later = dataclasses.replace(month, schedule=ReleaseSchedule("0 8 10 * *"))
    [compras] = of_run(later, PERIOD, ledger, tmp_path, only="compras")
    assert "10 de febrero de 2025 a las 08:00" in compras.letter_text
    assert compras.deadline.moment.day == 10


@pytest.mark.databases
def test_a_postgresql_source_gets_the_list_keyed_by_the_querys_columns(postgres_url, tmp_path, monkeypatch):  # noqa: F811
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url.set(drivername="postgresql+psycopg"))
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE ejecucion_presupuestaria SET compromiso = asignado * 2 "
                                   "WHERE subprograma = 'Actividad 3'")
    engine.dispose()
    monkeypatch.setenv("PRUEBA_FINANZAS_URL", postgres_url.render_as_string(hide_password=False))
    config = load_config(write_institution(tmp_path, {
        "institution": {"name": "Servicio Nacional de Migración", "acronym": "SNM",
                        "organization": "servicio-nacional-de-migracion", "officer_email": "oficial@snm.gob.pa"},
        "directorates": [{"id": "finanzas", "name": "Dirección de Finanzas", "sources": [
            {"id": "finanzas-db", "type": "database", "url_env": "PRUEBA_FINANZAS_URL",
             "items": {"ejecucion-presupuestaria": {"query": BUDGET_QUERY}}}]}],
    }))
    [finanzas] = of_run(config, PERIOD, ledger_of(config))
    [attachment] = finanzas.attachments
    book = openpyxl.load_workbook(attachment)
    assert book.sheetnames == ["Observaciones"]
    [finding] = listed(book)
    assert (finding["Registro"], finding["Columna de la consulta"]) == (4, "asignado")
    assert "los datos de su base de datos (fuente «finanzas-db»)" in finanzas.letter_text
    assert "127.0.0.1" not in all_text(finanzas) and "postgres" not in all_text(finanzas)
