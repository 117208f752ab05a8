"""The catalog of mandatory items: ``catalog.yaml`` plus an optional institution override file.

An override file has the same shape (``items:`` list). An entry whose code exists is merged onto
the shipped item (rename it, change its directorate or frequency, or set ``applies: false`` with a
``reason`` for "no aplica"); an entry with a new code adds an item and must be complete.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar

import yaml
from pydantic import BeforeValidator, ValidationInfo, model_validator
from pydantic import Field as PydanticField

from transparencia.domain import Frequency, ItemKind, load_yaml
from transparencia.errors import ConfigError
from transparencia.schemas.spec import Spec, Text, invalid, parse
from transparencia.schemas.table import TableSchema, load_schema

EVIDENCE = ("confirmed", "reconstructed", "institution")


def _one_of(key: str, allowed: Iterable[str]) -> BeforeValidator:
    """A value among ``allowed``, else the catalog's message naming the item's code."""
    choices = sorted(str(value) for value in allowed)

    def check(value: object, info: ValidationInfo) -> object:
        if value not in choices:
            raise invalid(f"el punto {info.data.get('code')}: '{key}' debe ser uno de {choices}, no '{value}'")
        return value

    return BeforeValidator(check)


class ItemChange(Spec):
    """A catalog entry that changes a shipped item: only the keys it gives."""

    key_paths: ClassVar[bool] = False
    unknown_keys: ClassVar[str | None] = "claves desconocidas en el punto {code}: {keys}"
    missing_keys: ClassVar[str | None] = "al punto {code} le falta: {keys}"

    code: str
    slug: Text | None = None
    name: Text | None = None
    legal_basis: Text | None = None
    kind: Annotated[ItemKind | None, _one_of("kind", ItemKind)] = None
    frequency: Annotated[Frequency | None, _one_of("frequency", Frequency)] = None
    directorate: Text | None = None
    dataset: Text | None = None
    schema_: Text | None = PydanticField(default=None, alias="schema")
    evidence: Annotated[str, _one_of("evidence", EVIDENCE)] = "institution"
    note: Text | None = None
    applies: bool = True
    reason: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, raw: Any) -> Any:
        """A key given empty is as good as missing (the catalog's rule for required keys)."""
        return {k: v for k, v in raw.items() if v != ""} if isinstance(raw, dict) else raw


class ItemSpec(ItemChange):
    """A complete catalog entry: a shipped item, or a new one an override adds."""

    slug: Text
    name: Text
    legal_basis: Text
    kind: Annotated[ItemKind, _one_of("kind", ItemKind)]
    frequency: Annotated[Frequency, _one_of("frequency", Frequency)]
    directorate: Text
    dataset: Text

    def check(self, where: str) -> None:
        if self.kind is ItemKind.DATASET and not self.schema_:
            raise ConfigError(f"{where}: el punto {self.code} es de tipo dataset y necesita 'schema'")

    def item(self) -> Item:
        return Item(code=self.code, slug=self.slug, name=self.name, legal_basis=self.legal_basis, kind=self.kind,
                    frequency=self.frequency, directorate=self.directorate, dataset=self.dataset,
                    schema=self.schema_, evidence=self.evidence, note=self.note, applies=self.applies,
                    reason=self.reason)


@dataclass(frozen=True)
class Item:
    code: str
    slug: str
    name: str
    legal_basis: str
    kind: ItemKind
    frequency: Frequency
    directorate: str
    dataset: str
    schema: str | None = None
    evidence: str = "institution"
    note: str | None = None
    applies: bool = True
    reason: str | None = None

    @property
    def frequency_label(self) -> str:
        return self.frequency.label

    def table_schema(self) -> TableSchema:
        if not self.schema:
            raise ConfigError(f"El punto {self.code} ({self.name}) es un documento y no tiene esquema de tabla")
        return load_schema(self.schema)

    def dataset_name(self, acronym: str) -> str:
        return self.dataset.format(acronym=acronym.lower())

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "slug": self.slug, "name": self.name, "kind": self.kind,
            "frequency": self.frequency, "legal_basis": self.legal_basis,
            "directorate": self.directorate, "dataset": self.dataset, "schema": self.schema,
            "evidence": self.evidence, "applies": self.applies, "reason": self.reason,
            "note": self.note,
        }


def _fold(text: str) -> str:
    """Case- and accent-insensitive form, so 'Viáticos', 'viaticos' and 'VIATICOS' match."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("_", "-").replace(" ", "-")


@dataclass(frozen=True)
class Catalog:
    items: tuple[Item, ...]
    directorate_names: Mapping[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, ref: str) -> Item:
        """Find an item by code ('11.3') or short name ('planilla'), forgiving case and accents."""
        wanted = _fold(ref)
        for item in self.items:
            if wanted in (_fold(item.code), _fold(item.slug)):
                return item
        known = ", ".join(f"{i.code} ({i.slug})" for i in self.items if i.kind is ItemKind.DATASET)
        raise ConfigError(f"Punto desconocido '{ref}'. Puntos con datos tabulares: {known}")

    def datasets(self) -> list[Item]:
        return [i for i in self.items if i.kind is ItemKind.DATASET]


def _read_catalog(text: str, where: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A catalog document's items and its directorate names."""
    try:
        doc = load_yaml(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: YAML inválido: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise ConfigError(f"{where}: se esperaba una lista 'items'")
    names = doc.get("directorates") or {}
    if not isinstance(names, dict):
        raise ConfigError(f"{where}: 'directorates' debe asociar cada id de dirección con su nombre")
    items = []
    for raw in doc["items"]:
        if not isinstance(raw, dict) or "code" not in raw:
            raise ConfigError(f"{where}: cada punto necesita 'code'")
        items.append({**raw, "code": str(raw["code"])})
    return items, {str(k): str(v) for k, v in names.items()}


def load_catalog(override: Path | None = None) -> Catalog:
    """The shipped catalog, with an institution's override file applied when given."""
    shipped = resources.files("transparencia.schemas") / "catalog.yaml"
    base, directorates = _read_catalog(shipped.read_text(encoding="utf-8"), "catálogo")
    items = {raw["code"]: raw for raw in base}
    for raw in base:
        parse(ItemSpec, raw, "catálogo")
    if override is not None:
        where = str(override)
        try:
            text = Path(override).read_text(encoding="utf-8")
        except OSError:
            raise ConfigError(f"No se puede leer el archivo de catálogo '{override}'") from None
        added, names = _read_catalog(text, where)
        directorates.update(names)
        for raw in added:
            parse(ItemChange if raw["code"] in items else ItemSpec, raw, where)
            items[raw["code"]] = {**items.get(raw["code"], {}), **raw}
    return Catalog(tuple(ItemSpec.model_validate(raw).item() for raw in items.values()), directorates)

