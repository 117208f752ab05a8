"""The officer's console on a real Prefect server: each release posts its month's table, findings and
links as artifacts keyed by institution, read back here through Prefect's API."""

from __future__ import annotations

import json

import pytest
from institutions import sample_document, write_institution

from transparencia.domain import Period
from transparencia.flows.artifacts import ArtifactKeys
from transparencia.flows.release import run_release
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month

pytestmark = pytest.mark.prefect
MONTHS = (Period(2025, 2), Period(2025, 3))  # demo months: one source missing, items rejected
SERVED = "https://www.migracion.gob.pa/transparencia/"  # where the local catalog is served


def _artifacts(keys: ArtifactKeys) -> list:
    """Every version of the institution's artifacts, oldest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    keyed = ArtifactFilter(key=ArtifactFilterKey(any_=[keys.items, keys.findings, keys.links]))
    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=keyed, sort=ArtifactSort.CREATED_DESC)[::-1]


def test_each_release_posts_the_months_table_findings_and_links_under_the_institutions_keys(prefect_server,
                                                                                          tmp_path):
    document = sample_document()
    document["institution"]["acronym"] = "CONSOLA"  # its own keys: no other test's runs among them
    document["publish"]["public_url"] = SERVED
    path = write_institution(tmp_path, document)
    for month in MONTHS:
        write_month(load_config(path), month)
    results = [run_release(month, path, target="local") for month in MONTHS]
    keys = ArtifactKeys.of("CONSOLA")

    artifacts = _artifacts(keys)
    assert [(a.key, str(a.flow_run_id)) for a in artifacts] == [
        (key, result.flow_run_id) for result in results for key in (keys.items, keys.findings, keys.links)]
    table, findings, links = artifacts[3:]
    assert table.type == "table" and findings.type == links.type == "markdown"
    assert table.description.startswith("Los 24 puntos de CONSOLA, marzo de 2025 (2025-03): ")

    rows = {row["Punto"]: row for row in json.loads(table.data)}
    march = {item.code: item for item in results[1].items}
    assert len(rows) == 24
    assert rows["10.5"]["Estado"] == "Faltante" and "no llegó el archivo del período 2025-03" in rows["10.5"]["Motivo"]
    assert rows["11.6"]["Estado"] == "Rechazado por errores de validación"
    planilla = march["11.3"].url  # the report's link: a path inside the catalog, served under SERVED
    assert rows["11.3"]["Filas"] == march["11.3"].rows and rows["11.3"]["Enlace"] == f"{SERVED}{planilla}"

    assert f"### 11.6 {march['11.6'].name}: Rechazado" in findings.data
    assert f"## {march['11.6'].directorate}" in findings.data

    assert results[1].report_url == "servicio-nacional-de-migracion/consola-informe-cumplimiento/"
    assert f"- [Informe de cumplimiento de transparencia]({SERVED}{results[1].report_url})" in links.data
    assert f"- [11.3 {march['11.3'].name}]({SERVED}{planilla})" in links.data
    assert str(tmp_path) not in table.data + findings.data + links.data  # no local path in the console

    run_release(MONTHS[1], path, target="local", dry_run=True)
    assert len(_artifacts(keys)) == 6  # a rehearsal adds no month to the console's history
