"""E-mail through a real SMTP server on 127.0.0.1: proper MIME, sent once per content and address,
and a server that fails never stops anything (the next delivery sends what is pending)."""

from __future__ import annotations

import datetime as dt
import io
import logging
from pathlib import Path

import openpyxl
import pytest
from institutions import sample_document, write_institution
from openpyxl.comments import Comment
from smtp_server import free_port
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import ItemStatus, MailKind, OutputFormat, Period
from transparencia.flows import notify
from transparencia.reports import mail
from transparencia.reports.compliance import ComplianceReport, ItemReport
from transparencia.reports.mail import Attachment, Mail
from transparencia.sources.config import InstitutionConfig, load_config
from transparencia.sources.demo import write_month
from transparencia.sources.registry import awaited_files

PERIOD = Period(2025, 1)
PASSWORD = "clave-SMTP-muy-secreta"


def institution(folder: Path, smtp: dict, **notifications: object) -> InstitutionConfig:
    document = sample_document()
    document["notifications"] = {"smtp": smtp, "from": "transparencia@migracion.gob.pa", **notifications}
    return load_config(write_institution(folder, document))


def annotated_workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Planilla"
    sheet.append(["Nombre", "Monto Total"])
    sheet.append(["Ana", "mil"])
    sheet["B2"].comment = Comment("Escriba el monto en números, p. ej. 1000.00", "transparencia")
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def letter(data: bytes | None = None, text: str = "Corrija el monto de la fila 2.") -> Mail:
    xlsx = Attachment("observaciones-planilla-2025-01.xlsx", data or annotated_workbook(), OutputFormat.XLSX.media_type)
    return Mail(MailKind.OBSERVATIONS, "rrhh", "Dirección de Recursos Humanos", ("planilla@migracion.gob.pa",),
                "Observaciones de enero de 2025: Dirección de Recursos Humanos", text, f"<p>{text}</p>", (xlsx,))


def test_a_letter_arrives_as_utf8_text_and_html_with_its_workbook_attached(tmp_path, smtp_server):
    config = institution(tmp_path, smtp_server.settings())
    outcome = notify.deliver(config, PERIOD, [letter()], "r1", dry_run=False)

    assert [d.recipients for d in outcome.sent] == [("planilla@migracion.gob.pa",)] and outcome.failure is None
    [delivered] = smtp_server.messages
    message = delivered.message
    assert delivered.recipients == ["planilla@migracion.gob.pa"]
    assert message["Subject"] == "Observaciones de enero de 2025: Dirección de Recursos Humanos"
    assert message["From"] == "transparencia@migracion.gob.pa" and message["To"] == "planilla@migracion.gob.pa"
    assert message.get_content_type() == "multipart/mixed"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text.get_content().strip() == "Corrija el monto de la fila 2."
    assert html.get_content().strip() == "<p>Corrija el monto de la fila 2.</p>"
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert b"=?utf-8?q?Direcci=C3=B3n?=" in delivered.raw  # the accented subject travels encoded (RFC 2047)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "observaciones-planilla-2025-01.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))["Planilla"]
    assert sheet["B2"].comment.text == "Escriba el monto en números, p. ej. 1000.00"


def test_the_same_content_is_never_sent_twice_to_the_same_address(tmp_path, smtp_server):
    config = institution(tmp_path, smtp_server.settings())
    assert len(notify.deliver(config, PERIOD, [letter()], "r1", dry_run=False).sent) == 1

    # the annotated workbook saved again (a new save time inside) is the same attachment
    again = notify.deliver(config, PERIOD, [letter(annotated_workbook())], "r2", dry_run=False)
    assert (again.sent, again.unchanged) == ([], 1)

    changed = notify.deliver(config, PERIOD, [letter(text="Corrija también la fila 3.")], "r3", dry_run=False)
    assert len(changed.sent) == 1
    assert len(smtp_server.messages) == 2
    log = notify.MailLog(config, PERIOD).entries()
    assert [(e["destinatario"], e["tipo"], e["ejecucion"]) for e in log] == [
        ("planilla@migracion.gob.pa", "observations", "r1"), ("planilla@migracion.gob.pa", "observations", "r3")]


def test_a_dry_run_lists_what_it_would_send_and_sends_nothing(tmp_path, smtp_server):
    config = institution(tmp_path, smtp_server.settings())
    outcome = notify.deliver(config, PERIOD, [letter()], "r1", dry_run=True)
    assert [d.describe() for d in outcome.planned] == [
        "observaciones a Dirección de Recursos Humanos (planilla@migracion.gob.pa), "
        "con observaciones-planilla-2025-01.xlsx"]
    assert smtp_server.messages == [] and notify.MailLog(config, PERIOD).entries() == []


def test_a_server_that_refuses_the_connection_leaves_the_message_for_the_next_delivery(tmp_path, smtp_server):
    down = institution(tmp_path, {"host": "127.0.0.1", "port": free_port(), "security": "none"})
    outcome = notify.deliver(down, PERIOD, [letter()], "r1", dry_run=False)
    assert outcome.failure == "el servidor de correo rechazó la conexión"
    assert [d.addressee for d in outcome.pending] == ["Dirección de Recursos Humanos"] and outcome.sent == []
    assert notify.MailLog(down, PERIOD).entries() == []

    up = institution(tmp_path, smtp_server.settings())
    assert len(notify.deliver(up, PERIOD, [letter()], "r2", dry_run=False).sent) == 1
    assert len(smtp_server.messages) == 1


def test_a_rejected_login_is_said_without_the_password_and_the_right_one_sends(tmp_path, smtp_server, monkeypatch,
                                                                                caplog):
    smtp_server.require_login("transparencia", PASSWORD)
    config = institution(tmp_path, smtp_server.settings(user="transparencia", password_env="PRUEBA_SMTP_CLAVE"))
    monkeypatch.setenv("PRUEBA_SMTP_CLAVE", "otra-clave-equivocada")
    with caplog.at_level(logging.DEBUG):
        refused = notify.deliver(config, PERIOD, [letter()], "r1", dry_run=False)
    assert refused.failure == "el servidor de correo no aceptó el usuario o la contraseña"
    assert "otra-clave-equivocada" not in str(refused.to_dict()) + caplog.text
    assert smtp_server.messages == []

    monkeypatch.setenv("PRUEBA_SMTP_CLAVE", PASSWORD)
    with caplog.at_level(logging.DEBUG):
        sent = notify.deliver(config, PERIOD, [letter()], "r2", dry_run=False)
    assert len(sent.sent) == 1 and len(smtp_server.messages) == 1
    assert PASSWORD not in caplog.text + notify.MailLog(config, PERIOD).path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("smtp", "reason"), [
    ({"security": "tls"}, "no se pudo establecer la conexión cifrada con el servidor de correo"),
    ({"security": "starttls"}, "el servidor de correo no ofrece lo que pide la configuración (STARTTLS"),
    ({"user": "transparencia", "password_env": "PRUEBA_SMTP_NO_DEFINIDA"},
     "no se pudo leer la contraseña del servidor de correo"),
])
def test_each_failure_is_said_in_spanish_without_host_or_variable(tmp_path, smtp_server, monkeypatch, smtp, reason):
    monkeypatch.delenv("PRUEBA_SMTP_NO_DEFINIDA", raising=False)
    config = institution(tmp_path, smtp_server.settings(**smtp))
    outcome = notify.deliver(config, PERIOD, [letter()], "r1", dry_run=False)
    assert outcome.failure.startswith(reason)
    assert "127.0.0.1" not in outcome.failure and "PRUEBA_SMTP" not in outcome.failure


def test_a_message_for_someone_without_addresses_is_listed_not_sent(tmp_path, smtp_server):
    config = institution(tmp_path, smtp_server.settings())
    nobody = Mail(MailKind.REMINDER, "compras", "Departamento de Compras", (), "Recordatorio", "texto", "<p>texto</p>")
    outcome = notify.deliver(config, PERIOD, [nobody], "r1", dry_run=False)
    assert outcome.without_address == ["Departamento de Compras"] and smtp_server.messages == []


def test_only_the_inputs_that_have_not_arrived_are_awaited(tmp_path, smtp_server):
    config = institution(tmp_path, smtp_server.settings())
    inbox = config.inbox / "inbox" / "2025-01"
    (inbox / "rrhh").mkdir(parents=True)
    (inbox / "rrhh" / "planilla enero.xls").write_bytes(b"")  # another extension: it arrived (and is read)
    (inbox / "compras").mkdir()
    (inbox / "compras" / "contrataciones.pdf").write_bytes(b"%PDF")  # another type: it arrived (and is named)
    awaited = {a.source.id: a for a in awaited_files(config, PERIOD)}
    assert "rrhh-planilla" not in awaited and "compras-panamacompra" not in awaited
    assert "finanzas-db" not in awaited  # a database is always there
    movimientos = awaited["rrhh-movimientos"]
    assert movimientos.pattern == "inbox/2025-01/rrhh/movimientos*.xlsx"
    assert [i.code for i in movimientos.items] == ["11.1", "11.2"]


def test_a_month_declared_without_movements_awaits_no_file(tmp_path, smtp_server):
    document = sample_document()
    document["directorates"][2]["sources"][0]["items"]["contrataciones-publicas"] = {"empty_periods": ["2025-01"]}
    config = load_config(write_institution(tmp_path, document))
    assert "compras-panamacompra" not in {a.source.id for a in awaited_files(config, PERIOD)}
    assert "compras-panamacompra" in {a.source.id for a in awaited_files(config, Period(2025, 2))}


def test_the_reminder_names_the_files_the_folder_the_deadline_and_the_officer(tmp_path, smtp_server):
    config = institution(tmp_path, smtp_server.settings())
    compras = config.directorate("compras")
    awaited = [a for a in awaited_files(config, PERIOD) if a.source.directorate == "compras"]
    message = mail.reminder(config, compras, awaited, PERIOD, config.schedule.deadline(PERIOD))
    assert message.recipients == ("compras@migracion.gob.pa",)
    assert message.subject == ("Recordatorio: SNM espera los archivos de enero de 2025 de Departamento de Compras "
                               "(fecha límite: 5 de febrero de 2025 a las 06:00)")
    item = config.catalog.get("10.5")
    for text in (message.text, message.html):
        assert f"{item.name} (10.5)" in text
        assert "contrataciones-2025-01.csv" in text and "inbox/2025-01/compras" in text
        assert "5 de febrero de 2025 a las 06:00" in text and "oficial.transparencia@migracion.gob.pa" in text
        assert "Recursos Humanos" not in text  # only its own data


def test_the_officers_summary_counts_items_and_directorates(tmp_path, smtp_server):
    config = institution(tmp_path, smtp_server.settings())
    rows = [("11.3", "Planilla", ItemStatus.PUBLISHED, "Dirección de Recursos Humanos", 0, ""),
            ("11.6", "Viáticos", ItemStatus.REJECTED, "Dirección de Finanzas", 2, "Tiene errores."),
            ("10.5", "Contrataciones públicas", ItemStatus.NOT_RECEIVED, "Departamento de Compras", 0,
             "No llegó el archivo."),
            ("9.1", "Reglamento", ItemStatus.PUBLISHED, "Asesoría Legal", 0, "")]
    items = [ItemReport(code, name, "dataset", "monthly", status, directorate, errors=errors, detail=detail)
             for code, name, status, directorate, errors, detail in rows]
    report = ComplianceReport("Servicio Nacional de Migración", "SNM", PERIOD, items)
    message = mail.summary(config, report, config.schedule.deadline(PERIOD))
    assert message.recipients == ("oficial.transparencia@migracion.gob.pa",)
    assert message.subject == "Transparencia SNM, enero de 2025: 2 de 4 puntos cumplidos (50 %)"
    assert "Publicados: 2. Faltantes: 1. Rechazados: 1. Vencidos: 0." in message.text
    assert "- 11.6 Viáticos (Dirección de Finanzas): 2 errores. Tiene errores." in message.text
    assert "- Departamento de Compras: 0 / 1 / 0 / 0" in message.text
    assert "<td style=\"padding: 4px 8px;\">Dirección de Finanzas</td>" in message.html


# --------------------------------------------------------------------------- reminders before the deadline


@pytest.mark.parametrize(("now", "month"), [
    (dt.datetime(2025, 2, 2, 5, 59), None),  # the day before the reminders (3 days before 5 Feb 06:00)
    (dt.datetime(2025, 2, 2, 6, 0), PERIOD),
    (dt.datetime(2025, 2, 5, 5, 59), PERIOD),
    (dt.datetime(2025, 2, 5, 6, 0), None),  # the release itself reminds from then on
    (dt.datetime(2025, 2, 20, 6, 0), None),
])
def test_reminders_go_from_reminder_days_before_the_deadline_until_the_release(tmp_path, smtp_server, now, month):
    config = institution(tmp_path, smtp_server.settings(), reminder_days=3)
    assert notify.reminder_month(config, now.replace(tzinfo=config.schedule.zone)) == month


def test_the_reminders_command_reminds_only_who_owes_and_only_once(tmp_path, smtp_server):
    config = institution(tmp_path, smtp_server.settings())
    write_month(config, PERIOD, rows=5)  # every directorate sends but Compras
    arguments = ["recordatorios", "--period", "2025-01", "--config", str(config.path)]

    dry = CliRunner().invoke(app, [*arguments, "--dry-run"], terminal_width=300)
    assert dry.exit_code == 0 and smtp_server.messages == []
    assert "Correo que se enviaría: recordatorio a Departamento de Compras (compras@migracion.gob.pa)" in dry.output

    sent = CliRunner().invoke(app, arguments, terminal_width=300)
    assert sent.exit_code == 0 and "Correo enviado: recordatorio a Departamento de Compras" in sent.output
    assert [m.recipients for m in smtp_server.messages] == [["compras@migracion.gob.pa"]]
    again = CliRunner().invoke(app, arguments, terminal_width=300)
    assert "Correo: nada nuevo que enviar" in again.output and len(smtp_server.messages) == 1


def test_the_reminders_command_needs_the_notifications_section(tmp_path):
    path = write_institution(tmp_path, sample_document())
    result = CliRunner().invoke(app, ["recordatorios", "--period", "2025-01", "--config", str(path)])
    assert result.exit_code == 2 and "no hay sección 'notifications'" in result.output
