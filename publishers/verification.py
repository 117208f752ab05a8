"""Read back what is published for a month and compare it with what was validated and rendered.

When a month is published, ``write_manifest`` records beside the rendered files
(``<data_dir>/build/<organization>/<slug>/manifiesto-<period>.json``, local only) what the target must
hold: each resource's name and sha256, each DataStore table's fingerprint and data dictionary, and
the history's rows and months. ``flows.verify.verify_period`` then reads the target back, one dataset at a
time through ``verify_dataset``:

* every expected resource present exactly once (and no staging left-overs);
* the sha256 of the bytes downloaded from the target (this month's files, the history, the
  dictionary: older months were checked when they were published);
* each table's row count and column checksums, and its data dictionary (a ``TableReadBack``);
* the history equal to the union of the stored months (its rows and its months).

The target is read through the publisher's ``ReadBack`` capability (``publishers.base``), so the
checks are the same on every backend. The checks take what they compare as parameters (the manifest,
the stored months' ``StoredHistory``, the reader): finding them in the data folder is the flows' part.
``transparencia verificar`` prints the checks as a table; ``run`` calls the same function after a real
publish and fails the run when a check fails.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from transparencia.domain import Period, atomic_write
from transparencia.domain.jsontypes import JsonObject
from transparencia.publishers.base import (
    DatasetSpec,
    DatastoreField,
    DatastoreTable,
    DictionaryField,
    FingerprintRecord,
    PublishedResource,
    ReadBack,
    ResourceFile,
    TableFingerprint,
    TableReadBack,
)
from transparencia.publishers.names import is_leftover
from transparencia.publishers.tables import datastore_fields, expected_fingerprint

MANIFEST = "manifiesto-{period}.json"
TYPE_ALIASES = {"int": "int4", "integer": "int4", "bigint": "int8", "float": "float8", "boolean": "bool"}


class CheckRecord(TypedDict):
    """A check as the run ledger records it (``Check.to_dict``)."""

    punto: str
    conjunto: str
    comprobacion: str
    correcto: bool
    detalle: str


class ManifestTable(TypedDict):
    huella: FingerprintRecord
    campos: list[DictionaryField]  # the data dictionary as the DataStore stores it (``datastore_fields``)


class _ManifestResourceBase(TypedDict):
    nombre: str
    formato: str
    sha256: str
    periodo: str | None  # AAAA-MM of a month's file; None for the history, the dictionary, the chart
    archivo: str


class ManifestResource(_ManifestResourceBase, total=False):
    datastore: ManifestTable


class ManifestHistory(TypedDict):
    filas: int
    periodos: list[str]  # AAAA-MM, oldest first


class Manifest(TypedDict):
    """``manifiesto-<period>.json``: what the target must hold for a dataset's month."""

    periodo: str
    conjunto: str
    organizacion: str
    recursos: list[ManifestResource]
    historico: ManifestHistory


@dataclass(frozen=True)
class StoredHistory:
    """What the store holds for an item (rows and months): the published history must equal it."""

    rows: int
    months: list[Period]


@dataclass(frozen=True)
class Check:
    item: str  # item code
    dataset: str
    what: str  # Spanish: "recursos", "sha256", "DataStore", "diccionario", "histórico"
    ok: bool
    detail: str = ""

    def describe(self) -> str:
        return f"{self.item} {self.dataset}: {self.what}: {self.detail or ('correcto' if self.ok else 'no coincide')}"

    def to_dict(self) -> CheckRecord:
        return {"punto": self.item, "conjunto": self.dataset, "comprobacion": self.what, "correcto": self.ok,
                "detalle": self.detail}


# --------------------------------------------------------------------------- manifest


def write_manifest(out_dir: Path, period: Period, dataset: DatasetSpec, resources: Sequence[ResourceFile],
                   history_rows: int, history_periods: Sequence[Period]) -> Path:
    """Record what the target must hold for this month (read by ``verify_dataset``)."""
    document: Manifest = {
        "periodo": str(period), "conjunto": dataset.name, "organizacion": dataset.organization,
        # The Data Package names its CSVs by their address on each target (a portal's URLs), so its
        # bytes differ from the rendered file by design: frictionless validation checks it instead.
        "recursos": [_resource_entry(r) for r in resources if r.role != "datapackage"],
        "historico": {"filas": int(history_rows), "periodos": [str(p) for p in sorted(history_periods)]},
    }
    path = Path(out_dir) / MANIFEST.format(period=period)
    atomic_write(path, json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"))
    return path


def _resource_entry(resource: ResourceFile) -> ManifestResource:
    entry: ManifestResource = {"nombre": resource.name, "formato": resource.format.label, "sha256": resource.sha256,
                             "periodo": str(resource.period) if resource.period else None,
                             "archivo": resource.path.name}
    if resource.datastore is not None:
        entry["datastore"] = {"huella": expected_fingerprint(resource.datastore).to_dict(),
                              "campos": datastore_fields(resource.datastore)}
    return entry


def read_manifest(out_dir: Path, period: Period) -> Manifest | None:
    path = Path(out_dir) / MANIFEST.format(period=period)
    if not path.exists():
        return None
    document: Manifest = json.loads(path.read_text(encoding="utf-8"))
    return document


# --------------------------------------------------------------------------- verification


def verify_dataset(code: str, manifest: Manifest, stored: StoredHistory, reader: ReadBack,
                   period: Period) -> list[Check]:
    """Every check of one dataset published for ``period``: its history against the stored months, then
    what ``reader`` finds on the target against the manifest."""
    return [_history_check(code, manifest, stored), *_published_checks(code, manifest, reader, period)]


def _checked_here(entry: ManifestResource, period: Period) -> bool:
    """This month's files, the history and the dictionary; older months were checked when published."""
    return entry["periodo"] in (str(period), None)


def _history_check(code: str, manifest: Manifest, stored: StoredHistory) -> Check:
    rows, months = stored.rows, [str(m) for m in stored.months]
    history = manifest["historico"]
    ok = history["filas"] == rows and history["periodos"] == months
    detail = (f"{rows} filas de {len(months)} meses" if ok else
              f"el histórico tiene {history['filas']} filas de {history['periodos']}; los meses validados "
              f"suman {rows} filas de {months}")
    return Check(code, manifest["conjunto"], "histórico", ok, detail)


def _name_checks(code: str, dataset: str, expected: list[ManifestResource], names: Counter[str]) -> list[Check]:
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


def _published_checks(code: str, manifest: Manifest, reader: ReadBack, period: Period) -> list[Check]:
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
            checks.extend(_table_checks(code, dataset, entry["nombre"], entry["datastore"], resource, reader))
    return checks


def _table_checks(code: str, dataset: str, name: str, manifest_table: ManifestTable, resource: PublishedResource,
                  reader: TableReadBack) -> list[Check]:
    fields = manifest_table["campos"]
    # The manifest always writes a label and notes (``datastore_fields``); only a portal's dictionary may lack them.
    table = DatastoreTable(fields=tuple(DatastoreField(f["id"], f["type"], f["info"]["label"] or "",
                                                       f["info"]["notes"] or "") for f in fields), rows_path=Path())
    wanted = manifest_table["huella"]
    expected = TableFingerprint(wanted["filas"], tuple(wanted["sumas"].items()))
    found = reader.published_table(resource, table)
    differences = expected.differences(found) if found else ["no hay tabla en el DataStore"]
    checks = [Check(code, dataset, f"DataStore {name}", not differences,
                    "; ".join(differences) or f"{expected.rows} filas y sumas de control iguales")]
    dictionary = reader.published_dictionary(resource)
    same = dictionary is not None and _comparable(dictionary) == _comparable(fields)
    checks.append(Check(code, dataset, f"diccionario {name}", same,
                        f"{len(fields)} columnas con tipo y descripción" if same else
                        "los tipos, títulos o descripciones publicados difieren de los validados"))
    return checks


def _comparable(fields: Sequence[DictionaryField] | Sequence[JsonObject]) -> list[JsonObject]:
    """A DataStore reports the Postgres name of a type ("int4" for "int")."""
    return [{**f, "type": TYPE_ALIASES.get(f["type"], f["type"])} for f in fields]
