"""A thin ckanapi client: retries, timeouts, streamed uploads, and the one place errors are classified.

Every CKAN call of the publisher goes through ``CkanClient.call``, so the transient/terminal split
lives here only:

* transient (retried with exponential backoff, then ``TransientError``): connection errors,
  timeouts, a dropped connection, HTTP 5xx, and 429 (honouring ``Retry-After``); a plain GET of a
  file the portal serves (``CkanClient.get``) is retried on the same failures with the same policy;
* terminal (never retried, ``TerminalError`` with CKAN's own words): ckanapi's 403
  ``NotAuthorized`` as ``NotAuthorizedError``, 409 ``ValidationError`` as ``InvalidDataError`` (with
  the field errors), CKAN's "action name not known" as ``UnknownActionError`` (a plugin the portal
  does not run), any other ``CKANAPIError``, an answer that is not CKAN's (``ServerIncompatibleError``:
  a gateway or another service at the address), and 404 ``NotFound`` as ``NotFoundError``, so
  callers can treat "missing" as data;
* configuration (``PortalMovedError``, a ``ConfigError``): an address that answers with a redirect
  (the national portal's bare host, 301 to www). No action follows it: a redirected POST arrives as
  a GET without its body, so the error names the address to configure instead.

The publisher and the national monitor's reader (``reports.portal``) both go through this client.

Uploads are sent with requests-toolbelt's ``MultipartEncoder``, which reads the file while sending,
so a large month never sits in memory. Each attempt reopens the file. The client counts the write
calls it makes (``writes``): the idempotence tests and the benchmark count real writes with it, and
reports each write that happened, or may have happened (its answer was lost), to ``on_write``: the
run ledger's journal.

Circuit breaker: a call that exhausts its retries opens the breaker of its portal (shared by every
client of that URL in the process) for ``BREAKER_OPEN_SECONDS``; while it is open every call fails
at once with ``PortalUnavailableError``, so a portal that went down mid-run costs one back-off, not
one per remaining item.

Write guard: a run that holds the portal's lease (``publishers.ckan_portal``) installs a guard for
the portal's URL (``guard_writes``); every write call of the process first asks it, so a run that
lost its lease stops writing at its next write (the guard raises a ``TerminalError``). The lease's
own client is a *control* client: neither the breaker nor the guard applies to it, so the lease is
renewed and released even while the portal's breaker is open.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin

import ckanapi
import requests
from ckanapi.common import prepare_action, reverse_apicontroller_action
from requests_toolbelt.multipart.encoder import MultipartEncoder

from transparencia.errors import ConfigError, TerminalError, TransientError
from transparencia.publishers.base import PortalUnavailableError, WriteListener

log = logging.getLogger(__name__)

UNKNOWN_ACTION = "Action name not known"  # CKAN's answer (400) to an action no plugin of the portal provides
READ_ACTION_SUFFIXES = ("_show", "_list", "_for_user", "_search", "_search_sql", "_info", "_status")
BREAKER_OPEN_SECONDS = 60.0


class _Breaker:
    """Open after a call exhausted its retries; closed again by any success or after a while."""

    def __init__(self) -> None:
        self.opened_at: float | None = None
        self.reason = ""

    def check(self, url: str) -> None:
        if self.opened_at is not None and time.monotonic() - self.opened_at < BREAKER_OPEN_SECONDS:
            raise PortalUnavailableError(
                f"CKAN en {url} no respondió ({self.reason}); se detuvo la publicación de lo que faltaba. "
                "Vuelva a ejecutar cuando el portal responda: lo ya publicado no se duplicará.")

    def trip(self, reason: str) -> None:
        self.opened_at, self.reason = time.monotonic(), reason

    def reset(self) -> None:
        self.opened_at = None


class _NoBreaker(_Breaker):
    """A control client's: its calls are never refused, and never refuse the release's."""

    def check(self, url: str) -> None:
        pass

    def trip(self, reason: str) -> None:
        pass


_breakers: dict[str, _Breaker] = {}
_breakers_lock = threading.Lock()
# A guard raises ``TerminalError`` when this process may no longer write to the portal (its lease is lost).
WriteGuard = Callable[[], None]
_guards: dict[str, list[WriteGuard]] = {}


def guard_writes(url: str, guard: WriteGuard, *, installed: bool = True) -> None:
    """Install (or, with ``installed=False``, remove) a guard every write call to ``url`` asks first."""
    with _breakers_lock:
        guards = _guards.setdefault(url.rstrip("/"), [])
        if installed:
            guards.append(guard)
        elif guard in guards:
            guards.remove(guard)


def _check_guards(url: str) -> None:
    with _breakers_lock:
        guards = list(_guards.get(url, ()))
    for guard in guards:
        guard()


def _breaker(url: str) -> _Breaker:
    with _breakers_lock:
        return _breakers.setdefault(url, _Breaker())


def reset_breakers() -> None:
    """Close every breaker (a new run, or a test)."""
    with _breakers_lock:
        _breakers.clear()


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff; tests shrink the delays, never the classification."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff = self.base_delay * (2 ** (attempt - 1))
        return min(backoff, self.max_delay) * (0.75 + random.random() / 2)


class _RetryableStatus(Exception):
    """A 5xx or 429 answer: the portal (or its gateway) may answer the same request later."""

    def __init__(self, response: requests.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.status = response.status_code
        self.retry_after = _retry_after_seconds(response.headers.get("Retry-After"))


def _raise_if_retryable(response: requests.Response) -> requests.Response:
    if response.status_code >= 500 or response.status_code == 429:
        raise _RetryableStatus(response)
    return response


# What a retry may cure, for API calls and file downloads alike.
_TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                     _RetryableStatus)


def _retry_after_seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class _StreamingRemoteCKAN(ckanapi.RemoteCKAN):
    """RemoteCKAN that streams multipart uploads and exposes 5xx/429 before ckanapi parses them."""

    def _request_fn(self, url, data, headers, files, requests_kwargs):
        if files:
            fields = {k.decode(): v.decode() for k, v in data.items()}
            fields.update(files)
            encoder = MultipartEncoder(fields=fields)
            headers = {**headers, "Content-Type": encoder.content_type}
            data, files = encoder, None
        response = _raise_if_retryable(self.session.post(url, data=data, headers=headers, files=files,
                                                         allow_redirects=False, **requests_kwargs))
        if response.is_redirect:
            raise PortalMovedError(url, response.headers.get("Location", ""))
        if response.status_code == 413:
            raise TerminalError(f"El portal (o su proxy) rechazó una petición por demasiado grande (HTTP 413, "
                                f"{url.rsplit('/', 1)[-1]}). Reduzca publish.ckan.max_body_mb, o pida que se amplíe "
                                "el límite de subida de archivos del portal.")
        return response.status_code, response.text

    def call_raw(self, action: str, body: IO[bytes], requests_kwargs: Mapping[str, object]) -> Any:
        """An action whose JSON body is already written (a file object), streamed as it is."""
        url, _data, headers = prepare_action(action, None, self.apikey, None, base_url=self.base_url)
        headers["User-Agent"] = self.user_agent
        url = self.address.rstrip("/") + "/" + url
        status, response = self._request_fn(url, body, headers, None, requests_kwargs)
        return reverse_apicontroller_action(url, status, response)


def _validation_message(error: ckanapi.ValidationError) -> str:
    details = error.error_dict if isinstance(error.error_dict, dict) else {"error": error.error_dict}
    fields = {k: v for k, v in details.items() if k != "__type"}
    return json.dumps(fields, ensure_ascii=False, default=str)


class CkanClient:
    """One CKAN portal, one token. ``call`` is the only way out to the network."""

    def __init__(self, url: str, token: str | None, *, retry: RetryPolicy | None = None,
                 connect_timeout: float = 10.0, read_timeout: float = 300.0,
                 session: requests.Session | None = None, on_write: WriteListener | None = None,
                 control: bool = False):
        """``control``: a client for the run's own control writes (the lease), outside the breaker
        and the write guard that protect the release's writes."""
        self.url = url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = (connect_timeout, read_timeout)
        self._ckan = _StreamingRemoteCKAN(self.url, apikey=token, user_agent="transparencia/0.1",
                                          session=session or requests.Session())
        self.on_write = on_write
        self.writes = 0
        self.calls = 0
        self._count_lock = threading.Lock()
        self._breaker = _NoBreaker() if control else _breaker(self.url)
        self.control = control

    def __repr__(self) -> str:  # never show the token
        return f"CkanClient({self.url!r})"

    def call(self, action: str, data: Mapping[str, object] | None = None, *, upload: Path | None = None,
             body: IO[bytes] | None = None, before_retry: Callable[[], object] | None = None) -> Any:
        """Call an action with retries on transient failures; CKAN's ``result``, JSON of the action's shape.

        ``upload`` streams that file as the ``upload`` field; ``body`` is a ready JSON body (a file
        object, rewound for each attempt) sent instead of ``data``. ``before_retry`` runs before each
        retry and may return a non-None value to stop retrying and use it as the result: a write whose
        response was lost may have happened, and must not happen twice.
        """
        self._breaker.check(self.url)
        is_write = not action.endswith(READ_ACTION_SUFFIXES)
        if is_write and not self.control:
            _check_guards(self.url)
        uncertain = False
        for attempt in range(1, self.retry.attempts + 1):
            if attempt > 1 and before_retry is not None:
                try:
                    found = before_retry()
                except BaseException:  # the portal died while the write was in flight: it may have landed
                    self._journal(action, data, is_write and uncertain, "posible")
                    raise
                if found is not None:
                    self._journal(action, data, is_write, "hecha")
                    return found
            try:
                answer = self._call_once(action, data or {}, upload, body, is_write)
            except _TRANSIENT_ERRORS as error:
                uncertain = uncertain or not _never_reached(error)
                if attempt == self.retry.attempts:
                    self._journal(action, data, is_write and uncertain, "posible")
                    reason = f"{_describe(error)} tras {attempt} intentos de '{action}'"
                    self._breaker.trip(reason)
                    raise PortalUnavailableError(
                        f"CKAN en {self.url} no respondió a '{action}' tras {attempt} intentos "
                        f"({_describe(error)}). Se reintentará más tarde.") from error
                self._wait_to_retry(action, attempt, error)
            else:
                self._breaker.reset()
                self._journal(action, data, is_write, "hecha")
                return answer
        raise AssertionError("unreachable")

    def download_sha256(self, url: str) -> str:
        """The sha256 of the file the portal serves at ``url`` (sent with the token, streamed), or
        why it could not be downloaded (Spanish)."""
        digest = hashlib.sha256()
        try:
            with self.get(url, stream=True) as response:
                if response.status_code != 200:
                    return f"HTTP {response.status_code}"
                for block in response.iter_content(1 << 20):
                    digest.update(block)
        except requests.RequestException as error:
            return f"descarga fallida ({type(error).__name__})"
        return digest.hexdigest()

    def download(self, url: str, dest: Path) -> None:
        """Save the file the portal serves at ``url`` (sent with the token, streamed) at ``dest``;
        ``TransientError`` when it cannot be downloaded."""
        try:
            with self.get(url, stream=True) as response, open(dest, "wb") as handle:
                if response.status_code != 200:
                    raise TransientError(f"CKAN en {self.url} respondió HTTP {response.status_code} al descargar "
                                         f"un archivo publicado.")
                for block in response.iter_content(1 << 20):
                    handle.write(block)
        except requests.RequestException as error:
            raise TransientError(f"No se pudo descargar un archivo publicado de CKAN en {self.url} "
                                 f"({type(error).__name__}).") from error

    def _wait_to_retry(self, what: str, attempt: int, error: Exception) -> None:
        retry_after = error.retry_after if isinstance(error, _RetryableStatus) else None
        wait = self.retry.delay(attempt, retry_after)
        log.warning("CKAN %s: %s; reintento %d en %.1f s", what, _describe(error), attempt, wait)
        time.sleep(wait)

    def _journal(self, action: str, data: Mapping[str, object] | None, is_write: bool, outcome: str) -> None:
        if is_write and self.on_write is not None:
            data = data or {}
            target = data.get("name") or data.get("id") or data.get("resource_id") or data.get("package_id")
            self.on_write({"accion": action, "objeto": None if target is None else str(target), "resultado": outcome})

    def _call_once(self, action: str, data: Mapping[str, object], upload: Path | None, body: IO[bytes] | None,
                   is_write: bool) -> Any:
        with self._count_lock:
            self.calls += 1
            self.writes += int(is_write)
        kwargs = {"timeout": self.timeout}
        if body is not None:
            body.seek(0)
            return self._classified(action, lambda: self._ckan.call_raw(action, body, kwargs))
        if upload is None:
            return self._classified(action, lambda: self._ckan.call_action(action, data, requests_kwargs=kwargs))
        content_type = mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
        with upload.open("rb") as handle:
            files = {"upload": (upload.name, handle, content_type)}
            return self._classified(action, lambda: self._ckan.call_action(action, data, files=files,
                                                                           requests_kwargs=kwargs))

    @staticmethod
    def _classified(action: str, send: Callable[[], Any]) -> Any:
        """ckanapi's errors as ours: the one place an answer of CKAN is classified."""
        try:
            return send()
        except ckanapi.NotFound as error:
            raise NotFoundError(action, str(error)) from error
        except ckanapi.NotAuthorized as error:
            raise NotAuthorizedError(action, str(error)) from error
        except ckanapi.ValidationError as error:
            raise InvalidDataError(action, error) from error
        except ckanapi.CKANAPIError as error:
            if UNKNOWN_ACTION in str(error):
                raise UnknownActionError(action) from error
            raise TerminalError(f"CKAN respondió de forma inesperada a '{action}': {str(error)[:500]}") from error
        except ckanapi.ServerIncompatibleError as error:
            raise TerminalError(f"La dirección del portal no responde como la API de CKAN a '{action}' (¿apunta a "
                                f"otro servicio, o responde por él un proxy?): {str(error)[:500]}") from error

    def get(self, url: str, *, stream: bool = False) -> requests.Response:
        """A file the portal serves (a resource's bytes), sent with the token, with ``call``'s retries.

        Not classified: when the retries run out, the last answer is returned whatever its status, or
        the last ``requests.RequestException`` raised, for the caller to report. A download does not
        open the breaker (it writes nothing, and its caller reports each failed file)."""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                return _raise_if_retryable(self._ckan.session.get(
                    url, headers={"Authorization": self._ckan.apikey}, stream=stream, timeout=self.timeout))
            except _TRANSIENT_ERRORS as error:
                if attempt == self.retry.attempts:
                    if isinstance(error, _RetryableStatus):
                        return error.response
                    raise
                if isinstance(error, _RetryableStatus):
                    error.response.close()
                self._wait_to_retry(f"GET {url}", attempt, error)
        raise AssertionError("unreachable")


class NotFoundError(TerminalError):
    """404 from CKAN: callers that look something up treat "missing" as data."""

    def __init__(self, action: str, detail: str):
        super().__init__(f"CKAN no encontró lo pedido en '{action}': {detail[:300]}")
        self.action = action


class PortalMovedError(ConfigError):
    """The portal's address answers with a redirect (the national portal's bare host: 301 to www). An
    action is never sent on: requests re-sends a redirected POST as a GET without its body. The
    configuration must name the address the redirect leads to."""

    def __init__(self, url: str, location: str):
        moved = urljoin(url, location)
        self.base = moved.split("/api/", 1)[0] if "/api/" in moved else moved
        old = url.split("/api/", 1)[0]
        super().__init__(f"La dirección del portal {old} redirige a {self.base}: indique {self.base} en "
                         "publish.ckan.url (o CKAN_URL); a una dirección que redirige no se le envía ninguna acción.")


class InvalidDataError(TerminalError):
    """409 ``ValidationError`` from CKAN; ``fields`` names what it refused (by field, as CKAN gives it)."""

    def __init__(self, action: str, error: ckanapi.ValidationError):
        super().__init__(f"CKAN rechazó '{action}' por datos inválidos: {_validation_message(error)}")
        self.action = action
        self.fields = error.error_dict if isinstance(error.error_dict, dict) else {}


class UnknownActionError(TerminalError):
    """CKAN does not know the action: the plugin that provides it is not running on that portal."""

    def __init__(self, action: str):
        super().__init__(f"El portal no ofrece la acción '{action}' de la API de CKAN (no tiene activada la "
                         "extensión que la da).")
        self.action = action


class NotAuthorizedError(TerminalError):
    """403 from CKAN; the publisher rewrites it naming the organization."""

    def __init__(self, action: str, detail: str):
        super().__init__(f"CKAN no autorizó '{action}': {detail[:300]}")
        self.action = action


def _never_reached(error: Exception) -> bool:
    """A refused connection or 429 means CKAN never ran the call: nothing may have been written."""
    if isinstance(error, _RetryableStatus):
        return error.status == 429
    return isinstance(error, requests.exceptions.ConnectTimeout) or (
        isinstance(error, requests.ConnectionError) and "refused" in str(error).lower())


def _describe(error: Exception) -> str:
    if isinstance(error, _RetryableStatus):
        return f"HTTP {error.status}"
    if isinstance(error, requests.Timeout):
        return "tiempo de espera agotado"
    return f"conexión fallida: {type(error).__name__}"
