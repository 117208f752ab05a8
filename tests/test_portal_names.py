"""Names that cannot collide on a portal, and the public address every published link uses (issue 18)."""

from __future__ import annotations

import re

import pytest
from institutions import sample_document, write_institution

from transparencia.errors import ConfigError
from transparencia.publishers.backends import ckan_public_url, portal_publisher, publisher
from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.ckan_ownership import is_tool_dataset
from transparencia.publishers.ckan_views import public_file_url
from transparencia.publishers.names import PORTAL_NAME_MAX, monitor_dataset_name, portal_dataset_name
from transparencia.publishers.public import public_address
from transparencia.sources.config import load_config

CKAN_NAME = re.compile(r"^[a-z0-9_-]{2,100}$")


@pytest.fixture
def sample_doc() -> dict:
    return sample_document()


def test_a_portal_name_is_qualified_by_the_organization_so_equal_acronyms_never_meet():
    assert portal_dataset_name("victima", "av-planilla") == "victima-av-planilla"
    assert portal_dataset_name("atacante", "av-planilla") == "atacante-av-planilla"


def test_a_name_already_qualified_is_kept_so_the_monitor_and_older_qualified_names_stay():
    monitor = monitor_dataset_name("antai")
    assert portal_dataset_name("antai", monitor) == monitor
    once = portal_dataset_name("mides", "pl-planilla")
    assert portal_dataset_name("mides", once) == once


def test_a_portal_name_is_a_valid_ckan_name_whatever_the_acronym():
    name = portal_dataset_name("ministerio", "M.I.D.É.S planilla")
    assert CKAN_NAME.match(name), name
    assert name == "ministerio-m-i-d-e-s-planilla"


def test_a_long_organization_gives_a_name_within_ckans_limit_that_still_tells_organizations_apart():
    long_a = "autoridad-nacional-de-transparencia-y-acceso-a-la-informacion-de-la-republica-de-panama-sede-a"
    long_b = long_a[:-1] + "b"
    first, second = portal_dataset_name(long_a, "antai-planilla"), portal_dataset_name(long_b, "antai-planilla")
    assert len(first) <= PORTAL_NAME_MAX and len(second) <= PORTAL_NAME_MAX
    assert CKAN_NAME.match(first) and CKAN_NAME.match(second)
    assert first != second


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:5020", "http://localhost:5000", "http://[::1]:8080/", "http://10.1.2.3", "https://192.168.0.4",
    "http://172.20.0.9:80", "http://ckan", "https://ckan.interno.local", "http://portal.internal:8443",
    "http://100.64.0.1",
])
def test_loopback_private_and_intranet_addresses_are_not_public(url):
    assert public_address(url) is None


@pytest.mark.parametrize("url", ["https://www.datosabiertos.gob.pa", "https://datos.example.org/portal", "http://8.8.8.8"])
def test_addresses_the_public_reaches_are_public(url):
    assert public_address(url) == url


def test_a_portal_publisher_defaults_its_public_address_to_its_own_only_when_that_is_public():
    assert CkanPublisher("https://www.datosabiertos.gob.pa/", "t").public_url == "https://www.datosabiertos.gob.pa"
    assert CkanPublisher("http://127.0.0.1:5020", "t").public_url is None
    assert CkanPublisher("http://127.0.0.1:5020", "t", public_url="https://datos.gob.pa/").public_url == \
        "https://datos.gob.pa"


def test_a_run_through_an_internal_address_without_a_public_one_is_refused_before_any_call():
    with pytest.raises(ConfigError, match="CKAN_PUBLIC_URL") as refused:
        CkanPublisher("http://127.0.0.1:9", "t").preflight("org")
    assert "publish.ckan.public_url" in refused.value.message


def test_a_files_url_moves_under_the_public_address_keeping_its_path():
    url = "http://127.0.0.1:5020/dataset/abc/resource/def/download/planilla-2025-01.csv"
    assert public_file_url(url, "https://datos.gob.pa/portal") == \
        "https://datos.gob.pa/portal/dataset/abc/resource/def/download/planilla-2025-01.csv"
    assert public_file_url("https://otro.sitio.pa/archivo.csv", "https://datos.gob.pa") == "https://otro.sitio.pa/archivo.csv"


def test_the_public_address_comes_with_the_portal_environment_or_configuration(tmp_path, sample_doc, monkeypatch):
    monkeypatch.delenv("CKAN_URL", raising=False)
    monkeypatch.delenv("CKAN_PUBLIC_URL", raising=False)
    monkeypatch.setenv("CKAN_API_TOKEN", "secreto")
    sample_doc["publish"]["ckan"] = {"url": "http://10.0.0.5", "token_env": "CKAN_API_TOKEN",
                                     "public_url": "https://datos.migracion.gob.pa/"}
    config = load_config(write_institution(tmp_path, sample_doc))
    assert config.publish.ckan is not None
    assert ckan_public_url(config.publish.ckan) == "https://datos.migracion.gob.pa"
    assert publisher(config, "ckan").public_url == "https://datos.migracion.gob.pa"

    monkeypatch.setenv("CKAN_URL", "http://127.0.0.1:5020")  # another portal: its public address comes with it
    assert ckan_public_url(config.publish.ckan) is None
    monkeypatch.setenv("CKAN_PUBLIC_URL", "https://datos.prueba.gob.pa/")
    assert ckan_public_url(config.publish.ckan) == "https://datos.prueba.gob.pa"
    assert portal_publisher("http://127.0.0.1:5020", "t").public_url == "https://datos.prueba.gob.pa"
    monkeypatch.setenv("CKAN_PUBLIC_URL", "datos.prueba.gob.pa")
    with pytest.raises(ConfigError, match="CKAN_PUBLIC_URL"):
        ckan_public_url(config.publish.ckan)


def test_a_public_address_that_is_not_a_web_address_is_refused_on_load(tmp_path, sample_doc):
    sample_doc["publish"]["ckan"] = {"url": "http://10.0.0.5", "token_env": "CKAN_API_TOKEN", "public_url": "datos.gob.pa"}
    with pytest.raises(ConfigError, match=r"publish\.ckan\.public_url: 'datos\.gob\.pa' no es una dirección web"):
        load_config(write_institution(tmp_path, sample_doc))


@pytest.mark.parametrize(("tags", "extras", "tools"), [
    ([], {"gestionado por": "transparencia"}, True),  # the marker
    (["transparencia", "ley-6-de-2002", "planilla"], {"código del punto": "11.3"}, True),  # an earlier item
    (["transparencia", "ley-6-de-2002", "cumplimiento"], {}, True),  # an earlier report, before ``tipo``
    (["transparencia", "monitoreo-nacional"], {"tipo": "monitoreo-nacional"}, True),  # an earlier monitor
    (["transparencia"], {"notas": "a mano"}, False),  # someone's own dataset about transparency
    (["planilla"], {"código del punto": "11.3"}, False),
    ([], {"gestionado por": "otra herramienta"}, False),
])
def test_the_tools_datasets_are_known_by_the_marker_or_an_earlier_versions_vocabulary(tags, extras, tools):
    package = {"tags": [{"name": t} for t in tags], "extras": [{"key": k, "value": v} for k, v in extras.items()]}
    assert is_tool_dataset(package) is tools
