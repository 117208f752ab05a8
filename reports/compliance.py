"""The monthly compliance report of the 24 items: data first, then HTML, JSON and Markdown.

The report is a pure function of the month's state (statuses, rows, findings, links, the dates
each item was last updated): it carries no run id and no generation time, so re-running an
unchanged month renders byte-identical files and the publisher writes nothing.

Compliance: an item is *cumplido* when it is published (with or without warnings) or, for a
document, when it is fresh for its frequency. Items marked "no aplica" are shown in the table but
left out of the denominator, so "21 de 24 puntos cumplidos" becomes "21 de 23" when one item does
not apply to the institution.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, TypedDict

from jinja2 import Environment

from transparencia.domain import (
    Frequency,
    ItemKind,
    ItemStatus,
    OutputFormat,
    Period,
    ReviewDecision,
    sha256_file,
    write_if_changed,
)
from transparencia.domain.jsontypes import JsonObject
from transparencia.domain.workspace import report_file_name
from transparencia.output import charts, templates
from transparencia.publishers.base import BASE_TAGS, LEGAL_BASIS, DatasetSpec, ResourceFile
from transparencia.publishers.names import (
    REPORT_KIND,
    REPORT_POINT_KEYS,
    REPORT_TAG,
    compliance_resource_name,
    report_dataset_name,
)
from transparencia.reports.antai import AntaiBand, AntaiScore
from transparencia.schemas.catalog import Item
from transparencia.wording import count

REPORT_FORMATS = tuple(OutputFormat.report_formats())
_TEMPLATES = Path(__file__).parent / "templates"
REPORT_TITLE = "Informe de cumplimiento de transparencia"  # the title of the dataset of the monthly reports


class Extraction(StrEnum):
    """How reading the item's source for the month ended."""

    READ = "read"
    NOT_RECEIVED = "not_received"  # no file this month (or no rows from a query that had to give some)
    SOURCE_ERROR = "source_error"  # could not read the file or connect to the database
    NOT_RUN = "not_run"


class Validation(StrEnum):
    VALID = "valid"
    INVALID = "invalid"  # blocking errors: the month is not published
    FAILED = "failed"  # validation itself could not run
    NOT_RUN = "not_run"


class Publishing(StrEnum):
    PUBLISHED = "published"  # this run put the month online (a dry run: would have)
    FAILED = "failed"  # the target was not configured, refused or unreachable
    WITHHELD = "withheld"  # valid and previewed, but not approved in the review before publishing
    NOT_RUN = "not_run"


@dataclass(frozen=True)
class DocumentState:
    """A document item as configured: when it was last updated and whether its file exists."""

    updated: date | None
    exists: bool = True
    where: str = ""  # the file as configured, for the reason when it does not exist


@dataclass(frozen=True)
class ItemOutcome:
    """What happened to one item this month, stage by stage: everything ``classify`` reads.

    ``online`` says whether the month was already online on the target before this run's attempt
    (only asked when this run did not publish it); ``last_online`` is the item's latest month the
    target holds, so a rejected month says whether an earlier one is still there. ``withdrawn``: the month was taken down
    (``transparencia retirar``) after it was published. ``reason`` is the Spanish message of the
    stage that stopped the item, if any.
    """

    kind: ItemKind
    frequency: Frequency
    period: Period
    applies: bool = True
    configured: bool = True
    extraction: Extraction = Extraction.NOT_RUN
    validation: Validation = Validation.NOT_RUN
    publishing: Publishing = Publishing.NOT_RUN
    warnings: int = 0
    online: bool = False
    document: DocumentState | None = None
    withdrawn: bool = False
    reason: str = ""
    not_applicable_reason: str = ""
    last_online: Period | None = None  # the item's latest month the target holds (this one once published)


@dataclass(frozen=True)
class ItemFacts:
    """The figures a run gathered about one item, shown beside its status in the report's row."""

    directorate: str
    rows: int | None = None
    errors: int = 0
    warnings: int = 0
    url: str | None = None
    last_update: str | None = None  # ISO date
    source: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)  # as published (``publishers.public``)
    changes: str = ""


@dataclass(frozen=True)
class Verdict:
    """An item's status, why (one line of Spanish), and whether this run's attempt failed."""

    status: ItemStatus
    reason: str = ""
    attempt_failed: bool = False


def classify(outcome: ItemOutcome) -> ItemStatus:
    """The item's status in the compliance report: a pure function of its outcome."""
    return verdict(outcome).status


def verdict(outcome: ItemOutcome) -> Verdict:
    """The status and its reason. The score counts what is online: an item whose month is online
    keeps its published status even when this run's attempt failed (the attempt is noted)."""
    if not outcome.applies:
        return Verdict(ItemStatus.NOT_APPLICABLE, outcome.not_applicable_reason or "No aplica a la institución.")
    if not outcome.configured:
        return Verdict(ItemStatus.NOT_CONFIGURED, _NOT_CONFIGURED[outcome.kind])
    if outcome.withdrawn and not outcome.online:
        return Verdict(ItemStatus.WITHDRAWN, outcome.reason)
    if outcome.kind is ItemKind.DOCUMENT:
        return _document_verdict(outcome, outcome.document or DocumentState(updated=None))
    if outcome.publishing is Publishing.PUBLISHED:
        status = ItemStatus.PUBLISHED_WITH_WARNINGS if outcome.warnings else ItemStatus.PUBLISHED
        return Verdict(status)
    failed = _failed_status(outcome)
    if outcome.online:
        note = (f"El mes sigue en línea desde una publicación anterior; el intento de esta ejecución falló "
                f"({failed.short_label.lower()}): {outcome.reason or _DEFAULT_REASONS[failed]}")
        return Verdict(ItemStatus.PUBLISHED, note, attempt_failed=True)
    reason = outcome.reason or _DEFAULT_REASONS[failed]
    if failed is ItemStatus.REJECTED:
        reason = f"{reason.rstrip('.')}; {_earlier_months(outcome)}"
    return Verdict(failed, reason, attempt_failed=True)


def _earlier_months(outcome: ItemOutcome) -> str:
    """What a rejected month leaves online: the latest month, or nothing at all (a first month)."""
    last = outcome.last_online
    if last is None or last == outcome.period:
        return "no hay otros meses publicados."
    earlier = "los meses anteriores siguen publicados" if last < outcome.period else "siguen publicados otros meses"
    return f"{earlier} (el último, {last.label_es})."


def withdrawal_reason(date: str, reason: str) -> str:
    """A withdrawn item's reason in the report: when, and the officer's own words (``--motivo``)."""
    return f"Retirado el {date}. Motivo: {reason}"


_NOT_CONFIGURED = {
    ItemKind.DATASET: "Ninguna fuente de la configuración alimenta este punto.",
    ItemKind.DOCUMENT: "El documento no está configurado (enlace o archivo con su fecha de actualización).",
}
_DEFAULT_REASONS = {
    ItemStatus.NOT_RECEIVED: "No llegó la fuente del período.",
    ItemStatus.SOURCE_ERROR: "No se pudo leer la fuente.",
    ItemStatus.REJECTED: "Tiene errores: no se publicó este mes.",
    ItemStatus.TARGET_ERROR: "No se pudo publicar en el destino.",
    ItemStatus.WITHHELD: "No se aprobó en la revisión antes de publicar.",
}


def _failed_status(outcome: ItemOutcome) -> ItemStatus:
    """Which stage stopped an item that was not published this run."""
    if outcome.extraction is Extraction.NOT_RECEIVED:
        return ItemStatus.NOT_RECEIVED
    if outcome.extraction in (Extraction.SOURCE_ERROR, Extraction.NOT_RUN):
        return ItemStatus.SOURCE_ERROR
    if outcome.validation is not Validation.VALID:
        return ItemStatus.REJECTED
    if outcome.publishing is Publishing.WITHHELD:
        return ItemStatus.WITHHELD
    return ItemStatus.TARGET_ERROR


def _document_verdict(outcome: ItemOutcome, document: DocumentState) -> Verdict:
    if not document.exists:
        return Verdict(ItemStatus.NOT_RECEIVED, f"No existe el archivo '{document.where}'.")
    status = document_status(outcome.frequency, document.updated, outcome.period)
    if document.updated is None:
        return Verdict(status, "Falta la fecha de actualización del documento.")
    if status is ItemStatus.OUTDATED:
        return Verdict(status, f"Última actualización {document.updated.isoformat()}; la frecuencia "
                               f"{outcome.frequency.label} exige actualizarlo al menos cada "
                               f"{outcome.frequency.freshness_months} mes(es).")
    return Verdict(status)


def document_status(frequency: Frequency, last_updated: date | None, period: Period) -> ItemStatus:
    """A document is current unless it is older than its frequency allows; on_change never expires."""
    if last_updated is None:
        return ItemStatus.NOT_RECEIVED
    allowed = frequency.freshness_months
    if allowed is None:
        return ItemStatus.PUBLISHED
    return ItemStatus.OUTDATED if period.months_since(last_updated) > allowed else ItemStatus.PUBLISHED


@dataclass
class ItemReport:
    """One row of the report: what happened to one mandatory item this month."""

    code: str
    name: str
    kind: str  # "dataset" | "document"
    frequency: Frequency
    status: ItemStatus
    directorate: str
    rows: int | None = None
    errors: int = 0
    warnings: int = 0
    url: str | None = None
    last_update: str | None = None  # ISO date
    source: str | None = None
    detail: str = ""  # Spanish: why missing, why stale, why it does not apply, what failed this run
    findings: list[dict[str, Any]] = field(default_factory=list)  # Finding.to_dict()
    attempt_failed: bool = False  # this run's attempt failed (even if an earlier month stays online)
    changes: str = ""  # Spanish: what changed against the month before (publishers.changes headline)
    last_online: str | None = None  # AAAA-MM: the item's latest month the public can read, if any

    def __post_init__(self) -> None:
        self.frequency, self.status = Frequency(self.frequency), ItemStatus(self.status)

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def fulfilled(self) -> bool:
        return self.status.fulfilled

    @property
    def findings_count(self) -> int:
        return self.errors + self.warnings

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status_label": self.status_label, "fulfilled": self.fulfilled}


def item_report(item: Item, outcome: ItemOutcome, facts: ItemFacts) -> ItemReport:
    """The report's row for ``item``: its verdict and the figures the run gathered (rows, findings...)."""
    result = verdict(outcome)
    last_online = None if outcome.last_online is None else str(outcome.last_online)
    return ItemReport(item.code, item.name, item.kind, item.frequency, result.status, detail=result.reason,
                      attempt_failed=result.attempt_failed, last_online=last_online, **asdict(facts))


@dataclass(frozen=True)
class Review:
    """The officer's decision on the month's preview, in the review before publishing
    (``publish.review``): what was decided, by whom, when, and which items were left out.

    The report carries it so that whoever reads the month knows who approved what was published."""

    decision: ReviewDecision
    officer: str
    decided_at: dt.datetime  # when the decision reached the run (UTC)
    excluded: tuple[str, ...] = ()  # item codes the officer left out

    @property
    def sentence(self) -> str:
        """'Publicación aprobada por Ana Pérez el 06/12/2026 a las 18:40 UTC, excepto los puntos 11.3 y 11.6.'"""
        when = f"el {self.decided_at:%d/%m/%Y} a las {self.decided_at:%H:%M} UTC"
        if self.decision is ReviewDecision.REJECT:
            return f"Publicación rechazada por {self.officer} {when}: no se publicó nada."
        left_out = ""
        if self.excluded:
            noun = "el punto" if len(self.excluded) == 1 else "los puntos"
            left_out = f", excepto {noun} {_enumeration(self.excluded)} (excluidos por el oficial en la revisión)"
        return f"Publicación aprobada por {self.officer} {when}{left_out}."

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.value, "officer": self.officer,
                "decided_at": self.decided_at.isoformat(timespec="seconds"), "excluded": list(self.excluded),
                "sentence": self.sentence}

    @classmethod
    def from_dict(cls, data: JsonObject) -> Review:
        return cls(ReviewDecision(data["decision"]), data["officer"], dt.datetime.fromisoformat(data["decided_at"]),
                   tuple(data.get("excluded", ())))


def _enumeration(codes: Iterable[str]) -> str:
    """'11.3, 11.6 y 12.1'."""
    *first, last = codes
    return f"{', '.join(first)} y {last}" if first else last


class MonthScore(TypedDict):
    """A month's score as its report's JSON records it (``history``)."""

    period: str  # AAAA-MM
    fulfilled: int
    applicable: int


class TrendPoint(MonthScore):
    percentage: int  # ANTAI's whole percentage


@dataclass
class ComplianceReport:
    institution: str
    acronym: str
    period: Period
    items: list[ItemReport]
    # Earlier months' scores, oldest first (read from their reports).
    history: list[MonthScore] = field(default_factory=list)
    review: Review | None = None  # the officer's approval, when the month was reviewed before publishing

    @property
    def applicable(self) -> list[ItemReport]:
        return [i for i in self.items if i.status.applicable]

    @property
    def fulfilled(self) -> int:
        return sum(1 for i in self.applicable if i.fulfilled)

    @property
    def score(self) -> AntaiScore:
        """What ANTAI's monitoring would count: the items online or current, of those that apply."""
        return AntaiScore(self.fulfilled, len(self.applicable))

    @property
    def headline(self) -> str:
        return f"{self.fulfilled} de {len(self.applicable)} puntos cumplidos"

    def count(self, status: ItemStatus) -> int:
        return sum(1 for i in self.items if i.status == status)

    def trend(self) -> list[TrendPoint]:
        """Every month's score, this one last, as the trend chart shows them."""
        months = [m for m in self.history if m["period"] < str(self.period)]
        months.append({"period": str(self.period), "fulfilled": self.fulfilled, "applicable": len(self.applicable)})
        return [{**m, "percentage": AntaiScore(m["fulfilled"], m["applicable"]).percentage} for m in months]

    def to_dict(self) -> dict[str, Any]:
        return {
            "institution": self.institution,
            "acronym": self.acronym,
            "period": str(self.period),
            "summary": {
                "headline": self.headline,
                "fulfilled": self.fulfilled,
                "applicable": len(self.applicable),
                "total": len(self.items),
                "by_status": {s.value: self.count(s) for s in ItemStatus},
                "antai": {"percentage": self.score.percentage, "band": self.score.band.value,
                          "band_label": self.score.band.label},
            },
            "history": [{k: m[k] for k in ("period", "fulfilled", "applicable")} for m in self.history],
            "items": [i.to_dict() for i in self.items],
            **({"review": self.review.to_dict()} if self.review else {}),
        }

    @classmethod
    def from_dict(cls, data: JsonObject) -> ComplianceReport:
        keep = set(ItemReport.__dataclass_fields__)
        items = [ItemReport(**{k: v for k, v in raw.items() if k in keep}) for raw in data["items"]]
        review = Review.from_dict(data["review"]) if data.get("review") else None
        return cls(data["institution"], data["acronym"], Period.parse(data["period"]), items, data.get("history", []),
                   review)


def past_scores(reports: Iterable[Path], period: Period) -> list[MonthScore]:
    """The scores of the months before ``period`` among the JSON ``reports`` (``Workspace.report_files``)."""
    scores: list[MonthScore] = []
    for path in reports:
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # an unreadable old report leaves a gap in the trend, never a wrong point
        if summary.get("period", "9999-99") < str(period):
            facts = summary["summary"]
            scores.append({"period": summary["period"], "fulfilled": facts["fulfilled"],
                           "applicable": facts["applicable"]})
    return scores


def trend_chart(report: ComplianceReport, standalone: bool = False) -> str:
    """The institution's ANTAI percentage month by month, bars coloured by band, 67 % and 100 % marked."""
    months = report.trend()
    series = charts.Series(
        "Porcentaje de cumplimiento (ANTAI)", [m["percentage"] for m in months],
        colors=[charts.ANTAI_COLORS[AntaiScore(m["fulfilled"], m["applicable"]).band.value] for m in months],
        guides=((100, "100 %: cumple"), (67, "67 %: debe mejorar")), maximum=100, suffix=" %",
        axis="Puntos cumplidos (%)")
    return charts.chart(f"Cumplimiento de {report.acronym} mes a mes", [Period.parse(m["period"]) for m in months],
                        [series],
                        standalone=standalone)


def _environment() -> Environment:
    return templates.environment(_TEMPLATES, filters={"link": link, "count": count},
                                 variables={"STATUS_LABELS": {status: status.label for status in ItemStatus},
                                            "BAND_LABELS": [band.label for band in AntaiBand]})


def link(url: str) -> str:
    """An item's link as the published report needs it: a portal's address as is; a local catalog's
    (relative to the catalog root) reached from the report's own folder, two levels down."""
    return url if "://" in url or url.startswith("/") else f"../../{url}"


def render(report: ComplianceReport, fmt: str, preview: bool = False) -> str:
    """The report as text in one of ``REPORT_FORMATS``; a ``preview`` (a dry run's) says so at the top."""
    if fmt == "json":
        return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    template = _environment().get_template(f"compliance.{fmt}.j2")
    return template.render(report=report, period_text=report.period.label_es,
                           counts={s: report.count(s) for s in ItemStatus}, score=report.score,
                           chart=trend_chart(report) if fmt == "html" else "", preview=preview)


def write_report(report: ComplianceReport, out_dir: Path, formats: Iterable[str] = REPORT_FORMATS,
                 preview: bool = False) -> dict[str, Path]:
    """Write the report files; a file whose text is unchanged is left untouched (same mtime)."""
    written = {}
    for fmt in formats:
        path = out_dir / report_file_name(report.period, fmt)
        write_if_changed(path, render(report, fmt, preview).encode("utf-8"))
        written[fmt] = path
    return written


def items_note(report: ComplianceReport) -> str:
    """Every item's status this month and its last month online, with the reason when it is not
    published: what the catalog says about items that have no dataset (one paragraph per item)."""
    lines = [f"Estado de los puntos de transparencia en el informe de {report.period.label_es} "
             f"({count(len(report.items), 'punto')}):"]
    lines += [f"- {_item_line(item)}" for item in report.items]
    return "\n\n".join(lines)


def _item_line(item: ItemReport) -> str:
    if item.kind == ItemKind.DOCUMENT.value:
        online = f"documento actualizado el {item.last_update}" if item.last_update else "sin fecha de actualización"
    else:
        online = ("último mes en línea: " + Period.parse(item.last_online).label_es if item.last_online
                  else "ningún mes en línea")
    line = f"{item.code} {item.name}: {item.status.label} ({online})."
    return line if item.fulfilled or not item.detail else f"{line} Motivo: {item.detail}"


def report_dataset(report: ComplianceReport, organization: str, license_id: str,
                   maintainer: str | None = None, maintainer_email: str | None = None) -> DatasetSpec:
    """The dataset "Informe de cumplimiento de transparencia" that carries one report per month."""
    return DatasetSpec(
        name=report_dataset_name(report.acronym),
        title=REPORT_TITLE,
        notes=(f"Estado mensual de los puntos obligatorios de transparencia (Ley 6 de 2002) de "
               f"{report.institution}: qué se publicó, qué se rechazó por errores, qué falta y qué "
               f"documentos están vencidos. Cada mes, el informe en HTML, JSON y Markdown y como tabla CSV (un punto "
               f"por fila), con un CSV histórico de todos los meses y un paquete de datos Frictionless "
               f"(datapackage.json) que describe sus columnas.\n\n{items_note(report)}"),
        organization=organization,
        publisher_name=report.institution,
        license_id=license_id,
        tags=(*BASE_TAGS, REPORT_TAG),
        maintainer=maintainer,
        maintainer_email=maintainer_email,
        frequency=Frequency.MONTHLY,
        legal_basis=LEGAL_BASIS,
        kind=REPORT_KIND,
    )


def report_resources(report: ComplianceReport, paths: dict[str, Path]) -> list[ResourceFile]:
    """One resource per written format, named by month so earlier months' reports stay.

    Each carries the month's points in its metadata (``report_points``), so a national monitor
    reads every institution's score from one search of the portal instead of a download each."""
    return [
        ResourceFile(
            name=compliance_resource_name(report.period, OutputFormat(fmt)),
            format=OutputFormat(fmt),
            path=path,
            sha256=sha256_file(path),
            description=(f"Informe de cumplimiento de {report.period.label_es}: {report.headline} "
                         f"({report.score.percentage} % en la escala de ANTAI: {report.score.band.label})."),
            period=report.period,
            extras=report_points(report),
        )
        for fmt, path in paths.items()
    ]


def report_points(report: ComplianceReport) -> dict[str, str]:
    """The resource metadata that summarises the month: institution, points met and applicable, items not met."""
    values = (report.institution, str(report.fulfilled), str(len(report.applicable)),
              " ".join(i.code for i in report.items if i.status.missing),
              " ".join(i.code for i in report.items if i.status.outdated),
              " ".join(i.code for i in report.items if i.status.rejected))
    return dict(zip(REPORT_POINT_KEYS, values, strict=True))


def load_report(path: Path) -> ComplianceReport:
    return ComplianceReport.from_dict(json.loads(path.read_text(encoding="utf-8")))
