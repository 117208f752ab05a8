"""Punctuality across months: which directorates sent their files on time, late, or not at all.

The archive records when each input arrived (``sources.archive.arrivals``); the release schedule
sets each month's deadline (``domain.schedule``). This module puts the two side by side for the
last 12 months, one row per directorate that sends files, as a typed table first; the officer's
internal report and the run's Prefect artifact are renderings of it. It is internal: it names
directorates and when their files arrived, so it is never written among the published files.

Decisions: a directorate's month is *on time* when every file it sent had first arrived before the
deadline (a corrected revision of the same file keeps the first arrival), *late* when one arrived
after it, and *missing* when nothing arrived although the month was run; a month no run read is
shown as such, not as missing. Directorates whose data is read from a database send nothing, so
they have no row.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transparencia.domain import Period, Workspace, write_if_changed
from transparencia.domain.vocab import Arrival
from transparencia.sources.archive import arrivals
from transparencia.sources.config import InstitutionConfig
from transparencia.sources.registry import FileSettings

MONTHS = 12
TITLE = "Puntualidad de las direcciones"


@dataclass(frozen=True)
class MonthArrival:
    """One directorate's month: its status and, when its files arrived, when the last of them did."""

    period: Period
    status: Arrival
    arrived_at: dt.datetime | None = None  # aware, in the schedule's time zone

    @property
    def label(self) -> str:
        """'a tiempo', 'tarde (07/02 10:30)', 'no llegó', 'sin ejecución'."""
        if self.status is Arrival.LATE and self.arrived_at is not None:
            return f"{self.status.label} ({self.arrived_at:%d/%m %H:%M})"
        return self.status.label


@dataclass(frozen=True)
class DirectoratePunctuality:
    directorate: str  # id
    name: str
    months: tuple[MonthArrival, ...]  # oldest first, one per period of the table

    def count(self, status: Arrival) -> int:
        return sum(m.status is status for m in self.months)


@dataclass(frozen=True)
class PunctualityTable:
    institution: str
    periods: tuple[Period, ...]  # oldest first
    rows: tuple[DirectoratePunctuality, ...]

    def table_rows(self) -> list[dict[str, Any]]:
        """One dict per directorate (its months, then the counts), as a table artifact takes them."""
        return [{"Dirección": row.name, **{str(m.period): m.label for m in row.months},
                 **{status.label.capitalize(): row.count(status) for status in COUNTED}} for row in self.rows]

    def markdown(self) -> str:
        """The table in Markdown, for the officer's internal report."""
        rows = self.table_rows()
        if not rows:
            return f"## {TITLE}\n\nNinguna dirección envía archivos: no hay puntualidad que medir.\n"
        columns = list(rows[0])
        lines = [f"## {TITLE} ({self.periods[0]} a {self.periods[-1]})", "",
                 "Cada mes, frente al plazo de entrega (la publicación programada): a tiempo, tarde (con la "
                 "llegada del último archivo) o no llegó.", "",
                 "| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
        lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"institution": self.institution, "periods": [str(p) for p in self.periods],
                "directorates": [{"id": row.directorate, "name": row.name,
                                  "months": [{"period": str(m.period), "status": m.status.value,
                                              "arrived_at": None if m.arrived_at is None else m.arrived_at.isoformat()}
                                             for m in row.months]} for row in self.rows]}


COUNTED = (Arrival.ON_TIME, Arrival.LATE, Arrival.MISSING)


def punctuality_table(config: InstitutionConfig, period: Period, months: int = MONTHS) -> PunctualityTable:
    """The ``months`` months up to ``period`` for every directorate that sends files."""
    periods = tuple(period.shift(offset) for offset in range(1 - months, 1))
    senders = [d for d in config.directorates if any(isinstance(s.settings, FileSettings) for s in d.sources)]
    by_month = {p: arrivals(config.workspace, p) for p in periods}
    rows = tuple(DirectoratePunctuality(d.id, d.name, tuple(_month(config, p, by_month[p], d.id) for p in periods))
                 for d in senders)
    return PunctualityTable(config.institution.name, periods, rows)


def _month(config: InstitutionConfig, period: Period, arrived: dict[str, list[dt.datetime]] | None,
           directorate: str) -> MonthArrival:
    if arrived is None:
        return MonthArrival(period, Arrival.NOT_RUN)
    times = arrived.get(directorate)
    if not times:
        return MonthArrival(period, Arrival.MISSING)
    deadline = config.schedule.deadline(period)
    last = max(times).astimezone(deadline.moment.tzinfo)
    return MonthArrival(period, Arrival.LATE if deadline.missed_by(last) else Arrival.ON_TIME, last)


def write_punctuality(table: PunctualityTable, workspace: Workspace) -> dict[str, Path]:
    """The officer's internal copy, Markdown and JSON, under ``interno/`` (never among published files)."""
    period = table.periods[-1]
    texts = {"md": table.markdown(), "json": json.dumps(table.to_dict(), ensure_ascii=False, indent=2) + "\n"}
    paths = {}
    for fmt, text in texts.items():
        paths[fmt] = workspace.internal_report(period, f"puntualidad-{period}.{fmt}")
        write_if_changed(paths[fmt], text.encode("utf-8"))
    return paths
