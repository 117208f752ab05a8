"""The CKAN publisher against the real local CKAN (scripts/ckan-local/start.sh)."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter

import pytest
import requests
from ckan_release import dataset_spec, month_rows, render_release

from transparencia.errors import TransientError
from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.ckan_client import RetryPolicy

pytestmark = pytest.mark.ckan

FAST_RETRY = RetryPolicy(attempts=2, base_delay=0.05, max_delay=0.1)


def publisher(server, **options) -> CkanPublisher:
    return CkanPublisher(server.url, server.token, retry=FAST_RETRY, **options)


def package(server, name: str) -> dict:
    return server.admin().action.package_show(id=name)


def resources_by_name(server, name: str) -> dict[str, dict]:
    resources = package(server, name)["resources"]
    names = Counter(r["name"] for r in resources)
    assert all(count == 1 for count in names.values()), f"recursos duplicados: {names}"
    return {r["name"]: r for r in resources}


def datastore_rows(server, resource_id: str) -> list[dict]:
    found = server.admin().action.datastore_search(resource_id=resource_id, limit=10_000, sort="posicion")
    return found["records"]


@pytest.fixture
def names(ckan_org):
    return ckan_org, f"{ckan_org}-planilla"


def test_first_publish_creates_everything_with_metadata_dictionary_and_identical_files(ckan_server, names, tmp_path):
    org, name = names
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 300)})
    result = publisher(ckan_server).sync(dataset_spec(org, name), files)

    assert result.error is None
    assert {a.action for a in result.actions} == {"create"}
    assert Counter(a.target for a in result.actions) == {"dataset": 1, "resource": len(files), "datastore": 1,
                                                         "view": 1}
    pkg = package(ckan_server, name)
    assert pkg["license_id"] == "cc-zero" and pkg["organization"]["name"] == org
    assert {t["name"] for t in pkg["tags"]} == {"planilla", "transparencia", "ley-6-de-2002"}
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert {key: extras[key] for key in ("frecuencia", "cobertura temporal", "base legal", "dirección responsable")} == {
        "frecuencia": "mensual", "cobertura temporal": "2025-01 a 2025-02", "base legal": "Ley 6 de 2002, artículo 11",
        "dirección responsable": "Dirección de Recursos Humanos"}
    published = resources_by_name(ckan_server, name)
    assert set(published) == {f.name for f in files}
    for spec in files:
        resource = published[spec.name]
        assert resource["sha256"] == spec.sha256
        downloaded = requests.get(resource["url"], headers={"Authorization": ckan_server.token}, timeout=30)
        assert downloaded.content == spec.path.read_bytes(), spec.name
    table = ckan_server.admin().action.datastore_search(resource_id=published["Planilla 2025-01 (CSV)"]["id"], limit=1)
    assert table["total"] == 300
    fields = {f["id"]: f for f in table["fields"]}
    assert fields["salario"]["type"] == "numeric" and fields["fecha_inicio"]["type"] == "date"
    assert fields["salario"]["info"]["label"] == "Salario"
    assert fields["posicion"]["info"]["notes"] == "Número de posición en la planilla."
    # the portal offers datatables_view (scripts/ckan-local/start.sh): the DataStore resource gets a table
    views = ckan_server.admin().action.resource_view_list(id=published["Planilla 2025-01 (CSV)"]["id"])
    assert [v["view_type"] for v in views].count("datatables_view") == 1


def test_republishing_the_same_month_makes_zero_writes(ckan_server, names, tmp_path):
    org, name = names
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 50)})
    publisher(ckan_server).sync(dataset_spec(org, name), files)

    again = publisher(ckan_server)
    result = again.sync(dataset_spec(org, name), files)

    assert result.error is None
    assert result.writes == 0 and again.client.writes == 0
    assert {a.action for a in result.actions} == {"unchanged"}


def test_one_changed_row_updates_only_that_months_resources_and_rows(ckan_server, names, tmp_path):
    org, name = names
    months = {"2025-01": month_rows("2025-01", 40), "2025-02": month_rows("2025-02", 40)}
    publisher(ckan_server).sync(dataset_spec(org, name), render_release(tmp_path / "v1", months))
    before = resources_by_name(ckan_server, name)

    changed = months["2025-02"].copy()
    changed.loc[changed["posicion"] == 7, "salario"] = 9999.5
    files = render_release(tmp_path / "v2", {**months, "2025-02": changed})
    result = publisher(ckan_server).sync(dataset_spec(org, name), files)

    written = {(a.target, a.name) for a in result.actions if a.action != "unchanged"}
    assert written == {("resource", "Planilla 2025-02 (CSV)"), ("datastore", "Planilla 2025-02 (CSV)"),
                       ("resource", "Planilla 2025-02 (JSON)"), ("resource", "Planilla 2025-02 (Parquet)"),
                       ("resource", "Planilla histórico (CSV)"),
                       ("view", "Planilla 2025-02 (CSV)")}  # the table view of the freshly loaded rows
    assert all(a.action == ("create" if a.target == "view" else "update")
               for a in result.actions if a.action != "unchanged")
    after = resources_by_name(ckan_server, name)
    assert set(after) == set(before)
    for unchanged in ("Planilla 2025-01 (CSV)", "Planilla 2025-01 (JSON)", "Informe de validación 2025-02 (JSON)"):
        assert after[unchanged]["id"] == before[unchanged]["id"]
        assert after[unchanged]["sha256"] == before[unchanged]["sha256"]
    rows = datastore_rows(ckan_server, after["Planilla 2025-02 (CSV)"]["id"])
    assert len(rows) == 40
    assert float(next(r for r in rows if r["posicion"] == 7)["salario"]) == 9999.5
    assert len(datastore_rows(ckan_server, after["Planilla 2025-01 (CSV)"]["id"])) == 40


def test_second_month_adds_its_resources_and_extends_the_history(ckan_server, names, tmp_path):
    org, name = names
    january = {"2025-01": month_rows("2025-01", 30)}
    publisher(ckan_server).sync(dataset_spec(org, name), render_release(tmp_path / "a", january))
    first_ids = {n: r["id"] for n, r in resources_by_name(ckan_server, name).items()}

    files = render_release(tmp_path / "b", {**january, "2025-02": month_rows("2025-02", 35)})
    result = publisher(ckan_server).sync(dataset_spec(org, name), files)

    created = {a.name for a in result.actions if a.action == "create"}
    assert created == {"Planilla 2025-02 (CSV)", "Planilla 2025-02 (JSON)", "Planilla 2025-02 (Parquet)",
                       "Informe de validación 2025-02 (JSON)"}
    assert [a.action for a in result.actions if a.name == "Planilla histórico (CSV)"] == ["update"]
    published = resources_by_name(ckan_server, name)
    assert published["Planilla 2025-01 (CSV)"]["id"] == first_ids["Planilla 2025-01 (CSV)"]
    history = requests.get(published["Planilla histórico (CSV)"]["url"], timeout=30).text
    assert history.count("2025-01,") == 30 and history.count("2025-02,") == 35


def test_dry_run_plans_without_writing(ckan_server, names, tmp_path):
    org, name = names
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 10)})
    dry = publisher(ckan_server)
    result = dry.sync(dataset_spec(org, name), files, dry_run=True)

    assert result.dry_run and dry.client.writes == 0
    assert [(a.target, a.action) for a in result.actions][:3] == [("dataset", "create"), ("resource", "create"),
                                                                    ("datastore", "create")]
    assert ckan_server.admin().action.package_search(fq=f"name:{name}")["count"] == 0

    publisher(ckan_server).sync(dataset_spec(org, name), files)
    changed = render_release(tmp_path / "v2", {"2025-01": month_rows("2025-01", 11)})
    plan = publisher(ckan_server).sync(dataset_spec(org, name), changed, dry_run=True)
    assert {a.name: a.action for a in plan.actions if a.target == "resource"}["Planilla 2025-01 (CSV)"] == "update"
    assert resources_by_name(ckan_server, name)["Planilla 2025-01 (CSV)"]["sha256"] == files[0].sha256


@pytest.mark.ckan_restart
def test_ckan_stopped_mid_publish_then_rerun_converges_without_duplicates(ckan_server, names, tmp_path):
    org, name = names
    months = {"2025-01": month_rows("2025-01", 60)}
    publisher(ckan_server).sync(dataset_spec(org, name), render_release(tmp_path / "v1", months))
    files = render_release(tmp_path / "v2", {"2025-01": month_rows("2025-01", 61, 2.0)})

    def stop_after_staged_table(what: str) -> None:
        if what.startswith("DataStore provisional"):
            ckan_server.stop_web()

    interrupted = publisher(ckan_server, after_write=stop_after_staged_table)
    try:
        with pytest.raises(TransientError, match="no respondió"):
            interrupted.sync(dataset_spec(org, name), files)
    finally:
        ckan_server.start()

    result = publisher(ckan_server).sync(dataset_spec(org, name), files)

    assert result.error is None
    assert any(a.action == "delete" for a in result.actions)  # the staging leftover
    published = resources_by_name(ckan_server, name)
    assert set(published) == {f.name for f in files}
    assert all(published[f.name]["sha256"] == f.sha256 for f in files)
    assert len(datastore_rows(ckan_server, published["Planilla 2025-01 (CSV)"]["id"])) == 61
    assert publisher(ckan_server).sync(dataset_spec(org, name), files).writes == 0


def test_wrong_token_gives_a_clear_spanish_error(ckan_server, names, tmp_path):
    org, name = names
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 5)})
    result = CkanPublisher(ckan_server.url, "token-equivocado", retry=FAST_RETRY).sync(dataset_spec(org, name), files)

    assert result.error is not None
    assert f"El token de CKAN no tiene permisos sobre la organización '{org}'" in result.error
    assert "token-equivocado" not in result.error


def test_missing_organization_is_named_and_other_items_go_on(ckan_server, names, tmp_path):
    org, name = names
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 5)})
    ckan = publisher(ckan_server)
    missing = f"no-existe-{uuid.uuid4().hex[:6]}"

    failed = ckan.sync(dataset_spec(missing, name), files)
    invalid = ckan.sync(dataclasses.replace(dataset_spec(org, "Otro Nombre"), tags=("etiqueta¡inválida!",)), files)
    fine = ckan.sync(dataset_spec(org, name), files)

    assert f"La organización '{missing}' no existe" in failed.error
    assert "datos inválidos" in invalid.error and '"tags"' in invalid.error
    assert fine.error is None and resources_by_name(ckan_server, name)


def test_a_name_outside_ckans_alphabet_is_published_under_its_valid_form(ckan_server, names, tmp_path):
    org, _name = names
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 5)})
    result = publisher(ckan_server).sync(dataset_spec(org, "Nombre Inválido"), files)
    assert result.error is None and result.dataset == f"{org}-nombre-invalido"
    assert resources_by_name(ckan_server, result.dataset)


def test_the_newest_month_is_listed_first_and_a_rerun_does_not_reorder(ckan_server, names, tmp_path):
    """CKAN appends a new month's resources at the end; the publisher lists months newest first."""
    org, name = names
    january = {"2025-01": month_rows("2025-01", 5)}
    publisher(ckan_server).sync(dataset_spec(org, name), render_release(tmp_path / "a", january))
    files = render_release(tmp_path / "b", {**january, "2025-02": month_rows("2025-02", 6)})
    publisher(ckan_server).sync(dataset_spec(org, name), files)

    periods = [r.get("periodo") or "" for r in package(ckan_server, name)["resources"]]
    assert periods == sorted(periods, reverse=True) and periods[0] == "2025-02"
    again = publisher(ckan_server).sync(dataset_spec(org, name), files)
    assert not [a for a in again.actions if a.action != "unchanged"]


def test_resources_carry_the_sha256_in_ckans_standard_hash_field(ckan_server, names, tmp_path):
    org, name = names
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 20)})
    publisher(ckan_server).sync(dataset_spec(org, name), files)

    published = resources_by_name(ckan_server, name)
    for spec in files:
        assert published[spec.name]["hash"] == spec.sha256, spec.name
        assert published[spec.name]["hash_algorithm"] == "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"


def test_a_resource_without_hash_gets_it_by_one_patch_without_reupload_then_stays_unchanged(ckan_server, names,
                                                                                              tmp_path):
    org, name = names
    files = render_release(tmp_path, {"2025-01": month_rows("2025-01", 20)})
    publisher(ckan_server).sync(dataset_spec(org, name), files)
    csv = resources_by_name(ckan_server, name)["Planilla 2025-01 (CSV)"]
    ckan_server.admin().action.resource_patch(id=csv["id"], hash="", hash_algorithm="")

    fill = publisher(ckan_server)
    result = fill.sync(dataset_spec(org, name), files)

    assert result.error is None
    assert fill.client.writes == 1
    [patched] = [a for a in result.actions if a.action == "update"]
    assert patched.name == "Planilla 2025-01 (CSV)"
    after = resources_by_name(ckan_server, name)["Planilla 2025-01 (CSV)"]
    assert after["id"] == csv["id"] and after["hash"] == csv["sha256"] and after["datastore_active"]
    again = publisher(ckan_server)
    assert again.sync(dataset_spec(org, name), files).writes == 0 and again.client.writes == 0
