"""The anonymous portal poller (tests/portal_poller.py) sees each kind of half-published state, and
nothing in a consistent dataset."""

import json

import pytest
from portal_poller import PortalPoller, _months_of


def test_history_rows_are_counted_per_month_in_every_format():
    csv = "\ufeffperiodo,salario\n2025-01,1\n2025-01,2\n2025-02,3\n".encode()
    rows = [{"periodo": "2025-01", "salario": 1}, {"periodo": "2025-02", "salario": 3}]
    assert _months_of("CSV", csv) == {"2025-01": 2, "2025-02": 1}
    assert _months_of("JSON", json.dumps(rows).encode()) == {"2025-01": 1, "2025-02": 1}


@pytest.mark.ckan
def test_the_poller_reports_each_state_in_between_and_nothing_else(ckan_server, ckan_org, tmp_path):
    ckan = ckan_server.admin()
    history_csv, history_json = tmp_path / "h.csv", tmp_path / "h.json"
    history_csv.write_text("periodo,salario\n2025-01,1\n2025-01,2\n", encoding="utf-8")
    history_json.write_text(json.dumps([{"periodo": "2025-01", "salario": 1}]), encoding="utf-8")
    month_json = tmp_path / "m.json"
    month_json.write_text("[]", encoding="utf-8")

    clean = ckan.action.package_create(name=f"{ckan_org}-limpio", owner_org=ckan_org,
                                       notes="Último mes publicado, 2025-01: personas 2.")
    for name, path in (("Planilla 2025-01 (JSON)", month_json), ("Planilla — histórico (JSON)", history_json)):
        with path.open("rb") as upload:
            ckan.action.resource_create(package_id=clean["id"], name=name, format="JSON", upload=upload)
    table = ckan.action.datastore_create(
        resource={"package_id": clean["id"], "name": "Planilla 2025-01 (CSV)", "description": "1 fila."},
        fields=[{"id": "periodo", "type": "text"}], records=[{"periodo": "2025-01"}], force=True)

    broken = ckan.action.package_create(name=f"{ckan_org}-roto", owner_org=ckan_org,
                                        notes="Texto.\n\nÚltimo mes publicado, 2025-02: personas 3.")
    ckan.action.datastore_create(
        resource={"package_id": broken["id"], "name": "Planilla 2025-01 (CSV)", "description": "5 filas."},
        fields=[{"id": "periodo", "type": "text"}], records=[{"periodo": "2025-01"}] * 3, force=True)
    ckan.action.resource_create(package_id=broken["id"], name="Planilla 2025-02 (CSV) (cargando)",
                                url="http://example.org/x.csv")
    for name, fmt, path in (("Planilla — histórico (CSV)", "CSV", history_csv),
                            ("Planilla — histórico (JSON)", "JSON", history_json)):
        with path.open("rb") as upload:
            ckan.action.resource_create(package_id=broken["id"], name=name, format=fmt, upload=upload)

    with PortalPoller(ckan_server.url, ckan_org, interval=0.1) as poller:
        poller.wait_polls(2)
    assert table["resource_id"] and poller.seen_datasets == {clean["name"], broken["name"]}
    assert {(v.kind, v.dataset) for v in poller.violations} == {
        ("cargando", broken["name"]), ("tabla", broken["name"]), ("totales", broken["name"]),
        ("histórico", broken["name"])}
    with pytest.raises(AssertionError, match="state in between"):
        poller.assert_clean()
