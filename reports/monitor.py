"""The national monitor: every institution's month in one table, ranked and grouped in ANTAI's bands.

The table is built from the compliance reports institutions published (``reports.portal``). Its
rules, each a promise to the reader:

* every organization of the portal is a row: one with no report for the month counts as 0 %
  "sin informe", never skipped, so the percentages of the summary are over all institutions;
* the score is read from the report file itself, never from the portal's metadata, which is an
  index only: a file that does not match the sha256 its metadata records, or whose metadata
  claims other points than the file says, is untrustworthy;
* a report that cannot be read or trusted (a download failure, not JSON, a report of another
  month, fields missing, a sha256 or points mismatch) also counts as 0 %, with the reason shown,
  so nobody's score is guessed and nobody inflates it by editing a field;
* reports of earlier versions are read from what they have: the summary's points when present,
  else the items' statuses;
* the change is in percentage points against the previous month's report, empty when there was
  none to compare with.

Like the institution's report, the output is a pure function of the reports read (no generation
time), so re-running an unchanged month writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from transparencia.domain import Frequency, ItemStatus, OutputFormat, Period, sha256_file, write_if_changed
from transparencia.domain.jsontypes import JsonObject
from transparencia.output import charts, templates
from transparencia.output.csvfile import csv_text
from transparencia.publishers.base import BASE_TAGS, LEGAL_BASIS, DatasetSpec, ResourceFile
from transparencia.publishers.names import MONITOR_KIND, monitor_dataset_name, monitor_resource_name
from transparencia.reports.antai import RANGES, AntaiBand, AntaiScore
from transparencia.reports.portal import Organization, PublishedReport
from transparencia.wording import count

# How another institution's report statuses count (JSON text, any version of the tool).
FULFILLED = {s for s in ItemStatus if s.fulfilled}

CON_INFORME = "con-informe"
SIN_INFORME = "sin-informe"
ILEGIBLE = "informe-ilegible"
REPORT_STATES = {CON_INFORME: "Con informe", SIN_INFORME: "Sin informe", ILEGIBLE: "Informe ilegible"}
POINTS = 24  # ANTAI's mandatory points: the denominator of an institution that published nothing
MONITOR_FORMATS = ("csv", "json", "html", "md")
_TEMPLATES = Path(__file__).parent / "templates"


class UnreadableReport(ValueError):
    """A published report the monitor cannot score; the message (Spanish) says why."""


@dataclass(frozen=True)
class ReportReading:
    """What the monitor takes from one report: the score and the items not met."""

    institution: str | None
    score: AntaiScore
    missing: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    outdated: tuple[str, ...] = ()  # documents online but not updated in time (vencidos)


@dataclass
class InstitutionRow:
    organization: str
    institution: str
    state: str  # CON_INFORME | SIN_INFORME | ILEGIBLE
    score: AntaiScore
    missing: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    outdated: tuple[str, ...] = ()
    previous: int | None = None  # last month's percentage, when a report was read
    note: str = ""
    rank: int = 0

    @property
    def band(self) -> AntaiBand:
        return self.score.band

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.score.percentage - self.previous

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank, "institution": self.institution, "organization": self.organization,
            "report": self.state, "report_label": REPORT_STATES[self.state],
            "met": self.score.met, "applicable": self.score.applicable, "percentage": self.score.percentage,
            "band": self.band.value, "band_label": self.band.label,
            "missing": list(self.missing), "outdated": list(self.outdated), "rejected": list(self.rejected),
            "previous_percentage": self.previous, "change": self.change, "note": self.note,
        }


@dataclass
class NationalTable:
    period: Period
    rows: list[InstitutionRow] = field(default_factory=list)

    @property
    def without_report(self) -> int:
        return sum(1 for r in self.rows if r.state == SIN_INFORME)

    @property
    def unreadable(self) -> list[InstitutionRow]:
        return [r for r in self.rows if r.state == ILEGIBLE]

    def count(self, band: AntaiBand) -> int:
        return sum(1 for r in self.rows if r.band is band)

    def share(self, band: AntaiBand) -> int:
        """Whole percentage of institutions in ``band``, rounded half up like ANTAI's figures."""
        return int(Fraction(100 * self.count(band), len(self.rows)) + Fraction(1, 2)) if self.rows else 0

    def bands(self) -> list[dict[str, Any]]:
        return [{"band": b.value, "label": b.label, "low": RANGES[b][0], "high": RANGES[b][1], "count": self.count(b),
                 "share": self.share(b)} for b in AntaiBand]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": str(self.period),
            "institutions": len(self.rows),
            "without_report": self.without_report,
            "unreadable": len(self.unreadable),
            "bands": self.bands(),
            "ranking": [r.to_dict() for r in self.rows],
        }


# --------------------------------------------------------------------------- reading one report


def read_report(data: JsonObject, period: Period) -> ReportReading:
    """Score one report's JSON, tolerating earlier versions; ``UnreadableReport`` says what is wrong."""
    stated = data.get("period")
    if stated is not None and stated != str(period):
        raise UnreadableReport(f"el informe dice ser del período '{stated}', no de {period}")
    items = data.get("items")
    items = items if isinstance(items, list) else None
    score = _summary_score(data.get("summary")) or (_items_score(items) if items is not None else None)
    if score is None:
        raise UnreadableReport("faltan los campos 'summary' (puntos cumplidos) e 'items' (estado de cada punto)")
    institution = data.get("institution") if isinstance(data.get("institution"), str) else None
    return ReportReading(institution, score, _codes(items, lambda s: s.missing), _codes(items, lambda s: s.rejected),
                         _codes(items, lambda s: s.outdated))


def check_claims(reading: ReportReading, points: dict[str, str]) -> None:
    """The resource's point metadata must say what its report file says: any editable field that
    disagrees (``puntos_cumplidos`` patched to 24) makes the report untrustworthy, never the score."""
    claimed = (points.get("puntos_cumplidos"), points.get("puntos_aplicables"))
    found = (str(reading.score.met), str(reading.score.applicable))
    if any(value is not None and value != actual for value, actual in zip(claimed, found, strict=True)):
        raise UnreadableReport(f"los metadatos del recurso dicen {claimed[0]} de {claimed[1]} puntos, pero el "
                               f"informe publicado dice {found[0]} de {found[1]}; no se puede confiar en él")


def _summary_score(summary: Any) -> AntaiScore | None:
    if not isinstance(summary, dict):
        return None
    met, applicable = summary.get("fulfilled"), summary.get("applicable")
    if not (isinstance(met, int) and isinstance(applicable, int)):
        return None
    try:
        return AntaiScore(met, applicable)
    except ValueError as error:
        raise UnreadableReport(f"puntos incoherentes en 'summary': {met} cumplidos de {applicable}") from error


def _items_score(items: list[Any]) -> AntaiScore:
    statuses = [_status(item) for item in items]
    applicable = [s for s in statuses if s != ItemStatus.NOT_APPLICABLE]
    return AntaiScore(sum(1 for s in applicable if s in FULFILLED), len(applicable))


def _status(item: Any) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("status"), str):
        raise UnreadableReport("un punto de 'items' no tiene 'status'")
    return item["status"]


def _codes(items: list[Any] | None, grouped: Callable[[ItemStatus], bool]) -> tuple[str, ...]:
    """The codes of the items whose status is in the group (an unknown status is in none)."""
    if not items:
        return ()
    return tuple(str(i.get("code")) for i in items if isinstance(i, dict) and _in_group(i.get("status"), grouped))


def _in_group(value: Any, grouped: Callable[[ItemStatus], bool]) -> bool:
    try:
        return grouped(ItemStatus(value))
    except ValueError:
        return False


# --------------------------------------------------------------------------- the table


def build_table(period: Period, previous: Period, organizations: Iterable[Organization],
                reports: Iterable[PublishedReport]) -> NationalTable:
    """One row per report dataset, plus one "sin informe" row per organization that has none."""
    rows = []
    reporting = set()
    for report in reports:
        reporting.add(report.organization.name)
        rows.append(_row(report, period, previous))
    rows += [InstitutionRow(o.name, o.title, SIN_INFORME, AntaiScore(0, POINTS),
                            note="La organización no tiene informe de cumplimiento publicado.")
             for o in organizations if o.name not in reporting]
    return NationalTable(period, _ranked(rows))


def _row(report: PublishedReport, period: Period, previous: Period) -> InstitutionRow:
    org = report.organization
    row = InstitutionRow(org.name, org.title, SIN_INFORME, AntaiScore(0, POINTS),
                         note=f"No publicó el informe de {period.label_es}.")
    before = _reading(report, previous)
    if isinstance(before, ReportReading):
        row.previous = before.score.percentage
        row.institution = before.institution or row.institution
    now = _reading(report, period)
    if now is None:
        return row
    if isinstance(now, str):
        row.state, row.note = ILEGIBLE, f"No se pudo leer el informe: {now}."
        return row
    row.state, row.note = CON_INFORME, ""
    row.institution = now.institution or row.institution
    row.score, row.missing, row.rejected, row.outdated = now.score, now.missing, now.rejected, now.outdated
    return row


def _reading(report: PublishedReport, period: Period) -> ReportReading | str | None:
    """The month's reading, the reason it could not be read, or None when there is no report."""
    try:
        if period in report.contents:
            reading = read_report(report.contents[period], period)
            check_claims(reading, report.points.get(period, {}))
            return reading
    except UnreadableReport as error:
        return str(error)
    return report.problems.get(period)


def _ranked(rows: list[InstitutionRow]) -> list[InstitutionRow]:
    """Highest percentage first, ties share a position (1, 2, 2, 4), names in alphabetical order."""
    rows = sorted(rows, key=lambda r: (-r.score.fraction, r.institution.casefold(), r.organization))
    for index, row in enumerate(rows):
        tied = index and rows[index - 1].score.percentage == row.score.percentage
        row.rank = rows[index - 1].rank if tied else index + 1
    return rows


# --------------------------------------------------------------------------- rendering


CSV_COLUMNS = ("posicion", "institucion", "organizacion", "informe", "puntos_cumplidos", "puntos_aplicables",
               "porcentaje", "banda", "puntos_faltantes", "puntos_vencidos", "puntos_rechazados",
               "variacion_puntos_porcentuales",
               "nota")


def render_csv(table: NationalTable) -> str:
    rows = [[r.rank, r.institution, r.organization, REPORT_STATES[r.state], r.score.met, r.score.applicable,
             r.score.percentage, r.band.label, " ".join(r.missing), " ".join(r.outdated), " ".join(r.rejected),
             "" if r.change is None else r.change, r.note] for r in table.rows]
    return csv_text([CSV_COLUMNS, *rows])


def _signed(value: float | None) -> str:
    return "—" if value is None else (f"+{value}" if value > 0 else str(value))


def render(table: NationalTable, fmt: str) -> str:
    if fmt == "csv":
        return render_csv(table)
    if fmt == "json":
        return json.dumps(table.to_dict(), ensure_ascii=False, indent=2) + "\n"
    period_text = table.period.label_es
    environment = templates.environment(_TEMPLATES, filters={"signed": _signed, "count": count})
    template = environment.get_template(f"monitor.{fmt}.j2")
    return template.render(table=table, period_text=period_text, bands=table.bands(),
                           chart=band_chart(table, period_text), AntaiBand=AntaiBand, REPORT_STATES=REPORT_STATES,
                           without_report=table.without_report)


def band_chart(table: NationalTable, period_text: str) -> str:
    """The static SVG bar chart: one horizontal bar per band, in ANTAI's palette, scaled to the largest."""
    bars = [charts.Bar(b["label"], b["count"], f"{b['count']} ({b['share']} %)", charts.ANTAI_COLORS[b["band"]],
                       b["band"]) for b in table.bands()]
    return charts.horizontal_bars(f"Instituciones por banda de cumplimiento, {period_text}", bars)


def file_name(period: Period, fmt: str) -> str:
    return f"monitoreo-nacional-{period}.{fmt}"


def write_table(table: NationalTable, out_dir: Path, formats: Iterable[str] = MONITOR_FORMATS) -> dict[str, Path]:
    """Write the table's files; a file whose text is unchanged is left untouched."""
    written = {}
    for fmt in formats:
        path = out_dir / file_name(table.period, fmt)
        write_if_changed(path, render(table, fmt).encode("utf-8"))
        written[fmt] = path
    return written


def monitor_dataset(organization: str, license_id: str = "cc-zero") -> DatasetSpec:
    """The dataset that carries one national table per month (never tagged as a compliance report)."""
    return DatasetSpec(
        name=monitor_dataset_name(organization),
        title="Monitoreo nacional de transparencia",
        notes=("Cumplimiento mensual de los 24 puntos de transparencia de la Ley 6 de 2002 por institución, "
               "calculado a partir de los informes de cumplimiento publicados en el portal; las instituciones "
               "sin informe del mes cuentan con 0 %."),
        organization=organization, license_id=license_id,
        tags=(*BASE_TAGS, MONITOR_KIND),
        frequency=Frequency.MONTHLY, legal_basis=LEGAL_BASIS, kind=MONITOR_KIND,
    )


def monitor_resources(table: NationalTable, paths: dict[str, Path]) -> list[ResourceFile]:
    full = table.count(AntaiBand.FULL)
    return [
        ResourceFile(name=monitor_resource_name(table.period, OutputFormat(fmt)), format=OutputFormat(fmt), path=path,
                     sha256=sha256_file(path), period=Period.parse(table.period),
                     description=(f"Monitoreo nacional de {Period.parse(table.period).label_es}: {full} de "
                                  f"{count(len(table.rows), 'institución')} {'cumple' if full == 1 else 'cumplen'} "
                                  "con el 100 %."))
        for fmt, path in paths.items()
    ]
