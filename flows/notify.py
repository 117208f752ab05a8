"""E-mail around a run: reminders before it, observaciones and the officer's summary after it.

Orchestration only: ``reports.mail`` composes the messages, ``reports.smtp`` sends them. This module
decides who gets what and keeps the promise that the same state never e-mails twice: every message
delivered is recorded per address in the month's mail log (``Workspace.mail_log``: address, kind,
whom it is about, the content's ``digest``, when, which run), and a message whose content an address
already has is not sent to it again. A run that changes nothing therefore sends nothing.

Mail never fails or blocks the release: the first SMTP failure stops the sending, its Spanish reason is
kept in the outcome (and the run's log and ledger), and the messages not sent stay unrecorded, so the
next run sends them. A dry run lists what it would send; ``send=False`` (``--sin-correo``) sends nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from transparencia.domain import MailKind, Period, atomic_write, file_lock
from transparencia.reports import mail
from transparencia.reports.compliance import ComplianceReport
from transparencia.reports.mail import Mail
from transparencia.reports.observaciones import DirectorateObservations
from transparencia.reports.smtp import MailDeliveryError, smtp_session
from transparencia.sources.config import InstitutionConfig
from transparencia.sources.registry import awaited_files
from transparencia.wording import count


@dataclass(frozen=True)
class Delivery:
    """One message as the run reports it: what, about whom, to which addresses, with which files."""

    kind: MailKind
    addressee: str
    recipients: tuple[str, ...]
    subject: str
    attachments: tuple[str, ...] = ()

    @classmethod
    def of(cls, message: Mail, recipients: Sequence[str]) -> Delivery:
        return cls(message.kind, message.addressee, tuple(recipients), message.subject,
                   tuple(a.name for a in message.attachments))

    def describe(self) -> str:
        """'recordatorio a Departamento de Compras (compras@institucion.gob.pa)'."""
        files = f", con {', '.join(self.attachments)}" if self.attachments else ""
        return f"{self.kind.label} a {self.addressee} ({', '.join(self.recipients)}){files}"


@dataclass
class MailOutcome:
    """What a run did with its messages."""

    sent: list[Delivery] = field(default_factory=list)
    planned: list[Delivery] = field(default_factory=list)  # a dry run: what it would send
    pending: list[Delivery] = field(default_factory=list)  # stopped by ``failure``: the next run sends them
    unchanged: int = 0  # messages every address already has
    refused: list[str] = field(default_factory=list)  # addresses the server refused (retried next run)
    without_address: list[str] = field(default_factory=list)  # whom a message is for, with no address configured
    failure: str | None = None  # why sending stopped (Spanish, nothing internal)
    disabled: bool = False  # ``--sin-correo``, or no ``notifications`` section

    def merge(self, other: MailOutcome) -> MailOutcome:
        return MailOutcome(self.sent + other.sent, self.planned + other.planned, self.pending + other.pending,
                           self.unchanged + other.unchanged, self.refused + other.refused,
                           self.without_address + other.without_address, self.failure or other.failure,
                           self.disabled and other.disabled)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MailLog:
    """The month's record of delivered messages, one entry per address; saved atomically under a lock."""

    def __init__(self, config: InstitutionConfig, period: Period) -> None:
        self.path = config.workspace.mail_log(period)

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return json.loads(self.path.read_text(encoding="utf-8"))

    def pending(self, message: Mail) -> list[str]:
        """The message's addresses that do not have its content yet."""
        have = {e["destinatario"] for e in self.entries()
                if e["tipo"] == message.kind and e["huella"] == message.digest}
        return [r for r in message.recipients if r not in have]

    def record(self, message: Mail, recipients: Iterable[str], run_id: str) -> None:
        when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        added = [{"destinatario": r, "tipo": message.kind.value, "sobre": message.about, "asunto": message.subject,
                  "huella": message.digest, "enviado": when, "ejecucion": run_id} for r in recipients]
        with file_lock(self.path.with_name(".correos.lock")):
            entries = self.entries() + added
            atomic_write(self.path, json.dumps(entries, ensure_ascii=False, indent=2).encode("utf-8"))


def deliver(config: InstitutionConfig, period: Period, messages: Sequence[Mail], run_id: str,
            dry_run: bool) -> MailOutcome:
    """Send each message to the addresses that do not have its content yet; a dry run only lists them."""
    outcome = MailOutcome()
    log = MailLog(config, period)
    due: list[tuple[Mail, list[str]]] = []
    for message in messages:
        if not message.recipients:
            outcome.without_address.append(message.addressee)
            continue
        recipients = log.pending(message)
        if recipients:
            due.append((message, recipients))
        else:
            outcome.unchanged += 1
    if dry_run:
        outcome.planned = [Delivery.of(m, r) for m, r in due]
    elif due:
        _send(config, log, due, run_id, outcome)
    return outcome


def _send(config: InstitutionConfig, log: MailLog, due: list[tuple[Mail, list[str]]], run_id: str,
          outcome: MailOutcome) -> None:
    """One SMTP session for the run's messages, each recorded as soon as the server took it."""
    assert config.notifications is not None
    settings = config.notifications
    remaining = list(due)
    try:
        with smtp_session(settings.smtp) as session:
            while remaining:
                message, recipients = remaining[0]
                refused = session.send(message.message(settings.sender, recipients))
                delivered = [r for r in recipients if r not in refused]
                outcome.refused.extend(refused)
                log.record(message, delivered, run_id)
                outcome.sent.append(Delivery.of(message, delivered))
                remaining.pop(0)
    except MailDeliveryError as exc:
        outcome.failure = exc.message
        outcome.pending = [Delivery.of(m, r) for m, r in remaining]


# --------------------------------------------------------------------------- what a run sends


NO_REMINDERS_TODAY = ("Hoy no corresponde enviar recordatorios: salen desde 'reminder_days' días antes de la fecha "
                      "límite del mes hasta la publicación.")


def reminder_month(config: InstitutionConfig, now: dt.datetime) -> Period | None:
    """The month whose reminders are due at ``now`` (aware): from ``reminder_days`` before its deadline
    until the deadline, when the release itself reminds whoever still owes. The month is the one before
    or, with a deadline early in the month, the current one."""
    if config.notifications is None:
        return None
    for period in (Period.of(now.date()).shift(-1), Period.of(now.date())):
        deadline = config.schedule.deadline(period).moment
        if deadline - dt.timedelta(days=config.notifications.reminder_days) <= now < deadline:
            return period
    return None


def log_outcome(outcome: MailOutcome, logger: logging.Logger | logging.LoggerAdapter) -> None:
    """Each message sent, and why sending stopped: the officer reads it in the run's log."""
    for delivery in outcome.sent:
        logger.info("Correo enviado: %s", delivery.describe())
    for delivery in outcome.planned:
        logger.info("Correo que se enviaría: %s", delivery.describe())
    for addressee in outcome.without_address:
        logger.warning("Correo no enviado a %s: no tiene direcciones en la configuración", addressee)
    if outcome.refused:
        logger.warning("El servidor de correo rechazó a %s; se reintentará en la próxima ejecución",
                       ", ".join(outcome.refused))
    if outcome.failure:
        logger.warning("No se pudo enviar el correo: %s. Pendientes para la próxima ejecución, que los enviará: %s.",
                       outcome.failure, count(len(outcome.pending), "mensaje"))


def enabled(config: InstitutionConfig, send: bool) -> bool:
    return send and config.notifications is not None


def send_reminders(config: InstitutionConfig, period: Period, run_id: str, dry_run: bool, *,
                   send: bool = True) -> MailOutcome:
    """A reminder to each directorate whose input for ``period`` has not arrived."""
    if not enabled(config, send):
        return MailOutcome(disabled=True)
    due = config.schedule.deadline(period)
    awaited = awaited_files(config, period)
    messages = [mail.reminder(config, directorate, [a for a in awaited if a.source.directorate == directorate.id],
                              period, due)
                for directorate in config.directorates
                if any(a.source.directorate == directorate.id for a in awaited)]
    return deliver(config, period, messages, run_id, dry_run)


def send_results(config: InstitutionConfig, report: ComplianceReport,
                 observations: Sequence[DirectorateObservations], run_id: str, dry_run: bool, *,
                 send: bool = True) -> MailOutcome:
    """After the run: each directorate with findings gets its letter with its annotated files (one whose
    inputs only did not arrive had its reminder), then the officer the month's summary."""
    if not enabled(config, send):
        return MailOutcome(disabled=True)
    letters = [mail.observations(config, o) for o in observations if o.to_correct]
    summary = mail.summary(config, report, config.schedule.deadline(report.period))
    return deliver(config, report.period, [*letters, summary], run_id, dry_run)
