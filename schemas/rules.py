"""The parameters of a schema's row rules, one pydantic model per check.

A schema's ``rules:`` name a check and give its parameters as plain keys. Checking them here, with
the schema's field names, lets a configuration mistake surface when the configuration loads,
before any data is read; ``transparencia.validation.rules`` runs the checks over the rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError


class RuleParams(BaseModel):
    """A check's parameters. Keys a check does not read are ignored, as they always were."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=False)

    def field_names(self) -> Iterator[str]:
        """The schema fields the parameters name (every parameter that is a field or a list of them)."""
        for key in type(self).model_fields:
            if key in _NOT_FIELDS:
                continue
            value = getattr(self, key)
            yield from (value if isinstance(value, tuple) else (value,))


_NOT_FIELDS = {"relation", "tolerance", "tolerance_per_unit"}


class DateOrder(RuleParams):
    """The end date is not before the start date."""

    start: str
    end: str


class AmountProduct(RuleParams):
    """``total`` equals the product of two ``factors`` within a tolerance per unit of the first."""

    total: str
    factors: tuple[str, str]
    tolerance_per_unit: float = 0.01


class DateInPeriod(RuleParams):
    """A date falls in the reporting month (``within``) or not after its end (``not_after_end``)."""

    field: str
    relation: Literal["within", "not_after_end"] = "within"


class AmountSum(RuleParams):
    """``total`` equals the sum of its ``parts`` within a tolerance."""

    total: str
    parts: tuple[str, ...]
    tolerance: float = 0.01


class AmountsOrdered(RuleParams):
    """Each amount is at most the next in the listed order."""

    fields: tuple[str, ...]


RULE_PARAMS: dict[str, type[RuleParams]] = {
    "date_order": DateOrder,
    "amount_product": AmountProduct,
    "date_in_period": DateInPeriod,
    "amount_sum": AmountSum,
    "amounts_ordered": AmountsOrdered,
}


def rule_problem(check: str, params: Mapping[str, Any], field_names: list[str]) -> str | None:
    """What is wrong with one rule's parameters, in Spanish after "esquema X: ", or None."""
    model = RULE_PARAMS.get(check)
    if model is None:
        return f"regla desconocida '{check}'. Reglas disponibles: {', '.join(sorted(RULE_PARAMS))}"
    try:
        parsed = model.model_validate(dict(params))
    except ValidationError as exc:
        return _describe(check, params, exc)
    for name in parsed.field_names():
        if name not in field_names:
            return f"la regla '{check}' nombra un campo inexistente '{name}'"
    return None


def _describe(check: str, params: Mapping[str, Any], exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "missing" and len(error["loc"]) == 1:
        return f"a la regla '{check}' le falta el parámetro '{key}'"
    if key == "relation":
        return "'relation' de date_in_period debe ser 'within' o 'not_after_end'"
    given = ", ".join(f"{k}: {v}" for k, v in params.items())
    return f"los parámetros de la regla '{check}' no son válidos ({given}): {key}: {error['msg']}"
