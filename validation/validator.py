"""``validate``: one item's extraction against its schema, as a ``ValidationReport``.

Findings come from seven places: whether the source belongs to the period at all
(``period_fidelity``), values the extractor could not convert, required columns the source lacks,
the GX suite generated from the schema, the schema's row rules, rows whose ``periodo`` is not the
period being validated, and rows already published in another month.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from transparencia.domain import YEARMONTH_PATTERN, Period, Severity
from transparencia.schemas.catalog import Item
from transparencia.schemas.table import TableSchema
from transparencia.sources.extraction import Extraction
from transparencia.sources.workbook import column_letters
from transparencia.validation.expectations import run_suite
from transparencia.validation.findings import Finding, ValidationReport, render_message
from transparencia.validation.hits import Hits, to_findings
from transparencia.validation.period_fidelity import cross_month_hits, period_findings
from transparencia.validation.rules import run_rules

PERIOD = re.compile(YEARMONTH_PATTERN)


def validate(extraction: Extraction, item: Item, period: Period | str | None = None,
             published: Mapping[str, pd.DataFrame] | None = None) -> ValidationReport:
    """Validate an extraction of ``item`` for ``period`` (YYYY-MM; inferred from ``periodo`` if None).

    ``published`` holds the item's months already published (month -> rows, at least the natural
    key's columns), so that a row published in another month is caught before it counts twice."""
    schema = item.table_schema()
    schema.check_rules()
    frame = extraction.frame
    month = Period.parse(period) if period is not None else infer_period(frame)
    source = extraction.source
    findings = period_findings(extraction, schema, month)
    findings += [_missing_column(schema, column, source.location, source.sheet)
                 for column in extraction.missing_columns if _is_required(schema, column)]
    hits = _failure_hits(extraction, schema)
    hits += _without_failed_cells(_without_missing_columns(run_suite(frame, schema), extraction), extraction)
    hits += _unless_another_month(run_rules(frame, schema, month), findings)
    hits += _period_hits(frame, month)
    hits += cross_month_hits(frame, schema, month, published or {})
    for group in hits:
        findings += to_findings(group, source.location, source.sheet)
    findings += _emptiness(extraction, item)
    return ValidationReport(
        item=item.code, item_name=item.name, file=source.location, sheet=source.sheet,
        rows=len(frame), period=month, findings=[_located(f, extraction) for f in findings], extraction=extraction.summary(), source=source,
    )


def _located(finding: Finding, extraction: Extraction) -> Finding:
    """The finding naming the directorate's own header and cell, as it finds them in its file
    (a query's column by name only: a query has no cells)."""
    names = [c.strip() for c in (finding.column or "").split(",") if c.strip() in extraction.column_map]
    if not names:
        return finding
    header = ", ".join(extraction.column_map[n] for n in names)
    number = next((extraction.column_numbers[n] for n in names if n in extraction.column_numbers), None)
    cell = None if number is None or finding.row is None else f"{column_letters(number)}{finding.row}"
    return finding.located(header, cell)


def _unless_another_month(hits: list[Hits], findings: list[Finding]) -> list[Hits]:
    """A file refused as another month's is said so once: its dates falling outside the month are
    that month-level error's evidence, not one more finding per row."""
    if not any(f.rule == "period-evidence" and f.severity == Severity.ERROR for f in findings):
        return hits
    return [h for h in hits if h.rule != "date-in-period"]


def _emptiness(extraction: Extraction, item: Item) -> list[Finding]:
    """An empty month is valid only when declared, and never for items that always have rows."""
    rows, where = extraction.rows, extraction.declared_empty
    if rows and where is None:
        return []
    if rows:
        rule, severity, params = "declared-empty-with-rows", Severity.ERROR, {"where": where, "rows": rows}
    elif item.table_schema().empty_month == "never":
        declared = f" (aunque se declaró sin movimientos {where})" if where else ""
        rule, severity, params = "empty-month-never", Severity.ERROR, {"title": f"«{item.name}»", "declared": declared}
    elif where is None:
        rule, severity, params = "empty-month", Severity.ERROR, {}
    else:
        rule, severity, params = "declared-empty", Severity.INFO, {"where": where}
    dropped = sorted({d.reason for d in extraction.dropped if d.reason != "blank"})
    only = f" (solo {', '.join(DROPPED_LABELS.get(r, r) for r in dropped)})" if dropped else ""
    source = extraction.source
    return [Finding(rule, severity, render_message(rule, only=only, **params), None, None, None,
                    source.location, source.sheet)]


DROPPED_LABELS = {"total": "totales", "repeated_header": "encabezados", "footnote": "notas al pie", "note": "notas",
                  "numbering": "la numeración de columnas", "declared_empty": "la declaración"}


def infer_period(frame: pd.DataFrame) -> Period | None:
    """The most common well-formed ``periodo`` value, or None when there is none."""
    if "periodo" not in frame:
        return None
    values = frame["periodo"].dropna()
    values = values[values.astype(str).str.match(PERIOD.pattern)]
    return None if values.empty else Period.parse(str(values.mode().iloc[0]))


def _is_required(schema: TableSchema, column: str) -> bool:
    return column in schema.field_names and schema.field(column).required


def _missing_column(schema: TableSchema, column: str, file: str, sheet: str | None) -> Finding:
    f = schema.field(column)
    accepted = ", ".join(f"'{h}'" for h in (f.name, f.title, *f.synonyms))
    message = render_message("missing-column", column=column, title=f.title, accepted=accepted)
    return Finding("missing-column", Severity.ERROR, message, column, None, None, file, sheet)


def _failure_hits(extraction: Extraction, schema: TableSchema) -> list[Hits]:
    """Values the extractor could not convert, one group per column (in schema order)."""
    by_column: dict[tuple[str, str], list] = {}
    for failure in extraction.failures:
        by_column.setdefault((failure.column, failure.rule), []).append(failure)
    order = {name: i for i, name in enumerate(schema.field_names)}
    return [
        Hits(rule, Severity.ERROR, column, [f.row for f in failures], [f.value for f in failures],
             {"title": _title(schema, column), "in_sheet": _in_sheet(extraction.source.sheet)},
             {"expected": [f.expected for f in failures]})
        for (column, rule), failures in sorted(by_column.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][1]))
    ]


def _in_sheet(sheet: str | None) -> str:
    """' de la hoja «Planilla»' where the source is a sheet; nothing for a CSV or a query."""
    return f" de la hoja «{sheet}»" if sheet else ""


def _title(schema: TableSchema, column: str) -> str:
    return schema.field(column).title if column in schema.field_names else column


def _without_missing_columns(hits: list[Hits], extraction: Extraction) -> list[Hits]:
    """A column the source lacks is reported once (missing-column), not once per row."""
    missing = set(extraction.missing_columns)
    return [h for h in hits if not missing.intersection((h.column or "").split(", "))]


def _without_failed_cells(hits: list[Hits], extraction: Extraction) -> list[Hits]:
    """A cell that failed to convert is null; its type-error already says why, so drop 'required'."""
    failed: dict[str, set] = {}
    for failure in extraction.failures:
        failed.setdefault(failure.column, set()).add(failure.row)
    kept = []
    for h in hits:
        if h.rule == "required" and h.column in failed:
            keep = ~np.isin(np.asarray(h.rows), list(failed[h.column]))
            if not keep.any():
                continue
            h = Hits(h.rule, h.severity, h.column, np.asarray(h.rows)[keep], np.asarray(h.values, dtype=object)[keep], h.params)
        kept.append(h)
    return kept


def _period_hits(frame: pd.DataFrame, period: Period | None) -> list[Hits]:
    """Rows declaring a month other than the one being validated (malformed ones are 'yearmonth')."""
    if period is None or "periodo" not in frame:
        return []
    values = frame["periodo"]
    well_formed = values.astype("str").str.match(PERIOD.pattern)
    mask = (values.notna() & well_formed & (values != str(period))).to_numpy(dtype=bool)
    if not mask.any():
        return []
    return [Hits("period-mismatch", Severity.ERROR, "periodo", frame.index.to_numpy()[mask],
                 values.to_numpy()[mask], {"period": str(period)})]
