"""Configuration sections as pydantic models, and the one translator from pydantic's errors to the
Spanish messages people read.

Every section of the YAML files (the institution configuration, a connector's settings, a catalog
entry, a table schema) is a ``Spec``: unknown keys are refused, values are typed, and a section's
``check`` looks at combinations of keys. ``parse`` validates one section and turns the first error
into a ``ConfigError`` naming the file and the key path, e.g.
``institution.yaml: directorates[1].sources[0]: clave desconocida 'pth' (¿quiso decir 'path'?)``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from transparencia.domain import Period
from transparencia.errors import ConfigError

# Stands for a section's key path in the messages its ``check`` raises; ``parse`` fills it in.
HERE = "\x00aquí\x00"

S = TypeVar("S", bound=BaseModel)


def suggestion(key: str, allowed: Iterable[str]) -> str:
    """`` (¿quiso decir 'path'?)`` for a key close to an allowed one, else nothing."""
    close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
    return f" (¿quiso decir '{close[0]}'?)" if close else ""


def invalid(message: str) -> PydanticCustomError:
    """A validation error whose Spanish ``message`` follows the value's key path."""
    return PydanticCustomError("spanish", "{message}", {"message": message})


def kernel_check(check: Callable[[str], object]) -> None:
    """Run a kernel check that names its key path (``where``) in its ConfigError, as a validation error."""
    try:
        check(HERE)
    except ConfigError as exc:
        raise PydanticCustomError("located", "{message}", {"message": exc.message}) from None


class Spec(BaseModel):
    """A section of a configuration file: known keys only, typed values, checked combinations.

    A file that names its entries (the catalog's items, a schema's fields) rather than key paths
    words its problems with the class templates below, filled from the section's own keys.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    key_paths: ClassVar[bool] = True  # messages name the key path (``directorates[1].sources[0]``)
    unknown_keys: ClassVar[str | None] = None  # all unknown keys at once, e.g. "claves desconocidas: {keys}"
    missing_keys: ClassVar[str | None] = None  # all missing keys at once, e.g. "al punto {code} le falta: {keys}"

    @model_validator(mode="before")
    @classmethod
    def _section(cls, raw: Any) -> Any:
        """An empty section (``ckan:`` with nothing under it) has no keys; a key left blank is absent."""
        if raw is None:
            return {}
        if isinstance(raw, dict):
            return {key: value for key, value in raw.items() if value is not None}
        return raw

    @model_validator(mode="after")
    def _checked(self) -> Self:
        kernel_check(self.check)
        return self

    def check(self, where: str) -> None:
        """Combinations of keys; a ConfigError names ``where`` (the section's key path)."""


# --------------------------------------------------------------------------- value types


def _expect(description: str) -> PydanticCustomError:
    return PydanticCustomError("expected", "se esperaba {expected}", {"expected": description})


def _text(value: object) -> str:
    if isinstance(value, (dict, list)) or value is None or str(value).strip() == "":
        raise _expect("un texto")
    return str(value)


def _path(value: object) -> Path:
    if isinstance(value, (dict, list)) or value is None or str(value).strip() == "":
        raise _expect("una ruta")
    return Path(str(value))


# One address, as the configuration writes it: no display name, one "@", a domain with a dot.
_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]+$")


def _email(value: object) -> str:
    text = _text(value).strip()
    if not _EMAIL.match(text):
        raise invalid(f"'{text}' no es una dirección de correo válida (p. ej. nombre@institucion.gob.pa)")
    return text


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _expect("una fecha AAAA-MM-DD") from None


def _months(value: object) -> tuple[Period, ...]:
    """A list of AAAA-MM months (an item's ``empty_periods``), read as Periods once, when the file loads."""
    if not isinstance(value, (list, tuple)):
        raise _expect("una lista")
    months = []
    for text in value:
        if not Period.is_valid(str(text).strip()):
            raise invalid(f"período inválido '{text}': se esperaba AAAA-MM (p. ej. 2025-01)")
        months.append(Period.parse(str(text)))
    return tuple(months)


Text = Annotated[str, BeforeValidator(_text)]
PathValue = Annotated[Path, BeforeValidator(_path)]
Date = Annotated[dt.date, BeforeValidator(_date)]
EmailAddress = Annotated[str, BeforeValidator(_email)]
Months = Annotated[tuple[Period, ...], PlainValidator(_months)]
Integer = StrictInt
Flag = StrictBool


def shaped(kind: type, message: str, *, non_empty: bool = False) -> BeforeValidator:
    """A value that must be a ``kind`` (list or dict), with the Spanish ``message`` when it is not."""

    def check(value: object) -> object:
        if not isinstance(value, kind) or (non_empty and not value):
            raise invalid(message)
        return value

    return BeforeValidator(check)


# --------------------------------------------------------------------------- the translator

_EXPECTED = {
    "string_type": "un texto", "int_type": "un número entero", "int_from_float": "un número entero",
    "float_type": "un número", "bool_type": "true o false", "date_type": "una fecha AAAA-MM-DD",
    "list_type": "una lista", "tuple_type": "una lista",
}


def parse(model: type[S], raw: Any, where: str) -> S:
    """Validate one section; its first problem becomes a ConfigError in Spanish after ``where``."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(spanish(exc.errors(), model, raw, where)) from None


def key_path(where: str, loc: Sequence[int | str]) -> str:
    """``where`` followed by the key path: ``institution.yaml: directorates[1].sources[0]``."""
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    if not path:
        return where
    return f"{where}{path}" if path.startswith("[") else f"{where}: {path}" if ":" not in where else f"{where}.{path}"


_FIRST = {"extra_forbidden": 0, "missing": 1}  # as a reader checks: unknown keys, then missing ones, then values


def spanish(errors: list[ErrorDetails], model: type[BaseModel], raw: Any, where: str) -> str:
    """The first of pydantic's errors, as today's Spanish message."""
    error = min(errors, key=lambda e: _FIRST.get(e["type"], 2))
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    context = error.get("ctx") or {}
    section = loc if kind == "located" else loc[:-1]
    owner, entries = _section(model, raw, section)
    here = key_path(where, section) if owner.key_paths else where
    if kind in ("extra_forbidden", "missing"):
        template = owner.unknown_keys if kind == "extra_forbidden" else owner.missing_keys
        if template is not None:
            named = [str(e["loc"][-1]) for e in errors if e["type"] == kind and tuple(e["loc"][:-1]) == section]
            keys = ", ".join(sorted(named) if kind == "extra_forbidden" else named)
            return f"{here}: " + template.format_map(_Entries(entries, keys=keys))
    if kind == "located":
        return str(context["message"]).replace(HERE, here)
    if kind == "extra_forbidden":
        return f"{here}: clave desconocida '{loc[-1]}'{suggestion(str(loc[-1]), _keys(owner))}"
    if kind == "missing":
        return f"{here}: falta la clave obligatoria '{loc[-1]}'"
    at = key_path(where, loc) if owner.key_paths else where
    if kind == "spanish":
        return f"{at}: {context['message']}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{at}: se esperaba una sección con claves, no '{value}'"
    expected = context.get("expected") if kind == "expected" else _EXPECTED.get(kind, "un valor válido")
    return f"{at}: se esperaba {expected}, no '{value}'"


class _Entries(dict[str, Any]):
    """A section's keys for a message template; a key the section lacks reads as '?'."""

    def __missing__(self, key: str) -> str:
        return "?"


def _section(model: type[BaseModel], raw: Any, loc: Sequence[int | str]) -> tuple[type[Spec], dict[str, Any]]:
    """The section model at ``loc`` and its raw keys, over those of the sections around it (for the
    message templates: a field's constraints are named by the field's name)."""
    entries: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    for part in loc:
        raw = _entry(raw, part)
        if isinstance(raw, dict):
            entries = {**entries, **raw}
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        inner = _model_in(field.annotation) if field is not None else None
        if inner is None:
            break
        model = inner
    owner = model if issubclass(model, Spec) else Spec
    return owner, entries


def _entry(raw: Any, part: int | str) -> Any:
    """``raw[part]`` when the raw section has it, else None."""
    if isinstance(raw, dict):
        return raw.get(part)
    if isinstance(raw, (list, tuple)) and isinstance(part, int) and 0 <= part < len(raw):
        return raw[part]
    return None


def _keys(model: type[BaseModel]) -> list[str]:
    """The keys a section allows, by the names the file uses."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly or inside a tuple, list or optional."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
