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
from transparencia.errors import ConfigError
from transparencia.schemas.table import Rule, TableSchema
from transparencia.validation.hits import Hits

# Float noise allowance on top of each rule's own tolerance (amounts are in cents).
_EPSILON = 1e-6

RuleCheck = Callable[[pd.DataFrame, TableSchema, Rule, Period | None], list[Hits]]
# Any month serves to check a schema's rules on an empty frame.
_ANY_MONTH = Period(2000, 1)
RULES: dict[str, RuleCheck] = {}


def rule(name: str) -> Callable[[RuleCheck], RuleCheck]:
    def register(check: RuleCheck) -> RuleCheck:
        RULES[name] = check
        return check
    return register


def _hits(frame: pd.DataFrame, mask: pd.Series, rule_id: str, severity: str, column: str,
          params: dict[str, Any], row_params: dict[str, Any] | None = None) -> list[Hits]:
    """The rows ``mask`` marks, as hits of ``rule_id`` at the schema rule's ``severity``."""
    mask = mask.fillna(False).to_numpy(dtype=bool)
    if not mask.any():
        return []
    per_row = {k: np.asarray(v)[mask] for k, v in (row_params or {}).items()}
    return [Hits(rule_id, Severity(severity), column, frame.index.to_numpy()[mask],
                 frame[column].to_numpy()[mask], params, per_row)]


def _param(schema: TableSchema, r: Rule, key: str) -> Any:
    if key not in r.params:
        raise ConfigError(f"esquema {schema.name}: a la regla '{r.check}' le falta el parámetro '{key}'")
    value = r.params[key]
    names = value if isinstance(value, list) else [value]
    for name in names:
        if name not in schema.field_names:
            raise ConfigError(f"esquema {schema.name}: la regla '{r.check}' nombra un campo inexistente '{name}'")
    return value


def _month(period: Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The month's first and last days, comparable with a date column."""
    return pd.Timestamp(period.start), pd.Timestamp(period.last_day)


@rule("date_order")
def date_order(frame: pd.DataFrame, schema: TableSchema, r: Rule, period: Period | None) -> list[Hits]:
    """The end date is not before the start date (a mission returns after it leaves)."""
    start, end = _param(schema, r, "start"), _param(schema, r, "end")
    mask = frame[end] < frame[start]
    return _hits(frame, mask, "date-order", r.severity, end,
                 {"title": schema.field(end).title, "start_title": schema.field(start).title},
                 {"start_value": frame[start].to_numpy()})


@rule("amount_product")
def amount_product(frame: pd.DataFrame, schema: TableSchema, r: Rule, period: Period | None) -> list[Hits]:
    """total == a × b within ``tolerance_per_unit`` per unit of a (B/. 0.01 per day of viático)."""
    total = _param(schema, r, "total")
    a, b = _param(schema, r, "factors")
    per_unit = float(r.params.get("tolerance_per_unit", 0.01))
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
    column = _param(schema, r, "field")
    relation = r.params.get("relation", "within")
    if relation not in ("within", "not_after_end"):
        raise ConfigError(f"esquema {schema.name}: 'relation' de date_in_period debe ser 'within' o 'not_after_end'")
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
    total, parts = _param(schema, r, "total"), _param(schema, r, "parts")
    tolerance = float(r.params.get("tolerance", 0.01))
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
    fields = _param(schema, r, "fields")
    hits: list[Hits] = []
    for smaller, larger in itertools.pairwise(fields):
        mask = frame[larger].astype("float64") < frame[smaller].astype("float64")
        hits += _hits(frame, mask, "amounts-ordered", r.severity, larger,
                      {"title": schema.field(larger).title, "previous_title": schema.field(smaller).title},
                      {"previous_value": frame[smaller].to_numpy()})
    return hits


_EMPTY_DTYPES = {"number": "float64", "integer": "Int64", "date": "datetime64[ns]", "boolean": "boolean"}


def check_rules(schema: TableSchema) -> None:
    """Reject, in Spanish and before any data is read, a schema naming an unknown check or giving
    one wrong parameters: each check runs once on an empty frame of the schema's columns, which
    reads every parameter (missing, naming no field, of the wrong shape) without any row."""
    empty = pd.DataFrame({f.name: pd.Series(dtype=_EMPTY_DTYPES.get(f.type, "object")) for f in schema.fields})
    for r in schema.rules:
        if r.check not in RULES:
            raise ConfigError(f"esquema {schema.name}: regla desconocida '{r.check}'. "
                              f"Reglas disponibles: {', '.join(sorted(RULES))}")
        try:
            RULES[r.check](empty, schema, r, _ANY_MONTH)
        except ConfigError:
            raise
        except (TypeError, ValueError, KeyError) as exc:
            raise ConfigError(f"esquema {schema.name}: los parámetros de la regla '{r.check}' no son válidos "
                              f"({', '.join(f'{k}: {v}' for k, v in r.params.items())}): {exc}") from None


def run_rules(frame: pd.DataFrame, schema: TableSchema, period: Period | None) -> list[Hits]:
    """Every row rule of the schema, in schema order."""
    check_rules(schema)
    return [h for r in schema.rules for h in RULES[r.check](frame, schema, r, period)]
