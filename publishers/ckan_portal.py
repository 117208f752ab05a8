"""What a CKAN run settles with the portal before it publishes: pre-flight checks and the lease.

Pre-flight (``preflight``)
    Before anything is extracted, a ``--target ckan`` run checks, with a client that gives up
    within seconds, that the URL answers and is a CKAN, that the DataStore is enabled, that the
    token names a user, and that this user can create datasets in the configured organization
    (which is created when missing and the user may). Each problem is one ``ConfigError`` in
    Spanish that says what to fix or exactly what to ask the portal's administrators for.

The lease (``PortalLease``)
    One writer per institution and period, across machines: the lease is an extra
    (``bloqueo_<period>``) of a private control dataset of the organization
    ("<organización>-transparencia-control", both named in ``publishers.names``), written with ``package_revise`` whose ``match`` on
    ``metadata_modified`` makes it a compare-and-swap (CKAN locks the dataset row while it compares).
    A lease names its holder (user, host, process, run) and expires, so a crashed run does not
    lock the institution forever; a live run renews it from a background thread. A second run
    finds a live lease held by someone else and stops with ``LeaseHeldError`` (exit 2) naming who
    holds it and since when.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass

from transparencia.domain import Period
from transparencia.domain.jsontypes import JsonObject
from transparencia.errors import ConfigError, TerminalError
from transparencia.publishers.base import PortalUnavailableError
from transparencia.publishers.ckan_client import CkanClient, NotAuthorizedError, NotFoundError
from transparencia.publishers.names import control_dataset_name, is_leftover, lease_key

log = logging.getLogger(__name__)

LEASE_SECONDS = 900.0
CAS_ATTEMPTS = 20


class LeaseHeldError(ConfigError):
    """Another run holds the institution's lease for the period (CLI exit 2)."""


# --------------------------------------------------------------------------- pre-flight


def preflight(client: CkanClient, organization: str, title: str | None = None, *,
              create_organization: bool = True) -> str:
    """Check portal, DataStore, token and organization; return the user's name. Raises ``ConfigError``.

    A missing organization is created when ``create_organization`` and the user may (not in a dry run)."""
    url = client.url
    try:
        status = client.call("status_show")
    except PortalUnavailableError as error:
        raise ConfigError(f"No se pudo conectar con el portal CKAN en {url}: {_cause(error)}. Revise la dirección "
                          "(CKAN_URL o publish.ckan.url) y que el portal esté en línea.") from None
    except TerminalError:
        raise ConfigError(f"La dirección {url} responde, pero no es un portal CKAN (no contesta a la API "
                          "/api/3/action/status_show). Use la raíz del portal, p. ej. "
                          "https://www.datosabiertos.gob.pa.") from None
    if not isinstance(status, dict) or "ckan_version" not in status:
        raise ConfigError(f"La dirección {url} responde, pero no es un portal CKAN.")
    if "datastore" not in status.get("extensions", []):
        raise ConfigError(f"El portal {url} no tiene activado el DataStore (extensión 'datastore'): pida a sus "
                          "administradores que lo activen; sin él no se publican las tablas consultables.")
    user = _user(client)
    _ensure_organization(client, organization, title, user, create_organization)
    return user


def _cause(error: Exception) -> str:
    text = str(error)
    return text[text.find("(") + 1:text.rfind(")")] if "(" in text else text


def _user(client: CkanClient) -> str:
    try:
        user = client.call("user_show", {})
    except (NotFoundError, NotAuthorizedError):
        user = None
    if not user or not user.get("name"):
        raise ConfigError(f"El portal {client.url} no reconoce el token de CKAN: genere un token nuevo en su "
                          "perfil del portal («Tokens de API») y guárdelo en el archivo de CKAN_API_TOKEN_FILE.")
    return user["name"]


def _ensure_organization(client: CkanClient, organization: str, title: str | None, user: str,
                         create: bool) -> None:
    ask = (f"pida a los administradores del portal {client.url} que creen la organización '{organization}' "
           f"y den al usuario '{user}' el rol de editor (o administrador) en ella")
    try:
        client.call("organization_show", {"id": organization, "include_datasets": False, "include_users": False})
    except NotFoundError:
        if not create:
            raise ConfigError(f"La organización '{organization}' no existe en el portal: una ejecución real la "
                              "creará si el token puede; si no, " + ask + ".") from None
        try:
            client.call("organization_create", {"name": organization, "title": title or organization})
            log.info("Organización %s creada en %s", organization, client.url)
        except NotAuthorizedError:
            raise ConfigError(f"La organización '{organization}' no existe en el portal y el usuario '{user}' "
                              f"no puede crearla: {ask}.") from None
    allowed = client.call("organization_list_for_user", {"permission": "create_dataset"})
    if not any(organization in (org.get("name"), org.get("id")) for org in allowed):
        raise ConfigError(f"El usuario '{user}' no puede publicar en la organización '{organization}': pida a los "
                          f"administradores de la organización en {client.url} que le den el rol de editor "
                          "(o administrador).")


# --------------------------------------------------------------------------- left-overs


def sweep_leftovers(client: CkanClient, organization: str) -> list[str]:
    """Delete every staging/retired resource an interrupted run left in the organization's datasets."""
    found = client.call("package_search", {"fq": f'organization:"{organization}"', "rows": 1000,
                                           "include_private": True})
    removed = []
    for package in found["results"]:
        for resource in package.get("resources", []):
            if is_leftover(resource.get("name") or ""):
                try:
                    client.call("resource_delete", {"id": resource["id"]})
                except NotFoundError:
                    continue
                removed.append(f"{package['name']}: {resource['name']}")
    return removed


# --------------------------------------------------------------------------- the lease


@dataclass(frozen=True)
class LeaseRecord:
    titular: str  # user@host
    proceso: int
    ejecucion: str  # run id
    desde: str  # ISO UTC
    vence: str  # ISO UTC

    @classmethod
    def parse(cls, text: str | None) -> LeaseRecord | None:
        try:
            return cls(**json.loads(text)) if text else None
        except (TypeError, ValueError):
            return None

    def expired(self, now: dt.datetime) -> bool:
        return dt.datetime.fromisoformat(self.vence) <= now


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _local_time(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")


class PortalLease:
    """The institution+period lease on the portal; a context manager that renews it while held."""

    def __init__(self, client: CkanClient, organization: str, period: Period, run_id: str,
                 seconds: float = LEASE_SECONDS):
        self.client, self.organization, self.period, self.run_id = client, organization, period, run_id
        self.seconds = seconds
        self.key = lease_key(period)
        self.control = control_dataset_name(organization)
        self.since = _now().isoformat(timespec="seconds")
        self.lost = False
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def __enter__(self) -> PortalLease:
        self.acquire()
        self._heartbeat = threading.Thread(target=self._renew_until_released, name="renovar-bloqueo", daemon=True)
        self._heartbeat.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        try:
            self.release()
        except Exception as error:  # an unreleased lease expires by itself
            log.warning("No se pudo liberar el bloqueo de %s %s: %s", self.organization, self.period, error)

    def _record(self) -> LeaseRecord:
        expires = _now() + dt.timedelta(seconds=self.seconds)
        return LeaseRecord(f"{getpass.getuser()}@{socket.gethostname()}", os.getpid(), self.run_id, self.since,
                           expires.isoformat(timespec="seconds"))

    def acquire(self) -> None:
        """Take the lease or raise ``LeaseHeldError`` naming the live holder."""
        self._swap(self._take)

    def renew(self) -> None:
        self._swap(self._take)

    def release(self) -> None:
        self._swap(lambda current: None if current and current.ejecucion == self.run_id else current)

    def _take(self, current: LeaseRecord | None) -> LeaseRecord:
        if current is not None and current.ejecucion != self.run_id and not current.expired(_now()):
            raise LeaseHeldError(
                f"Ya hay una publicación en curso de la organización '{self.organization}' para {self.period}: "
                f"la inició {current.titular} (proceso {current.proceso}, ejecución {current.ejecucion}) "
                f"el {_local_time(current.desde)}; su bloqueo vence el {_local_time(current.vence)} si no se "
                "renueva. Espere a que termine y vuelva a ejecutar.")
        return self._record()

    def _renew_until_released(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                self.renew()
            except LeaseHeldError as error:
                self.lost = True
                log.error("Se perdió el bloqueo de publicación: %s", error.message)
                return
            except Exception as error:  # retried at the next beat; expiry is the backstop
                log.warning("No se pudo renovar el bloqueo de publicación: %s", error)

    def _swap(self, change: Callable[[LeaseRecord | None], LeaseRecord | None]) -> None:
        """Compare-and-swap the lease extra: re-read and retry when someone else changed the dataset."""
        for _ in range(CAS_ATTEMPTS):
            package = self._control_package()
            extras = {e["key"]: e["value"] for e in package.get("extras", [])}
            current = LeaseRecord.parse(extras.get(self.key))
            wanted = change(current)
            if wanted == current:
                return
            if wanted is None:
                extras.pop(self.key, None)
            else:
                extras[self.key] = json.dumps(asdict(wanted), ensure_ascii=False)
            try:
                self.client.call("package_revise", {
                    "match": {"id": package["id"], "metadata_modified": package["metadata_modified"]},
                    "filter": ["-extras"],  # replace the list: ``update`` alone merges lists by index
                    "update": {"extras": [{"key": k, "value": v} for k, v in sorted(extras.items())]}})
                return
            except TerminalError as error:
                if "match" not in error.message:
                    raise
        raise TerminalError(f"No se pudo escribir el bloqueo de publicación en '{self.control}': el conjunto "
                            "cambió en cada intento.")

    def _control_package(self) -> JsonObject:
        try:
            return self.client.call("package_show", {"id": self.control})
        except NotFoundError:
            pass
        try:
            return self.client.call("package_create", {
                "name": self.control, "owner_org": self.organization, "private": True,
                "title": "Control interno de publicación (privado)",
                "notes": "Uso interno de transparencia: bloqueos de publicación por período. No contiene datos.",
            }, before_retry=self._find_control)
        except TerminalError:  # created meanwhile by a concurrent run
            return self.client.call("package_show", {"id": self.control})

    def _find_control(self) -> JsonObject | None:
        try:
            return self.client.call("package_show", {"id": self.control})
        except NotFoundError:
            return None
