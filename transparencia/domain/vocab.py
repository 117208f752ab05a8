"""The tool's vocabularies as enums: each member is its stable identifier (what configuration
files, JSON and the ledger hold), and carries its Spanish label and, where a standard applies,
its DCAT URI. Being ``StrEnum``s, members compare equal to their identifiers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from transparencia.errors import ConfigError

E = TypeVar("E", bound=StrEnum)


def _parse(kind: type[E], value: object, where: str, message: str, allowed: tuple[E, ...] | None = None) -> E:
    """The member whose identifier is ``value``, else a ConfigError: ``message`` is formatted with
    ``value`` and ``choices`` and follows ``where`` (the key path)."""
    choices = allowed or tuple(kind)
    for member in choices:
        if value == member.value:
            return member
    raise ConfigError(f"{where}: " + message.format(value=value, choices=", ".join(m.value for m in choices)))


class Frequency(StrEnum):
    """How often an item must be updated (ANTAI's monitoring and the catalog)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ON_CHANGE = "on_change"

    @classmethod
    def parse(cls, value: object, where: str) -> Frequency:
        return _parse(cls, value, where, "frecuencia '{value}' desconocida; use una de: {choices}")

    @property
    def label(self) -> str:
        return _FREQUENCY_LABELS[self]

    @property
    def freshness_months(self) -> int | None:
        """How many months a document may go without an update; None: it never expires."""
        return _FRESHNESS_MONTHS.get(self)

    @property
    def dcat_uri(self) -> str:
        """The EU Vocabularies frequency concept DCAT-AP asks for (``dct:accrualPeriodicity``)."""
        return f"http://publications.europa.eu/resource/authority/frequency/{_DCAT_FREQUENCIES[self]}"


_FREQUENCY_LABELS = {Frequency.MONTHLY: "mensual", Frequency.QUARTERLY: "trimestral", Frequency.YEARLY: "anual",
                     Frequency.ON_CHANGE: "cuando cambie"}
_FRESHNESS_MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}
_DCAT_FREQUENCIES = {Frequency.MONTHLY: "MONTHLY", Frequency.QUARTERLY: "QUARTERLY", Frequency.YEARLY: "ANNUAL",
                     Frequency.ON_CHANGE: "IRREG"}


class ItemKind(StrEnum):
    """What a catalog item publishes: a monthly table of data, or a document kept current."""

    DATASET = "dataset"
    DOCUMENT = "document"

    @property
    def label(self) -> str:
        return {ItemKind.DATASET: "datos", ItemKind.DOCUMENT: "documento"}[self]


class PrivacyPolicy(StrEnum):
    """How a field's values are published. ``never`` (a citizen's name in 311 or request data) is
    set by the schema only and cannot be overridden by an institution."""

    PUBLISH = "publish"
    MASK = "mask"
    OMIT = "omit"
    NEVER = "never"

    @classmethod
    def parse(cls, value: object, where: str) -> PrivacyPolicy:
        return _parse(cls, value, where, "política '{value}' inválida; use una de {choices}")

    @classmethod
    def parse_override(cls, value: object, where: str) -> PrivacyPolicy:
        """A policy an institution may choose (publish, mask or omit)."""
        return _parse(cls, value, where, "política '{value}' inválida; use una de {choices}", cls.overridable())

    @classmethod
    def overridable(cls) -> tuple[PrivacyPolicy, ...]:
        return (cls.PUBLISH, cls.MASK, cls.OMIT)

    @property
    def published(self) -> bool:
        """Whether the field appears in published files at all (as is or masked)."""
        return self in (PrivacyPolicy.PUBLISH, PrivacyPolicy.MASK)

    @property
    def label(self) -> str:
        return _PRIVACY_LABELS[self]


_PRIVACY_LABELS = {
    PrivacyPolicy.PUBLISH: "Se publica completo.",
    PrivacyPolicy.MASK: "Se publica enmascarado: solo se muestran el inicio y el final (p. ej. 8-***-4567).",
    PrivacyPolicy.OMIT: "No se publica (omitido por la política de datos personales de la institución).",
    PrivacyPolicy.NEVER: "Nunca se publica (dato personal de un ciudadano).",
}


class ItemStatus(StrEnum):
    """What the compliance report says about one mandatory item in one month."""

    PUBLISHED = "publicado"
    PUBLISHED_WITH_WARNINGS = "publicado_con_advertencias"
    REJECTED = "rechazado"
    SOURCE_ERROR = "error_fuente"
    NOT_RECEIVED = "faltante"
    NOT_CONFIGURED = "no_configurado"
    NOT_APPLICABLE = "no_aplica"
    OUTDATED = "vencido"
    TARGET_ERROR = "error_destino"
    WITHDRAWN = "retirado"  # published, then taken down (``transparencia retirar``); the reason is shown
    WITHHELD = "no_aprobado"  # valid, but held back in the review before publishing (``ReviewDecision``)

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def fulfilled(self) -> bool:
        """Whether the item counts as met: it is online (data) or current (document)."""
        return self in (ItemStatus.PUBLISHED, ItemStatus.PUBLISHED_WITH_WARNINGS)

    @property
    def applicable(self) -> bool:
        """Whether the item counts in the score's denominator."""
        return self is not ItemStatus.NOT_APPLICABLE

    @property
    def failed(self) -> bool:
        """Whether an item due with this status makes the run fail (exit code 1)."""
        return self in (ItemStatus.REJECTED, ItemStatus.SOURCE_ERROR, ItemStatus.NOT_RECEIVED, ItemStatus.TARGET_ERROR,
                        ItemStatus.WITHDRAWN, ItemStatus.WITHHELD)

    @property
    def missing(self) -> bool:
        """Whether the item is not met for lack of something (a source, a configuration, the target, a
        month withdrawn): the report's ``puntos_faltantes`` and the national monitor's missing column."""
        return self in (ItemStatus.NOT_RECEIVED, ItemStatus.NOT_CONFIGURED, ItemStatus.TARGET_ERROR,
                        ItemStatus.WITHDRAWN)

    @property
    def outdated(self) -> bool:
        """Whether the item is a document that exists but was not updated in time: the report's
        ``puntos_vencidos`` and the monitor's own column (it is not missing: it is there, stale)."""
        return self is ItemStatus.OUTDATED

    @property
    def rejected(self) -> bool:
        """Whether the item is not met because what arrived was unusable (errors, an unreadable
        source): the report's ``puntos_rechazados``."""
        return self in (ItemStatus.REJECTED, ItemStatus.SOURCE_ERROR)

    @property
    def short_label(self) -> str:
        """The label without its explanation, for a table cell or a progress bar: 'Faltante'."""
        return self.label.split(":")[0]


_STATUS_LABELS = {
    ItemStatus.PUBLISHED: "Publicado",
    ItemStatus.PUBLISHED_WITH_WARNINGS: "Publicado con advertencias",
    ItemStatus.REJECTED: "Rechazado por errores de validación",
    ItemStatus.SOURCE_ERROR: "Error de la fuente: no se pudo leer o conectar",
    ItemStatus.NOT_RECEIVED: "Faltante: no llegó la fuente",
    ItemStatus.NOT_CONFIGURED: "No configurado: ninguna fuente ni documento lo alimenta",
    ItemStatus.NOT_APPLICABLE: "No aplica",
    ItemStatus.OUTDATED: "Vencido: documento sin actualizar según su frecuencia",
    ItemStatus.TARGET_ERROR: "Error del destino de publicación: configuración o portal",
    ItemStatus.WITHDRAWN: "Retirado: la institución retiró la publicación del mes",
    ItemStatus.WITHHELD: "No aprobado: retenido en la revisión antes de publicar",
}


class ReviewDecision(StrEnum):
    """The officer's decision on a month's preview, in the review before anything is published: the
    choices of the Prefect form, spelled as the form shows them."""

    APPROVE_ALL = "aprobar todo"
    APPROVE_EXCEPT = "aprobar todo excepto estos puntos"
    REJECT = "rechazar"


class Severity(StrEnum):
    """How much a validation finding weighs: an error blocks the item's publication, a warning is
    published beside it, an info is a fact the report shows (a month declared empty)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def label(self) -> str:
        return _SEVERITY_LABELS[self]

    @property
    def blocks(self) -> bool:
        """Whether a finding of this severity stops the item from being published."""
        return self is Severity.ERROR


_SEVERITY_LABELS = {Severity.ERROR: "error", Severity.WARNING: "aviso", Severity.INFO: "nota"}


class Arrival(StrEnum):
    """How a directorate's files for a month arrived, measured against the month's deadline."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"  # the month was run and nothing of the directorate's had arrived
    NOT_RUN = "not_run"  # no run read the month: nothing is known

    @property
    def label(self) -> str:
        return _ARRIVAL_LABELS[self]


_ARRIVAL_LABELS = {Arrival.ON_TIME: "a tiempo", Arrival.LATE: "tarde", Arrival.MISSING: "no llegó",
                   Arrival.NOT_RUN: "sin ejecución"}


class Target(StrEnum):
    """Where a release is published."""

    LOCAL = "local"
    CKAN = "ckan"

    @classmethod
    def parse(cls, value: object, where: str) -> Target:
        return _parse(cls, value, where, "'{value}' inválido; use uno de: {choices}")

    @property
    def label(self) -> str:
        return {Target.LOCAL: "catálogo local", Target.CKAN: "portal CKAN"}[self]

    @property
    def journals_writes(self) -> bool:
        """Whether a run's writes are counted from the journal of its write calls (a shared portal,
        where a failed run may have written) rather than from the publish actions (the local catalog)."""
        return self is Target.CKAN


class MailSecurity(StrEnum):
    """How the connection to the SMTP server is protected (``notifications.smtp.security``)."""

    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (submission, port 587)
    TLS = "tls"  # TLS from the first byte (SMTPS, port 465)
    NONE = "none"  # no encryption: only for a relay on the same machine or network

    @classmethod
    def parse(cls, value: object, where: str) -> MailSecurity:
        return _parse(cls, value, where, "seguridad '{value}' desconocida; use una de: {choices}")

    @property
    def default_port(self) -> int:
        """The port each kind of connection listens on unless the configuration says otherwise."""
        return {MailSecurity.STARTTLS: 587, MailSecurity.TLS: 465, MailSecurity.NONE: 25}[self]


class MailKind(StrEnum):
    """What an e-mail of the tool is, as the record of what was sent keeps it."""

    REMINDER = "reminder"  # before the deadline, to a directorate whose input has not arrived
    OBSERVATIONS = "observations"  # after a run, to a directorate with findings: its letter and annotated file
    SUMMARY = "summary"  # after a run, to the officer: the month's outcome

    @property
    def label(self) -> str:
        return {MailKind.REMINDER: "recordatorio", MailKind.OBSERVATIONS: "observaciones",
                MailKind.SUMMARY: "resumen del mes"}[self]


class PublishVerb(StrEnum):
    """What publishing did to a dataset, resource, table or view (a ``PublishAction``)."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    DELETE = "delete"

    @property
    def writes(self) -> bool:
        """Whether the target was (or, in a dry run, would be) written."""
        return self is not PublishVerb.UNCHANGED


class PublishObject(StrEnum):
    """What a ``PublishAction`` acted on."""

    DATASET = "dataset"
    RESOURCE = "resource"
    DATASTORE = "datastore"  # the queryable table behind a resource
    VIEW = "view"  # a portal's view of that table


class OutputFormat(StrEnum):
    """A file format the tool publishes: the data formats an institution chooses, and the report ones."""

    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    PARQUET = "parquet"
    HTML = "html"
    MD = "md"
    SVG = "svg"  # charts

    @classmethod
    def data_formats(cls) -> tuple[OutputFormat, ...]:
        """The formats a month's table can be published in (``publish.formats``)."""
        return (cls.CSV, cls.XLSX, cls.JSON, cls.PARQUET)

    @classmethod
    def report_formats(cls) -> tuple[OutputFormat, ...]:
        """The formats of the compliance report."""
        return (cls.HTML, cls.JSON, cls.MD)

    @classmethod
    def parse_data(cls, value: object, where: str) -> OutputFormat:
        return _parse(cls, value, where, "formato '{value}' desconocido; use {choices}", cls.data_formats())

    @property
    def label(self) -> str:
        """The format's name as resources show it: ``CSV``."""
        return self.value.upper()

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {
    OutputFormat.CSV: "text/csv",
    OutputFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    OutputFormat.JSON: "application/json",
    OutputFormat.PARQUET: "application/vnd.apache.parquet",
    OutputFormat.HTML: "text/html",
    OutputFormat.MD: "text/markdown",
    OutputFormat.SVG: "image/svg+xml",
}
