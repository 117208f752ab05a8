"""What a CKAN portal runs, read once per client: the DataStore, ckanext-xloader, CKAN's table view.

Why
    CKAN says it in ``status_show`` (its version and the plugins it runs). A gateway in front of a
    portal may answer that one action itself: the national portal, datosabiertos.gob.pa (CKAN 2.11
    with the DataStore), answers it with an HTML page (its home page on the bare host, a firewall's
    page on www) while the rest of its API answers. Taking such a portal for "not CKAN" would leave
    every institution it serves without a publisher.

How
    ``status_show`` when it answers as CKAN. Otherwise each capability is asked of an action only
    its plugin provides, which CKAN answers "action name not known" (``UnknownActionError``) where
    the plugin does not run, and with a result, "not found" or "not authorized" where it does:

    * CKAN itself: ``package_search`` of no rows (an answer that is not CKAN's is a ``TerminalError``);
    * the DataStore: ``datastore_search`` of ``_table_metadata`` (the DataStore's own list of tables);
    * ckanext-xloader: ``xloader_status`` of a resource that does not exist.

    The table view (``datatables_view``) has no action of its own: it is assumed there, and a
    portal that refuses to make one (``ckan_views.ensure_table_view``) is left without it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from transparencia.errors import ConfigError, TerminalError
from transparencia.publishers.ckan_client import CkanClient, NotAuthorizedError, NotFoundError, UnknownActionError

DATASTORE = "datastore"  # the plugins' names in ``status_show``'s extensions
XLOADER = "xloader"
TABLE_VIEW = "datatables_view"


@dataclass(frozen=True)
class PortalCapabilities:
    """The plugins of a portal the publisher uses; ``version`` is CKAN's, None where it is hidden."""

    datastore: bool
    xloader: bool
    table_view: bool
    version: str | None = None


def portal_capabilities(client: CkanClient) -> PortalCapabilities:
    """The portal's capabilities, from ``status_show`` or, where a gateway hides it, probed (module doc).

    Raises ``TerminalError`` when the address does not answer as CKAN's API, and the client's
    ``TransientError`` when the portal does not answer at all."""
    try:
        status = client.call("status_show")
    except ConfigError:  # the address itself is wrong (``PortalMovedError``): nothing to probe there
        raise
    except TerminalError:
        status = None
    if isinstance(status, dict) and "ckan_version" in status:
        extensions = set(status.get("extensions") or [])
        return PortalCapabilities(DATASTORE in extensions, XLOADER in extensions, TABLE_VIEW in extensions,
                                  str(status["ckan_version"]))
    client.call("package_search", {"rows": 0})
    return PortalCapabilities(
        datastore=_offers(client, "datastore_search", {"resource_id": "_table_metadata", "limit": 0}),
        xloader=_offers(client, "xloader_status", {"resource_id": str(uuid.uuid4())}),
        table_view=True,
    )


def _offers(client: CkanClient, action: str, data: dict[str, object]) -> bool:
    """Whether the portal knows ``action``: its plugin answers, even "not found" or "not authorized"."""
    try:
        client.call(action, data)
    except UnknownActionError:
        return False
    except (NotFoundError, NotAuthorizedError):
        pass
    return True
