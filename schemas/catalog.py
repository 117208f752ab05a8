"""The catalog of mandatory items: ``catalog.yaml`` plus an optional institution override file.

An override file has the same shape (``items:`` list). An entry whose code exists is merged onto
the shipped item (rename it, change its directorate or frequency, or set ``applies: false`` with a
``reason`` for "no aplica"); an entry with a new code adds an item and must be complete.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from transparencia.domain import Frequency, ItemKind, load_yaml
from transparencia.errors import ConfigError
from transparencia.schemas.table import TableSchema, load_schema

KINDS = {k.value for k in ItemKind}
EVIDENCE = {"confirmed", "reconstructed", "institution"}
_ITEM_KEYS = {
    "code", "slug", "name", "legal_basis", "kind", "frequency", "directorate", "dataset",
    "schema", "evidence", "note", "applies", "reason",
}
_REQUIRED = ("code", "slug", "name", "legal_basis", "kind", "frequency", "directorate", "dataset")


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


def _check_item(raw: Mapping[str, Any], where: str, complete: bool) -> None:
    unknown = set(raw) - _ITEM_KEYS
    if unknown:
        raise ConfigError(f"{where}: claves desconocidas en el punto {raw.get('code', '?')}: {', '.join(sorted(unknown))}")
    if complete:
        missing = [k for k in _REQUIRED if not raw.get(k)]
        if missing:
            raise ConfigError(f"{where}: al punto {raw.get('code', '?')} le falta: {', '.join(missing)}")
    checks = (("kind", KINDS), ("frequency", {f.value for f in Frequency}), ("evidence", EVIDENCE))
    for key, allowed in checks:
        if key in raw and raw[key] not in allowed:
            raise ConfigError(f"{where}: el punto {raw.get('code')}: '{key}' debe ser uno de {sorted(allowed)}, no '{raw[key]}'")
    if raw.get("kind") == "dataset" and complete and not raw.get("schema"):
        raise ConfigError(f"{where}: el punto {raw.get('code')} es de tipo dataset y necesita 'schema'")


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
        _check_item(raw, "catálogo", complete=True)
    if override is not None:
        where = str(override)
        try:
            text = Path(override).read_text(encoding="utf-8")
        except OSError:
            raise ConfigError(f"No se puede leer el archivo de catálogo '{override}'") from None
        added, names = _read_catalog(text, where)
        directorates.update(names)
        for raw in added:
            exists = raw["code"] in items
            _check_item(raw, where, complete=not exists)
            items[raw["code"]] = {**items.get(raw["code"], {"evidence": "institution"}), **raw}
    return Catalog(tuple(Item(**{**raw, "frequency": Frequency(raw["frequency"]), "kind": ItemKind(raw["kind"])}) for raw in items.values()),
                   directorates)

