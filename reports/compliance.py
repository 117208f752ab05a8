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

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader

from transparencia.domain import Frequency, ItemStatus, OutputFormat, Period, sha256_file
from transparencia.publishers.base import DatasetSpec, ResourceFile
from transparencia.wording import count

REPORT_FORMATS = tuple(OutputFormat.report_formats())
REPORT_TAG = "cumplimiento"  # with the extra ``tipo``, how the national monitor finds reports on a portal
REPORT_KIND = "informe-cumplimiento"
_TEMPLATES = Path(__file__).parent / "templates"


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
    detail: str = ""  # Spanish: why missing, why stale, why it does not apply
    findings: list[dict[str, Any]] = field(default_factory=list)  # Finding.to_dict()

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


@dataclass
class ComplianceReport:
    institution: str
    acronym: str
    period: str
    items: list[ItemReport]

    @property
    def applicable(self) -> list[ItemReport]:
        return [i for i in self.items if i.status.applicable]

    @property
    def fulfilled(self) -> int:
        return sum(1 for i in self.applicable if i.fulfilled)

    @property
    def headline(self) -> str:
        return f"{self.fulfilled} de {len(self.applicable)} puntos cumplidos"

    def count(self, status: ItemStatus) -> int:
        return sum(1 for i in self.items if i.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "institution": self.institution,
            "acronym": self.acronym,
            "period": self.period,
            "summary": {
                "headline": self.headline,
                "fulfilled": self.fulfilled,
                "applicable": len(self.applicable),
                "total": len(self.items),
                "by_status": {s.value: self.count(s) for s in ItemStatus},
            },
            "items": [i.to_dict() for i in self.items],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComplianceReport:
        keep = set(ItemReport.__dataclass_fields__)
        items = [ItemReport(**{k: v for k, v in raw.items() if k in keep}) for raw in data["items"]]
        return cls(data["institution"], data["acronym"], data["period"], items)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=lambda name: bool(name) and ".html" in name,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["STATUS_LABELS"] = {status: status.label for status in ItemStatus}
    env.filters["link"] = link
    env.filters["count"] = count
    return env


def link(url: str) -> str:
    """An item's link as the published report needs it: a portal's address as is; a local catalog's
    (relative to the catalog root) reached from the report's own folder, two levels down."""
    return url if "://" in url or url.startswith("/") else f"../../{url}"


def render(report: ComplianceReport, fmt: str) -> str:
    """The report as text in one of ``REPORT_FORMATS``."""
    if fmt == "json":
        return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    template = _environment().get_template(f"compliance.{fmt}.j2")
    return template.render(report=report, period_text=Period.parse(report.period).label_es,
                           counts={s: report.count(s) for s in ItemStatus})


def write_report(report: ComplianceReport, out_dir: Path, formats: Iterable[str] = REPORT_FORMATS) -> dict[str, Path]:
    """Write the report files; a file whose text is unchanged is left untouched (same mtime)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for fmt in formats:
        path = out_dir / f"informe-cumplimiento-{report.period}.{fmt}"
        text = render(report, fmt)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written[fmt] = path
    return written


def report_dataset(report: ComplianceReport, organization: str, license_id: str,
                   maintainer: str | None = None, maintainer_email: str | None = None) -> DatasetSpec:
    """The dataset "Informe de cumplimiento de transparencia" that carries one report per month."""
    return DatasetSpec(
        name=f"{report.acronym.lower()}-informe-cumplimiento",
        title="Informe de cumplimiento de transparencia",
        notes=(f"Estado mensual de los puntos obligatorios de transparencia (Ley 6 de 2002) de "
               f"{report.institution}: qué se publicó, qué se rechazó por errores, qué falta y qué "
               f"documentos están vencidos."),
        organization=organization,
        license_id=license_id,
        tags=("transparencia", REPORT_TAG, "ley-6-de-2002"),
        maintainer=maintainer,
        maintainer_email=maintainer_email,
        extras={"frecuencia": "mensual", "base legal": "Ley 6 de 2002", "tipo": REPORT_KIND},
    )


def report_resources(report: ComplianceReport, paths: dict[str, Path]) -> list[ResourceFile]:
    """One resource per written format, named by month so earlier months' reports stay."""
    return [
        ResourceFile(
            name=f"Informe de cumplimiento {report.period} ({OutputFormat(fmt).label})",
            format=OutputFormat(fmt).label,
            path=path,
            sha256=sha256_file(path),
            description=f"Informe de cumplimiento de {Period.parse(report.period).label_es}: {report.headline}.",
            period=report.period,
        )
        for fmt, path in paths.items()
    ]


def load_report(path: Path) -> ComplianceReport:
    return ComplianceReport.from_dict(json.loads(path.read_text(encoding="utf-8")))
