"""The demo month published to the real local CKAN through the flow."""

from pathlib import Path

import pytest

from transparencia.flows.release import run_release
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month

pytestmark = [pytest.mark.prefect, pytest.mark.ckan]
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "institution.yaml"


def test_demo_month_on_ckan(prefect_server, ckan_server, ckan_org, tmp_path, monkeypatch):
    text = SAMPLE.read_text(encoding="utf-8").replace("organization: servicio-nacional-de-migracion",
                                                      f"organization: {ckan_org}")
    (tmp_path / "institution.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("CKAN_URL", ckan_server.url)
    monkeypatch.delenv("CKAN_API_TOKEN", raising=False)
    monkeypatch.setenv("CKAN_API_TOKEN_FILE", str(ckan_server.base / "secrets" / "api-token"))
    config = load_config(tmp_path / "institution.yaml")
    write_month(config, "2025-01", rows=10)

    result = run_release("2025-01", tmp_path / "institution.yaml", target="ckan")
    statuses = {i.code: i.status for i in result.items}
    assert statuses["11.3"] == "publicado" and statuses["11.6"] == "rechazado" and statuses["10.5"] == "faltante"

    ckan = ckan_server.admin()
    names = {p["name"] for p in ckan.action.package_search(fq=f"organization:{ckan_org}", rows=100)["results"]}
    assert "snm-planilla" in names and "snm-informe-cumplimiento" in names and "snm-viaticos" not in names
    report = ckan.action.package_show(id="snm-informe-cumplimiento")
    assert report["title"] == "Informe de cumplimiento de transparencia"
    assert {r["name"] for r in report["resources"]} >= {"Informe de cumplimiento 2025-01 (HTML)"}

    again = run_release("2025-01", tmp_path / "institution.yaml", target="ckan")
    assert again.writes == 0
