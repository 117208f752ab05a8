"""Personal-data rules applied to a frame before anything is published.

Each schema field carries a marker (``publish``, ``mask``, ``omit`` or ``never``). The institution
configuration may change ``publish``/``mask``/``omit`` per field; ``never`` (a citizen's name in
311 or request data) is always dropped and cannot be overridden, so a configuration mistake can
never expose it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from transparencia.domain import PrivacyPolicy, cedula
from transparencia.schemas.table import Field, TableSchema


def mask_value(value: object, field: Field) -> object:
    """Mask one value of ``field``; nulls stay null."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return value
    text = str(value)
    return cedula.mask_or_stars(text) if field.format == "cedula" else cedula.mask_text(text)


def apply_privacy(frame: pd.DataFrame, schema: TableSchema, overrides: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` fit for publication: masked columns masked, omitted ones dropped."""
    rules = schema.treatments(overrides)
    dropped = [name for name, rule in rules.items() if not rule.published and name in frame.columns]
    result = frame.drop(columns=dropped)
    for name, rule in rules.items():
        if rule is PrivacyPolicy.MASK and name in result.columns:
            field = schema.field(name)
            column = result[name]
            result[name] = column.map(lambda v, field=field: mask_value(v, field), na_action="ignore").astype(column.dtype)
    return result
