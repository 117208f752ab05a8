"""Personal-data rules applied to a frame before anything is published.

Each schema field carries a marker (``publish``, ``mask``, ``omit`` or ``never``). The institution
configuration may change ``publish``/``mask``/``omit`` per field; ``never`` (a citizen's name in
311 or request data) is always dropped and cannot be overridden, so a configuration mistake can
never expose it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from transparencia.domain import PrivacyPolicy, cedula
from transparencia.schemas.table import Field, TableSchema


def mask_value(value: object, field: Field) -> object:
    """Mask one value of ``field``; nulls stay null."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return value
    text = str(value)
    return cedula.mask_or_stars(text) if field.format == "cedula" else cedula.mask_text(text)


def mask_column(values: pd.Series, field: Field) -> pd.Series:
    """``mask_value`` of every value of a column, as ``values.map(mask_value, na_action="ignore")``
    gives it, but column-wise (a 150k-row month's cédulas took most of a second one by one): texts
    are masked in Arrow (``cedula.mask_or_stars_column``, ``cedula.mask_text_column``); a value of
    another type, or a cédula of a shape those leave undecided, is masked by ``mask_value``."""
    present = values.notna().to_numpy()
    result = values.astype(object).to_numpy(copy=True)
    undecided = present.copy()
    if present.any() and pd.api.types.infer_dtype(values[present], skipna=False) == "string":
        decided = _masked_texts(result[present], field)
        if decided is not None:
            known = ~pd.isna(decided)
            rows = np.flatnonzero(present)[known]
            result[rows], undecided[rows] = decided[known], False
    result[undecided] = [mask_value(v, field) for v in result[undecided]]
    masked = pd.Series(result, index=values.index, name=values.name)  # its type inferred, as ``map`` infers it
    return masked.astype(values.dtype) if isinstance(values.dtype, pd.StringDtype) else masked


def _masked_texts(texts: np.ndarray, field: Field) -> np.ndarray | None:
    """The texts masked column-wise, None where undecided; None for all when Arrow cannot hold
    them (a lone surrogate)."""
    try:
        arrow = pa.array(texts, type=pa.large_string())
    except (pa.ArrowException, UnicodeError):
        return None
    masked = cedula.mask_or_stars_column(arrow) if field.format == "cedula" else cedula.mask_text_column(arrow)
    return masked.to_numpy(zero_copy_only=False)


def apply_privacy(frame: pd.DataFrame, schema: TableSchema, overrides: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` fit for publication: masked columns masked, omitted ones dropped."""
    rules = schema.treatments(overrides)
    dropped = [name for name, rule in rules.items() if not rule.published and name in frame.columns]
    result = frame.drop(columns=dropped)
    for name, rule in rules.items():
        if rule is PrivacyPolicy.MASK and name in result.columns:
            field = schema.field(name)
            result[name] = mask_column(result[name], field).astype(result[name].dtype)
    return result
