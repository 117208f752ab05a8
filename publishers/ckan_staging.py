"""Prepare a dataset's new files where the public cannot see them, then show them all in one step.

Why
    The public must see the previous month or the new one, never a state in between (issue 18):
    no resource listed before its file and DataStore table are complete, no description whose
    totals announce files that are not there yet, no history whose formats disagree. CKAN has no
    private resources and no multi-request transaction, but it does have private datasets and
    ``package_revise``, which saves a dataset's whole resource list and fields in one database
    transaction.

How (verified on CKAN 2.11.6, see README "Decisions")
    1. ``stage``: each new or changed file is uploaded as a resource of the dataset's *staging
       dataset*, a private dataset of the same organization named ``<dataset>-preparacion``
       (``names.staging_dataset_name``); a table is loaded into it in bounded requests and
       verified by its fingerprint (``ckan_datastore.load_table``). Anonymous readers get 403 for
       the dataset, its files and its tables.
    2. ``attach``, first request: one ``package_revise`` of the staging dataset drops the staged
       resources from its list, which marks them ``deleted`` (their files and tables stay), and
       records their ids, and those of the public resources they replace, in the extra
       ``PENDING_EXTRA``.
    3. ``attach``, second request: one ``package_revise`` of the public dataset saves its new
       resource list (the kept resources, the staged ones in place of those they replace) and the
       description and extras that state the new month. CKAN's ``resource_id_does_not_exist``
       validator ignores deleted resources, and ``resource_dict_save`` takes an existing resource
       by id: the staged resource is re-parented with its file and table, and becomes active. One
       transaction: the public sees the old dataset or the new one.
    4. The replaced resources are now ``deleted``; their tables are dropped (``datastore_delete``
       works on a deleted resource). The extra stays until the next attachment rewrites it.

Recovery
    A run killed at any step leaves the public dataset as it was, or wholly new. What it leaves in
    the staging dataset (resources, or the tables of resources named in ``PENDING_EXTRA`` that are
    active nowhere) is removed by the next sync of the dataset, before it writes anything else.

The cost: a replaced file gets a new resource id (its name, and so its place in the dataset,
is stable; its URL changes).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from transparencia.domain.jsontypes import JsonObject
from transparencia.errors import TerminalError
from transparencia.publishers.ckan_client import CkanClient, NotFoundError
from transparencia.publishers.ckan_datastore import drop_table, row_total
from transparencia.publishers.names import staging_dataset_name

PENDING_EXTRA = "recursos_por_limpiar"  # the staging dataset's extra: ids whose tables may need dropping


@dataclass
class Staged:
    """A resource prepared in the staging dataset, and the public resource it replaces (if any)."""

    resource: JsonObject
    replaces: str | None
    replaced_table: bool = False  # the replaced resource has a DataStore table, dropped once replaced


@dataclass
class StagingArea:
    """The staging dataset of one public dataset, for one sync (created and cleaned on first use)."""

    client: CkanClient
    package: JsonObject  # the public dataset, as package_show gave it (its name and title until it exists)
    organization_id: str
    staged: list[Staged] = field(default_factory=list)
    _dataset: JsonObject | None = None

    def prepare(self) -> list[str]:
        """Remove what an interrupted run left in the staging dataset, if there is one.

        Called before any write to the public dataset: CKAN purges a dataset's deleted resources
        on its next update, and the table of a purged resource can no longer be dropped."""
        staging = self._show(staging_dataset_name(self.package["name"]))
        if staging is None:
            return []
        left = [r.get("name") or r["id"] for r in staging.get("resources", [])]
        self._dataset = self._clean(self._checked(staging))
        return left

    def dataset(self) -> JsonObject:
        """The staging dataset, created on first use."""
        if self._dataset is None:
            name = staging_dataset_name(self.package["name"])
            found = self._show(name)
            self._dataset = self._clean(self._checked(found)) if found else self._create(name)
        return self._dataset

    def stage(self, fields: dict[str, str], upload: Any, replaces: JsonObject | None,
              fill: Callable[[JsonObject], None] | None = None) -> JsonObject:
        """Upload one file as a resource of the staging dataset; ``fill`` then loads its table."""
        staging = self.dataset()
        name = fields["name"]
        resource = self.client.call("resource_create", {**fields, "package_id": staging["id"]}, upload=upload,
                                    before_retry=lambda: self._find(staging["id"], name, fields.get("sha256")))
        if fill is not None:
            fill(resource)
        resource = self.client.call("resource_show", {"id": resource["id"]})
        self.staged.append(Staged(resource, None if replaces is None else replaces["id"],
                                  bool(replaces and replaces.get("datastore_active"))))
        return resource

    def discard(self, resource_id: str) -> None:
        """Delete a resource whose preparation was abandoned (CKAN drops its table), before it is staged."""
        with contextlib.suppress(NotFoundError):
            self.client.call("resource_delete", {"id": resource_id})

    def planned(self, current: Sequence[JsonObject]) -> list[JsonObject]:
        """The public dataset's resources once attached: the staged ones in place of those they
        replace, new ones after, each as the public will see it (its URL under the public dataset)."""
        instead = {s.replaces: s for s in self.staged if s.replaces}
        kept_ids = {r["id"] for r in current}
        planned = [self._public(instead[r["id"]].resource) if r["id"] in instead else r for r in current]
        return planned + [self._public(s.resource) for s in self.staged if s.replaces not in kept_ids]

    def attach(self, fields: JsonObject, order: Callable[[list[JsonObject]], list[JsonObject]]) -> JsonObject | None:
        """Show every staged resource, and the dataset ``fields`` that changed (its description), in one
        ``package_revise`` of the public dataset, in ``order``; None when there is nothing to change."""
        if not self.staged and not fields:
            return None
        current = self.client.call("package_show", {"id": self.package["id"]})
        resources = order(self.planned(current.get("resources", [])))
        replaced = [s.replaces for s in self.staged if s.replaces]
        if self.staged:
            self._hide([s.resource["id"] for s in self.staged], replaced)
        tables = [s.replaces for s in self.staged if s.replaces and s.replaced_table]
        update: JsonObject = {**fields, "resources": [{**r, "package_id": self.package["id"]} for r in resources]}
        wanted = {r["id"] for r in resources}
        attached = self.client.call(
            "package_revise", {"match": {"id": self.package["id"]}, "filter": ["-resources"], "update": update},
            before_retry=lambda: self._attached(wanted))
        package = attached.get("package", attached)
        for resource_id in tables:
            drop_table(self.client, resource_id)
        self.staged.clear()
        return package

    # -- the staging dataset -------------------------------------------------------------------

    def _create(self, name: str) -> JsonObject:
        return self.client.call("package_create", {
            "name": name, "owner_org": self.organization_id, "private": True,
            "title": f"Preparación de {self.package.get('title') or self.package['name']}",
            "notes": "Conjunto privado donde transparencia prepara los archivos antes de publicarlos juntos. "
                     "No lo edite: cada publicación lo vacía."}, before_retry=lambda: self._show(name))

    def _checked(self, staging: JsonObject) -> JsonObject:
        if staging.get("owner_org") != self.organization_id or not staging.get("private"):
            raise TerminalError(f"El conjunto '{staging['name']}' existe pero no es el conjunto privado de preparación "
                                "de esta organización; renómbrelo o bórrelo en el portal.")
        return staging

    def _clean(self, staging: JsonObject) -> JsonObject:
        """Delete the staged resources still listed (CKAN drops their tables), and the tables left by
        the noted resources that are no longer active anywhere (hidden and never attached, or
        replaced). The note stays until the next attachment rewrites it: a clean portal costs reads only."""
        for resource in staging.get("resources", []):
            with contextlib.suppress(NotFoundError):
                self.client.call("resource_delete", {"id": resource["id"]})
        for resource_id in _pending(staging):
            if not self._active(resource_id) and row_total(self.client, resource_id) is not None:
                drop_table(self.client, resource_id)
        if staging.get("resources"):
            staging = self.client.call("package_revise", {"match": {"id": staging["id"]}, "filter": ["-resources"],
                                                          "update": {"extras": _without_pending(staging)}})["package"]
        return staging

    def _active(self, resource_id: str) -> bool:
        try:
            self.client.call("resource_show", {"id": resource_id})
        except NotFoundError:
            return False
        return True

    def _hide(self, staged_ids: list[str], replaced: list[str]) -> None:
        """Drop the staged resources from the staging dataset's list (CKAN marks them deleted and
        keeps their files and tables), noting them for the next run's clean-up."""
        staging = self.dataset()
        extras = [*_without_pending(staging), {"key": PENDING_EXTRA, "value": json.dumps(staged_ids + replaced)}]
        hidden = self.client.call("package_revise", {
            "match": {"id": staging["id"]}, "filter": ["-resources"], "update": {"extras": extras}},
            before_retry=lambda: self._hidden(staging["id"], staged_ids))
        self._dataset = hidden.get("package", hidden)

    def _hidden(self, staging_id: str, staged_ids: list[str]) -> JsonObject | None:
        """The staging dataset if a lost ``_hide`` landed. It must not run twice: CKAN purges a
        dataset's deleted resources on its next update, and a purged resource loses its views."""
        staging = self.client.call("package_show", {"id": staging_id})
        listed = {r["id"] for r in staging.get("resources", [])}
        return None if listed & set(staged_ids) else {"package": staging}

    def _attached(self, wanted: set[str]) -> JsonObject | None:
        package = self.client.call("package_show", {"id": self.package["id"]})
        return package if wanted <= {r["id"] for r in package.get("resources", [])} else None

    def _public(self, resource: JsonObject) -> JsonObject:
        staging_id = self.dataset()["id"]
        url = (resource.get("url") or "").replace(f"/dataset/{staging_id}/", f"/dataset/{self.package['id']}/")
        return {**resource, "package_id": self.package["id"], "url": url}

    def _find(self, package_id: str, name: str, sha256: str | None) -> JsonObject | None:
        package = self.client.call("package_show", {"id": package_id})
        return next((r for r in package["resources"] if r.get("name") == name and r.get("sha256") == sha256), None)

    def _show(self, name: str) -> JsonObject | None:
        try:
            return self.client.call("package_show", {"id": name})
        except NotFoundError:
            return None


def _pending(staging: JsonObject) -> list[str]:
    value = next((e["value"] for e in staging.get("extras", []) if e.get("key") == PENDING_EXTRA), "[]")
    try:
        return [str(i) for i in json.loads(value)]
    except ValueError:
        return []


def _without_pending(staging: JsonObject) -> list[JsonObject]:
    return [e for e in staging.get("extras", []) if e.get("key") != PENDING_EXTRA]
