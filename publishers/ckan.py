"""Publish a rendered release to a CKAN portal (datosabiertos.gob.pa or the local test CKAN).

Identity and idempotence
    A dataset is found by its configured slug qualified by its organization (``names.portal_dataset_name``),
    in the organization found by its configured name (never derived), and is written only when it is
    the institution's (``ckan_ownership``): in its organization and carrying the tool's marker, whatever
    the token may do. A resource is identified by its stable name ("Planilla 2025-01 (CSV)") and
    carries the file's ``sha256`` in its metadata: the same sha means no upload and no write. The
    same digest fills CKAN's standard ``hash``/``hash_algorithm`` (what ckanext-dcat publishes as
    ``spdx:checksum``), and the dataset's licence IRI the resource's ``license`` (its ``dct:license``);
    a resource published before those gets them by one metadata-only patch. The dataset's metadata
    (with the DCAT facts ckanext-dcat reads as extras, ``dcat.ckan_extras``) is compared field by
    field and changed with ``package_revise`` (never ``package_update``, which would drop resources
    it is not given).

One step for the public (``publishers.ckan_staging``)
    New and changed files are uploaded, and their DataStore tables loaded and verified, in the
    dataset's private staging dataset: by the portal's ckanext-xloader from the uploaded CSV where it
    runs one (``publishers.ckan_xloader``, PostgreSQL COPY), else, or when its job fails or its table
    differs, in bounded inserts (``publishers.ckan_datastore``). They are
    then attached to the public dataset, with the description and extras that state the months
    (``DESCRIBING``), in one ``package_revise``: a reader sees the previous month or the new one.
    A new dataset is created private and made public by that step. The cost: a replaced file gets
    a new resource id (its name, and so its place in the dataset, is stable).

Visibility
    A new dataset is created private and made public once it holds its resources, so a run that
    fails in between (a 500 on a write, a crash) leaves nothing the public finds empty; the next
    sync finishes it. A dataset of the tool's is public after every sync: to take a month off the
    portal, withdraw it (``transparencia retirar``).

Links
    Every link this backend puts in a published file (the dataset's page in ``PublishResult.url``,
    which the compliance report shows; the files a Data Package names) is under the portal's public
    address (``public_url``), never the address the run reaches it through: that one may be a
    loopback or internal address. Without a public address a run is refused in pre-flight.

Convergence after a crash
    Every sync starts by cleaning what an interrupted run left in the staging dataset, and removes
    from the public dataset the "(cargando)"/"(reemplazado)" resources earlier versions left and any
    second resource with the same name (the one whose sha matches, else the oldest, is kept). A
    create whose response was lost is looked up by name before it is retried.

Errors
    Classified once, in ``publishers.ckan_client``. A terminal error (no rights, missing
    organization, CKAN validation errors) stops this dataset and is returned in
    ``PublishResult.error`` so the other items go on; a transient error that outlived its retries
    is raised as ``TransientError`` for the flow to retry later.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, TypedDict

from transparencia.domain import Period
from transparencia.domain.jsontypes import JsonObject
from transparencia.domain.vocab import PublishObject, PublishVerb
from transparencia.errors import ConfigError, TerminalError, TransientError
from transparencia.publishers import dcat
from transparencia.publishers.base import (
    DatasetSpec,
    DatastoreTable,
    PortalSession,
    PublishAction,
    PublishedResource,
    PublishResult,
    ResourceFile,
    TableFingerprint,
    TableReadBack,
    WriteListener,
)
from transparencia.publishers.ckan_capabilities import PortalCapabilities, portal_capabilities
from transparencia.publishers.ckan_client import (
    CkanClient,
    NotAuthorizedError,
    NotFoundError,
    RetryPolicy,
    reset_breakers,
)
from transparencia.publishers.ckan_datastore import (
    MAX_BODY_BYTES,
    BoundedInserts,
    load_table,
    published_dictionary,
    published_fingerprint,
)
from transparencia.publishers.ckan_ownership import found_package, owned_package
from transparencia.publishers.ckan_portal import (
    LEASE_SECONDS,
    PortalLease,
    break_lease,
    preflight,
    sweep_leftovers,
)
from transparencia.publishers.ckan_staging import StagingArea
from transparencia.publishers.ckan_views import ensure_table_view, portal_package
from transparencia.publishers.ckan_xloader import (
    CopyAbandoned,
    XloaderCopy,
    await_portal_job,
    clear_abandoned,
    copy_table,
    insert_table,
    inserts_only,
    table_loader,
)
from transparencia.publishers.names import (
    MARKER_EXTRA,
    MARKER_VALUE,
    PERIOD_EXTRA,
    is_leftover,
    portal_dataset_name,
)
from transparencia.publishers.public import public_address
from transparencia.publishers.tables import expected_fingerprint

PREFLIGHT_RETRY = RetryPolicy(attempts=2, base_delay=0.5, max_delay=1.0)
# The lease's small writes give up within seconds: a renewal stuck behind a portal outage would hold
# up the release at the end of the run, and the lease's expiry covers what a failed write leaves.
LEASE_RETRY = RetryPolicy(attempts=3, base_delay=0.5, max_delay=2.0)
LEASE_TIMEOUTS = (5.0, 20.0)
# The dataset fields that state what the months hold (totals, coverage): written with the files.
DESCRIBING = ("notes", "extras")


class CkanPublisher(PortalSession, TableReadBack):
    """The CKAN backend of ``publishers.base.Publisher``, with a portal session and a table read-back."""

    name = "ckan"

    def __init__(self, url: str, token: str, *, public_url: str | None = None, retry: RetryPolicy | None = None,
                 connect_timeout: float = 10.0, read_timeout: float = 300.0,
                 after_write: Callable[[str], None] | None = None, on_write: WriteListener | None = None,
                 max_body: int = MAX_BODY_BYTES):
        """``public_url`` is the portal's address as the public reaches it; by default ``url`` itself
        when that is a public address (``public.public_address``), else unknown (a run is refused).
        ``max_body`` bounds the JSON body of a DataStore load's requests."""
        self.client = CkanClient(url, token, retry=retry, connect_timeout=connect_timeout,
                                 read_timeout=read_timeout, on_write=on_write)
        self.public_url = (public_url or public_address(url) or "").rstrip("/") or None
        self._token = token
        self.after_write = after_write  # called with a description after each resource write (tests)
        self.max_body = max_body  # the largest JSON body a DataStore load sends

    def __repr__(self) -> str:
        return f"CkanPublisher({self.client.url!r})"

    # -- one run: pre-flight, lease, left-overs ---------------------------------------------------

    def preflight(self, organization: str, title: str | None = None, *, create_organization: bool = True) -> str:
        """Check the portal with a client that gives up within seconds (``ckan_portal.preflight``).

        A new run's session: the breakers an earlier run in this process opened are closed first."""
        reset_breakers()
        self._public_base()
        quick = CkanClient(self.client.url, self._token, retry=PREFLIGHT_RETRY, connect_timeout=5.0,
                           read_timeout=15.0, on_write=self.client.on_write)
        return preflight(quick, organization, title, create_organization=create_organization)

    def lease(self, organization: str, run_id: str, task: str = "", *, on_write: WriteListener | None = None,
              wait: float = 0.0, tell: Callable[[str], None] | None = None,
              seconds: float = LEASE_SECONDS) -> PortalLease:
        """The institution's lease on the portal (a context manager; see ``ckan_portal``), written
        through a control client of its own (heard by ``on_write``), which the breaker never stops."""
        return PortalLease(self._control(on_write), organization, run_id, task, seconds=seconds, wait=wait,
                           tell=tell)

    def break_lease(self, organization: str, reason: str) -> str | None:
        broken = break_lease(self._control(self.client.on_write), organization, reason)
        return None if broken is None else broken.describe()

    def _control(self, on_write: WriteListener | None) -> CkanClient:
        """A client for the lease: quick to give up, outside the breaker and the write guard."""
        connect, read = LEASE_TIMEOUTS
        return CkanClient(self.client.url, self._token, retry=LEASE_RETRY, connect_timeout=connect,
                          read_timeout=read, on_write=on_write, control=True)

    def sweep_leftovers(self, organization: str) -> list[str]:
        """Remove what interrupted runs left in the organization (held lease required)."""
        return sweep_leftovers(self.client, organization)

    # -- read-back (verification) ----------------------------------------------------------------

    missing_dataset = "el conjunto no está en el portal"

    def published_resources(self, organization: str, dataset: str) -> list[PublishedResource] | None:
        package = found_package(self.client, organization, dataset)
        if package is None:
            return None
        return [PublishedResource(r.get("name") or "", r["id"], r.get("url") or "", r.get("sha256"))
                for r in package.get("resources", [])]

    def published_description(self, organization: str, dataset: str) -> str | None:
        package = found_package(self.client, organization, dataset)
        return None if package is None else package.get("notes") or ""

    def published_sha256(self, resource: PublishedResource) -> str:
        return self.client.download_sha256(resource.location)

    def download(self, resource: PublishedResource, dest: Path) -> None:
        self.client.download(resource.location, dest)

    def sha256_mismatch(self, found: str, expected: str) -> str:
        return f"descargado {found[:12]}…, validado {expected[:12]}…"

    def published_table(self, resource: PublishedResource, table: DatastoreTable) -> TableFingerprint | None:
        return published_fingerprint(self.client, resource.id, table)

    def published_dictionary(self, resource: PublishedResource) -> list[JsonObject] | None:
        return published_dictionary(self.client, resource.id)

    # -- publishing ------------------------------------------------------------------------------

    def sync(self, dataset: DatasetSpec, resources: Sequence[ResourceFile], *, dry_run: bool = False) -> PublishResult:
        """Bring the dataset to ``resources``: new and changed files are prepared in its private staging
        dataset and shown, with the description that states them, in one step (``ckan_staging``)."""
        result = PublishResult(dataset=portal_dataset_name(dataset.organization, dataset.name), dry_run=dry_run)
        try:
            organization = self._organization(dataset.organization)
            staging = StagingArea(self.client, {"id": None, "name": result.dataset, "title": dataset.title},
                                  organization["id"])
            if not dry_run:  # before any other write: CKAN purges deleted resources on a dataset's next update
                for left in staging.prepare():
                    result.actions.append(PublishAction(PublishObject.RESOURCE, left, PublishVerb.DELETE,
                                                        detail="restos de una publicación interrumpida"))
            package, described = self._sync_dataset(dataset, organization, result, dry_run)
            staging.package = package
            by_name = self._remove_leftovers(package, resources, result, dry_run)
            licence = dcat.licence(dataset.license_id)
            for resource in resources:
                resource = dataclasses.replace(resource, licence=licence.iri if licence else None)
                if resource.role == "datapackage" and not dry_run:  # rendered last: it names the files as they will be
                    resource = portal_package(staging.planned(self._resources(package["id"])), resource,
                                              self._public_base())
                self._sync_resource(staging, resource, by_name.get(resource.name), result, dry_run)
            if not dry_run:
                viewed = [(s.resource["id"], s.resource["name"]) for s in staging.staged
                          if s.resource.get("datastore_active")]
                staging.attach(described, newest_first)
                self._notify(f"publicación de {result.dataset}")
                for resource_id, resource_name in viewed:  # once public: a view lost with a purge is made again
                    self._table_view(resource_id, resource_name, result)
                self._newest_first(package["id"], result.dataset, result)
        except NotAuthorizedError as error:
            result.error = (f"El token de CKAN no tiene permisos sobre la organización '{dataset.organization}' "
                            f"(conjunto '{result.dataset}'): {error.message}")
        except TerminalError as error:
            result.error = f"Conjunto '{result.dataset}': {error.message}"
        return result

    def remove(self, dataset: DatasetSpec, names: Sequence[str], *, dry_run: bool = False) -> PublishResult:
        """Delete the resources called ``names`` (a withdrawn month); CKAN drops their DataStore
        tables with them. Others stay; a missing dataset has nothing to remove. A failure part-way
        is ``result.error``, beside the deletions already done (the withdrawal records them)."""
        result = PublishResult(dataset=portal_dataset_name(dataset.organization, dataset.name), dry_run=dry_run)
        try:
            package = owned_package(self.client, dataset.organization, dataset.name)
            if package is not None:
                self._named(package["name"], result)
            doomed = [r for r in (package or {}).get("resources", []) if r.get("name") in names]
            for resource in doomed:  # each listed once it is gone
                if not dry_run:
                    self._delete_resource(resource["id"])
                result.actions.append(PublishAction(PublishObject.RESOURCE, resource["name"], PublishVerb.DELETE, resource.get("url")))
        except NotAuthorizedError as error:
            result.error = f"El token de CKAN no puede retirar recursos de '{result.dataset}': {error.message}"
        except (TerminalError, TransientError) as error:
            result.error = f"Conjunto '{result.dataset}': {error.message}"
        return result

    def _resources(self, package_id: str | None) -> list[JsonObject]:
        if package_id is None:
            return []
        return self.client.call("package_show", {"id": package_id}).get("resources", [])

    def published_periods(self, organization: str, dataset: str) -> set[Period]:
        package = found_package(self.client, organization, dataset)
        if package is None:
            return set()
        return {Period.parse(r[PERIOD_EXTRA]) for r in package.get("resources", [])
                if r.get(PERIOD_EXTRA) and not is_leftover(r.get("name") or "")}

    # -- organization and dataset -------------------------------------------------------------

    def _organization(self, name: str) -> JsonObject:
        try:
            organization = self.client.call("organization_show", {"id": name, "include_datasets": False,
                                                                  "include_users": False})
        except NotFoundError:
            raise TerminalError(f"La organización '{name}' no existe en CKAN ({self.client.url}). "
                                "Créela en el portal o corrija el nombre configurado.") from None
        allowed = self.client.call("organization_list_for_user", {"permission": "create_dataset"})
        if not any(org["id"] == organization["id"] for org in allowed):
            raise NotAuthorizedError("organization_list_for_user",
                                     "el token no es válido o su usuario no puede crear conjuntos en ella")
        return organization

    def _find_package(self, name: str) -> JsonObject | None:
        try:
            return self.client.call("package_show", {"id": name})
        except NotFoundError:
            return None

    def _sync_dataset(self, spec: DatasetSpec, organization: JsonObject, result: PublishResult,
                      dry_run: bool) -> tuple[JsonObject, JsonObject]:
        """The dataset, with its fields up to date except those that describe the months (``DESCRIBING``),
        returned apart to be written with the files they describe. A new dataset is created private:
        the public meets it complete."""
        desired = _package_fields(spec, organization["id"])
        package = owned_package(self.client, spec.organization, spec.name)
        name = self._named(package["name"] if package is not None else result.dataset, result)
        if package is None:
            result.actions.append(PublishAction(PublishObject.DATASET, name, PublishVerb.CREATE, result.url))
            if dry_run:
                return {"id": None, "name": name, "resources": []}, {}
            # Private until the attachment shows it with its resources: a failed run leaves nothing public.
            # (with its marker extra, so a later run recognises it as its own)
            created = self.client.call("package_create", {"name": name, **desired, "private": True},
                                       before_retry=lambda: self._find_package(name))
            return created, {"private": False}
        changed = {key: value for key, value in desired.items() if _normalised(key, package.get(key)) != _normalised(key, value)}
        described = {key: value for key, value in changed.items() if key in DESCRIBING}
        if package.get("private"):  # created by a run that did not finish: shown with its resources
            described["private"] = False
            result.actions.append(PublishAction(PublishObject.DATASET, name, PublishVerb.UPDATE, result.url,
                                                detail="público: ya tiene sus archivos"))
        if not changed:
            result.actions.append(PublishAction(PublishObject.DATASET, name, PublishVerb.UNCHANGED, result.url))
            return package, described
        result.actions.append(PublishAction(PublishObject.DATASET, name, PublishVerb.UPDATE, result.url,
                                            detail="campos: " + ", ".join(sorted(changed))))
        now = {key: value for key, value in changed.items() if key not in DESCRIBING}
        if dry_run or not now:
            return package, described
        return self.client.call("package_revise", {"match": {"id": package["id"]}, "update": now})["package"], described

    def _public_base(self) -> str:
        """The public address links are made under; refused when there is none to use."""
        if self.public_url is None:
            raise ConfigError(
                f"El portal se alcanza por {self.client.url}, una dirección interna: los enlaces de los archivos "
                "publicados no pueden usarla. Indique la dirección pública del portal en publish.ckan.public_url "
                "o en la variable de entorno CKAN_PUBLIC_URL (p. ej. https://www.datosabiertos.gob.pa).")
        return self.public_url

    def _named(self, name: str, result: PublishResult) -> str:
        """Record the dataset's name on the portal and its public page in ``result``."""
        result.dataset = name
        result.url = f"{self.public_url}/dataset/{name}" if self.public_url else None
        return name

    # -- resources -------------------------------------------------------------------------------

    def _newest_first(self, package_id: str, name: str, result: PublishResult) -> None:
        """List the newest month's files first: CKAN appends a new resource at the end, so without
        this the month a visitor came for sits below every earlier one."""
        resources = self.client.call("package_show", {"id": package_id}).get("resources", [])
        order = [r["id"] for r in newest_first(resources)]
        if order != [r["id"] for r in resources]:
            self.client.call("package_resource_reorder", {"id": package_id, "order": order})
            result.actions.append(PublishAction(PublishObject.DATASET, name, PublishVerb.UPDATE,
                                                detail="recursos ordenados: el mes más reciente primero"))

    def _remove_leftovers(self, package: JsonObject, wanted: Sequence[ResourceFile], result: PublishResult,
                          dry_run: bool) -> dict[str, JsonObject]:
        """Delete staging/retired resources and same-name duplicates; return the survivors by name."""
        sha_by_name = {r.name: r.sha256 for r in wanted}
        by_name: dict[str, JsonObject] = {}
        doomed = []
        for resource in package.get("resources", []):
            name = resource.get("name") or ""
            if is_leftover(name):
                doomed.append(resource)
            elif name not in by_name:
                by_name[name] = resource
            elif resource.get("sha256") == sha_by_name.get(name) and by_name[name].get("sha256") != sha_by_name.get(name):
                doomed.append(by_name[name])
                by_name[name] = resource
            else:
                doomed.append(resource)
        for resource in doomed:
            result.actions.append(PublishAction(PublishObject.RESOURCE, resource.get("name") or resource["id"], PublishVerb.DELETE,
                                                detail="restos de una publicación interrumpida"))
            if not dry_run:
                self._delete_resource(resource["id"])
        return by_name

    def _delete_resource(self, resource_id: str) -> None:
        with contextlib.suppress(NotFoundError):
            self.client.call("resource_delete", {"id": resource_id})

    def _sync_resource(self, staging: StagingArea, spec: ResourceFile, current: JsonObject | None,
                       result: PublishResult, dry_run: bool) -> None:
        table = spec.datastore
        expected = expected_fingerprint(table) if table is not None else None
        drift = self._table_drift(current, table, expected) if current is not None else None
        if current is not None and _is_current(current, spec) and drift is None:
            if not _has_standard_fields(current, spec):
                self._patch_standard_fields(current, spec, result, dry_run)
            else:
                result.actions.append(PublishAction(PublishObject.RESOURCE, spec.name, PublishVerb.UNCHANGED,
                                                    current.get("url")))
            if table is not None:
                result.actions.append(PublishAction(PublishObject.DATASTORE, spec.name, PublishVerb.UNCHANGED))
                self._table_view(current["id"], spec.name, result)
            return
        action = PublishVerb.CREATE if current is None else PublishVerb.UPDATE
        detail = f"la tabla publicada no coincidía con el mes validado ({drift})" if drift else ""
        if dry_run:
            result.actions.append(PublishAction(PublishObject.RESOURCE, spec.name, action))
            if table is not None:
                result.actions.append(PublishAction(PublishObject.DATASTORE, spec.name, action, detail=detail))
            return
        written = self._stage(staging, spec, current, table, expected, result)
        result.actions.append(PublishAction(PublishObject.RESOURCE, spec.name, action,
                                            staging.planned([written])[0].get("url")))
        if table is not None and expected is not None:
            rows = f"{expected.rows} filas, verificadas"
            result.actions.append(PublishAction(PublishObject.DATASTORE, spec.name, action,
                                                detail=f"{rows}; {detail}" if detail else rows))

    def _patch_standard_fields(self, current: JsonObject, spec: ResourceFile, result: PublishResult,
                               dry_run: bool) -> None:
        """A resource published before ``hash`` and ``license`` were filled gets them by a
        metadata-only patch: the bytes and the table are already right, so nothing is uploaded or reloaded."""
        result.actions.append(PublishAction(PublishObject.RESOURCE, spec.name, PublishVerb.UPDATE, current.get("url"),
                                            detail="suma de verificación y licencia en los campos estándar de CKAN"))
        if not dry_run:
            self.client.call("resource_patch", {"id": current["id"], **_standard_fields(spec)})
            self._notify(f"recurso {spec.name}")

    @cached_property
    def _capabilities(self) -> PortalCapabilities:
        """The portal's plugins, read once per publisher (``ckan_capabilities``)."""
        return portal_capabilities(self.client)

    def _table_view(self, resource_id: str, name: str, result: PublishResult) -> None:
        """A table view on the DataStore resource, when the portal offers one (created once)."""
        if self._capabilities.table_view and ensure_table_view(self.client, resource_id):
            result.actions.append(PublishAction(PublishObject.VIEW, name, PublishVerb.CREATE, detail="vista de tabla"))

    def _table_drift(self, current: JsonObject, table: DatastoreTable | None,
                     expected: TableFingerprint | None) -> str | None:
        """Why the published table differs from the month (None when it matches or there is none to have)."""
        if table is None or expected is None:
            return None
        found = published_fingerprint(self.client, current["id"], table)
        if found is None:
            return "no tiene tabla en el DataStore"
        return "; ".join(expected.differences(found)) or None

    @cached_property
    def _loader(self) -> BoundedInserts:
        """How this portal's tables are loaded, asked once per run."""
        return table_loader(self._capabilities, self.max_body)

    def _stage(self, staging: StagingArea, spec: ResourceFile, current: JsonObject | None,
               table: DatastoreTable | None, expected: TableFingerprint | None, result: PublishResult) -> JsonObject:
        """Prepare the file (and its verified table) in the staging dataset: loaded by the portal's
        xloader when it has one and the month is large, else (or when xloader never started the job)
        in bounded inserts, after any job the portal queued for the upload itself."""
        def fill(loader: BoundedInserts) -> Callable[[JsonObject], None]:
            def load(resource: JsonObject) -> None:
                if isinstance(loader, XloaderCopy):
                    self._load_on_xloader_portal(resource["id"], spec, table, expected, loader)
                elif table is not None and expected is not None:
                    load_table(self.client, resource["id"], table, expected, max_body=loader.max_body)
                if table is not None and expected is not None:
                    self._notify(f"DataStore provisional {spec.name}")
            return load

        fields = {"name": spec.name, **_resource_fields(spec)}
        try:
            staged = staging.stage(fields, spec.path, current, fill(self._loader))
        except CopyAbandoned as abandoned:
            self._abandon(staging, abandoned)
            try:
                staged = staging.stage(fields, spec.path, current, fill(inserts_only(self._loader)))
            except CopyAbandoned as again:
                self._abandon(staging, again)
                raise TransientError("La cola de trabajos de xloader del portal no avanza y el portal carga cada "
                                     "archivo subido; no se publica nada y se reintentará más tarde.") from None
        self._notify(f"recurso provisional {spec.name}")
        return staged

    def _load_on_xloader_portal(self, resource_id: str, spec: ResourceFile, table: DatastoreTable | None,
                                expected: TableFingerprint | None, loader: XloaderCopy) -> None:
        """Load the table on a portal running xloader, or only wait for the job the portal queued for a
        file without one; every job writes the file's MD5 into ``hash``, so the publisher's sha256 is
        put back once the last has ended, before the file is shown."""
        if table is None or expected is None:
            if not await_portal_job(self.client, resource_id, loader.patience_for_file(spec.path.stat().st_size)):
                return
        elif loader.takes(table):
            copy_table(self.client, resource_id, table, expected, loader)
        else:
            insert_table(self.client, resource_id, table, expected, loader)
        shown = self.client.call("resource_show", {"id": resource_id})
        if not _has_standard_fields(shown, spec):
            self.client.call("resource_patch", {"id": resource_id, **_standard_fields(spec)})

    def _abandon(self, staging: StagingArea, abandoned: CopyAbandoned) -> None:
        """Delete the staging resource whose job never started, then drop any table its job made meanwhile."""
        staging.discard(abandoned.resource_id)
        clear_abandoned(self.client, abandoned)

    def _notify(self, what: str) -> None:
        if self.after_write is not None:
            self.after_write(what)


def newest_first(resources: Sequence[JsonObject]) -> list[JsonObject]:
    """Each month's resources, newest month first (a month's own files keep their order), then the
    files of every month (history, dictionary, chart, package) in their order."""
    return sorted(resources, key=lambda r: str(r.get(PERIOD_EXTRA) or ""), reverse=True)


def _is_current(current: JsonObject, spec: ResourceFile) -> bool:
    """The published resource has these bytes and this metadata (its table is compared apart)."""
    return current.get("sha256") == spec.sha256 and all(current.get(key) == value for key, value in spec.extras.items())


def _standard_fields(spec: ResourceFile) -> dict[str, str]:
    """The resource fields ckanext-dcat reads: the plain hex digest in ``hash`` and the SPDX
    algorithm IRI in ``hash_algorithm`` (``spdx:checksum``), and the licence IRI in ``license``."""
    fields = {"hash": spec.sha256, "hash_algorithm": dcat.SPDX_SHA256}
    if spec.licence:
        fields["license"] = spec.licence
    return fields


def _has_standard_fields(current: JsonObject, spec: ResourceFile) -> bool:
    return all(current.get(key) == value for key, value in _standard_fields(spec).items())


def _resource_fields(spec: ResourceFile) -> dict[str, str]:
    fields = {**spec.extras, "format": spec.format.label, "description": spec.description, "sha256": spec.sha256,
              **_standard_fields(spec)}
    if spec.period:
        fields[PERIOD_EXTRA] = str(spec.period)
    return fields


class _Tag(TypedDict):
    name: str


class _Extra(TypedDict):
    key: str
    value: str


class PackageFields(TypedDict):
    """The fields of a CKAN dataset this backend decides (CKAN's own vocabulary)."""

    title: str
    notes: str
    owner_org: str
    license_id: str
    maintainer: str
    maintainer_email: str
    tags: list[_Tag]
    extras: list[_Extra]


def _package_fields(spec: DatasetSpec, organization_id: str) -> PackageFields:
    return {
        "title": spec.title,
        "notes": spec.notes,
        "owner_org": organization_id,
        "license_id": spec.license_id,
        "maintainer": spec.maintainer or "",
        "maintainer_email": spec.maintainer_email or "",
        "tags": [{"name": tag} for tag in spec.tags],
        "extras": [{"key": key, "value": str(value)}
                   for key, value in sorted({**spec.extras, **dcat.ckan_extras(spec), MARKER_EXTRA: MARKER_VALUE}.items())],
    }


def _normalised(key: str, value: Any) -> Any:
    """A comparable form of a package field: tags and extras as sets, empty strings as None."""
    if key == "tags":
        return sorted(tag["name"] for tag in value or [])
    if key == "extras":
        return sorted((extra["key"], extra["value"]) for extra in value or [])
    return value or None
