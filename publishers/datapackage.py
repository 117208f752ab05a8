"""A Frictionless Data Package (``datapackage.json``) for each published dataset.

It describes the dataset's CSV files with Table Schemas built from the item schema, as the files
are published: only the columns that leave the machine, with their Spanish titles and
descriptions, types and constraints. A constraint that the published value no longer meets is
left out (a masked value keeps no enum or pattern; a text neutralised for spreadsheets gains a
leading ``'``, which its maximum length allows for), and the
primary key is declared only when every key column is published whole, as for the DataStore.

Rendering names every file the dataset may hold (each month's CSV and change summary); the
publisher then completes the package with what its target holds (``as_held``): each file's
location, its sha256 ``hash`` and its size in ``bytes``, leaving out a file the target lacks, so the
package never points at nothing and frictionless checks every byte. In the local catalog paths
are relative to the dataset folder, so the package travels with the files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from transparencia.domain.jsontypes import JsonObject
from transparencia.publishers import dcat
from transparencia.schemas.table import Field, TableSchema

FILENAME = "datapackage.json"
# Data Package v2: the version whose Table Schema has exclusiveMinimum (salaries are > 0).
PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
FRICTIONLESS_TYPES = {"string": "string", "yearmonth": "yearmonth", "number": "number", "integer": "integer",
                      "date": "date", "boolean": "boolean"}
@dataclass(frozen=True)
class HeldFile:
    """A file as a publishing target holds it: where the package reads it, its sha256 and size."""

    location: str  # the file name beside the package (local catalog) or its URL (portal)
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class CsvTable:
    """One CSV file of the dataset and the Table Schema its rows follow."""

    name: str  # package resource name: lowercase letters, digits, '-', '_', '.'
    path: str  # relative to the dataset folder
    title: str
    description: str
    schema: Mapping[str, object]


def table_schema(schema: TableSchema, fields: Sequence[Field], rules: Mapping[str, str]) -> JsonObject:
    """The Table Schema of a published CSV: ``fields`` are the published ones, in file order."""
    descriptor: JsonObject = {
        "fields": [_field(f, rules.get(f.name, "publish")) for f in fields],
        "missingValues": [""],
    }
    key = list(schema.primary_key)
    published = {f.name for f in fields}
    if key and all(n in published and rules.get(n, "publish") == "publish" for n in key):
        descriptor["primaryKey"] = key
    return descriptor


def _field(f: Field, treatment: str) -> JsonObject:
    out: JsonObject = {"name": f.name, "type": FRICTIONLESS_TYPES[f.type], "title": f.title,
                           "description": f.description}
    if f.type == "date":
        out["format"] = "%Y-%m-%d"
    constraints: JsonObject = {}
    if f.required:
        constraints["required"] = True
    if treatment == "publish":
        if f.enum:
            constraints["enum"] = list(f.enum)
        if f.pattern:
            constraints["pattern"] = f.pattern
    if f.type in ("number", "integer"):
        if f.minimum is not None:
            constraints["minimum"] = f.minimum
        if f.maximum is not None:
            constraints["maximum"] = f.maximum
        if f.exclusive_minimum is not None:
            constraints["exclusiveMinimum"] = f.exclusive_minimum
    if f.max_length is not None and treatment == "publish":
        constraints["maxLength"] = f.max_length + 1  # room for the leading ' of a neutralised text
    if constraints:
        out["constraints"] = constraints
    return out


def text_schema(columns: Mapping[str, tuple[str, str]], numbers: Sequence[str] = ()) -> JsonObject:
    """A Table Schema for a file of our own making (dictionary, change summary): text columns
    with a title and description each, ``numbers`` typed as numbers."""
    return {
        "fields": [{"name": name, "type": "number" if name in numbers else "string", "title": title,
                    "description": description} for name, (title, description) in columns.items()],
        "missingValues": [""],
    }


def package(name: str, title: str, description: str, license_id: str, tables: Sequence[CsvTable]) -> JsonObject:
    """The ``datapackage.json`` descriptor (Tabular Data Package, CSV in UTF-8 with BOM)."""
    known = dcat.licence(license_id)
    licence: JsonObject = ({"name": known.spdx, "title": known.name, "path": known.page} if known
                           else {"name": license_id, "title": license_id})
    return {
        "$schema": PROFILE,
        "name": name,
        "title": title,
        "description": description,
        "licenses": [licence],
        "resources": [
            {
                "type": "table",
                "name": table.name,
                "path": table.path,
                "title": table.title,
                "description": table.description,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "doubleQuote": True},
                "schema": table.schema,
            }
            for table in tables
        ],
    }


def write_package(descriptor: Mapping[str, object], folder: Path) -> Path:
    path = Path(folder) / FILENAME
    path.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def as_held(descriptor: JsonObject, files: Mapping[str, HeldFile]) -> JsonObject:
    """The rendered package as a target holds it (``files`` by file name): each resource at its
    file's location with its ``hash`` (Data Package v2 form, ``sha256:<hex>``) and ``bytes``; a file
    the target does not hold is left out."""
    resources = []
    for resource in descriptor["resources"]:
        held = files.get(resource["path"])
        if held is None:
            continue
        entry = {**resource, "path": held.location}
        if held.sha256:
            entry["hash"] = f"sha256:{held.sha256}"
        if held.size is not None:
            entry["bytes"] = held.size
        resources.append(entry)
    return {**descriptor, "resources": resources}
