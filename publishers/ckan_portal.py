"""What a CKAN run settles with the portal before it publishes: pre-flight checks and the lease.

Pre-flight (``preflight``)
    Before anything is extracted, a ``--target ckan`` run checks, with a client that gives up
    within seconds, that the URL answers and is a CKAN, that the DataStore is enabled, that the
    token names a user, and that this user can create datasets in the configured organization
    (which is created when missing and the user may). Each problem is one ``ConfigError`` in
    Spanish that says what to fix or exactly what to ask the portal's administrators for; a portal
    that does not answer at all is ``PortalUnavailableError`` (an outage: run again later).

The lease (``PortalLease``)
    One writer per institution, across machines and for every period: the lease is the extra
    ``bloqueo`` of a private control dataset of the organization ("<organización>-transparencia-control",
    both named in ``publishers.names``), written with ``package_revise`` whose ``match`` on
    ``metadata_modified`` makes it a compare-and-swap (CKAN locks the dataset row while it compares).
    It covers every period and the start-up sweep of what interrupted runs left, because the
    datasets, their histories and that sweep are shared by all the periods of the institution.

    A lease names its holder (user, host, process and its start, run, task) and expires after a
    minute unless the holder's heartbeat renews it, so a crashed run on another machine blocks the
    next one for a minute at most; a holder on this machine whose process is gone is broken at once
    (and said in the log). A second run waits for a live holder (bounded, saying whom it waits for),
    then stops with ``LeaseHeldError``. ``break_lease`` is ``transparencia desbloquear``: any lease,
    after saying whose it was; each break is recorded in the control dataset (``bloqueos_rotos``).

    A lost answer is resolved by reading the lease back: our run id there means it is ours (taken,
    renewed) or not (released). The lease writes through a *control* client that the portal's
    circuit breaker and write guard do not stop, so it is released at the end of every run. A run
    whose lease was lost (broken, or taken after it expired) stops writing: the lease's write guard
    makes its next write to the portal raise ``LeaseLostError``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from transparencia.domain.jsontypes import JsonObject
from transparencia.errors import ConfigError, TerminalError, TransientError
from transparencia.publishers.base import PortalUnavailableError
from transparencia.publishers.ckan_capabilities import portal_capabilities
from transparencia.publishers.ckan_client import CkanClient, NotAuthorizedError, NotFoundError, guard_writes
from transparencia.publishers.names import (
    BROKEN_LEASES_EXTRA,
    KIND_EXTRA,
    LEASE_EXTRA,
    LEGACY_LEASE_PREFIX,
    MONITOR_KIND,
    control_dataset_name,
    is_leftover,
)

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0  # a lease not renewed within this expires: how long a crash elsewhere blocks the next run
RENEWALS = 4  # renewals per lifetime: three may fail before the lease expires
WAIT_POLL_SECONDS = 3.0  # how often a waiting run asks again
WAIT_TELL_SECONDS = 60.0  # how often a waiting run says it is still waiting
CAS_ATTEMPTS = 20
BROKEN_KEPT = 20  # broken leases recorded in the control dataset


class LeaseHeldError(TransientError):
    """Another run held the institution's lease for as long as this one could wait (try again later)."""


class LeaseLostError(TerminalError):
    """This run's lease was broken or taken by another run: it may write nothing more."""


# --------------------------------------------------------------------------- pre-flight


def preflight(client: CkanClient, organization: str, title: str | None = None, *,
              create_organization: bool = True) -> str:
    """Check portal, DataStore, token and organization; return the user's name. Raises ``ConfigError``.

    A missing organization is created when ``create_organization`` and the user may (not in a dry run)."""
    url = client.url
    try:
        capabilities = portal_capabilities(client)
    except PortalUnavailableError as error:
        raise PortalUnavailableError(f"No se pudo conectar con el portal CKAN en {url}: {_cause(error)}. Revise la "
                                     "dirección (CKAN_URL o publish.ckan.url) y que el portal esté en línea; si lo "
                                     "está, vuelva a ejecutar más tarde.") from None
    except ConfigError:
        raise
    except TerminalError:
        raise ConfigError(f"La dirección {url} responde, pero no es un portal CKAN (no contesta como su API en "
                          "/api/3/action/). Use la raíz del portal, p. ej. "
                          "https://www.datosabiertos.gob.pa.") from None
    if not capabilities.datastore:
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
            _create_organization(client, organization, title)
        except NotAuthorizedError:
            raise ConfigError(f"La organización '{organization}' no existe en el portal y el usuario '{user}' "
                              f"no puede crearla: {ask}.") from None
    allowed = client.call("organization_list_for_user", {"permission": "create_dataset"})
    if not any(organization in (org.get("name"), org.get("id")) for org in allowed):
        raise ConfigError(f"El usuario '{user}' no puede publicar en la organización '{organization}': pida a los "
                          f"administradores de la organización en {client.url} que le den el rol de editor "
                          "(o administrador).")


def _create_organization(client: CkanClient, organization: str, title: str | None) -> None:
    """Create the organization; an answer lost after CKAN created it is settled by reading it back,
    before a retry (which CKAN would refuse: the name is taken) and after a refusal."""
    def created() -> JsonObject | None:
        try:
            return client.call("organization_show", {"id": organization, "include_datasets": False,
                                                     "include_users": False})
        except NotFoundError:
            return None

    try:
        client.call("organization_create", {"name": organization, "title": title or organization},
                    before_retry=created)
    except TerminalError as refused:
        if isinstance(refused, NotAuthorizedError) or created() is None:
            raise
    log.info("Organización %s creada en %s", organization, client.url)


# --------------------------------------------------------------------------- left-overs


def sweep_leftovers(client: CkanClient, organization: str) -> list[str]:
    """Delete every staging/retired resource an interrupted run left in the institution's datasets.

    Safe only under the institution's lease, which covers every period: no other run of the
    institution is loading meanwhile. The national monitor's dataset is not the institution's (its
    publisher holds no lease), so it is left alone."""
    found = client.call("package_search", {"fq": f'organization:"{organization}"', "rows": 1000,
                                           "include_private": True})
    removed = []
    for package in found["results"]:
        if any(e.get("key") == KIND_EXTRA and e.get("value") == MONITOR_KIND for e in package.get("extras", [])):
            continue
        for resource in package.get("resources", []):
            if is_leftover(resource.get("name") or ""):
                try:
                    client.call("resource_delete", {"id": resource["id"]})
                except NotFoundError:
                    continue
                removed.append(f"{package['name']}: {resource['name']}")
    return removed


# --------------------------------------------------------------------------- who holds the lease


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _utc(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S UTC")


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks after boot, from /proc), or None when it is gone
    or a zombie (a killed process its parent has not reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    state, *rest = stat[stat.rindex(")") + 2:].split()
    return None if state in ("Z", "X") else rest[18]


def _alive(pid: int, start: str) -> bool:
    """Whether the process is still the one that took the lease (a reused id has another start).
    Where /proc is not there the answer is yes: a lease is never broken on a guess."""
    if not Path("/proc/self/stat").exists():
        return True
    found = _process_start(pid)
    return found is not None and (not start or found == start)


def _me() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


@dataclass(frozen=True)
class LeaseRecord:
    """The lease as the control dataset holds it (Spanish keys: the portal's administrators read it)."""

    titular: str  # user@host
    proceso: int
    ejecucion: str  # run id
    desde: str  # ISO UTC
    vence: str  # ISO UTC
    maquina: str = ""  # host name: a holder on this host can be checked for being alive
    arranque: str = ""  # when the process started: a process id the system reused is another process
    tarea: str = ""  # what the holder does, e.g. "publicación de 2025-01"

    @classmethod
    def parse(cls, text: str | None) -> LeaseRecord | None:
        try:
            data = json.loads(text) if text else None
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known}) if isinstance(data, dict) else None
        except (TypeError, ValueError):
            return None

    def expired(self, now: dt.datetime) -> bool:
        return dt.datetime.fromisoformat(self.vence) <= now

    def dead_here(self) -> bool:
        """Held by a process of this machine that no longer exists."""
        return self.maquina == socket.gethostname() and not _alive(self.proceso, self.arranque)

    def describe(self) -> str:
        task = f", {self.tarea}" if self.tarea else ""
        return (f"{self.titular} (proceso {self.proceso}, ejecución {self.ejecucion}{task}) desde el "
                f"{_utc(self.desde)}; vence el {_utc(self.vence)} si no se renueva")


# A change of the lease: what it becomes, and why the current holder's lease is broken (None: it is not).
Change = Callable[[LeaseRecord | None], tuple[LeaseRecord | None, str | None]]
Settled = Callable[[LeaseRecord | None], bool]


class _Busy(Exception):
    def __init__(self, holder: LeaseRecord):
        super().__init__(holder.ejecucion)
        self.holder = holder


class _Control:
    """The organization's private control dataset: the lease and the record of broken leases."""

    def __init__(self, client: CkanClient, organization: str):
        self.client, self.organization = client, organization
        self.name = control_dataset_name(organization)

    def lease(self) -> LeaseRecord | None:
        return LeaseRecord.parse(_extras(self.package()).get(LEASE_EXTRA))

    def swap(self, change: Change, settled: Settled) -> LeaseRecord | None:
        """Compare-and-swap the lease: re-read and retry when someone else changed the dataset; an
        answer lost on the way is settled by reading the lease back. Returns the lease as it is now."""
        for _ in range(CAS_ATTEMPTS):
            package = self.package()
            extras = _extras(package)
            current = LeaseRecord.parse(extras.get(LEASE_EXTRA))
            wanted, broken = change(current)
            if wanted == current:
                return current
            try:
                self._write(package, _changed(extras, wanted, current if broken else None, broken))
            except TransientError:
                found = self.lease()
                if not settled(found):
                    raise
                wanted = found
            except TerminalError as error:
                if "match" in error.message:
                    continue
                raise
            return wanted
        raise TerminalError(f"No se pudo escribir el bloqueo de publicación en '{self.name}': el conjunto "
                            "cambió en cada intento.")

    def _write(self, package: JsonObject, extras: dict[str, str]) -> None:
        self.client.call("package_revise", {
            "match": {"id": package["id"], "metadata_modified": package["metadata_modified"]},
            "filter": ["-extras"],  # replace the list: ``update`` alone merges lists by index
            "update": {"extras": [{"key": k, "value": v} for k, v in sorted(extras.items())]}})

    def package(self) -> JsonObject:
        try:
            return self.client.call("package_show", {"id": self.name})
        except NotFoundError:
            pass
        try:
            return self.client.call("package_create", {
                "name": self.name, "owner_org": self.organization, "private": True,
                "title": "Control interno de publicación (privado)",
                "notes": "Uso interno de transparencia: el bloqueo de publicación de la institución y los bloqueos "
                         "rotos. No contiene datos.",
            }, before_retry=self._find)
        except TerminalError:  # created meanwhile by a concurrent run
            return self.client.call("package_show", {"id": self.name})

    def _find(self) -> JsonObject | None:
        try:
            return self.client.call("package_show", {"id": self.name})
        except NotFoundError:
            return None


def _extras(package: JsonObject) -> dict[str, str]:
    return {e["key"]: e["value"] for e in package.get("extras", [])}


def _changed(extras: dict[str, str], wanted: LeaseRecord | None, broken: LeaseRecord | None,
             reason: str | None) -> dict[str, str]:
    """The control dataset's extras with the lease ``wanted``, the ``broken`` holder recorded, and the
    expired per-period leases of earlier versions gone."""
    now = _now()
    kept = {key: value for key, value in extras.items() if not (
        key.startswith(LEGACY_LEASE_PREFIX) and ((old := LeaseRecord.parse(value)) is None or old.expired(now)))}
    kept.pop(LEASE_EXTRA, None)
    if wanted is not None:
        kept[LEASE_EXTRA] = json.dumps(asdict(wanted), ensure_ascii=False)
    if broken is not None:
        try:
            earlier = json.loads(extras.get(BROKEN_LEASES_EXTRA) or "[]")
        except ValueError:
            earlier = []
        entry = {"fecha": _iso(now), "por": _me(), "motivo": reason, "bloqueo": asdict(broken)}
        kept[BROKEN_LEASES_EXTRA] = json.dumps([entry, *earlier][:BROKEN_KEPT], ensure_ascii=False)
    return kept


def lease_holder(client: CkanClient, organization: str) -> LeaseRecord | None:
    """Who holds the institution's lease now (an expired lease is nobody's)."""
    current = _Control(client, organization).lease()
    return None if current is None or current.expired(_now()) else current


def break_lease(client: CkanClient, organization: str, reason: str) -> LeaseRecord | None:
    """Break the institution's lease whoever holds it, recording ``reason``; the lease broken, or None."""
    broken: list[LeaseRecord] = []

    def drop(current: LeaseRecord | None) -> tuple[LeaseRecord | None, str | None]:
        broken[:] = [current] if current is not None else []
        return None, f"desbloquear: {reason}"

    _Control(client, organization).swap(drop, settled=lambda found: found is None)
    return broken[0] if broken else None


# --------------------------------------------------------------------------- the lease

# The leases this process holds, by portal, organization and run: a run's pre-flight takes the lease
# before Prefect starts, and its flow (the same run id) then joins it instead of taking it twice.
_held: dict[tuple[str, str, str], PortalLease] = {}
_held_lock = threading.Lock()


class PortalLease:
    """The institution's lease on the portal: a context manager that waits for it, renews it while
    held, refuses the process's writes once it is lost, and releases it."""

    def __init__(self, client: CkanClient, organization: str, run_id: str, task: str = "", *,
                 seconds: float = LEASE_SECONDS, wait: float = 0.0, tell: Callable[[str], None] | None = None):
        """``tell`` hears, in Spanish, whom the run waits for and whose dead lease it broke (default: the log)."""
        self.client, self.organization, self.run_id, self.task = client, organization, run_id, task
        self.seconds, self.wait = seconds, wait
        self.tell = tell or log.warning
        self._broken: LeaseRecord | None = None
        self.control = _Control(client, organization)
        self.since = _iso(_now())
        self.lost_reason: str | None = None
        self.valid_until: dt.datetime | None = None
        self._outer: PortalLease | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    @property
    def _key(self) -> tuple[str, str, str]:
        return self.client.url, self.organization, self.run_id

    @property
    def lost(self) -> bool:
        """Whether the lease was broken or taken by another run (the run may write nothing more)."""
        holder = self._outer or self
        return holder.lost_reason is not None

    def __enter__(self) -> PortalLease:
        with _held_lock:
            self._outer = _held.get(self._key)
        if self._outer is not None:  # taken by this run's pre-flight: joined, renewed and released by it
            return self
        self.acquire()
        self._heartbeat = threading.Thread(target=self._renew_until_released, name="renovar-bloqueo", daemon=True)
        self._heartbeat.start()
        guard_writes(self.client.url, self.check_held)
        with _held_lock:
            _held[self._key] = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._outer is not None:
            return
        with _held_lock:
            _held.pop(self._key, None)
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=self.seconds)
        guard_writes(self.client.url, self.check_held, installed=False)
        try:
            self.release()
        except Exception as error:  # still ours as far as we know: it expires by itself
            log.warning("No se pudo confirmar que se liberó el bloqueo de publicación de '%s' (%s); vence solo "
                        "en %d s como máximo.", self.organization, error, int(self.seconds))

    # -- taking, renewing, giving up ---------------------------------------------------------------

    def acquire(self) -> None:
        """Take the lease, waiting up to ``wait`` seconds for a live holder; ``LeaseHeldError`` after that."""
        deadline = time.monotonic() + self.wait
        told_at, told = 0.0, ""
        while True:
            try:
                with self._lock:
                    self._held_until(self.control.swap(self._take, self._ours))
                if self._broken is not None:
                    dead = self._broken
                    task = f", {dead.tarea}" if dead.tarea else ""
                    self.tell(f"Bloqueo de publicación de '{self.organization}' roto: su titular, el proceso "
                              f"{dead.proceso} de esta máquina (ejecución {dead.ejecucion}{task}), ya no existe.")
                return
            except _Busy as busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LeaseHeldError(self._busy_message(busy.holder)) from None
                if busy.holder.ejecucion != told or time.monotonic() - told_at >= WAIT_TELL_SECONDS:
                    until = _now() + dt.timedelta(seconds=left)
                    self.tell(f"Esperando el bloqueo de publicación de '{self.organization}': lo tiene "
                                 f"{busy.holder.describe()}. Se espera hasta el {_utc(_iso(until))}.")
                    told_at, told = time.monotonic(), busy.holder.ejecucion
                time.sleep(min(WAIT_POLL_SECONDS, left))

    def renew(self) -> None:
        """Extend the lease; ``LeaseLostError`` when it is no longer ours."""
        with self._lock:
            self._held_until(self.control.swap(self._extend, self._ours))

    def release(self) -> None:
        """Give the lease up (nothing to do when it is no longer ours)."""
        with self._lock:
            self.control.swap(self._give_up, lambda found: not self._ours(found))

    def check_held(self) -> None:
        """The write guard (``ckan_client.guard_writes``): a write may go only while the lease is ours.
        Near its expiry (the heartbeat could not renew it) the lease is renewed first."""
        if self.lost_reason is not None:
            raise LeaseLostError(self.lost_reason)
        if self.valid_until is not None and _now() >= self.valid_until - dt.timedelta(seconds=self.seconds / 6):
            try:
                self.renew()
            except LeaseLostError:
                raise
            except Exception as error:
                raise LeaseLostError(f"No se pudo confirmar el bloqueo de publicación de '{self.organization}' "
                                     f"({error}): no se escribe en el portal sin él.") from None

    def _take(self, current: LeaseRecord | None) -> tuple[LeaseRecord | None, str | None]:
        self._broken = None
        if current is None or current.ejecucion == self.run_id or current.expired(_now()):
            return self._record(), None
        if current.dead_here():
            self._broken = current
            return self._record(), "su proceso ya no existe en esta máquina"
        raise _Busy(current)

    def _extend(self, current: LeaseRecord | None) -> tuple[LeaseRecord | None, str | None]:
        if not self._ours(current):
            self.lost_reason = self._lost_message(current)
            raise LeaseLostError(self.lost_reason)
        return self._record(), None

    def _give_up(self, current: LeaseRecord | None) -> tuple[LeaseRecord | None, str | None]:
        return (None if self._ours(current) else current), None

    def _ours(self, found: LeaseRecord | None) -> bool:
        return found is not None and found.ejecucion == self.run_id

    def _held_until(self, record: LeaseRecord | None) -> None:
        if record is not None:
            self.valid_until = dt.datetime.fromisoformat(record.vence)

    def _record(self) -> LeaseRecord:
        expires = _now() + dt.timedelta(seconds=self.seconds)
        return LeaseRecord(_me(), os.getpid(), self.run_id, self.since, _iso(expires), socket.gethostname(),
                           _process_start(os.getpid()) or "", self.task)

    def _renew_until_released(self) -> None:
        while not self._stop.wait(self.seconds / RENEWALS):
            try:
                self.renew()
            except LeaseLostError as error:
                log.error("%s", error.message)
                return
            except Exception as error:  # retried at the next beat; the write guard stops writes past expiry
                log.warning("No se pudo renovar el bloqueo de publicación de '%s' (%s); se reintenta en %d s.",
                            self.organization, error, int(self.seconds / RENEWALS))

    # -- messages ---------------------------------------------------------------------------------

    def _busy_message(self, holder: LeaseRecord) -> str:
        waited = f" Se esperó {round(self.wait / 60)} min." if self.wait >= 60 else ""
        return (f"Ya hay una publicación en curso de la organización '{self.organization}': la tiene "
                f"{holder.describe()}.{waited} Vuelva a ejecutar cuando termine; si está seguro de que ya no "
                "sigue en curso, rompa el bloqueo con 'transparencia desbloquear --motivo \"…\"'.")

    def _lost_message(self, current: LeaseRecord | None) -> str:
        who = (f"ahora lo tiene {current.describe()}" if current is not None else
               "alguien lo rompió ('transparencia desbloquear') o venció sin renovarse")
        return (f"Se perdió el bloqueo de publicación de '{self.organization}': {who}. Esta ejecución no escribe "
                "nada más en el portal; vuelva a ejecutar el mes.")
