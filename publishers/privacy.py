"""Personal-data rules applied to a frame before anything is published.

Each schema field carries a marker (``publish``, ``mask``, ``omit`` or ``never``). The institution
configuration may change ``publish``/``mask``/``omit`` per field; ``never`` (a citizen's name in
311 or request data) is always dropped and cannot be overridden, so a configuration mistake can
never expose it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from transparencia.errors import ConfigError
from transparencia.schemas.table import Field, TableSchema

TREATMENTS = ("publish", "mask", "omit")
MASKABLE_TYPES = {"string", "yearmonth"}

# A cédula split into prefix, tomo and asiento once normalised ("8-123-4567", "PE-1234-12345").
_CEDULA = re.compile(r"^\s*([0-9A-Z]{1,4})\s*[-.\s]\s*(\d{1,4})\s*[-.\s]\s*(\d{1,6})\s*$", re.IGNORECASE)
# The same shape anywhere inside a text (used to scrub free text such as report messages).
CEDULA_IN_TEXT = re.compile(r"\b((?:1[0-3]|[1-9]|PE|E|N)(?:AV|PI)?)-(\d{1,4})-(\d{1,6})\b")

TREATMENT_LABELS = {
    "publish": "Se publica completo.",
    "mask": "Se publica enmascarado: solo se muestran el inicio y el final (p. ej. 8-***-4567).",
    "omit": "No se publica (omitido por la política de datos personales de la institución).",
    "never": "Nunca se publica (dato personal de un ciudadano).",
}


def treatments(schema: TableSchema, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The treatment of every field: the schema's marker, changed by the institution's overrides.

    Raises ConfigError for an unknown field or treatment, for an attempt to publish a ``never``
    field, and for masking a field whose values are not text.
    """
    overrides = dict(overrides or {})
    result = {f.name: f.personal_data for f in schema.fields}
    for name, treatment in overrides.items():
        if name not in result:
            raise ConfigError(
                f"Datos personales de '{schema.name}': el campo '{name}' no existe; "
                f"campos: {', '.join(schema.field_names)}"
            )
        if treatment not in TREATMENTS:
            raise ConfigError(
                f"Datos personales de '{schema.name}', campo '{name}': '{treatment}' no es válido; "
                f"use publish, mask u omit"
            )
        if result[name] == "never" and treatment != "omit":
            raise ConfigError(
                f"Datos personales de '{schema.name}': el campo '{name}' es un dato personal de un "
                f"ciudadano que nunca se publica; no se puede cambiar a '{treatment}'"
            )
        if result[name] != "never":
            result[name] = treatment
    for name, treatment in result.items():
        field = schema.field(name)
        if treatment == "mask" and field.type not in MASKABLE_TYPES:
            raise ConfigError(
                f"Datos personales de '{schema.name}': el campo '{name}' es de tipo '{field.type}' "
                f"y solo se pueden enmascarar campos de texto; use publish u omit"
            )
    return result


def mask_cedula(value: str) -> str | None:
    """``8-123-4567`` -> ``8-***-4567``; None when the value is not shaped like a cédula."""
    match = _CEDULA.match(value)
    if not match:
        return None
    return f"{match.group(1).upper()}-***-{match.group(3)}"


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
        masked = mask_cedula(text)
        if masked is not None:
            return masked
    return mask_text(text)


def mask_cedulas_in_text(text: str) -> str:
    """Mask every cédula-shaped token inside free text (messages, examples)."""
    return CEDULA_IN_TEXT.sub(lambda m: f"{m.group(1)}-***-{m.group(3)}", text)


def apply_privacy(frame: pd.DataFrame, schema: TableSchema, overrides: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` fit for publication: masked columns masked, omitted ones dropped."""
    rules = treatments(schema, overrides)
    dropped = [name for name, rule in rules.items() if rule in ("omit", "never") and name in frame.columns]
    result = frame.drop(columns=dropped)
    for name, rule in rules.items():
        if rule == "mask" and name in result.columns:
            field = schema.field(name)
            column = result[name]
            result[name] = column.map(lambda v, field=field: mask_value(v, field), na_action="ignore").astype(column.dtype)
    return result
