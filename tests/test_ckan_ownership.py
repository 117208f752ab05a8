"""On a real CKAN, with its sysadmin token: a run writes only to its own institution's datasets, leaves
nothing half made where the public looks, and puts no internal address in anything public (issue 18)."""

from __future__ import annotations

import dataclasses
import json
import uuid

import ckanapi
import pytest
import requests
from ckan_proxy import FaultProxy
from ckan_release import dataset_spec, month_rows, render_release
from institutions import viaticos_institution
from test_withdraw import _month

from transparencia.domain import Period
from transparencia.errors import TransientError
from transparencia.flows.release import run_release
from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.ckan_client import RetryPolicy
from transparencia.publishers.names import MARKER_EXTRA, MARKER_VALUE, portal_dataset_name

pytestmark = pytest.mark.ckan

QUICK = RetryPolicy(attempts=2, base_delay=0.05, max_delay=0.1)
PUBLIC = "https://datos.transparencia.example.org"


def _organization(server, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    server.admin().action.organization_create(name=name, title=f"Institución {name}")
    return name


def _squatted(server, organization: str, name: str, **fields) -> dict:
    """A dataset someone else made by hand, as CKAN shows it."""
    admin = server.admin()
    admin.action.package_create(name=name, owner_org=organization, title="Datos ajenos", notes="No tocar.",
                                tags=[{"name": "ajeno"}], **fields)
    admin.action.resource_create(package_id=name, name="ajeno.csv", url="https://ajeno.example.org/ajeno.csv")
    return admin.action.package_show(id=name)


def _anonymous(server) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(server.url)


def test_another_organizations_dataset_under_the_old_name_is_untouched_and_ours_gets_its_own(
        ckan_server, ckan_org, ckan_acronym, tmp_path):
    victim = _organization(ckan_server, "victima")
    legacy = f"{ckan_acronym}-planilla"
    before = _squatted(ckan_server, victim, legacy)

    publisher = CkanPublisher(ckan_server.url, ckan_server.token, public_url=PUBLIC)
    result = publisher.sync(dataset_spec(ckan_org, legacy), render_release(tmp_path, {"2025-01": month_rows("2025-01", 5)}))

    assert result.error is None
    assert ckan_server.admin().action.package_show(id=legacy) == before
    ours = ckan_server.admin().action.package_show(id=portal_dataset_name(ckan_org, legacy))
    assert ours["name"] == f"{ckan_org}-{legacy}" and ours["organization"]["name"] == ckan_org
    assert result.url == f"{PUBLIC}/dataset/{ours['name']}"


def test_a_dataset_of_another_organization_under_our_name_is_refused_naming_its_owner(
        ckan_server, ckan_org, ckan_acronym, tmp_path):
    victim = _organization(ckan_server, "victima")
    name = portal_dataset_name(ckan_org, f"{ckan_acronym}-planilla")
    before = _squatted(ckan_server, victim, name)

    publisher = CkanPublisher(ckan_server.url, ckan_server.token)  # a sysadmin's: CKAN itself would allow it
    result = publisher.sync(dataset_spec(ckan_org, f"{ckan_acronym}-planilla"),
                            render_release(tmp_path, {"2025-01": month_rows("2025-01", 5)}))

    assert result.error and f"pertenece a la organización '{victim}' (Institución {victim})" in result.error
    assert "no lo modifica" in result.error and "permisos" not in result.error
    assert publisher.client.writes == 0
    assert ckan_server.admin().action.package_show(id=name) == before
    assert publisher.remove(dataset_spec(ckan_org, f"{ckan_acronym}-planilla"), ["ajeno.csv"]).error
    assert ckan_server.admin().action.package_show(id=name) == before
    assert publisher.published_periods(ckan_org, f"{ckan_acronym}-planilla") == set()


def test_a_dataset_of_our_organization_without_the_tools_marker_is_refused(ckan_server, ckan_org, ckan_acronym,
                                                                           tmp_path):
    name = portal_dataset_name(ckan_org, f"{ckan_acronym}-planilla")
    before = _squatted(ckan_server, ckan_org, name)

    publisher = CkanPublisher(ckan_server.url, ckan_server.token)
    result = publisher.sync(dataset_spec(ckan_org, f"{ckan_acronym}-planilla"),
                            render_release(tmp_path, {"2025-01": month_rows("2025-01", 5)}))

    assert result.error and "no fue publicado por transparencia" in result.error
    assert f"de la organización '{ckan_org}'" in result.error and MARKER_EXTRA in result.error
    assert publisher.client.writes == 0
    assert ckan_server.admin().action.package_show(id=name) == before


def test_a_dataset_an_earlier_version_published_keeps_its_name_and_gets_the_marker(ckan_server, ckan_org,
                                                                                    ckan_acronym, tmp_path):
    legacy = f"{ckan_acronym}-planilla"
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 5)})
    spec = dataclasses.replace(dataset_spec(ckan_org, legacy), item_code="11.3")
    earlier = CkanPublisher(ckan_server.url, ckan_server.token)
    earlier.sync(dataclasses.replace(spec, name=portal_dataset_name(ckan_org, legacy)), files)  # as it is now …
    admin = ckan_server.admin()
    made = admin.action.package_show(id=portal_dataset_name(ckan_org, legacy))
    extras = [e for e in made["extras"] if e["key"] != MARKER_EXTRA]
    admin.action.package_patch(id=made["id"], name=legacy, extras=extras)  # … but named and marked as before

    result = CkanPublisher(ckan_server.url, ckan_server.token).sync(spec, files)

    assert result.error is None and result.dataset == legacy
    adopted = admin.action.package_show(id=legacy)
    assert adopted["id"] == made["id"]  # the URLs already published keep working
    assert {e["key"]: e["value"] for e in adopted["extras"]}[MARKER_EXTRA] == MARKER_VALUE
    with pytest.raises(ckanapi.NotFound):
        admin.action.package_show(id=portal_dataset_name(ckan_org, legacy))
    assert [a.detail for a in result.actions if a.action == "update"] == ["campos: extras"]


def test_a_dataset_whose_files_failed_is_never_listed_empty_and_the_next_run_finishes_it(ckan_server, ckan_org,
                                                                                          tmp_path):
    name = f"{ckan_org}-planilla"
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 5)})
    with FaultProxy(ckan_server.url) as proxy:
        proxy.plan("package_create", "502")  # CKAN creates it, the answer is a 5xx
        proxy.plan("resource_create", *["500"] * QUICK.attempts)
        with pytest.raises(TransientError):
            CkanPublisher(proxy.url, ckan_server.token, retry=QUICK).sync(dataset_spec(ckan_org, name), files)

    made = ckan_server.admin().action.package_show(id=name)
    assert made["private"] and made["num_resources"] == 0
    anonymous = _anonymous(ckan_server)
    assert anonymous.action.package_search(fq=f"organization:{ckan_org}")["results"] == []
    with pytest.raises((ckanapi.NotFound, ckanapi.NotAuthorized)):
        anonymous.action.package_show(id=name)

    result = CkanPublisher(ckan_server.url, ckan_server.token).sync(dataset_spec(ckan_org, name), files)

    assert result.error is None
    [listed] = anonymous.action.package_search(fq=f"organization:{ckan_org}")["results"]
    assert listed["name"] == name and listed["num_resources"] == len(files)


@pytest.mark.prefect
def test_a_run_through_a_loopback_address_leaves_it_nowhere_public_and_spares_another_organization(
        prefect_server, ckan_server, ckan_org, ckan_acronym, tmp_path, monkeypatch):
    """The officer publishes through a loopback proxy (a tunnel) with the portal's public address
    configured; another organization's dataset under the name of earlier versions stays untouched."""
    victim = _organization(ckan_server, "victima")
    spared = _squatted(ckan_server, victim, f"{ckan_acronym}-viaticos")
    config = viaticos_institution(tmp_path, ckan_org, ckan_acronym)
    _month(tmp_path, "2025-01", 4)
    with FaultProxy(ckan_server.url) as proxy:
        ckan_server.as_target(monkeypatch, proxy.url)
        monkeypatch.setenv("CKAN_PUBLIC_URL", PUBLIC)
        result = run_release(Period.parse("2025-01"), config, target="ckan")
        internal = {proxy.url, ckan_server.url, "127.0.0.1", "localhost"}

    assert result.exit_code == 0, result.errors
    admin = ckan_server.admin()
    assert admin.action.package_show(id=f"{ckan_acronym}-viaticos") == spared
    packages = admin.action.package_search(fq=f"organization:{ckan_org}", include_private=True, rows=100)["results"]
    assert {p["name"] for p in packages} >= {portal_dataset_name(ckan_org, f"{ckan_acronym}-viaticos"),
                                             portal_dataset_name(ckan_org, f"{ckan_acronym}-informe-cumplimiento")}

    published = []
    for package in packages:
        metadata = {k: v for k, v in package.items() if k != "resources"}
        published.append(json.dumps(metadata, ensure_ascii=False))
        for resource in package["resources"]:
            published.append(json.dumps({k: v for k, v in resource.items() if k != "url"}, ensure_ascii=False))
            download = requests.get(resource["url"], headers={"Authorization": ckan_server.token}, timeout=60)
            assert download.status_code == 200, resource["name"]
            published.append(download.content.decode("utf-8", errors="replace"))
    published += [p.read_text(encoding="utf-8") for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    leaks = [(address, text[:200]) for text in published for address in internal if address in text]
    assert not leaks, leaks

    report = json.loads((tmp_path / "reports" / "2025-01" / "informe-cumplimiento-2025-01.json").read_text("utf-8"))
    viaticos = next(i for i in report["items"] if i["code"] == "11.6")
    assert viaticos["url"] == f"{PUBLIC}/dataset/{portal_dataset_name(ckan_org, f'{ckan_acronym}-viaticos')}"
    package = next(p for p in packages if p["name"].endswith("-viaticos"))
    descriptor = next(r for r in package["resources"] if r["name"].endswith("(datapackage.json)"))
    paths = [r["path"] for r in requests.get(descriptor["url"], timeout=60).json()["resources"]]
    assert paths and all(path.startswith(f"{PUBLIC}/dataset/") for path in paths)
