"""Read back what is published for a month and compare it with what was validated and rendered.

When a month is published, ``write_manifest`` records beside the rendered files
(``<data_dir>/build/<organization>/<slug>/``, local only) what the target must hold: the month's own
files in ``manifiesto-<period>.json`` (each resource's name and sha256, each DataStore table's
fingerprint and data dictionary), and what describes every month (history, dictionary, chart, the
history's rows and months) in ``manifiesto.json``, which the latest publish or withdrawal of any month
rewrites. ``flows.verify.verify_period`` then reads the target back, one dataset at a time through
``verify_dataset``, so that any month, earlier or later, withdrawn or not, shows only real differences:

* the month's own files present exactly once (and no staging left-overs), their bytes and tables as
  validated; a withdrawn month (``mark_withdrawn``): none of its files online;
* what describes every month as last published: present once, the same bytes;
* the history holding exactly the months online (read from the target), with the rows validated for them,
  and the history the target serves read back and counted month by month against every month online
  (as the store caches them from the target, ``flows.online``), whichever data folder published last;
* the description stating the newest month online (and no month when none is).

The sha256 is of the bytes downloaded from the target; tables are checked by row count and column
checksums, with their data dictionary (a ``TableReadBack``).

The target is read through the publisher's ``ReadBack`` capability (``publishers.base``), so the
checks are the same on every backend. The checks take what they compare as parameters (the manifest,
the stored months' ``StoredHistory``, the reader): finding them in the data folder is the flows' part.
``transparencia verificar`` prints the checks as a table; ``run`` calls the same function after a real
publish and fails the run when a check fails.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import pandas as pd

from transparencia.domain import Period, atomic_write
from transparencia.errors import TransparenciaError
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
from transparencia.publishers.render import LATEST_MONTH
from transparencia.publishers.tables import comparable_fields, datastore_fields, expected_fingerprint

MANIFEST = "manifiesto-{period}.json"  # a month's own files
DATASET_MANIFEST = "manifiesto.json"  # what describes every month, as the latest publish or withdrawal left it


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


class _ManifestBase(TypedDict):
    periodo: str
    conjunto: str
    organizacion: str
    recursos: list[ManifestResource]
    historico: ManifestHistory


class Manifest(_ManifestBase, total=False):
    """``manifiesto-<period>.json``: what the target must hold for a dataset's month (``manifiesto.json``:
    what describes every month, written by the latest publish or withdrawal)."""

    retirado: str  # ISO date the month was withdrawn (``transparencia retirar``); absent while it is online


@dataclass(frozen=True)
class StoredHistory:
    """What the store holds for an item (rows and months): the published history must equal it.

    ``month_rows`` are the rows of each month online as the store caches them (``flows.online``), and
    ``history_csv`` the name of the history's CSV resource: the history the target serves is read back
    and counted month by month against them (nothing is read when either is empty)."""

    rows: int
    months: list[Period]
    month_rows: Mapping[Period, int] = field(default_factory=dict)
    history_csv: str = ""


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
    """Record what the target must hold for this month (read by ``verify_dataset``): the month's own
    files in ``manifiesto-<period>.json``, and what describes every month (the history, the dictionary,
    the chart) in the dataset's ``manifiesto.json``, which the latest publish of any month rewrites.
    Another month's file rendered again with it (the change summary of the month that compares with
    this one) is recorded in that month's manifest."""
    write_dataset_manifest(out_dir, period, dataset, resources, history_rows, history_periods)
    path = Path(out_dir) / MANIFEST.format(period=period)
    own = [r for r in resources if r.period in (None, period)]
    _write(path, _manifest(period, dataset, own, history_rows, history_periods))
    for other in {r.period for r in resources if r.period is not None and r.period != period}:
        amend_manifest(out_dir, other, resources)
    return path


def write_dataset_manifest(out_dir: Path, period: Period, dataset: DatasetSpec, resources: Sequence[ResourceFile],
                           history_rows: int, history_periods: Sequence[Period]) -> Path:
    """Record what describes every month as the target now holds it: written by each publish and by a
    withdrawal (``period`` is the month whose publish or withdrawal wrote it)."""
    path = Path(out_dir) / DATASET_MANIFEST
    _write(path, _manifest(period, dataset, [r for r in resources if r.period is None], history_rows, history_periods))
    return path


def mark_withdrawn(out_dir: Path, period: Period, date: str) -> None:
    """Record that ``period`` was withdrawn on ``date``: verifying it then checks that it is gone.
    Publishing the month again writes a new manifest without the mark."""
    manifest = read_manifest(out_dir, period)
    if manifest is not None:
        _write(Path(out_dir) / MANIFEST.format(period=period), {**manifest, "retirado": date})


def amend_manifest(out_dir: Path, period: Period, resources: Sequence[ResourceFile]) -> None:
    """Record ``period``'s files rendered again after it was published (its change summary, once the
    month before it was withdrawn)."""
    manifest = read_manifest(out_dir, period)
    if manifest is None:
        return
    renewed = {entry["nombre"]: entry for entry in map(_resource_entry, resources) if entry["periodo"] == str(period)}
    manifest["recursos"] = [renewed.get(entry["nombre"], entry) for entry in manifest["recursos"]]
    _write(Path(out_dir) / MANIFEST.format(period=period), manifest)


def _write(path: Path, manifest: Manifest) -> None:
    atomic_write(path, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))


def _manifest(period: Period, dataset: DatasetSpec, resources: Sequence[ResourceFile], history_rows: int,
              history_periods: Sequence[Period]) -> Manifest:
    return {
        "periodo": str(period), "conjunto": dataset.name, "organizacion": dataset.organization,
        # The Data Package names its CSVs by their address on each target (a portal's URLs), so its
        # bytes differ from the rendered file by design: frictionless validation checks it instead.
        "recursos": [_resource_entry(r) for r in resources if r.role != "datapackage"],
        "historico": {"filas": int(history_rows), "periodos": [str(p) for p in sorted(history_periods)]},
    }


def _resource_entry(resource: ResourceFile) -> ManifestResource:
    entry: ManifestResource = {"nombre": resource.name, "formato": resource.format.label, "sha256": resource.sha256,
                             "periodo": str(resource.period) if resource.period else None,
                             "archivo": resource.path.name}
    if resource.datastore is not None:
        entry["datastore"] = {"huella": expected_fingerprint(resource.datastore).to_dict(),
                              "campos": datastore_fields(resource.datastore)}
    return entry


def read_manifest(out_dir: Path, period: Period) -> Manifest | None:
    """The month's manifest, or None when this data folder never published the month."""
    return _read(Path(out_dir) / MANIFEST.format(period=period))


def read_dataset_manifest(out_dir: Path) -> Manifest | None:
    """The dataset's manifest (what describes every month), or None when no publish wrote one yet."""
    return _read(Path(out_dir) / DATASET_MANIFEST)


def _read(path: Path) -> Manifest | None:
    if not path.exists():
        return None
    document: Manifest = json.loads(path.read_text(encoding="utf-8"))
    return document


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Expected:
    """What the target must hold for a dataset when one month is verified: that month's manifest (its
    own files, or that it is gone when it was withdrawn) and the dataset's (what describes every month)."""

    month: Manifest
    dataset: Manifest

    @property
    def name(self) -> str:
        return self.month["conjunto"]

    @property
    def organization(self) -> str:
        return self.month["organizacion"]

    @property
    def withdrawn(self) -> bool:
        return "retirado" in self.month

    def own(self, period: Period) -> list[ManifestResource]:
        """The month's own files (its data, validation report and change summary)."""
        return [e for e in self.month["recursos"] if e["periodo"] == str(period)]

    def shared(self) -> list[ManifestResource]:
        """What describes every month (history, dictionary, chart), as last published."""
        return [e for e in self.dataset["recursos"] if e["periodo"] is None]


def verify_dataset(code: str, period: Period, expected: Expected, stored: StoredHistory, reader: ReadBack,
                   online: set[Period]) -> list[Check]:
    """Every check of one dataset for ``period``: the month's own files exactly (or, withdrawn, their
    absence), and what describes every month against the months ``online`` (the history, the
    description) and against its last publish (the bytes)."""
    dataset = expected.name
    published = reader.published_resources(expected.organization, dataset)
    if published is None:
        return [Check(code, dataset, "recursos", False, reader.missing_dataset)]
    names = Counter(r.name for r in published)
    by_name = {r.name: r for r in published}
    own = [] if expected.withdrawn else expected.own(period)
    checks = [_absence_check(code, dataset, expected.own(period), names, period, online)] if expected.withdrawn else []
    checks += _name_checks(code, dataset, expected.shared() + own, names)
    readable = bool(stored.history_csv and stored.month_rows and stored.history_csv in by_name)
    if readable:
        checks.append(_online_history_check(code, dataset, by_name[stored.history_csv], stored, reader))
    # What describes every month was last published from another data folder when this folder's record
    # of it holds other months: the history read back above is then the check, not this folder's bytes.
    elsewhere = readable and expected.dataset["historico"]["periodos"] != [str(m) for m in sorted(online)]
    if not elsewhere:
        checks.append(_history_check(code, dataset, expected.dataset, stored, online))
    checks.append(_description_check(code, dataset, reader.published_description(expected.organization, dataset),
                                     online))
    checks += _content_checks(code, dataset, own if elsewhere else expected.shared() + own, by_name, reader)
    return checks


def _absence_check(code: str, dataset: str, own: list[ManifestResource], names: Counter[str], period: Period,
                   online: set[Period]) -> Check:
    """A withdrawn month: none of its files is online, and the target holds nothing of that month."""
    left = [e["nombre"] for e in own if names[e["nombre"]]]
    problems = ([f"siguen en línea: {', '.join(left)}"] if left else []) + \
               ([f"el destino aún tiene archivos de {period}"] if period in online and not left else [])
    return Check(code, dataset, "retiro", not problems,
                 "; ".join(problems) or f"el mes {period}, retirado, no está en línea")


def _history_check(code: str, dataset: str, manifest: Manifest, stored: StoredHistory,
                   online: set[Period]) -> Check:
    """The history as last published holds exactly the months online, with the rows validated for them."""
    history, months = manifest["historico"], [str(m) for m in sorted(online)]
    problems = []
    if history["periodos"] != months:
        problems.append(f"el histórico tiene los meses {_months(history['periodos'])}; en línea están {_months(months)}")
    if [str(m) for m in stored.months] != months:
        problems.append(f"los meses validados en esta carpeta de datos son {_months(str(m) for m in stored.months)}; "
                        f"en línea están {_months(months)}")
    elif history["filas"] != stored.rows:
        problems.append(f"el histórico tiene {history['filas']} filas; los meses validados suman {stored.rows}")
    return Check(code, dataset, "histórico", not problems,
                 "; ".join(problems) or f"{stored.rows} filas de {len(months)} meses, los que están en línea")


def _online_history_check(code: str, dataset: str, resource: PublishedResource, stored: StoredHistory,
                          reader: ReadBack) -> Check:
    """The history the target serves holds every month online with that month's rows, and no other
    month: read back, whichever data folder published it last."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "historico.csv"
        try:
            reader.download(resource, path)
        except TransparenciaError as error:
            return Check(code, dataset, "histórico en línea", False, str(error))
        months = pd.read_csv(path, usecols=["periodo"], dtype=str, encoding="utf-8-sig")["periodo"]
    found = {str(p): int(n) for p, n in months.value_counts().items()}
    wanted = {str(p): n for p, n in sorted(stored.month_rows.items())}
    problems = [f"{p}: {found.get(p, 0)} filas, el mes publicado tiene {n}" for p, n in wanted.items()
                if found.get(p, 0) != n]
    problems += [f"{p}: {n} filas de un mes que no está en línea" for p, n in sorted(found.items()) if p not in wanted]
    return Check(code, dataset, "histórico en línea", not problems,
                 "; ".join(problems) or f"{sum(wanted.values())} filas de {len(wanted)} meses, cada mes en línea")


def _description_check(code: str, dataset: str, notes: str | None, online: set[Period]) -> Check:
    """The description states the totals of the newest month online (or none when no month is online)."""
    newest = max(online) if online else None
    text = notes or ""
    stated = sorted(set(LATEST_MONTH.findall(text)))
    ok = stated == ([str(newest)] if newest else [])
    if ok:
        detail = f"describe {newest}, el mes más reciente en línea" if newest else "no describe ningún mes"
    else:
        detail = (f"describe {_months(stated) if stated else 'ningún mes'}; el más reciente en línea es "
                  f"{newest or 'ninguno'}")
    return Check(code, dataset, "descripción", ok, detail)


def _months(months) -> str:
    listed = list(months)
    return ", ".join(listed) if listed else "ninguno"


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


def _content_checks(code: str, dataset: str, entries: list[ManifestResource], by_name: dict[str, PublishedResource],
                    reader: ReadBack) -> list[Check]:
    """The bytes of each expected file the target holds, and its table when it has one."""
    checks = []
    for entry in entries:
        resource = by_name.get(entry["nombre"])
        if resource is None:
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
    same = dictionary is not None and comparable_fields(dictionary) == comparable_fields(fields)
    checks.append(Check(code, dataset, f"diccionario {name}", same,
                        f"{len(fields)} columnas con tipo y descripción" if same else
                        "los tipos, títulos o descripciones publicados difieren de los validados"))
    return checks
