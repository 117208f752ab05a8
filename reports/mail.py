"""The e-mails the tool sends, composed as proper MIME: what the directorates and the officer read.

A ``Mail`` is what one message says (kind, subject, plain text, HTML, attachments) and to whom;
``Mail.message`` builds it as ``email.message.EmailMessage``: UTF-8 subject and body,
``multipart/alternative`` text and HTML, then the attachments (``multipart/mixed``). Its ``digest``
identifies the content, so a run that would send the same content to the same address again sends
nothing (``flows.notify``).

Composed here: the reminder to a directorate whose input has not arrived, a directorate's observaciones
(the letter and annotated files ``reports.observaciones`` wrote), and the officer's summary of the
month. Each message to a directorate holds its own data only.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cached_property
from pathlib import Path

from transparencia.domain import Deadline, MailKind, OutputFormat, Period
from transparencia.output import templates
from transparencia.reports.compliance import ComplianceReport, ItemReport
from transparencia.reports.observaciones import DirectorateObservations
from transparencia.sources.config import Directorate, InstitutionConfig
from transparencia.sources.registry import AwaitedFile
from transparencia.wording import count

_TEMPLATES = Path(__file__).parent / "templates"
_ENVIRONMENT = templates.environment(_TEMPLATES)
OFFICER = "oficial"  # whom a summary is about, in the record of what was sent (directorates go by their id)
# Parts of an Office file that change on every save without its content changing (openpyxl stamps the time).
_VOLATILE_PARTS = {"docProps/core.xml"}


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    media_type: str

    @classmethod
    def from_file(cls, path: Path, media_type: str) -> Attachment:
        return cls(path.name, path.read_bytes(), media_type)

    @property
    def digest(self) -> str:
        """The content's sha256; for a zip (an Office file) that of its parts' checksums, leaving out the
        save time, so the same annotated workbook saved twice is the same attachment."""
        try:
            with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
                parts = sorted(f"{i.filename}:{i.CRC}:{i.file_size}" for i in archive.infolist()
                               if i.filename not in _VOLATILE_PARTS)
        except zipfile.BadZipFile:
            return hashlib.sha256(self.data).hexdigest()
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Mail:
    """One message: its kind, whom it is about (a directorate id or ``OFFICER``) and their addresses."""

    kind: MailKind
    about: str
    addressee: str  # the directorate's or the officer's name, as lists of what is sent show it
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()

    @cached_property
    def digest(self) -> str:
        """What the message says, hashed: the same content is never sent twice to the same address."""
        parts = [self.kind.value, self.subject, self.text, self.html,
                 *(f"{a.name}:{a.digest}" for a in self.attachments)]
        return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()

    def message(self, sender: str, to: Sequence[str]) -> EmailMessage:
        """The MIME message from ``sender`` to ``to``: text and HTML alternatives, then the attachments."""
        message = EmailMessage()
        message["Subject"] = self.subject
        message["From"] = sender
        message["To"] = ", ".join(to)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
        message.set_content(self.text, charset="utf-8")
        message.add_alternative(self.html, subtype="html", charset="utf-8")
        for attachment in self.attachments:
            maintype, _, subtype = attachment.media_type.partition("/")
            message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.name)
        return message


# --------------------------------------------------------------------------- observaciones


def observations(config: InstitutionConfig, letter: DirectorateObservations) -> Mail:
    """A directorate's observaciones as a message: its letter, with its own files annotated attached."""
    files = tuple(Attachment.from_file(path, OutputFormat.XLSX.media_type) for path in letter.attachments)
    return Mail(MailKind.OBSERVATIONS, letter.directorate, letter.name, letter.contacts,
                f"{letter.subject} ({config.institution.acronym})", letter.letter_text, letter.letter_html, files)


# --------------------------------------------------------------------------- reminders


@dataclass(frozen=True)
class AwaitedInput:
    """One file a directorate has not sent yet, as its reminder names it."""

    items: str  # "Planilla (11.3) y Gastos de representación (11.4)"
    file_name: str  # the name to give the file, e.g. "planilla-2025-01.xlsx"
    folder: str  # where to put it, relative to the inbox


def reminder(config: InstitutionConfig, directorate: Directorate, awaited: Sequence[AwaitedFile],
             period: Period, deadline: Deadline) -> Mail:
    """The reminder to a directorate whose inputs for ``period`` have not arrived: which files, where,
    and by when."""
    inputs = [AwaitedInput(_items_named(a), a.source.settings.file_name(period), str(Path(a.pattern).parent))
              for a in awaited]
    values = {"institution": config.institution, "directorate": directorate, "period": period,
              "deadline": deadline, "inputs": inputs}
    subject = (f"Recordatorio: {config.institution.acronym} espera los archivos de {period.label_es} de "
               f"{directorate.name} (fecha límite: {deadline.label_es})")
    return Mail(MailKind.REMINDER, directorate.id, directorate.name, directorate.contacts, subject,
                _render("correo-recordatorio.txt.j2", values), _render("correo-recordatorio.html.j2", values))


def _items_named(awaited: AwaitedFile) -> str:
    names = [f"{item.name} ({item.code})" for item in awaited.items]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} y {names[-1]}"


# --------------------------------------------------------------------------- the officer's summary


@dataclass(frozen=True)
class DirectorateCounts:
    """One directorate's line in the summary: its items by outcome."""

    name: str
    published: int
    missing: int
    rejected: int
    outdated: int


def summary(config: InstitutionConfig, report: ComplianceReport, deadline: Deadline) -> Mail:
    """The month's summary for the officer: the score, the items published, missing and rejected, and
    the counts per directorate."""
    items = [i for i in report.items if i.status.applicable]
    values = {
        "institution": config.institution, "report": report, "deadline": deadline,
        "score": report.score, "published": [i for i in items if i.status.fulfilled],
        "missing": [i for i in items if i.status.missing], "rejected": [i for i in items if i.status.rejected],
        "outdated": [i for i in items if i.status.outdated], "directorates": _directorate_counts(items),
        "count": count,
    }
    subject = (f"Transparencia {config.institution.acronym}, {report.period.label_es}: {report.headline} "
               f"({report.score.percentage} %)")
    officer = config.institution.officer_email
    return Mail(MailKind.SUMMARY, OFFICER, "Oficial de transparencia", (officer,) if officer else (), subject,
                _render("correo-resumen.txt.j2", values), _render("correo-resumen.html.j2", values))


def _directorate_counts(items: Sequence[ItemReport]) -> list[DirectorateCounts]:
    names = sorted({i.directorate for i in items})
    return [DirectorateCounts(name, *(sum(1 for i in items if i.directorate == name and getattr(i.status, outcome))
                                      for outcome in _OUTCOMES))
            for name in names]


_OUTCOMES = ("fulfilled", "missing", "rejected", "outdated")  # ItemStatus groupings, in DirectorateCounts' order


def _render(template: str, values: dict) -> str:
    return _ENVIRONMENT.get_template(template).render(**values)
