"""Which dataset on a portal is the institution's: the one check before any write to a dataset.

A portal's dataset names are global, and a sysadmin token may write to any organization's dataset,
so CKAN's permissions do not keep a run off another institution's data. A run writes only to a
dataset that is in its own organization and carries the tool's marker (``names.MARKER_EXTRA``);
anything else with its name is refused with a Spanish message naming the owner, whatever the token.

Names (``names.portal_dataset_name``) are qualified by the organization. Datasets published before
that (issue 18) kept their acronym-only names and had no marker: one found under its old name, in
the institution's own organization and with the tool's vocabulary (the tag ``transparencia`` and the
extra ``código del punto`` or ``tipo``, or a compliance report's tag ``cumplimiento``) is still the institution's; it keeps its name, and so every
link already published to it, and gets the marker at its next write. The national monitor's dataset
was already qualified and is recognised the same way.
"""

from __future__ import annotations

from transparencia.domain.jsontypes import JsonObject
from transparencia.errors import TerminalError
from transparencia.publishers.base import BASE_TAGS
from transparencia.publishers.ckan_client import CkanClient, NotAuthorizedError, NotFoundError
from transparencia.publishers.names import (
    EXTRA_KEYS,
    KIND_EXTRA,
    MARKER_EXTRA,
    MARKER_VALUE,
    REPORT_TAG,
    portal_dataset_name,
)

# What every dataset of the versions before the marker carried: a tag, and an item's or a report's
# extra (reports before ``tipo`` had only their own tag).
_EARLIER_TAG = BASE_TAGS[0]
_EARLIER_EXTRAS = (EXTRA_KEYS["item_code"], KIND_EXTRA)


class ForeignDatasetError(TerminalError):
    """A dataset with the institution's name that is not the institution's: nothing is written to it."""


def owned_package(client: CkanClient, organization: str, dataset: str) -> JsonObject | None:
    """The institution's dataset ``dataset`` on the portal, None when it has none yet (create it as
    ``portal_dataset_name``). Raises ``ForeignDatasetError`` when that name is taken by a dataset
    of another organization, or of this one but not published by this tool."""
    name = portal_dataset_name(organization, dataset)
    try:
        package = _show(client, name)
    except NotAuthorizedError:
        raise ForeignDatasetError(
            f"El conjunto '{name}' ya existe en el portal, en una organización que el usuario de este token no puede "
            f"ver: transparencia no lo modifica. Pida a los administradores del portal que lo liberen o que lo "
            f"muevan a la organización '{organization}'.") from None
    if package is not None:
        _refuse_unless_ours(package, organization)
        return package
    return _earlier(client, organization, dataset) if name != dataset else None


def found_package(client: CkanClient, organization: str, dataset: str) -> JsonObject | None:
    """The institution's dataset for reading back (verification, the months online): None when it
    has none, or when what goes by its name is not the institution's."""
    try:
        return owned_package(client, organization, dataset)
    except ForeignDatasetError:
        return None


def is_tool_dataset(package: JsonObject) -> bool:
    """Published by this tool: its marker, or an earlier version's vocabulary (see the module docstring)."""
    extras = {e.get("key"): e.get("value") for e in package.get("extras") or []}
    if extras.get(MARKER_EXTRA) == MARKER_VALUE:
        return True
    tags = {t.get("name") for t in package.get("tags") or []}
    return _EARLIER_TAG in tags and (REPORT_TAG in tags or any(extras.get(key) for key in _EARLIER_EXTRAS))


def owner(package: JsonObject) -> str:
    """The name of the organization a dataset belongs to ('' for one without)."""
    return str((package.get("organization") or {}).get("name") or "")


def _show(client: CkanClient, name: str) -> JsonObject | None:
    try:
        return client.call("package_show", {"id": name})
    except NotFoundError:
        return None


def _earlier(client: CkanClient, organization: str, dataset: str) -> JsonObject | None:
    """The dataset under the name of versions before qualified names, when it is the institution's."""
    try:
        package = _show(client, dataset)
    except NotAuthorizedError:  # hidden from this token: another organization's
        return None
    if package is None or owner(package) != organization or not is_tool_dataset(package):
        return None
    return package


def _refuse_unless_ours(package: JsonObject, organization: str) -> None:
    name, holder = package.get("name"), owner(package)
    if holder != organization:
        title = (package.get("organization") or {}).get("title")
        named = f"'{holder}'" + (f" ({title})" if title and title != holder else "") if holder else "ninguna"
        raise ForeignDatasetError(
            f"El conjunto '{name}' ya existe en el portal y pertenece a la organización {named}, no a "
            f"'{organization}': transparencia no lo modifica. Si es de esta institución, pida a los administradores "
            "del portal que lo muevan a su organización; si no, cambie el nombre del conjunto del punto en el "
            "catálogo (clave dataset).")
    if not is_tool_dataset(package):
        raise ForeignDatasetError(
            f"El conjunto '{name}' de la organización '{holder}' no fue publicado por transparencia (no tiene el "
            f"dato adicional «{MARKER_EXTRA}: {MARKER_VALUE}»): transparencia no lo modifica. Si debe administrarlo, "
            "agréguele ese dato adicional en el portal; si no, cambie su nombre en el portal o el del conjunto del "
            "punto en el catálogo (clave dataset).")
