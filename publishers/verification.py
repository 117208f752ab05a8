"""Read back what is published for a month and compare it with what was validated and rendered.

When a month is published, ``write_manifest`` records beside the rendered files
(``<data_dir>/build/<organization>/<slug>/manifiesto-<period>.json``, local only) what the target must
hold: each resource's name and sha256, each DataStore table's fingerprint and data dictionary, and
the history's rows and months. ``verify_period`` then reads the target back:

* every expected resource present exactly once (and no staging left-overs);
* the sha256 of the bytes downloaded from the target (this month's files, the history, the
  dictionary: older months were checked when they were published);
* each table's row count and column checksums, and its data dictionary (a ``TableReadBack``);
* the history equal to the union of the stored months (its rows and its months).

The target is read through the publisher's ``ReadBack`` capability (``publishers.base``), so the
checks are the same on every backend. ``transparencia verificar`` prints the checks as a table;
``run`` calls the same function after a real publish and fails the run when a check fails.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transparencia.domain import ItemKind, Target, atomic_write
from transparencia.errors import ConfigError
from transparencia.publishers.base import (
    DatasetSpec,
    DatastoreField,
    DatastoreTable,
    PublishedResource,
    Publisher,
    ReadBack,
    ResourceFile,
    TableFingerprint,
    TableReadBack,
)
from transparencia.publishers.names import is_leftover
from transparencia.publishers.tables import datastore_fields, expected_fingerprint

if TYPE_CHECKING:
    from transparencia.flows.store import MonthStore
    from transparencia.sources.config import InstitutionConfig

MANIFEST = "manifiesto-{period}.json"
TYPE_ALIASES = {"int": "int4", "integer": "int4", "bigint": "int8", "float": "float8", "boolean": "bool"}


@dataclass(frozen=True)
class Check:
    item: str  # item code
    dataset: str
    what: str  # Spanish: "recursos", "sha256", "DataStore", "diccionario", "histórico"
    ok: bool
    detail: str = ""

    def describe(self) -> str:
        return f"{self.item} {self.dataset}: {self.what}: {self.detail or ('correcto' if self.ok else 'no coincide')}"

    def to_dict(self) -> dict[str, Any]:
        return {"punto": self.item, "conjunto": self.dataset, "comprobacion": self.what, "correcto": self.ok,
                "detalle": self.detail}


# --------------------------------------------------------------------------- manifest


def write_manifest(out_dir: Path, period: str, dataset: DatasetSpec, resources: Sequence[ResourceFile],
                   history_rows: int, history_periods: Sequence[str]) -> Path:
    """Record what the target must hold for this month (read by ``verify_period``)."""
    document = {
        "periodo": period, "conjunto": dataset.name, "organizacion": dataset.organization,
        # The Data Package names its CSVs by their address on each target (a portal's URLs), so its
        # bytes differ from the rendered file by design: frictionless validation checks it instead.
        "recursos": [_resource_entry(r) for r in resources if r.role != "datapackage"],
        "historico": {"filas": int(history_rows), "periodos": sorted(history_periods)},
    }
    path = Path(out_dir) / MANIFEST.format(period=period)
    atomic_write(path, json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
    return path


def _resource_entry(resource: ResourceFile) -> dict[str, Any]:
    entry: dict[str, Any] = {"nombre": resource.name, "formato": resource.format.label, "sha256": resource.sha256,
                             "periodo": str(resource.period) if resource.period else None,
                             "archivo": resource.path.name}
    if resource.datastore is not None:
        entry["datastore"] = {"huella": expected_fingerprint(resource.datastore).to_dict(),
                              "campos": datastore_fields(resource.datastore)}
    return entry


def read_manifest(out_dir: Path, period: str) -> dict[str, Any] | None:
    path = Path(out_dir) / MANIFEST.format(period=period)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


# --------------------------------------------------------------------------- verification


def verify_period(config: InstitutionConfig, period: str, target: Target, items: Sequence[str] | None = None,
                  publisher: Publisher | None = None) -> list[Check]:
    """Every check of every item published for ``period`` (or only ``items``) on ``target``."""
    from transparencia.flows.stages import build_dir, make_publisher
    from transparencia.flows.store import MonthStore

    store = MonthStore.of(config)
    publisher = publisher or make_publisher(config, target)
    if not isinstance(publisher, ReadBack):
        raise ConfigError(f"El destino {target.label} no permite leer lo publicado para verificarlo.")
    checks: list[Check] = []
    for item in config.catalog:
        if item.kind is not ItemKind.DATASET or (items is not None and item.code not in items):
            continue
        manifest = read_manifest(build_dir(config, item), period)
        if manifest is None:
            if items is not None:
                checks.append(Check(item.code, item.slug, "recursos", False,
                                    "no hay registro local de lo publicado para este mes"))
            continue
        checks.extend(_history_checks(item.code, manifest, store, item.slug))
        checks.extend(_published_checks(item.code, manifest, publisher, period))
    return checks


def _checked_here(entry: dict[str, Any], period: str) -> bool:
    """This month's files, the history and the dictionary; older months were checked when published."""
    return entry["periodo"] in (period, None)


def _history_checks(code: str, manifest: dict[str, Any], store: MonthStore, slug: str) -> list[Check]:
    months = store.months(slug)
    rows = sum((store.meta(slug, m) or {}).get("rows", 0) for m in months)
    history = manifest["historico"]
    ok = history["filas"] == rows and history["periodos"] == months
    detail = (f"{rows} filas de {len(months)} meses" if ok else
              f"el histórico tiene {history['filas']} filas de {history['periodos']}; los meses validados "
              f"suman {rows} filas de {months}")
    return [Check(code, manifest["conjunto"], "histórico", ok, detail)]


def _name_checks(code: str, dataset: str, expected: list[dict[str, Any]], names: Counter[str]) -> list[Check]:
    checks = []
    missing = [e["nombre"] for e in expected if names[e["nombre"]] == 0]
    repeated = [f"{n} ({c} veces)" for n, c in sorted(names.items()) if c > 1]
    leftovers = [n for n in names if is_leftover(n)]
    problems = ([f"faltan: {', '.join(missing)}"] if missing else []) + \
               ([f"repetidos: {', '.join(repeated)}"] if repeated else []) + \
               ([f"restos: {', '.join(leftovers)}"] if leftovers else [])
    checks.append(Check(code, dataset, "recursos", not problems,
                        "; ".join(problems) or f"{len(expected)} recursos, una vez cada uno"))
    return checks


def _published_checks(code: str, manifest: dict[str, Any], reader: ReadBack, period: str) -> list[Check]:
    """The dataset's resources as the target holds them: names, this month's bytes, and tables when it has them."""
    dataset = manifest["conjunto"]
    published = reader.published_resources(manifest["organizacion"], dataset)
    if published is None:
        return [Check(code, dataset, "recursos", False, reader.missing_dataset)]
    checks = _name_checks(code, dataset, manifest["recursos"], Counter(r.name for r in published))
    by_name = {r.name: r for r in published}
    for entry in manifest["recursos"]:
        resource = by_name.get(entry["nombre"])
        if resource is None or not _checked_here(entry, period):
            continue
        digest = reader.published_sha256(resource)
        same = digest == entry["sha256"]
        checks.append(Check(code, dataset, f"sha256 {entry['nombre']}", same,
                            "coincide" if same else reader.sha256_mismatch(digest, entry["sha256"])))
        if "datastore" in entry and isinstance(reader, TableReadBack):
            checks.extend(_table_checks(code, dataset, entry, resource, reader))
    return checks


def _table_checks(code: str, dataset: str, entry: dict[str, Any], resource: PublishedResource,
                  reader: TableReadBack) -> list[Check]:
    fields = entry["datastore"]["campos"]
    table = DatastoreTable(fields=tuple(DatastoreField(f["id"], f["type"], f["info"]["label"], f["info"]["notes"])
                                        for f in fields), rows_path=Path())
    wanted = entry["datastore"]["huella"]
    expected = TableFingerprint(wanted["filas"], tuple(wanted["sumas"].items()))
    found = reader.published_table(resource, table)
    differences = expected.differences(found) if found else ["no hay tabla en el DataStore"]
    checks = [Check(code, dataset, f"DataStore {entry['nombre']}", not differences,
                    "; ".join(differences) or f"{expected.rows} filas y sumas de control iguales")]
    dictionary = reader.published_dictionary(resource)
    same = dictionary is not None and _comparable(dictionary) == _comparable(fields)
    checks.append(Check(code, dataset, f"diccionario {entry['nombre']}", same,
                        f"{len(fields)} columnas con tipo y descripción" if same else
                        "los tipos, títulos o descripciones publicados difieren de los validados"))
    return checks


def _comparable(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A DataStore reports the Postgres name of a type ("int4" for "int")."""
    return [{**f, "type": TYPE_ALIASES.get(f["type"], f["type"])} for f in fields]
