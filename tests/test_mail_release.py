"""The monthly release e-mails through a real SMTP server on 127.0.0.1: a reminder to the directorate
that sent nothing, each directorate's observaciones, the officer's summary; the same state never
twice; a failing server never fails the release, and the next run sends what is pending."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pytest
from institutions import sample_document, write_institution
from smtp_server import free_port
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import MailKind, Period
from transparencia.flows.release import run_release
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month

pytestmark = pytest.mark.prefect

PERIOD = Period(2025, 1)
PASSWORD = "clave-SMTP-de-prueba-7731"
KEPT = {"rrhh": ["rrhh-planilla"], "finanzas": ["finanzas-viaticos"], "planificacion": ["planificacion-proyectos"],
        "compras": ["compras-panamacompra"]}


def institution(folder: Path, smtp: dict) -> Path:
    """Four directorates of the sample, one source each: compras sends nothing in the demo month."""
    document = sample_document()
    document["directorates"] = [
        {**d, "sources": [s for s in d["sources"] if s["id"] in KEPT[d["id"]]]}
        for d in document["directorates"] if d["id"] in KEPT]
    document["documents"] = []
    document["publish"]["formats"] = ["csv"]
    document["notifications"] = {"smtp": smtp, "from": "transparencia@migracion.gob.pa"}
    path = write_institution(folder, document)
    write_month(load_config(path), PERIOD, rows=8)
    return path


def with_findings(path: Path) -> Path:
    """RRHH's planilla with a negative salary (H6) and Planificación's projects with a text where a number
    goes: with Finanzas' viáticos (the demo's errors), three directorates have findings."""
    inbox = path.parent / "inbox" / str(PERIOD)
    planilla = openpyxl.load_workbook(inbox / "rrhh" / "planilla.xlsx")
    planilla.active["H6"] = -5
    planilla.save(inbox / "rrhh" / "planilla.xlsx")
    proyectos = openpyxl.load_workbook(inbox / "planificacion" / "proyectos.xlsx")
    sheet = proyectos["Proyectos"]
    cell = next(c for row in sheet.iter_rows(min_row=6) for c in row if isinstance(c.value, (int, float)))
    cell.value = "mucho"
    proyectos.save(inbox / "planificacion" / "proyectos.xlsx")
    return path


def subject_kind(delivered) -> str:
    subject = delivered.message["Subject"]
    return ("recordatorio" if subject.startswith("Recordatorio") else
            "observaciones" if subject.startswith("Observaciones") else "resumen")


def test_done_when_three_letters_one_reminder_one_summary_and_a_rerun_delivers_nothing(
        prefect_server, smtp_server, tmp_path):
    path = with_findings(institution(tmp_path, smtp_server.settings()))
    result = run_release(PERIOD, path, target="local")

    delivered = sorted((subject_kind(m), tuple(m.recipients)) for m in smtp_server.messages)
    assert delivered == [
        ("observaciones", ("finanzas@migracion.gob.pa",)), ("observaciones", ("planificacion@migracion.gob.pa",)),
        ("observaciones", ("planilla@migracion.gob.pa",)), ("recordatorio", ("compras@migracion.gob.pa",)),
        ("resumen", ("oficial.transparencia@migracion.gob.pa",))]
    assert result.mail.failure is None
    for letter in (m for m in smtp_server.messages if subject_kind(m) == "observaciones"):
        text = letter.message.get_body(("plain",)).get_content()
        html = letter.message.get_body(("html",)).get_content()
        assert "Qué corregir" in text or "corregir" in text.lower()
        assert html.lstrip().startswith("<") and text.strip()
        attachments = list(letter.message.iter_attachments())
        assert attachments
        for attachment in attachments:
            book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
            rows = list(book["Observaciones"].iter_rows(values_only=True))
            findings = [dict(zip(rows[0], row)) for row in rows[1:]]
            assert findings
            for finding in findings:
                if finding.get("Celda"):
                    comment = book[finding["Hoja"]][finding["Celda"]].comment
                    assert comment is not None and finding["Observación"].lstrip("'") in comment.text
        others = {"compras", "finanzas", "planilla", "planificacion"} - {letter.recipients[0].split("@")[0]}
        for other in others:  # each directorate receives only its own data
            assert f"{other}@" not in text
    planilla = next(m for m in smtp_server.messages if m.recipients == ["planilla@migracion.gob.pa"])
    [annotated] = list(planilla.message.iter_attachments())
    sheet = openpyxl.load_workbook(io.BytesIO(annotated.get_content()))["Planilla"]
    assert sheet["H6"].value == -5 and sheet["H6"].comment is not None

    again = run_release(PERIOD, path, target="local")
    assert again.mail.sent == [] and again.mail.failure is None
    assert len(smtp_server.messages) == 5


def test_a_run_reminds_whoever_sent_nothing_tells_the_officer_and_a_rerun_sends_nothing(
        prefect_server, smtp_server, tmp_path):
    path = institution(tmp_path, smtp_server.settings())
    first = run_release(PERIOD, path, target="local")

    assert first.mail.failure is None
    reminders = [m for m in smtp_server.messages if m.message["Subject"].startswith("Recordatorio")]
    assert [m.recipients for m in reminders] == [["compras@migracion.gob.pa"]]
    summaries = [m for m in smtp_server.messages if m.recipients == ["oficial.transparencia@migracion.gob.pa"]]
    assert len(summaries) == 1
    summary = summaries[0].message.get_body(("plain",)).get_content()
    assert "Departamento de Compras: 0 / 1 / 0 / 0" in summary
    assert {d.kind for d in first.mail.sent} >= {MailKind.REMINDER, MailKind.SUMMARY}
    delivered = len(smtp_server.messages)

    again = run_release(PERIOD, path, target="local")
    assert again.mail.sent == [] and again.mail.unchanged == delivered
    assert len(smtp_server.messages) == delivered
    ledger = json.loads(Path(again.ledger_path).read_text(encoding="utf-8"))
    assert ledger["mail"]["sent"] == [] and ledger["mail"]["unchanged"] == delivered


def test_sin_correo_sends_nothing_and_the_dry_run_only_lists(prefect_server, smtp_server, tmp_path):
    path = institution(tmp_path, smtp_server.settings())
    quiet = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(path), "--sin-correo"],
                               terminal_width=200)
    assert quiet.exit_code == 1 and "Correo" not in quiet.output
    dry = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(path), "--dry-run"],
                             terminal_width=400)
    assert dry.exit_code == 1
    assert ("Correo que se enviaría: recordatorio a Departamento de Compras (compras@migracion.gob.pa)"
            in dry.output)
    assert "Correo que se enviaría: resumen del mes a Oficial de transparencia" in dry.output
    assert smtp_server.messages == []


def test_a_failing_smtp_server_never_fails_the_release_and_the_next_run_sends(
        prefect_server, smtp_server, tmp_path, monkeypatch):
    monkeypatch.setenv("PRUEBA_SMTP_CLAVE", PASSWORD)
    login = {"user": "transparencia", "password_env": "PRUEBA_SMTP_CLAVE"}
    path = institution(tmp_path, {"host": "127.0.0.1", "port": free_port(), "security": "none", **login})
    without_mail = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(path), "--sin-correo"],
                                      terminal_width=400)

    refused = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(path)], terminal_width=400)
    assert refused.exit_code == without_mail.exit_code == 1  # the month's outcome, not the mail's
    assert ("No se pudo enviar el correo: el servidor de correo rechazó la conexión. Pendientes para la próxima "
            "ejecución: 3 mensajes; la publicación no se vio afectada.") in " ".join(refused.output.split())
    assert "Traceback" not in refused.output and "127.0.0.1" not in refused.output

    smtp_server.require_login("transparencia", "otra-clave")  # the server now refuses our password
    document = load_config(path)
    text = path.read_text(encoding="utf-8").replace(f"port: {document.notifications.smtp.port}",
                                                    f"port: {smtp_server.port}")
    path.write_text(text, encoding="utf-8")
    rejected = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(path)], terminal_width=400)
    assert rejected.exit_code == 1 and smtp_server.messages == []
    assert "el servidor de correo no aceptó el usuario o la contraseña" in " ".join(rejected.output.split())

    smtp_server.require_login("transparencia", PASSWORD)
    sent = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(path)], terminal_width=400)
    assert sent.exit_code == 1
    # the reminder, Finanzas' letter (the demo's errors in viáticos) and the summary the failed runs could not send
    assert sorted(m.recipients[0] for m in smtp_server.messages) == [
        "compras@migracion.gob.pa", "finanzas@migracion.gob.pa", "oficial.transparencia@migracion.gob.pa"]
    written = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "runs").rglob("*.json*"))
    for output in (refused.output, rejected.output, sent.output, written):
        assert PASSWORD not in output and "PRUEBA_SMTP_CLAVE" not in output
