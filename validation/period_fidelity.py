"""Does a file or a query result belong to the month being released?

Files rarely carry a period column, so the run's period fills ``periodo``: a February file dropped
into January's inbox would otherwise be stamped ``2025-01`` and published as January, and the
history would count every February row twice once February is published too. Before the rows are
validated, the evidence the source itself carries is weighed:

  dates     the item's period-bound fields (``date_in_period`` rules with ``relation: within``,
            e.g. a trip's departure date): the month most of them fall in (from three dates on)
  periodo   a period column the source brought itself
  title     month names (and AAAA-MM) in the rows above the header ("PLANILLA DE FEBRERO 2025")
  name      month names and AAAA-MM / AAAAMM in the file name
  sheet     month names, abbreviated too ("FEB 2025"), and AAAA-MM in the sheet's name

Dates and a period column are strong evidence; title, file and sheet name are weak. Strong evidence of
another month is a blocking error naming it. Weak evidence of another month blocks too, unless the
strong evidence says the rows are of the period (then it is a warning: the name is wrong, not the
data).

The second check is across months: an item whose rows are events dated inside their month (its
natural key, the ``primaryKey`` without ``periodo``, includes a period-bound date) cannot have
the same row published in two months; such a row is an error naming the month that has it.
Items that repeat every month by nature (a payroll: the same employee and post) are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np
import pandas as pd

from transparencia.domain import Period, Severity
from transparencia.domain.period import months_named
from transparencia.schemas.table import TableSchema
from transparencia.sources.extraction import Extraction
from transparencia.validation.findings import Finding, render_message
from transparencia.validation.hits import Hits

_NUMBERED_MONTH = re.compile(r"(?<!\d)(20\d{2})[-_.]?(0[1-9]|1[0-2])(?!\d)(?![-/.]\d)")
MIN_DATES = 3  # fewer dated rows say too little: a single trip may rightly start the month before


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence about the source's month."""

    period: Period  # the month it points to
    text: str  # Spanish, e.g. "40 de 40 fechas de salida caen en febrero"
    strong: bool
    column: str | None = None


def period_bound_fields(schema: TableSchema) -> list[str]:
    """Date fields every row's value must fall inside its month (``date_in_period`` ``within``)."""
    return [r.params["field"] for r in schema.rules
            if r.check == "date_in_period" and r.params.get("relation", "within") == "within"
            and r.params.get("field") in schema.field_names]


# --------------------------------------------------------------------------- evidence


def _date_evidence(frame: pd.DataFrame, schema: TableSchema) -> list[Evidence]:
    found = []
    for name in period_bound_fields(schema):
        if name not in frame or not pd.api.types.is_datetime64_any_dtype(frame[name]):
            continue
        months = frame[name].dropna().dt.strftime("%Y-%m")
        if months.empty:
            continue
        counts = months.value_counts()
        top, top_count = str(counts.index[0]), int(counts.iloc[0])
        if top_count * 2 > len(months) and top_count >= MIN_DATES:
            what = _plural_title(schema.field(name).title)
            month = Period.parse(top)
            text = f"{top_count} de {len(months)} {what} caen en {month.month_name}"
            found.append(Evidence(month, text, strong=True, column=name))
    return found


def _plural_title(title: str) -> str:
    """'Fecha de salida' -> 'fechas de salida' (the titles of period-bound fields are dates)."""
    first, _, rest = title.lower().partition(" ")
    plural = first + ("es" if first.endswith(("n", "l", "r", "d")) else "s")
    return f"{plural} {rest}".strip()


def _column_evidence(extraction: Extraction) -> list[Evidence]:
    """The source's own period column (not one the run filled)."""
    frame = extraction.frame
    if "periodo" not in extraction.column_map or "periodo" not in frame:
        return []
    values = frame["periodo"].dropna().astype(str)
    if values.empty:
        return []
    counts = values.value_counts()
    top, top_count = str(counts.index[0]), int(counts.iloc[0])
    numbered = _NUMBERED_MONTH.fullmatch(top)
    if top_count * 2 <= len(values) or not numbered:
        return []
    header = extraction.column_map["periodo"]
    text = f"{top_count} de {len(values)} filas dicen {top} en la columna '{header}'"
    return [Evidence(Period(int(numbered.group(1)), int(numbered.group(2))), text, strong=True, column="periodo")]


def _text_evidence(extraction: Extraction, period: Period) -> list[Evidence]:
    if extraction.source.kind != "file":
        return []
    found = []
    name = PurePath(extraction.source.location).name
    named = _one_month(re.sub(r"[_\-.]+", " ", PurePath(name).stem) + " " + PurePath(name).stem, period.year)
    if named:
        found.append(Evidence(named, f"el nombre del archivo '{name}' dice {named.label_es}", strong=False))
    for line in extraction.banner:
        named = _one_month(line, period.year)
        if named:
            found.append(Evidence(named, f"el título dice '{line}'", strong=False))
            break
    sheet = extraction.source.sheet
    named = _one_month(sheet, period.year, abbreviated=True) if sheet else None
    if named:
        found.append(Evidence(named, f"la hoja se llama '{sheet}'", strong=False))
    return found


def _one_month(text: str, year: int, abbreviated: bool = False) -> Period | None:
    """The month a text names, when it names exactly one."""
    named = months_named(text, year, abbreviated)
    return Period.parse(next(iter(named))) if len(named) == 1 else None


def evidence(extraction: Extraction, schema: TableSchema, period: Period) -> list[Evidence]:
    """Every piece of evidence the source carries about its month, strongest first."""
    return [*_date_evidence(extraction.frame, schema), *_column_evidence(extraction),
            *_text_evidence(extraction, period)]


def period_findings(extraction: Extraction, schema: TableSchema, period: Period | None) -> list[Finding]:
    """A blocking error when the source looks like another month's; a warning when only its name or
    title says another month while its dates say this one."""
    if period is None:
        return []
    pieces = evidence(extraction, schema, period)
    elsewhere = [e for e in pieces if e.period != period]
    if not elsewhere:
        return []
    confirmed = any(e.strong and e.period == period for e in pieces)
    strong = [e for e in elsewhere if e.strong]
    source = extraction.source
    subject = "el archivo" if source.kind == "file" else "el resultado de la consulta"
    if strong or not confirmed:
        claimed = (strong or elsewhere)[0].period
        shown = "; ".join(e.text for e in elsewhere if e.period == claimed)
        message = render_message("period-evidence", subject=subject.capitalize(), month=claimed.label_es,
                                 evidence=shown, period=period.label_es)
        column = (strong or elsewhere)[0].column
        return [Finding("period-evidence", Severity.ERROR, message, column, None, str(claimed), source.location,
                        source.sheet)]
    first = elsewhere[0]
    message = render_message("period-hint", evidence=first.text[0].upper() + first.text[1:],
                             period=period.label_es)
    return [Finding("period-hint", Severity.WARNING, message, None, None, str(first.period), source.location,
                    source.sheet)]


# --------------------------------------------------------------------------- across months


def natural_key(schema: TableSchema) -> list[str]:
    """The primary key without ``periodo``, when it identifies an event dated inside its month
    (it includes a period-bound date); empty when rows may rightly repeat month after month."""
    key = [k for k in schema.primary_key if k != "periodo"]
    return key if set(key) & set(period_bound_fields(schema)) else []


def cross_month_hits(frame: pd.DataFrame, schema: TableSchema, period: Period | None,
                     published: Mapping[str, pd.DataFrame]) -> list[Hits]:
    """Rows whose natural key is already published in another month (``published``: month -> rows)."""
    key = natural_key(schema)
    if not key or period is None or frame.empty:
        return []
    mine = pd.MultiIndex.from_frame(frame[key].astype(object))
    month_of = np.full(len(frame), "", dtype=object)
    for other, rows in sorted(published.items()):
        if Period.parse(other) == period or rows.empty or not set(key) <= set(rows.columns):
            continue
        seen = mine.isin(pd.MultiIndex.from_frame(rows[key].astype(object)))
        month_of[seen & (month_of == "")] = Period.parse(other).label_es
    hit = month_of != ""
    if not hit.any():
        return []
    values = [tuple(row) for row in frame.loc[hit, key].itertuples(index=False, name=None)]
    titles = ", ".join(schema.field(k).title for k in key)
    return [Hits("cross-month-duplicate", Severity.ERROR, ", ".join(key), frame.index.to_numpy()[hit], values,
                 {"key": titles}, {"published": month_of[hit]})]
