"""A run that explains itself: each item's bar ends in its final state with the reason in one line
for an item that did not publish, retries are shown as they are scheduled, and the files named are
the ones in the officer's inbox."""

from __future__ import annotations

import datetime as dt

import pytest
from institutions import write_institution
from prefect import flow, task
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.cli.run import _bar_update, retry_text
from transparencia.domain import ItemStatus, Period
from transparencia.errors import InputError, TransientError
from transparencia.flows.progress import ItemProgress, Step
from transparencia.flows.release import reporting_retries
from transparencia.schemas import load_catalog
from transparencia.sources.demo import Banner, sample_frame, write_xlsx

CONFIG = """
institution: {name: Servicio Nacional de Migración, acronym: SNM, organization: snm-salida}
publish: {target: local, local_dir: published, formats: [csv]}
directorates:
  - id: rrhh
    name: Dirección de Recursos Humanos
    sources:
      - id: rrhh-planilla
        type: file
        path: inbox/{period}/rrhh/planilla*.xlsx
        items: {planilla: {}}
  - id: finanzas
    name: Dirección de Finanzas
    sources:
      - id: finanzas-viaticos
        type: file
        path: inbox/{period}/finanzas/viaticos*.xlsx
        items: {viaticos: {}}
      - id: finanzas-pagos
        type: file
        path: inbox/{period}/finanzas/otros-pagos*.csv
        items: {otros-pagos: {}}
"""


@pytest.mark.prefect
def test_the_final_output_gives_each_failed_item_its_state_and_reason(prefect_server, tmp_path):
    write_institution(tmp_path, CONFIG)
    inbox = tmp_path / "inbox" / "2025-01"
    (inbox / "rrhh").mkdir(parents=True)
    (inbox / "rrhh" / "planilla.pdf").write_bytes(b"%PDF-1.4\n")  # the workbook sent as a PDF
    viaticos = load_catalog().get("viaticos").table_schema()
    banner = Banner("SNM", viaticos.title, Period(2025, 2), dt.date(2025, 3, 3), "Dirección de Finanzas")
    write_xlsx([("Viáticos", viaticos, sample_frame(viaticos, Period(2025, 2), 12))],  # February's file
               inbox / "finanzas" / "viaticos.xlsx", banner)

    result = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(tmp_path / "institution.yaml")],
                                terminal_width=400)

    assert result.exit_code == 1
    reasons = result.output.split("Puntos que no se publicaron este mes, y por qué:")[1].splitlines()
    why = {line.split()[0]: line for line in reasons if line.strip() and line.split()[0][0].isdigit()}
    assert set(why) >= {"11.3", "11.6", "11.7"}
    assert "Error de la fuente" in why["11.3"]
    assert "llegó 'planilla.pdf' (PDF): se esperaba un libro de Excel o CSV" in why["11.3"]
    assert "Rechazado" in why["11.6"] and "el primero: El archivo parece ser de febrero de 2025" in why["11.6"]
    assert "no llegó el archivo del período 2025-01" in why["11.7"]


def test_bars_show_retries_and_end_in_one_line():
    retry = ItemProgress("10.2", Step.RETRY, retry=2, retries=3, delay=10,
                         reason="no se pudo conectar con la base de datos.")
    assert retry_text(retry) == "reintento 2 de 3 en 10 s"
    assert _bar_update(retry)["description"] == ("[yellow]reintento 2 de 3 en 10 s[/]: "
                                                 "no se pudo conectar con la base de datos.")
    final = ItemProgress("11.3", Step.FINAL, status=ItemStatus.REJECTED, reason="Tiene errores:\nvea el informe.")
    assert "\n" not in _bar_update(final)["description"]


@pytest.mark.prefect
def test_each_retry_is_reported_with_its_number_delay_and_reason(prefect_server):
    events: list[ItemProgress] = []
    calls = {"n": 0}

    @task(retries=3, retry_delay_seconds=[0, 0, 0])
    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise TransientError("Dirección de Finanzas: no se pudo conectar a postgresql://u@10.0.0.5:5432/db")
        return "ok"

    @task(retries=3, retry_delay_seconds=[0])
    def broken() -> None:
        raise InputError("archivo dañado")

    @flow
    def run() -> str:
        broken.with_options(retry_condition_fn=reporting_retries(events.append, "11.3")).submit().wait()
        return flaky.with_options(retry_condition_fn=reporting_retries(events.append, "10.2"))()

    assert run() == "ok"
    assert [(e.code, e.retry, e.retries) for e in events] == [("10.2", 1, 3), ("10.2", 2, 3)]  # terminal: none
    assert all(e.step is Step.RETRY and e.delay == 0 for e in events)
    assert "10.0.0.5" not in events[0].reason and "no se pudo conectar" in events[0].reason
