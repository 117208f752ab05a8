"""Personal-data rules: publish, mask, omit per field; `never` always dropped and not overridable."""

import dataclasses
import random

import pandas as pd
import pytest
from release_samples import planilla_frame

from transparencia.domain import cedula
from transparencia.domain.cedula import mask_text
from transparencia.errors import ConfigError
from transparencia.publishers.privacy import apply_privacy, mask_column, mask_value
from transparencia.schemas.table import load_schema

PLANILLA = load_schema("planilla")


def _with_never(schema):
    """Planilla with 'nombre' marked as a citizen's name (as 311 or request data would be)."""
    fields = tuple(dataclasses.replace(f, personal_data="never") if f.name == "nombre" else f for f in schema.fields)
    return dataclasses.replace(schema, fields=fields)


@pytest.mark.parametrize("raw, masked", [
    ("8-123-4567", "8-***-4567"),
    ("PE-1234-12345", "PE-***-12345"),
    ("E-8888-88888", "E-***-88888"),
    ("8AV-12-345", "8AV-***-345"),
    ("8 123 4567", "8-***-4567"),
])
def test_cedula_keeps_first_and_last_parts(raw, masked):
    assert cedula.mask(raw) == masked


def test_other_text_keeps_first_and_last_characters():
    assert mask_text("Rodríguez") == "R*******z"
    assert mask_text("ab") == "**"


def test_cedula_is_masked_by_default():
    public = apply_privacy(planilla_frame("2025-01"), PLANILLA)
    assert public["cedula"].tolist() == ["8-***-4321", "PE-***-12345"]
    assert public["nombre"].tolist() == ["María", "José"]
    assert public["cedula"].dtype == planilla_frame("2025-01")["cedula"].dtype


def test_institution_can_omit_or_publish_the_cedula():
    frame = planilla_frame("2025-01")
    assert "cedula" not in apply_privacy(frame, PLANILLA, {"cedula": "omit"}).columns
    assert apply_privacy(frame, PLANILLA, {"cedula": "publish"})["cedula"].tolist() == ["8-765-4321", "PE-1234-12345"]


def test_mask_on_a_name_keeps_first_and_last_letters_and_nulls():
    frame = planilla_frame("2025-01")
    frame.loc[3, "apellido"] = None
    masked = apply_privacy(frame, PLANILLA, {"apellido": "mask"})["apellido"]
    assert masked.iloc[0] == "R*******z"
    assert pd.isna(masked.iloc[1])


def test_input_frame_is_not_modified():
    frame = planilla_frame("2025-01")
    apply_privacy(frame, PLANILLA, {"nombre": "mask"})
    assert frame["cedula"].iloc[0] == "8-765-4321" and frame["nombre"].iloc[0] == "María"


def test_never_fields_are_always_dropped():
    schema = _with_never(PLANILLA)
    assert "nombre" not in apply_privacy(planilla_frame("2025-01"), schema).columns
    assert schema.treatments({"nombre": "omit"})["nombre"] == "never"


@pytest.mark.parametrize("attempt", ["publish", "mask"])
def test_never_cannot_be_overridden(attempt):
    with pytest.raises(ConfigError, match="nunca se publica"):
        apply_privacy(planilla_frame("2025-01"), _with_never(PLANILLA), {"nombre": attempt})


def test_unknown_field_or_treatment_or_masking_a_number_is_a_config_error():
    with pytest.raises(ConfigError, match="'cedla' no existe"):
        PLANILLA.treatments({"cedla": "omit"})
    with pytest.raises(ConfigError, match="'ocultar' no es válido"):
        PLANILLA.treatments({"cedula": "ocultar"})
    with pytest.raises(ConfigError, match="solo se pueden enmascarar campos de texto"):
        PLANILLA.treatments({"salario_mensual": "mask"})


def _cedula_like_values(count: int) -> list[object]:
    """Cédulas as directorates type them and as the portal publishes them, odd shapes included:
    leading zeros, groups of only zeros, too many digits, masked already, spaces, dots, pasted
    dashes, lower case, full-width digits, a trailing newline, short texts, nulls and non-texts."""
    rng = random.Random(11)
    prefixes = ["8", "08", "13", "14", "0", "PE", "pe", "E", "N", "3AV", "10PI", "X", ""]
    groups = ["1", "123", "0123", "0", "000", "4567", "04567", "1234567", "12345", "***", "１２３", ""]
    separators = ["-", "-", "-", " ", ".", "\u2013", " - ", ""]
    values: list[object] = [None, float("nan"), pd.NA, 8, 12.5, "", "a", "ab", "Rodríguez", "8-123-4567\n"]
    while len(values) < count:
        sep = rng.choice(separators)
        values.append(f"{rng.choice(prefixes)}{sep}{rng.choice(groups)}{rng.choice(separators)}{rng.choice(groups)}")
    return values


@pytest.mark.parametrize("name", ["cedula", "apellido"])
@pytest.mark.parametrize("dtype", [object, "string"])
def test_column_masking_gives_what_masking_each_value_gives(name, dtype):
    values = _cedula_like_values(3000)
    if dtype == "string":
        values = [v if isinstance(v, str) else None for v in values]
    column = pd.Series(values, dtype=dtype, index=range(5, 5 + len(values)))
    field = PLANILLA.field(name)
    expected = column.map(lambda v: mask_value(v, field), na_action="ignore")
    masked = mask_column(column, field)
    assert masked.index.equals(column.index) and masked.dtype == expected.dtype
    assert masked.isna().tolist() == expected.isna().tolist()
    assert masked[masked.notna()].tolist() == expected[expected.notna()].tolist()
