"""Retry and error classification of the CKAN client, with faults injected by a fake HTTP adapter.

The adapter only stands in for the network so 5xx, 429 and timeouts can be produced on demand;
publishing behaviour is tested against the real CKAN in test_ckan_publisher.py.
"""

from __future__ import annotations

import json

import pytest
import requests
from requests.adapters import BaseAdapter

from transparencia.errors import TerminalError, TransientError
from transparencia.publishers.base import PortalUnavailableError
from transparencia.publishers.ckan_client import (
    CkanClient,
    NotAuthorizedError,
    RetryPolicy,
    reset_breakers,
)


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the next scripted (status, body, headers) or raises the scripted error."""

    def __init__(self, script):
        super().__init__()
        self.script = list(script)
        self.requests: list[requests.PreparedRequest] = []
        self.timeouts = []

    def send(self, request, timeout=None, **kwargs):
        self.requests.append(request)
        self.timeouts.append(timeout)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, body, headers = step
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
        response.headers.update(headers)
        response.request = request
        response.url = request.url
        return response

    def close(self):
        pass


OK = (200, {"success": True, "result": {"id": "abc"}}, {})
SLEEPS: list[float] = []


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    SLEEPS.clear()
    reset_breakers()
    monkeypatch.setattr("transparencia.publishers.ckan_client.time.sleep", SLEEPS.append)


def client_with(script, attempts=3):
    adapter = ScriptedAdapter(script)
    session = requests.Session()
    session.mount("http://", adapter)
    client = CkanClient("http://ckan.test", "secreto-123", session=session, connect_timeout=3, read_timeout=40,
                        retry=RetryPolicy(attempts=attempts, base_delay=0.01, max_delay=5))
    return client, adapter


def test_5xx_and_dropped_connections_are_retried_then_succeed():
    client, adapter = client_with([(503, "<html>Service Unavailable</html>", {}),
                                   requests.ConnectionError("connection reset by peer"), OK])
    assert client.call("package_show", {"id": "x"}) == {"id": "abc"}
    assert len(adapter.requests) == 3 and len(SLEEPS) == 2


def test_429_waits_the_retry_after_seconds():
    client, _ = client_with([(429, "too many", {"Retry-After": "2"}), OK])
    client.call("package_show", {"id": "x"})
    assert SLEEPS == [2.0]


def test_exhausted_retries_raise_a_spanish_transient_error():
    client, adapter = client_with([requests.ReadTimeout("slow")] * 3)
    with pytest.raises(TransientError, match="no respondió a 'resource_create' tras 3 intentos"):
        client.call("resource_create", {"name": "x"})
    assert len(adapter.requests) == 3


def test_a_portal_that_stopped_answering_fails_every_later_call_at_once():
    client, adapter = client_with([requests.ConnectionError("connection reset by peer")] * 3 + [OK])
    with pytest.raises(PortalUnavailableError):
        client.call("package_show", {"id": "x"})
    other, other_adapter = client_with([OK])
    with pytest.raises(PortalUnavailableError, match="se detuvo la publicación de lo que faltaba"):
        other.call("resource_create", {"name": "y"})
    assert len(adapter.requests) == 3 and other_adapter.requests == [] and len(SLEEPS) == 2


def test_a_file_download_is_retried_like_a_call_and_its_last_answer_returned():
    client, adapter = client_with([(502, "bad gateway", {}), requests.ConnectionError("reset"), (200, "{}", {})])
    assert client.get("http://ckan.test/dataset/x/resource/y/download/x.json").status_code == 200
    assert len(adapter.requests) == 3 and len(SLEEPS) == 2
    assert all(r.headers["Authorization"] == "secreto-123" for r in adapter.requests)
    client, adapter = client_with([(503, "down", {}), (429, "slow down", {"Retry-After": "2"}), (503, "down", {})])
    assert client.get("http://ckan.test/x.json").status_code == 503
    assert len(adapter.requests) == 3 and SLEEPS[-1] == 2.0
    client, adapter = client_with([requests.ConnectionError("reset")] * 3)
    with pytest.raises(requests.ConnectionError):
        client.get("http://ckan.test/x.json")
    assert len(adapter.requests) == 3


def test_a_file_download_that_fails_for_good_is_not_retried():
    client, adapter = client_with([(404, "not found", {}), OK])
    assert client.get("http://ckan.test/x.json").status_code == 404
    assert len(adapter.requests) == 1 and SLEEPS == []


def test_every_write_that_happened_or_may_have_happened_is_reported():
    journal = []
    client, _ = client_with([OK, requests.ReadTimeout("lost"), OK, (503, "down", {})])
    client.on_write = journal.append
    client.call("package_show", {"id": "x"})
    client.call("resource_create", {"name": "R"})
    client_two, _ = client_with([requests.ReadTimeout("lost")] * 3)
    client_two.on_write = journal.append
    with pytest.raises(PortalUnavailableError):
        client_two.call("resource_patch", {"id": "r1"})
    reset_breakers()
    client_three, _ = client_with([requests.ConnectionError("Connection refused")] * 3)
    client_three.on_write = journal.append
    with pytest.raises(PortalUnavailableError):
        client_three.call("resource_delete", {"id": "r2"})
    assert journal == [{"accion": "resource_create", "objeto": "R", "resultado": "hecha"},
                       {"accion": "resource_patch", "objeto": "r1", "resultado": "posible"}]


def test_explicit_connect_and_read_timeouts_are_sent():
    client, adapter = client_with([OK])
    client.call("status_show")
    assert adapter.timeouts == [(3, 40)]


def test_403_is_terminal_and_not_retried():
    denied = (403, {"success": False, "error": {"__type": "Authorization Error", "message": "Access denied"}}, {})
    client, adapter = client_with([denied, OK])
    with pytest.raises(NotAuthorizedError):
        client.call("package_create", {"name": "x"})
    assert len(adapter.requests) == 1


def test_an_answer_that_is_not_ckans_is_terminal_and_says_so_in_spanish():
    """A gateway or another service at the portal's address answers JSON whose ``error`` is not CKAN's
    (ckanapi's ServerIncompatibleError): no retry makes it CKAN."""
    foreign = (401, {"success": False, "error": "invalid api key"}, {})
    client, adapter = client_with([foreign, OK])
    with pytest.raises(TerminalError, match="no responde como la API de CKAN a 'package_show'.*invalid api key"):
        client.call("package_show", {"id": "x"})
    assert len(adapter.requests) == 1


def test_409_validation_error_is_terminal_with_ckans_field_errors():
    invalid = (409, {"success": False, "error": {"__type": "Validation Error", "name": ["Debe ser en minúsculas"]}}, {})
    client, _ = client_with([invalid])
    with pytest.raises(TerminalError, match='"name": \\["Debe ser en minúsculas"\\]'):
        client.call("package_create", {"name": "X"})


def test_a_lost_create_is_looked_up_before_being_retried():
    client, adapter = client_with([requests.ReadTimeout("lost response"), OK])
    found = {"id": "already-there"}
    assert client.call("resource_create", {"name": "x"}, before_retry=lambda: found) is found
    assert len(adapter.requests) == 1


def test_uploads_are_streamed_and_the_token_is_never_in_the_repr(tmp_path):
    data = tmp_path / "planilla-2025-01.csv"
    data.write_bytes(b"a,b\n1,2\n")
    client, adapter = client_with([OK])
    client.call("resource_create", {"package_id": "p", "name": "Planilla 2025-01 (CSV)"}, upload=data)
    sent = adapter.requests[0]
    assert sent.headers["Content-Type"].startswith("multipart/form-data")
    assert not isinstance(sent.body, (bytes, str))  # an encoder read while sending, not a buffer
    assert "secreto-123" not in repr(client)
    assert client.writes == 1


def test_the_environment_gives_the_portal_and_the_token_from_the_variable_or_the_file(tmp_path, monkeypatch):
    import pytest

    from transparencia.errors import ConfigError
    from transparencia.publishers.backends import ckan_connection
    from transparencia.publishers.ckan import CkanPublisher

    monkeypatch.setenv("CKAN_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("CKAN_API_TOKEN", raising=False)
    monkeypatch.delenv("CKAN_API_TOKEN_FILE", raising=False)
    with pytest.raises(ConfigError, match="CKAN_API_TOKEN o CKAN_API_TOKEN_FILE"):
        ckan_connection(None)
    token_file = tmp_path / "token"
    token_file.write_text("", encoding="utf-8")
    monkeypatch.setenv("CKAN_API_TOKEN_FILE", str(token_file))
    with pytest.raises(ConfigError, match="está vacío"):
        ckan_connection(None)
    token_file.write_text("secreto-del-archivo\n", encoding="utf-8")
    from_file = CkanPublisher(*ckan_connection(None))
    assert from_file.client._ckan.apikey == "secreto-del-archivo"
    assert "secreto" not in repr(from_file)
    monkeypatch.setenv("CKAN_API_TOKEN", "secreto-de-la-variable")
    assert ckan_connection(None) == ("http://127.0.0.1:9", "secreto-de-la-variable")


def test_ckan_url_in_the_environment_overrides_the_configured_portal_and_says_so(monkeypatch, caplog):
    from transparencia.publishers.backends import ckan_connection
    from transparencia.sources.config import CkanSettings

    configured = CkanSettings(url="https://www.datosabiertos.gob.pa", token_env="TOKEN_CONFIGURADO")
    monkeypatch.setenv("TOKEN_CONFIGURADO", "secreto-configurado")
    monkeypatch.delenv("CKAN_URL", raising=False)
    assert ckan_connection(configured) == ("https://www.datosabiertos.gob.pa", "secreto-configurado")
    monkeypatch.setenv("CKAN_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("CKAN_API_TOKEN", "secreto-de-prueba")
    with caplog.at_level("INFO", logger="transparencia.publishers.backends"):
        assert ckan_connection(configured) == ("http://127.0.0.1:5000", "secreto-de-prueba")
    assert "CKAN_URL del entorno (http://127.0.0.1:5000) reemplaza a publish.ckan" in caplog.text


def test_a_missing_organization_the_token_cannot_create_says_what_to_ask_the_admins():
    from transparencia.errors import ConfigError
    from transparencia.publishers.ckan_portal import preflight

    status = (200, {"success": True, "result": {"ckan_version": "2.11.6", "extensions": ["datastore"]}}, {})
    user = (200, {"success": True, "result": {"name": "oficial"}}, {})
    missing = (404, {"success": False, "error": {"__type": "Not Found Error", "message": "Not found"}}, {})
    denied = (403, {"success": False, "error": {"__type": "Authorization Error", "message": "Access denied"}}, {})
    client, _ = client_with([status, user, missing, denied])
    with pytest.raises(ConfigError, match="pida a los administradores del portal http://ckan.test que creen la "
                                          "organización 'snm' y den al usuario 'oficial' el rol de editor"):
        preflight(client, "snm", "Servicio Nacional de Migración")


def test_a_lost_answer_to_organization_create_is_read_back_not_refused():
    from transparencia.publishers.ckan_portal import preflight

    status = (200, {"success": True, "result": {"ckan_version": "2.11.6", "extensions": ["datastore"]}}, {})
    user = (200, {"success": True, "result": {"name": "oficial"}}, {})
    missing = (404, {"success": False, "error": {"__type": "Not Found Error", "message": "Not found"}}, {})
    there = (200, {"success": True, "result": {"name": "snm", "id": "o1"}}, {})
    mine = (200, {"success": True, "result": [{"name": "snm", "id": "o1"}]}, {})
    # CKAN created it, the answer was lost; the retry would be refused ("Group name already exists")
    client, adapter = client_with([status, user, missing, requests.ReadTimeout("lost"), there, mine])

    assert preflight(client, "snm", "Servicio Nacional de Migración") == "oficial"
    assert [r.url.rsplit("/", 1)[1] for r in adapter.requests].count("organization_create") == 1


def test_a_write_in_flight_when_the_portal_died_is_journaled_as_possible():
    """The answer was lost, and the portal was gone when the write was looked up: it may have landed."""
    journal = []
    client, _ = client_with([requests.ConnectionError("Connection aborted: RemoteDisconnected")])
    client.on_write = journal.append

    def look_up():
        raise PortalUnavailableError("CKAN en http://ckan.test no respondió")

    with pytest.raises(PortalUnavailableError):
        client.call("datastore_create", {"resource_id": "r1"}, before_retry=look_up)
    assert journal == [{"accion": "datastore_create", "objeto": "r1", "resultado": "posible"}]


def test_a_lost_lease_refuses_the_next_write_of_the_process_but_not_reads_nor_the_lease_itself():
    from transparencia.publishers.ckan_client import guard_writes

    def lost():
        raise TerminalError("Se perdió el bloqueo de publicación")

    client, adapter = client_with([OK, OK])
    control = CkanClient("http://ckan.test", "secreto-123", session=client._ckan.session, control=True)
    guard_writes("http://ckan.test/", lost)
    try:
        with pytest.raises(TerminalError, match="Se perdió el bloqueo"):
            client.call("resource_patch", {"id": "r1"})
        client.call("package_show", {"id": "x"})
        control.call("package_revise", {"match": {"id": "c"}})
    finally:
        guard_writes("http://ckan.test", lost, installed=False)
    assert [r.url.rsplit("/", 1)[1] for r in adapter.requests] == ["package_show", "package_revise"]


@pytest.mark.prefect
def test_a_portal_outage_is_retried_by_the_client_alone_never_again_by_the_publish_task(prefect_server, monkeypatch):
    """Retries are declared once: the client's attempts, then its breaker; the publish task adds none."""
    from types import SimpleNamespace

    from prefect import flow

    from transparencia.domain import Target
    from transparencia.flows import release

    client, adapter = client_with([requests.ConnectionError("connection reset by peer")] * 3 + [OK] * 9)
    runs: list[str] = []

    def publish_month(config, item, *rest):
        runs.append(item.code)
        return client.call("resource_create", {"name": "Planilla 2025-01 (CSV)"})

    monkeypatch.setattr(release.stages, "publish_month", publish_month)

    @flow
    def publish_one() -> str:
        try:
            release.publish_task(None, SimpleNamespace(code="11.3"), None, None, None, "", Target.CKAN, False)
        except PortalUnavailableError as error:
            return error.message
        return "publicado"

    assert "tras 3 intentos" in publish_one()
    assert not release.publish_task.retries and not release.publish_report_task.retries
    assert runs == ["11.3"] and len(adapter.requests) == 3  # one task run, three attempts of the client
