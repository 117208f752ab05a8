"""What a journalist finds on the portal beyond the files: table views and a Data Package that resolves.

A table view on each DataStore resource, when the portal offers one (CKAN's ``datatables_view``):
the month's rows can be browsed, filtered and sorted without downloading them. The portal says
which plugins it runs (``ckan_capabilities``); without ``datatables_view`` nothing is attempted,
and a portal that hides its plugins and refuses the view is left without one. A resource that
already has a table view is left as it is, so a re-run writes nothing.

The dataset's ``datapackage.json`` names its CSV files by relative path, which only works beside
them (the local catalog); on the portal each file has its own URL, so the package published there
points at those URLs, under the portal's public address: CKAN answers with the address of its own
configuration (``ckan.site_url``), which on a test or internal portal is not one the public reaches.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse, urlsplit

from transparencia.domain import sha256_file
from transparencia.domain.jsontypes import JsonObject
from transparencia.publishers import datapackage
from transparencia.publishers.base import ResourceFile
from transparencia.publishers.ckan_capabilities import TABLE_VIEW
from transparencia.publishers.ckan_client import CkanClient, InvalidDataError

VIEW_TITLE = "Tabla"
VIEW_DESCRIPTION = "Las filas del mes en una tabla con búsqueda, filtros y orden."


def ensure_table_view(client: CkanClient, resource_id: str) -> bool:
    """Create the table view of a DataStore resource unless it has one; True when one was created,
    False too when the portal has no such view (its ``view_type`` refused: a plugin it does not run)."""
    views = client.call("resource_view_list", {"id": resource_id})
    if any(view.get("view_type") == TABLE_VIEW for view in views):
        return False
    try:
        client.call("resource_view_create", {"resource_id": resource_id, "view_type": TABLE_VIEW,
                                             "title": VIEW_TITLE, "description": VIEW_DESCRIPTION})
    except InvalidDataError as refused:
        if "view_type" not in refused.fields:
            raise
        return False
    return True


def drop_table_views(client: CkanClient, resource_id: str) -> None:
    """Delete the resource's table views: those a portal makes by itself (xloader's job makes its
    default views) are not the publisher's, which is made once the resource is public."""
    for view in client.call("resource_view_list", {"id": resource_id}):
        if view.get("view_type") == TABLE_VIEW:
            client.call("resource_view_delete", {"id": view["id"]})


def portal_package(resources: Sequence[JsonObject], resource: ResourceFile, public_url: str) -> ResourceFile:
    """The rendered ``datapackage.json`` with each CSV's path replaced by its URL on the portal (under
    ``public_url``) and the sha256 and size the portal records for it (written beside it under
    ``portal/``, same name); files the portal's ``resources`` (as the dataset will list them) lack are
    left out."""
    files = {unquote(PurePosixPath(urlparse(r.get("url") or "").path).name):
             datapackage.HeldFile(public_file_url(r["url"], public_url), r.get("sha256") or None,
                                  r.get("size") if isinstance(r.get("size"), int) else None)
             for r in resources if r.get("url")}
    descriptor = datapackage.as_held(json.loads(resource.path.read_text(encoding="utf-8")), files)
    folder = resource.path.parent / "portal"
    folder.mkdir(exist_ok=True)
    path = datapackage.write_package(descriptor, folder)
    return dataclasses.replace(resource, path=path, sha256=sha256_file(path))


def public_file_url(url: str, public_url: str) -> str:
    """An uploaded file's URL as CKAN gives it (``<site_url>/dataset/<id>/resource/<id>/download/<file>``)
    under the portal's public address instead; a URL outside the portal is kept."""
    path = urlsplit(url).path
    start = path.find("/dataset/")
    return url if start < 0 else public_url.rstrip("/") + path[start:]
