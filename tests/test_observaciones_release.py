"""Every release prepares the observaciones of its month, and a failure to prepare them never fails it."""

from __future__ import annotations

import pytest
from institutions import sample_institution
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import Period
from transparencia.flows.release import run_release
from transparencia.sources.config import load_config

pytestmark = pytest.mark.prefect
PERIOD = Period(2025, 1)


def test_every_run_prepares_the_observaciones_and_a_failure_to_never_fails_the_release(prefect_server, tmp_path,
                                                                                       caplog):
    path = sample_institution(tmp_path, month=PERIOD)
    folder = load_config(path).workspace.observations(PERIOD)
    folder.parent.parent.mkdir(parents=True, exist_ok=True)
    folder.parent.write_text("no es una carpeta", encoding="utf-8")  # nothing can be written under it

    with caplog.at_level("WARNING"):
        blocked = run_release(PERIOD, path, target="local")
    assert blocked.observations == [] and not blocked.errors
    assert {i.code: i.status for i in blocked.items}["11.6"] == "rechazado"  # the month ran as always
    [warning] = [r for r in caplog.records if "No se pudieron preparar las observaciones" in r.getMessage()]
    assert "transparencia observaciones --period 2025-01" in warning.getMessage() and warning.exc_info is None

    folder.parent.unlink()
    result = run_release(PERIOD, path, target="local")
    assert {o.directorate for o in result.observations} == {"compras", "finanzas"}
    finanzas = next(o for o in result.observations if o.directorate == "finanzas")
    assert {p.name for p in finanzas.attachments} == {
        "viaticos-observaciones.xlsx", "finanzas-db-ejecucion-presupuestaria-observaciones.xlsx"}
    assert sorted(p.name for p in (folder / "finanzas").iterdir()) == sorted(
        ["carta.html", "carta.txt", *(p.name for p in finanzas.attachments)])
    assert (folder / "compras" / "carta.txt").read_text(encoding="utf-8").count("no llegó") == 1

    shown = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(path), "--target", "local"],
                               env={"COLUMNS": "200"})
    assert shown.exit_code == 1, shown.output
    assert f"Observaciones para 2 direcciones (su archivo anotado y su carta): {folder}" in shown.output
