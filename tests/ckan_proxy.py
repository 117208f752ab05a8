"""A loopback HTTP proxy in front of the real local CKAN that injects network faults.

Tests script faults per CKAN action: ``proxy.plan("datastore_create", "drop", "pass")`` makes the
first ``datastore_create`` reach CKAN and commit but loses its response (the connection is closed
without an answer, as a gateway 502/504 or a client time-out would), the second pass through.
Faults:

* ``drop``      forward, let CKAN commit, then close the connection without a response
* ``502``       forward, let CKAN commit, then answer 502 (a gateway that gave up)
* ``500`` ``503`` ``429``   answer that status without forwarding (CKAN never sees the call)
* ``409``       the same, a refusal the client does not retry (a conflict CKAN reports)
* ``slow``      forward, then hold the response ``delay`` seconds before sending it
* ``hold``      wait until ``proxy.resume`` is set (at most ``delay`` seconds), then forward (a request
                queued in a congested network, released when the test says so)
* ``pass``      forward normally (also what unscripted calls get)

``proxy.down = True`` answers 503 to everything from then on (a portal that went down).
``proxy.max_body = N`` answers 413 to any API request whose JSON body is over N bytes, as a gateway's
body limit does (file uploads, multipart, pass: CKAN bounds them by its own maximum resource size);
``proxy.largest`` is the largest JSON body forwarded, ``proxy.refused`` how many were refused.
``proxy.plan_matching(action, needle, fault)`` applies ``fault`` once, to the first call of ``action``
whose body contains ``needle``; ``proxy.arrived[action]`` is set when a call of it reaches the proxy.
Only 127.0.0.1 is ever contacted. ``proxy.seen`` lists (action, fault) in arrival order.

The portal behind the proxy does not run ckanext-xloader unless ``offers_xloader`` (its
``status_show`` leaves it out of the extensions, and its ``xloader_*`` actions are answered as CKAN
answers an action no plugin provides): the fault tests fault the bounded inserts' requests one by
one, which an xloader job (CKAN's own, behind no proxy) would not send. ``hides_status`` answers
``status_show`` with a firewall's HTML page, as the national portal's gateway does, the rest of the
API passing.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

from ckan_server import CkanServer

from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.ckan_client import RetryPolicy

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class LoopbackServer:
    """A threaded HTTP server on a free loopback port, serving while used as a context manager."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class FaultProxy(LoopbackServer):
    def __init__(self, upstream: str, delay: float = 2.0, *, offers_xloader: bool = False,
                 hides_status: bool = False):
        parts = urlsplit(upstream)
        self.offers_xloader, self.hides_status = offers_xloader, hides_status
        self.upstream_host, self.upstream_port = parts.hostname, parts.port or 80
        self.delay = delay
        self.plans: dict[str, deque[str]] = defaultdict(deque)
        self.seen: list[tuple[str, str]] = []
        self.down = False
        self.max_body: int | None = None
        self.largest = 0
        self.refused = 0
        self.resume = threading.Event()  # releases the requests held by ``hold``
        self.forwarding: dict[str, threading.Event] = defaultdict(threading.Event)  # set when an action goes upstream
        self.arrived: dict[str, threading.Event] = defaultdict(threading.Event)  # set when an action comes in
        self.matching: list[tuple[str, bytes, str]] = []
        self.lock = threading.Lock()
        self._serve(self._handler())

    def plan(self, action: str, *faults: str) -> None:
        with self.lock:
            self.plans[action].extend(faults)

    def plan_matching(self, action: str, needle: bytes, fault: str) -> None:
        with self.lock:
            self.matching.append((action, needle, fault))

    def _next_fault(self, action: str, body: bytes | None = None) -> str:
        with self.lock:
            self.arrived[action].set()
            matched = next((m for m in self.matching if m[0] == action and body and m[1] in body), None)
            if matched is not None:
                self.matching.remove(matched)
            queue = self.plans.get(action)
            fault = ("503" if self.down else matched[2] if matched else queue.popleft() if queue else "pass")
            self.seen.append((action, fault))
            return fault

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._relay()

            def do_POST(self) -> None:
                self._relay()

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                action = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1] if "/api/" in self.path else "archivo"
                if "multipart" not in (self.headers.get("Content-Type") or ""):
                    with proxy.lock:
                        if proxy.max_body is not None and length > proxy.max_body:
                            proxy.refused += 1
                            too_large = True
                        else:
                            proxy.largest, too_large = max(proxy.largest, length), False
                    if too_large:
                        self.close_connection = True
                        self._answer(413, b"<html>413 Request Entity Too Large</html>", {"Connection": "close"})
                        return
                fault = proxy._next_fault(action, body)
                if action == "status_show" and proxy.hides_status:
                    self._answer(403, WAF_PAGE, {"Content-Type": "text/html"})
                    return
                if action.startswith("xloader_") and not proxy.offers_xloader:
                    self._answer(400, f'"Bad request - Action name not known: {action}"'.encode(),
                                 {"Content-Type": "application/json;charset=utf-8"})
                    return
                if fault == "409":  # as CKAN words a refusal
                    self._answer(409, b'{"success": false, "error": {"__type": "Validation Error", '
                                      b'"message": "falla inyectada"}}', {})
                    return
                if fault in ("500", "503", "429"):
                    self._answer(int(fault), b'{"error": "falla inyectada"}', {"Retry-After": "0"})
                    return
                if fault == "hold":
                    proxy.resume.wait(proxy.delay)
                proxy.forwarding[action].set()
                try:
                    status, headers, content = self._forward(body)
                except OSError:  # CKAN is down: the client sees a dropped connection
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "502":
                    self._answer(502, b"<html>Bad Gateway</html>", {})
                    return
                if fault == "slow":
                    time.sleep(proxy.delay)
                if action == "status_show" and status == 200 and not proxy.offers_xloader:
                    content = _without_xloader(content)
                self._answer(status, content, headers)

            def _forward(self, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
                connection = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=600)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS | {"host"}}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                content = response.read()
                kept = {k: v for k, v in response.getheaders()
                        if k.lower() not in HOP_HEADERS | {"content-length", "location"}}
                connection.close()
                return response.status, kept, content

            def _answer(self, status: int, content: bytes, headers: dict[str, str]) -> None:
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except OSError:  # the client gave up waiting (a time-out under test)
                    self.close_connection = True

        return Handler


WAF_PAGE = b"<html><head><title>Request Rejected</title></head><body>The requested URL was rejected.</body></html>"


def _without_xloader(content: bytes) -> bytes:
    answer = json.loads(content)
    extensions = answer.get("result", {}).get("extensions", [])
    if "xloader" in extensions:
        extensions.remove("xloader")
    return json.dumps(answer).encode()


# Retries that do not make a fault test wait: the faults are the proxy's, not the server's.
QUICK = RetryPolicy(attempts=4, base_delay=0.05, max_delay=0.2)


def through(proxy: FaultProxy, server: CkanServer, **options: Any) -> CkanPublisher:
    """A publisher that reaches the test CKAN through the proxy, retrying quickly."""
    return CkanPublisher(proxy.url, server.token, retry=QUICK, **options)


class MovedPortal(LoopbackServer):
    """A loopback address that answers every request with a 301 to the same path under ``to``, as the
    national portal's bare host does to www; ``seen`` counts the requests it answered."""

    def __init__(self, to: str):
        moved = self
        self.seen = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._moved()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._moved()

            def _moved(self) -> None:
                moved.seen += 1
                self.send_response(301)
                self.send_header("Location", to.rstrip("/") + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._serve(Handler)
