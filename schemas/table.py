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
from typing import Annotated, Any, ClassVar, TypeVar

import yaml
from pydantic import BeforeValidator, ConfigDict, ValidationInfo
from pydantic import Field as PydanticField

from transparencia.domain import PrivacyPolicy, Severity, load_yaml
from transparencia.errors import ConfigError
from transparencia.schemas.rules import RuleParams, rule_problem
from transparencia.schemas.spec import Spec, Text, invalid, parse

FIELD_TYPES = {"string", "number", "integer", "date", "yearmonth", "boolean"}
P = TypeVar("P", bound=RuleParams)
MASKABLE_TYPES = {"string", "yearmonth"}  # the field types whose values can be masked
EMPTY_MONTH = {"declared", "never"}  # an item's month may be empty when declared so, or never (the planilla)
# What a month's rows are: the whole population (everyone on staff: who is missing next month left) or
# the month's events and entries (hires, trips, payments: last month's rows did not "leave").
LISTS = {"population", "events"}


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
    severity: Severity = Severity.ERROR
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
    lists: str = "events"  # "population": each month lists everyone, so months compare as altas and bajas

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

    @property
    def population(self) -> bool:
        """Whether each month lists a whole population of people (the planilla), whose changes are
        altas and bajas, rather than the month's events (hires, trips), which are simply new."""
        return self.lists == "population"

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


def _field_type(value: object, info: ValidationInfo) -> object:
    if value not in FIELD_TYPES:
        raise invalid(f"el campo '{info.data.get('name')}' tiene un tipo desconocido '{value}'")
    return value


def _personal_data(value: object, info: ValidationInfo) -> PrivacyPolicy:
    try:
        return PrivacyPolicy.parse(value, f"'personal_data' de '{info.data.get('name')}'")
    except ConfigError as exc:
        raise invalid(exc.message) from None


def _severity(value: object, info: ValidationInfo) -> Severity:
    if value not in (Severity.ERROR, Severity.WARNING):
        raise invalid(f"la severidad de la regla '{info.data.get('check_')}' debe ser 'error' o 'warning'")
    return Severity(str(value))


def _empty_month(value: object) -> object:
    if value not in EMPTY_MONTH:
        raise invalid(f"'emptyMonth' debe ser uno de {sorted(EMPTY_MONTH)}")
    return value


def _lists(value: object) -> object:
    if value not in LISTS:
        raise invalid(f"'lists' debe ser uno de {sorted(LISTS)}")
    return value


AsText = Annotated[str, BeforeValidator(str)]  # any scalar, as the text it reads as (an example, a synonym)


class _ConstraintsSpec(Spec):
    """A field's Table Schema constraints."""

    key_paths: ClassVar[bool] = False
    unknown_keys: ClassVar[str | None] = "restricciones desconocidas en '{name}': {keys}"

    required: bool = False
    unique: bool = False
    enum: tuple[AsText, ...] | None = None
    pattern: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_minimum: int | float | None = PydanticField(default=None, alias="exclusiveMinimum")
    max_length: int | None = PydanticField(default=None, alias="maxLength")


class _FieldSpec(Spec):
    """One field of a table schema, as written."""

    key_paths: ClassVar[bool] = False
    unknown_keys: ClassVar[str | None] = "claves desconocidas en el campo: {keys}"
    missing_keys: ClassVar[str | None] = "un campo no tiene '{keys}'"

    name: Text
    type: Annotated[str, BeforeValidator(_field_type)] = "string"
    format: str | None = None
    title: str | None = None
    description: str = ""
    constraints: _ConstraintsSpec = _ConstraintsSpec()
    synonyms: tuple[AsText, ...] = ()
    personal_data: Annotated[PrivacyPolicy, BeforeValidator(_personal_data)] = PrivacyPolicy.PUBLISH
    example: AsText | None = None

    def field(self) -> Field:
        c = self.constraints
        return Field(name=self.name, type=self.type, title=self.title or self.name, description=self.description,
                     format=self.format, required=c.required, enum=c.enum or None, pattern=c.pattern,
                     minimum=c.minimum, maximum=c.maximum, exclusive_minimum=c.exclusive_minimum,
                     max_length=c.max_length, synonyms=self.synonyms, personal_data=self.personal_data,
                     example=self.example)


class _RuleSpec(Spec):
    """A row rule as written: ``check``, ``severity`` and the check's own parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)
    key_paths: ClassVar[bool] = False
    missing_keys: ClassVar[str | None] = "una regla no tiene '{keys}'"

    check_: Text = PydanticField(alias="check")
    severity: Annotated[Severity, BeforeValidator(_severity)] = Severity.ERROR

    def rule(self) -> Rule:
        return Rule(check=self.check_, severity=self.severity, params=dict(self.model_extra or {}))


class _SchemaSpec(Spec):
    """A table schema document as written."""

    key_paths: ClassVar[bool] = False
    unknown_keys: ClassVar[str | None] = "claves desconocidas: {keys}"

    name: Text
    title: str | None = None
    description: str = ""
    fields: tuple[_FieldSpec, ...] = ()
    primary_key: str | tuple[str, ...] = PydanticField(default=(), alias="primaryKey")
    rules: tuple[_RuleSpec, ...] = ()
    missing_values: Any = PydanticField(default=None, alias="missingValues")
    empty_month: Annotated[str, BeforeValidator(_empty_month)] = PydanticField(default="declared", alias="emptyMonth")
    lists: Annotated[str, BeforeValidator(_lists)] = "events"

    @property
    def key(self) -> tuple[str, ...]:
        return (self.primary_key,) if isinstance(self.primary_key, str) else self.primary_key

    def check(self, where: str) -> None:
        names = [f.name for f in self.fields]
        if "periodo" not in names:
            raise ConfigError(f"{where}: todo esquema debe tener el campo 'periodo'")
        for key in self.key:
            if key not in names:
                raise ConfigError(f"{where}: la clave primaria nombra un campo inexistente '{key}'")
        cedulas = [f.name for f in self.fields if f.name in self.key and f.format == "cedula"]
        if self.lists == "population" and not cedulas:
            raise ConfigError(f"{where}: 'lists: population' necesita una cédula en la clave primaria")


def parse_schema(descriptor: Mapping[str, Any], where: str) -> TableSchema:
    """Build a TableSchema from a descriptor, rejecting unknown keys with a Spanish message."""
    spec = parse(_SchemaSpec, dict(descriptor), where)
    return TableSchema(name=spec.name, title=spec.title or spec.name, description=spec.description,
                       fields=tuple(f.field() for f in spec.fields), primary_key=spec.key,
                       rules=tuple(r.rule() for r in spec.rules), descriptor=descriptor, empty_month=spec.empty_month,
                       lists=spec.lists)


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
