"""Row rules: checks across columns that a Table Schema cannot express (schema ``rules:``).

Each check is a vectorised pandas function registered by name; its parameters are the rule's keys
in the schema. Rows where an operand is missing are skipped: the ``required`` and ``type-error``
findings already cover them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from transparencia.domain import Period, Severity
from transparencia.schemas.rules import AmountProduct, AmountsOrdered, AmountSum, DateInPeriod, DateOrder
from transparencia.schemas.table import Rule, TableSchema
from transparencia.validation.hits import Hits

# Float noise allowance on top of each rule's own tolerance (amounts are in cents).
_EPSILON = 1e-6

RuleCheck = Callable[[pd.DataFrame, TableSchema, Rule, Period | None], list[Hits]]
RULES: dict[str, RuleCheck] = {}


def rule(name: str) -> Callable[[RuleCheck], RuleCheck]:
    def register(check: RuleCheck) -> RuleCheck:
        RULES[name] = check
        return check
    return register


def _hits(frame: pd.DataFrame, mask: pd.Series, rule_id: str, severity: Severity, column: str,
          params: dict[str, object], row_params: dict[str, Any] | None = None) -> list[Hits]:
    """The rows ``mask`` marks, as hits of ``rule_id`` at the schema rule's ``severity``."""
    marked = mask.fillna(False).to_numpy(dtype=bool)
    if not marked.any():
        return []
    per_row = {k: np.asarray(v)[marked] for k, v in (row_params or {}).items()}
    return [Hits(rule_id, severity, column, frame.index.to_numpy()[marked],
                 frame[column].to_numpy()[marked], params, per_row)]


def _month(period: Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The month's first and last days, comparable with a date column."""
    return pd.Timestamp(period.start), pd.Timestamp(period.last_day)


@rule("date_order")
def date_order(frame: pd.DataFrame, schema: TableSchema, r: Rule, period: Period | None) -> list[Hits]:
    """The end date is not before the start date (a mission returns after it leaves)."""
    params = r.parameters(DateOrder)
    start, end = params.start, params.end
    mask = frame[end] < frame[start]
    return _hits(frame, mask, "date-order", r.severity, end,
                 {"title": schema.field(end).title, "start_title": schema.field(start).title},
                 {"start_value": frame[start].to_numpy()})


@rule("amount_product")
def amount_product(frame: pd.DataFrame, schema: TableSchema, r: Rule, period: Period | None) -> list[Hits]:
    """total == a × b within ``tolerance_per_unit`` per unit of a (B/. 0.01 per day of viático)."""
    params = r.parameters(AmountProduct)
    total, (a, b), per_unit = params.total, params.factors, params.tolerance_per_unit
    units = frame[a].astype("float64")
    expected = units * frame[b].astype("float64")
    difference = frame[total].astype("float64") - expected
    mask = difference.abs() > per_unit * units.abs() + _EPSILON
    factors = f"{schema.field(a).title} × {schema.field(b).title}"
    return _hits(frame, mask, "amount-product", r.severity, total,
                 {"title": schema.field(total).title, "factors": factors},
                 {"expected": expected.to_numpy(), "difference": difference.to_numpy()})


@rule("date_in_period")
def date_in_period(frame: pd.DataFrame, schema: TableSchema, r: Rule, period: Period | None) -> list[Hits]:
    """The date falls in the reporting month (``within``) or not after its end (``not_after_end``)."""
    params = r.parameters(DateInPeriod)
    column, relation = params.field, params.relation
    if period is None:
        return []
    first, last = _month(period)
    dates = frame[column]
    if relation == "within":
        return _hits(frame, (dates < first) | (dates > last), "date-in-period", r.severity, column,
                     {"title": schema.field(column).title, "period": str(period)})
    return _hits(frame, dates > last, "date-after-period", r.severity, column,
                 {"title": schema.field(column).title, "period": str(period)})


@rule("amount_sum")
def amount_sum(frame: pd.DataFrame, schema: TableSchema, r: Rule, period: Period | None) -> list[Hits]:
    """total == sum of its parts within ``tolerance``; a blank part counts as 0."""
    params = r.parameters(AmountSum)
    total, parts, tolerance = params.total, list(params.parts), params.tolerance
    addends = frame[parts].astype("float64")
    expected = addends.sum(axis=1, min_count=1)
    difference = frame[total].astype("float64") - expected
    mask = difference.abs() > tolerance + _EPSILON
    names = ", ".join(schema.field(p).title for p in parts)
    return _hits(frame, mask, "amount-sum", r.severity, total,
                 {"title": schema.field(total).title, "parts": names},
                 {"expected": expected.to_numpy(), "difference": difference.to_numpy()})


@rule("amounts_ordered")
def amounts_ordered(frame: pd.DataFrame, schema: TableSchema, r: Rule, period: Period | None) -> list[Hits]:
    """Each amount is ≤ the next in the listed order (e.g. pagado ≤ devengado ≤ comprometido)."""
    params = r.parameters(AmountsOrdered)
    fields = params.fields
    hits: list[Hits] = []
    for smaller, larger in itertools.pairwise(fields):
        mask = frame[larger].astype("float64") < frame[smaller].astype("float64")
        hits += _hits(frame, mask, "amounts-ordered", r.severity, larger,
                      {"title": schema.field(larger).title, "previous_title": schema.field(smaller).title},
                      {"previous_value": frame[smaller].to_numpy()})
    return hits


def run_rules(frame: pd.DataFrame, schema: TableSchema, period: Period | None) -> list[Hits]:
    """Every row rule of the schema, in schema order."""
    schema.check_rules()
    return [h for r in schema.rules for h in RULES[r.check](frame, schema, r, period)]
