"""The local catalog publisher, the default when no portal is configured.

A release lands under ``<root>/<organization>/<dataset>/`` with a ``metadatos.json`` per dataset,
and the whole folder gets a DCAT-AP 3 ``catalog.json`` (``publishers.local_dcat``) and an
``index.html`` a journalist can open without a server or internet. Like the CKAN backend it is idempotent: a file whose sha256 is
unchanged is never rewritten (its mtime and inode stay), and every write is atomic (temporary
file + rename), so a crash never leaves a half-written file behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import orjson

from transparencia.domain import Period, atomic_copies, atomic_write, file_lock, sha256_file, write_if_changed
from transparencia.domain.vocab import PublishObject, PublishVerb
from transparencia.errors import ConfigError, InputError, TerminalError
from transparencia.publishers import datapackage, dcat, pages
from transparencia.publishers.base import (
    DatasetSpec,
    PublishAction,
    PublishedResource,
    PublishResult,
    ReadBack,
    ResourceFile,
)
from transparencia.publishers.local_dcat import dcat_catalog, public_address
from transparencia.publishers.local_metadata import LocalDocument, LocalRecord, periods
from transparencia.publishers.render import template

METADATA_FILE = "metadatos.json"
CATALOG_FILE = "catalog.json"
INDEX_FILE = "index.html"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")


class LocalCatalog(ReadBack):
    """Publishes into a folder: ``<root>/<organization>/<dataset>/`` plus ``catalog.json`` and ``index.html``.

    It has no ``PortalSession``: the folder needs no checks before a run, and ``_lock`` serialises writers.
    ``public_url`` is where the folder is served (``publish.public_url``): the catalog's IRIs are
    absolute under it, or relative to ``catalog.json`` without it."""

    name = "local"

    def __init__(self, root: Path, public_url: str | None = None):
        self.root = Path(root)
        self.public_url = public_url

    def sync(self, dataset: DatasetSpec, resources: Sequence[ResourceFile], *, dry_run: bool = False) -> PublishResult:
        """Copy the files whose sha256 differs, merge the dataset metadata, refresh catalog and index."""
        _check_identity(dataset, resources)
        folder = self.root / dataset.organization / dataset.name
        # The dataset's address as the catalog gives it (relative to its root, like catalog.json's
        # download URLs): a file:// link to this machine would be dead for the public.
        public_url = "/".join(quote(part) for part in (dataset.organization, dataset.name)) + "/"
        result = PublishResult(dataset=dataset.name, url=public_url, dry_run=dry_run)
        with self._lock(dry_run):
            old = _read_resources(folder)
            records = {r["name"]: r for r in old}
            today = dt.date.today().isoformat()
            copies: list[tuple[ResourceFile, Path]] = []
            for resource in resources:
                if resource.role == "datapackage":  # rendered last: the files it names are recorded
                    resource = _held_package(resource, records)
                dest = folder / resource.path.name
                action = _file_action(dest, resource.sha256)
                recorded = records.get(resource.name)
                if action is PublishVerb.UNCHANGED and (recorded["file"] if recorded else None) != dest.name:
                    action = PublishVerb.UPDATE
                if action.writes:
                    copies.append((resource, dest))
                result.actions.append(PublishAction(PublishObject.RESOURCE, resource.name, action, dest.as_uri()))
                records[resource.name] = _dated(_record(resource, dest), recorded, today, changed=action.writes)
            metadata = _metadata_bytes(dataset, records)
            metadata_path = folder / METADATA_FILE
            dataset_action = _bytes_action(metadata_path, metadata)
            result.actions.insert(0, PublishAction(PublishObject.DATASET, dataset.name, dataset_action, metadata_path.as_uri()))
            if dry_run:
                return result
            folder.mkdir(parents=True, exist_ok=True)
            _atomic_copies(copies)
            _remove_replaced_files(folder, old, records)
            if dataset_action.writes:
                atomic_write(metadata_path, metadata)
            _write_page(folder, json.loads(metadata), self.public_url)
            self._refresh_catalog()
        return result

    def remove(self, dataset: DatasetSpec, names: Sequence[str], *, dry_run: bool = False) -> PublishResult:
        """Delete the resources called ``names`` (a withdrawn month) with their files; others stay."""
        folder = self.root / dataset.organization / dataset.name
        result = PublishResult(dataset=dataset.name, dry_run=dry_run,
                               url="/".join(quote(part) for part in (dataset.organization, dataset.name)) + "/")
        with self._lock(dry_run):
            old = _read_resources(folder)
            kept = {r["name"]: r for r in old if r["name"] not in names}
            gone = [r for r in old if r["name"] in names]
            result.actions += [PublishAction(PublishObject.RESOURCE, r["name"], PublishVerb.DELETE) for r in gone]
            if dry_run or not gone:
                return result
            atomic_write(folder / METADATA_FILE, _metadata_bytes(dataset, kept))
            _remove_replaced_files(folder, gone, kept)
            self._refresh_catalog()
        return result

    def published_periods(self, organization: str, dataset: str) -> set[Period]:
        records = _read_resources(self.root / organization / dataset)
        return {Period.parse(period) for r in records if (period := r.get("period"))}

    # -- read-back (verification) ----------------------------------------------------------------

    missing_dataset = "el conjunto no está en el catálogo local"

    def published_resources(self, organization: str, dataset: str) -> list[PublishedResource] | None:
        folder = self.root / organization / dataset
        metadata_path = folder / METADATA_FILE
        if not metadata_path.exists():
            return None
        records = json.loads(metadata_path.read_text(encoding="utf-8")).get("resources", [])
        return [PublishedResource(r["name"], r["file"], str(folder / r["file"]), r.get("sha256")) for r in records]

    def published_description(self, organization: str, dataset: str) -> str | None:
        path = self.root / organization / dataset / METADATA_FILE
        return _read_document(path)["dataset"]["notes"] if path.exists() else None

    def published_sha256(self, resource: PublishedResource) -> str:
        path = Path(resource.location)
        return sha256_file(path) if path.exists() else "archivo ausente"

    def download(self, resource: PublishedResource, dest: Path) -> None:
        try:
            shutil.copyfile(resource.location, dest)
        except OSError as error:
            raise TerminalError(f"El archivo publicado de '{resource.name}' no se puede leer del catálogo local "
                                f"({error.strerror}).") from error

    def sha256_mismatch(self, found: str, expected: str) -> str:
        return f"{found[:12]}… en lugar de {expected[:12]}…"

    @contextmanager
    def _lock(self, dry_run: bool) -> Iterator[None]:
        """Serialise syncs into the same root, so concurrent items cannot drop each other from the index."""
        if dry_run and not self.root.exists():
            yield
            return
        with file_lock(self.root / ".lock"):
            yield

    def datasets(self) -> list[LocalDocument]:
        """Every dataset's metadata in the folder, ordered by organization and name."""
        return [_read_document(path) for path in sorted(self.root.glob(f"*/*/{METADATA_FILE}"))]

    def _refresh_catalog(self) -> None:
        """``catalog.json`` and ``index.html`` from every dataset's metadata, after each sync. The
        catalog grows with the datasets and is written on every sync of each: it is encoded by orjson,
        whose indented output is byte for byte ``json.dumps(..., ensure_ascii=False, indent=2)``'s (no
        floats in it), where the standard library's pure-Python indenting encoder took most of the time."""
        datasets = self.datasets()
        catalog = orjson.dumps(dcat_catalog(datasets, self.public_url), option=orjson.OPT_INDENT_2) + b"\n"
        write_if_changed(self.root / CATALOG_FILE, catalog)
        html = template("catalogo.html.j2").render(datasets=[_index_entry(d) for d in datasets])
        write_if_changed(self.root / INDEX_FILE, html.encode("utf-8"))


def _check_identity(dataset: DatasetSpec, resources: Sequence[ResourceFile]) -> None:
    for label, value in (("organización", dataset.organization), ("conjunto de datos", dataset.name)):
        if not _SLUG.match(value or ""):
            raise ConfigError(
                f"Nombre de {label} '{value}' no válido para el catálogo local: use minúsculas, dígitos, '-' o '_' "
                f"(2 a 100 caracteres)"
            )
    seen: dict[str, str] = {}
    for resource in resources:
        filename = resource.path.name
        if filename in (METADATA_FILE, pages.PAGE_FILE) or (filename in seen and seen[filename] != resource.name):
            raise ConfigError(
                f"{dataset.name}: el archivo '{filename}' de '{resource.name}' choca con "
                f"'{seen.get(filename, filename)}'"
            )
        seen[filename] = resource.name
        if not resource.path.is_file():
            raise InputError(f"{dataset.name}: no existe el archivo a publicar '{resource.path}' ({resource.name})")


def _read_resources(folder: Path) -> list[LocalRecord]:
    """The files the dataset folder records (none for a new dataset)."""
    path = folder / METADATA_FILE
    return _read_document(path).get("resources", []) if path.exists() else []


def _read_document(path: Path) -> LocalDocument:
    try:
        document: LocalDocument = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise InputError(f"El catálogo local tiene un archivo de metadatos ilegible: {path}") from None
    return document


def _file_action(dest: Path, sha256: str) -> PublishVerb:
    if not dest.exists():
        return PublishVerb.CREATE
    return PublishVerb.UNCHANGED if sha256_file(dest) == sha256 else PublishVerb.UPDATE


def _bytes_action(path: Path, content: bytes) -> PublishVerb:
    if not path.exists():
        return PublishVerb.CREATE
    return PublishVerb.UNCHANGED if path.read_bytes() == content else PublishVerb.UPDATE


def _held_package(resource: ResourceFile, records: dict[str, LocalRecord]) -> ResourceFile:
    """The rendered ``datapackage.json`` as the folder will hold it: only the files the dataset has,
    each with its sha256 and size (written beside the rendered one under ``local/``, same name)."""
    files = {r["file"]: datapackage.HeldFile(r["file"], r["sha256"], r.get("bytes")) for r in records.values()}
    descriptor = datapackage.as_held(json.loads(resource.path.read_text(encoding="utf-8")), files)
    folder = resource.path.parent / "local"
    folder.mkdir(exist_ok=True)
    path = folder / datapackage.FILENAME
    # Not fsynced: it is only the source of a copy, which is made durable and checked against this sha256.
    write_if_changed(path, (json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
                     durable=False)
    return dataclasses.replace(resource, path=path, sha256=sha256_file(path))


def _record(resource: ResourceFile, dest: Path) -> LocalRecord:
    record: LocalRecord = {
        "name": resource.name,
        "format": resource.format.label,
        "media_type": resource.format.media_type,
        "file": dest.name,
        "sha256": resource.sha256,
        "bytes": resource.path.stat().st_size,
        "description": resource.description,
        "period": str(resource.period) if resource.period else None,
    }
    if resource.role:
        record["role"] = resource.role
    return record


def _dated(record: LocalRecord, recorded: LocalRecord | None, today: str, *, changed: bool) -> LocalRecord:
    """The record with its first publication date kept, and today as its last change when its bytes
    change now (a record from before the dates were kept gets today for both, once)."""
    issued = recorded.get("issued") if recorded else None
    modified = recorded.get("modified") if recorded else None
    record["issued"] = issued or today
    record["modified"] = today if changed else modified or today
    return record


def _metadata_bytes(dataset: DatasetSpec, records: dict[str, LocalRecord]) -> bytes:
    document: LocalDocument = {
        "dataset": {
            "name": dataset.name, "title": dataset.title, "notes": dataset.notes,
            "organization": dataset.organization, "publisher_name": dataset.publisher_name,
            "license_id": dataset.license_id,
            "tags": list(dataset.tags), "maintainer": dataset.maintainer,
            "maintainer_email": dataset.maintainer_email, "extras": dict(sorted(dataset.extras.items())),
            # typed facts, what catalog.json is built from (never the Spanish extras)
            "frequency": dataset.frequency, "legal_basis": dataset.legal_basis,
            "coverage": [str(dataset.coverage.first), str(dataset.coverage.last)] if dataset.coverage else None,
        },
        "resources": [records[name] for name in sorted(records)],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _atomic_copies(copies: Sequence[tuple[ResourceFile, Path]]) -> None:
    """Copy atomically, durable together; refuse every copy when a source changed since it was rendered."""
    rendered = {resource.path: resource.sha256 for resource, _ in copies}

    def same_bytes(source: Path, temporary: Path) -> None:
        if sha256_file(temporary) != rendered[source]:
            raise InputError(f"El archivo '{source}' cambió después de generarse; vuelva a generar la publicación")

    atomic_copies([(resource.path, dest) for resource, dest in copies], check=same_bytes)


def _remove_replaced_files(folder: Path, old: list[LocalRecord], records: dict[str, LocalRecord]) -> None:
    """A resource that now lives in a different file leaves no orphan behind."""
    in_use = {r["file"] for r in records.values()}
    for record in old:
        if record["file"] not in in_use:
            (folder / record["file"]).unlink(missing_ok=True)


def _download_url(document: LocalDocument, record: LocalRecord | None = None, base: str | None = None) -> str:
    """A file's URL relative to the catalog root, or to the dataset folder when ``base`` is ''."""
    dataset = document["dataset"]
    file = record["file"] if record else pages.PAGE_FILE
    parts = (dataset["organization"], dataset["name"], file) if base is None else (file,)
    return "/".join(quote(part) for part in parts)


def _index_entry(document: LocalDocument, base: str | None = None) -> dict[str, object]:
    """What a page shows for a dataset: months newest first, then general files (links relative to
    the catalog root, or to the dataset folder when ``base`` is '')."""
    dataset = document["dataset"]
    months: dict[str, list[dict[str, str]]] = {}
    general = []
    for record in document.get("resources", []):
        link = {"name": record["name"], "format": record["format"], "url": _download_url(document, record, base),
                "size": _human_size(record["bytes"]), "description": record.get("description", "")}
        found = record.get("period")
        if found:
            months.setdefault(found, []).append(link)
        else:
            general.append(link)
    covered = periods(document)
    licence = dcat.licence(dataset["license_id"])
    return {
        **dataset,
        "license": (licence.name, licence.page) if licence else (dataset["license_id"], None),
        "paragraphs": [p for p in dataset["notes"].split("\n\n") if p.strip()],
        "coverage": f"{covered[0]} a {covered[-1]}" if len(covered) > 1 else (covered[0] if covered else ""),
        "months": sorted(months.items(), reverse=True),
        "general": general,
        "page": _download_url(document, None, base),
    }


def _write_page(folder: Path, document: LocalDocument, public_url: str | None) -> None:
    """The dataset's own page (``index.html`` in its folder), from the files the folder holds."""
    entry = _index_entry(document, base="")
    licence = dcat.licence(document["dataset"]["license_id"])
    license_url = licence.page if licence else None
    html = template("conjunto.html.j2").render(
        d=entry, page=pages.page_context(folder, document), shown=pages.shown, signed=pages.signed,
        structured_data=pages.structured_data(document, license_url, public_address(document["dataset"], public_url)))
    write_if_changed(folder / pages.PAGE_FILE, html.encode("utf-8"))


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 ** 2:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 ** 2:.1f} MB"
