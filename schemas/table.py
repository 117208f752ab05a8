"""Per-item table schemas: Frictionless Table Schema documents kept as YAML under ``items/``.

Beyond the Table Schema standard each field may declare:
  ``synonyms``       header texts seen in real spreadsheets ("No. de Cédula", "CÉDULA")
  ``personal_data``  publish | mask | omit | never  (never: omitted and not overridable)
  ``example``        a sample value, used by the Excel templates
and each schema may declare ``rules``: row checks a Table Schema cannot express
(see ``transparencia.validation`` for the checks and their parameters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import yaml

from transparencia.domain import PrivacyPolicy, load_yaml
from transparencia.errors import ConfigError
from transparencia.schemas.rules import RuleParams, rule_problem

FIELD_TYPES = {"string", "number", "integer", "date", "yearmonth", "boolean"}
SEVERITIES = {"error", "warning"}
P = TypeVar("P", bound=RuleParams)
MASKABLE_TYPES = {"string", "yearmonth"}  # the field types whose values can be masked
_FIELD_KEYS = {
    "name", "type", "format", "title", "description", "constraints",
    "synonyms", "personal_data", "example",
}
_CONSTRAINT_KEYS = {"required", "unique", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "maxLength"}
_SCHEMA_KEYS = {"name", "title", "description", "fields", "primaryKey", "rules", "missingValues", "emptyMonth"}
EMPTY_MONTH = {"declared", "never"}  # an item's month may be empty when declared so, or never (the planilla)


class NeverPublishedError(ConfigError):
    """An override asked to publish a ``never`` field; ``field`` names it for the configuration's message."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str
    description: str
    format: str | None = None
    required: bool = False
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    max_length: int | None = None
    synonyms: tuple[str, ...] = ()
    personal_data: PrivacyPolicy = PrivacyPolicy.PUBLISH
    example: str | None = None


@dataclass(frozen=True)
class Rule:
    """A row check: ``check`` names it, ``params`` are its arguments as written in the schema."""

    check: str
    severity: str = "error"
    params: Mapping[str, Any] = field(default_factory=dict)

    def parameters(self, model: type[P]) -> P:
        """The parameters typed by the check's model (``TableSchema.check_rules`` has accepted them)."""
        return model.model_validate(dict(self.params))


@dataclass(frozen=True)
class TableSchema:
    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    descriptor: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    empty_month: str = "declared"  # "never": a month without rows is always an error

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def identity_field(self) -> Field | None:
        """The cédula in the primary key: what makes an item a list of people."""
        return next((self.field(n) for n in self.primary_key if self.field(n).format == "cedula"), None)

    def check_rules(self) -> None:
        """Reject, in Spanish and before any data is read, a rule naming an unknown check, missing a
        parameter, naming no field or giving a parameter of the wrong shape."""
        for r in self.rules:
            problem = rule_problem(r.check, r.params, self.field_names)
            if problem is not None:
                raise ConfigError(f"esquema {self.name}: {problem}")

    def treatments(self, overrides: Mapping[str, str] | None = None) -> dict[str, PrivacyPolicy]:
        """The treatment of every field: its ``personal_data`` marker, changed by the institution's
        overrides. Raises ConfigError for an unknown field or treatment, for an attempt to publish a
        ``never`` field (the one place that rule is checked), and for masking a field that is not text."""
        result = {f.name: PrivacyPolicy(f.personal_data) for f in self.fields}
        for name, treatment in (overrides or {}).items():
            result[name] = self._overridden(name, treatment, result)
        for name, treatment in result.items():
            kind = self.field(name).type
            if treatment is PrivacyPolicy.MASK and kind not in MASKABLE_TYPES:
                raise ConfigError(f"Datos personales de '{self.name}': el campo '{name}' es de tipo '{kind}' "
                                  f"y solo se pueden enmascarar campos de texto; use publish u omit")
        return result

    def _overridden(self, name: str, treatment: str, defaults: Mapping[str, PrivacyPolicy]) -> PrivacyPolicy:
        if name not in defaults:
            raise ConfigError(f"Datos personales de '{self.name}': el campo '{name}' no existe; "
                              f"campos: {', '.join(self.field_names)}")
        if treatment not in PrivacyPolicy.overridable():
            raise ConfigError(f"Datos personales de '{self.name}', campo '{name}': '{treatment}' no es válido; "
                              f"use publish, mask u omit")
        if defaults[name] is PrivacyPolicy.NEVER and treatment != PrivacyPolicy.OMIT:
            raise NeverPublishedError(f"Datos personales de '{self.name}': el campo '{name}' es un dato personal "
                                      f"de un ciudadano que nunca se publica; no se puede cambiar a '{treatment}'", name)
        return defaults[name] if defaults[name] is PrivacyPolicy.NEVER else PrivacyPolicy(treatment)


def _parse_field(raw: Mapping[str, Any], where: str) -> Field:
    unknown = set(raw) - _FIELD_KEYS
    if unknown:
        raise ConfigError(f"{where}: claves desconocidas en el campo: {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not name:
        raise ConfigError(f"{where}: un campo no tiene 'name'")
    if raw.get("type", "string") not in FIELD_TYPES:
        raise ConfigError(f"{where}: el campo '{name}' tiene un tipo desconocido '{raw.get('type')}'")
    constraints = raw.get("constraints") or {}
    unknown = set(constraints) - _CONSTRAINT_KEYS
    if unknown:
        raise ConfigError(f"{where}: restricciones desconocidas en '{name}': {', '.join(sorted(unknown))}")
    personal = PrivacyPolicy.parse(raw.get("personal_data", "publish"), f"{where}: 'personal_data' de '{name}'")
    enum = constraints.get("enum")
    return Field(
        name=name,
        type=raw.get("type", "string"),
        title=raw.get("title", name),
        description=raw.get("description", ""),
        format=raw.get("format"),
        required=bool(constraints.get("required", False)),
        enum=tuple(str(v) for v in enum) if enum else None,
        pattern=constraints.get("pattern"),
        minimum=constraints.get("minimum"),
        maximum=constraints.get("maximum"),
        exclusive_minimum=constraints.get("exclusiveMinimum"),
        max_length=constraints.get("maxLength"),
        synonyms=tuple(raw.get("synonyms") or ()),
        personal_data=personal,
        example=None if raw.get("example") is None else str(raw["example"]),
    )


def _parse_rule(raw: Mapping[str, Any], where: str) -> Rule:
    params = dict(raw)
    check = params.pop("check", None)
    severity = params.pop("severity", "error")
    if not check:
        raise ConfigError(f"{where}: una regla no tiene 'check'")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where}: la severidad de la regla '{check}' debe ser 'error' o 'warning'")
    return Rule(check=check, severity=severity, params=params)


def parse_schema(descriptor: Mapping[str, Any], where: str) -> TableSchema:
    """Build a TableSchema from a descriptor, rejecting unknown keys with a Spanish message."""
    unknown = set(descriptor) - _SCHEMA_KEYS
    if unknown:
        raise ConfigError(f"{where}: claves desconocidas: {', '.join(sorted(unknown))}")
    fields = tuple(_parse_field(f, where) for f in descriptor.get("fields") or ())
    names = [f.name for f in fields]
    if "periodo" not in names:
        raise ConfigError(f"{where}: todo esquema debe tener el campo 'periodo'")
    pk = descriptor.get("primaryKey") or ()
    pk = (pk,) if isinstance(pk, str) else tuple(pk)
    for key in pk:
        if key not in names:
            raise ConfigError(f"{where}: la clave primaria nombra un campo inexistente '{key}'")
    empty_month = descriptor.get("emptyMonth", "declared")
    if empty_month not in EMPTY_MONTH:
        raise ConfigError(f"{where}: 'emptyMonth' debe ser uno de {sorted(EMPTY_MONTH)}")
    return TableSchema(
        name=descriptor["name"],
        title=descriptor.get("title", descriptor["name"]),
        description=descriptor.get("description", ""),
        fields=fields,
        primary_key=pk,
        rules=tuple(_parse_rule(r, where) for r in descriptor.get("rules") or ()),
        descriptor=descriptor,
        empty_month=empty_month,
    )


def schema_names() -> list[str]:
    folder = resources.files("transparencia.schemas") / "items"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def load_schema(name: str) -> TableSchema:
    """Load the item schema ``items/<name>.yaml`` shipped with the package."""
    path = resources.files("transparencia.schemas") / "items" / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"No existe el esquema '{name}' (se esperaba schemas/items/{name}.yaml)")
    try:
        descriptor = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"El esquema '{name}' no es YAML válido: {exc}") from None
    return parse_schema(descriptor, f"esquema {name}")
