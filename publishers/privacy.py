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
from transparencia.errors import ConfigError
from transparencia.schemas.table import Field, TableSchema

MASKABLE_TYPES = {"string", "yearmonth"}


def treatments(schema: TableSchema, overrides: Mapping[str, str] | None = None) -> dict[str, PrivacyPolicy]:
    """The treatment of every field: the schema's marker, changed by the institution's overrides.

    Raises ConfigError for an unknown field or treatment, for an attempt to publish a ``never``
    field, and for masking a field whose values are not text.
    """
    overrides = dict(overrides or {})
    result = {f.name: PrivacyPolicy(f.personal_data) for f in schema.fields}
    for name, treatment in overrides.items():
        if name not in result:
            raise ConfigError(
                f"Datos personales de '{schema.name}': el campo '{name}' no existe; "
                f"campos: {', '.join(schema.field_names)}"
            )
        if treatment not in PrivacyPolicy.overridable():
            raise ConfigError(
                f"Datos personales de '{schema.name}', campo '{name}': '{treatment}' no es válido; "
                f"use publish, mask u omit"
            )
        if result[name] is PrivacyPolicy.NEVER and treatment != PrivacyPolicy.OMIT:
            raise ConfigError(
                f"Datos personales de '{schema.name}': el campo '{name}' es un dato personal de un "
                f"ciudadano que nunca se publica; no se puede cambiar a '{treatment}'"
            )
        if result[name] is not PrivacyPolicy.NEVER:
            result[name] = PrivacyPolicy(treatment)
    for name, treatment in result.items():
        field = schema.field(name)
        if treatment is PrivacyPolicy.MASK and field.type not in MASKABLE_TYPES:
            raise ConfigError(
                f"Datos personales de '{schema.name}': el campo '{name}' es de tipo '{field.type}' "
                f"y solo se pueden enmascarar campos de texto; use publish u omit"
            )
    return result


def mask_text(value: str) -> str:
    """Keep the first and last characters and put stars in between; short texts become all stars."""
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_value(value: object, field: Field) -> object:
    """Mask one value of ``field``; nulls stay null."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return value
    text = str(value)
    if field.format == "cedula":
        masked = cedula.mask(text)
        if masked is not None:
            return masked
    return mask_text(text)


def apply_privacy(frame: pd.DataFrame, schema: TableSchema, overrides: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` fit for publication: masked columns masked, omitted ones dropped."""
    rules = treatments(schema, overrides)
    dropped = [name for name, rule in rules.items() if not rule.published and name in frame.columns]
    result = frame.drop(columns=dropped)
    for name, rule in rules.items():
        if rule is PrivacyPolicy.MASK and name in result.columns:
            field = schema.field(name)
            column = result[name]
            result[name] = column.map(lambda v, field=field: mask_value(v, field), na_action="ignore").astype(column.dtype)
    return result
