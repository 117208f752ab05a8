"""Punctuality across months: a scripted history of arrivals gives the exact table."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

from institutions import write_institution

from transparencia.domain import Period
from transparencia.domain.vocab import Arrival
from transparencia.reports.punctuality import punctuality_table
from transparencia.sources.archive import archive_file
from transparencia.sources.config import load_config

PANAMA = ZoneInfo("America/Panama")
LAST = Period(2025, 6)
PERIODS = [LAST.shift(offset) for offset in range(-11, 1)]  # 2024-07 … 2025-06

CONFIGURATION = {
    "institution": {"name": "Ministerio de Prueba", "acronym": "MP", "organization": "ministerio-de-prueba"},
    "directorates": [
        {"id": "rrhh", "name": "Dirección de Recursos Humanos",
         "sources": [{"id": "rrhh-planilla", "type": "file", "path": "inbox/{period}/rrhh/planilla*.xlsx",
                      "items": {"planilla": {}}}]},
        {"id": "compras", "name": "Dirección de Compras",
         "sources": [{"id": "compras", "type": "file", "path": "inbox/{period}/compras/contrataciones*.csv",
                      "items": {"contrataciones-publicas": {}}}]},
        {"id": "finanzas", "name": "Dirección de Finanzas",  # reads a database: sends nothing, has no row
         "sources": [{"id": "finanzas-db", "type": "database", "url": "sqlite:///finanzas.sqlite",
                      "items": {"ejecucion-presupuestaria": {"query": "SELECT * FROM e WHERE f >= :period_start AND f < :period_end"}}}]},
    ],
}


def _arrive(config, directorate: str, period: Period, name: str, when: dt.datetime, content: bytes = b"datos"):
    """A file saved in the inbox at ``when`` and archived by the month's run."""
    path = config.inbox / "inbox" / str(period) / directorate / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (when.timestamp(), when.timestamp()))
    archive_file(config.workspace, period, directorate, path, run_id=f"run-{period}")


def _on_time(period: Period) -> dt.datetime:
    return dt.datetime.combine(period.end + dt.timedelta(days=2), dt.time(9, 15), tzinfo=PANAMA)


def test_a_scripted_history_of_arrivals_gives_the_exact_table(tmp_path):
    config = load_config(write_institution(tmp_path, CONFIGURATION))
    for period in PERIODS:
        if period == Period(2024, 7):
            continue  # the tool was not run that month
        if period == Period(2024, 9):  # run, and nothing had arrived
            config.workspace.runs(period).mkdir(parents=True)
            (config.workspace.runs(period) / "run.json").write_text("{}", encoding="utf-8")
            continue
        if period == Period(2025, 2):  # two days after the deadline (5 March, 06:00)
            _arrive(config, "rrhh", period, "planilla.xlsx", dt.datetime(2025, 3, 7, 10, 30, tzinfo=PANAMA))
        elif period != Period(2024, 11):  # November's planilla never came
            _arrive(config, "rrhh", period, "planilla.xlsx", _on_time(period))
        if period == LAST:  # at the deadline itself: the scheduled run had started, it is late
            _arrive(config, "compras", period, "contrataciones.csv", dt.datetime(2025, 7, 5, 6, 0, tzinfo=PANAMA))
        else:
            _arrive(config, "compras", period, "contrataciones.csv", _on_time(period))
        if period == Period(2025, 5):  # a corrected revision after the deadline keeps the first arrival
            _arrive(config, "compras", period, "contrataciones.csv", dt.datetime(2025, 6, 20, 8, 0, tzinfo=PANAMA),
                    content=b"datos corregidos")

    table = punctuality_table(config, LAST)

    assert table.periods == tuple(PERIODS)
    assert [(row.directorate, row.name) for row in table.rows] == [
        ("rrhh", "Dirección de Recursos Humanos"), ("compras", "Dirección de Compras")]
    expected = {
        "rrhh": {Period(2024, 7): "sin ejecución", Period(2024, 9): "no llegó", Period(2024, 11): "no llegó",
                 Period(2025, 2): "tarde (07/03 10:30)"},
        "compras": {Period(2024, 7): "sin ejecución", Period(2024, 9): "no llegó", LAST: "tarde (05/07 06:00)"},
    }
    for row in table.rows:
        assert [m.label for m in row.months] == [expected[row.directorate].get(p, "a tiempo") for p in PERIODS]
    rrhh, compras = table.rows
    assert (rrhh.count(Arrival.ON_TIME), rrhh.count(Arrival.LATE), rrhh.count(Arrival.MISSING)) == (8, 1, 2)
    assert (compras.count(Arrival.ON_TIME), compras.count(Arrival.LATE), compras.count(Arrival.MISSING)) == (9, 1, 1)
    assert table.table_rows()[0] == {
        "Dirección": "Dirección de Recursos Humanos",
        **{str(p): expected["rrhh"].get(p, "a tiempo") for p in PERIODS},
        "A tiempo": 8, "Tarde": 1, "No llegó": 2,
    }


def test_the_markdown_of_the_internal_report_has_a_row_per_directorate(tmp_path):
    config = load_config(write_institution(tmp_path, CONFIGURATION))
    _arrive(config, "rrhh", LAST, "planilla.xlsx", _on_time(LAST))
    text = punctuality_table(config, LAST).markdown()
    assert "## Puntualidad de las direcciones (2024-07 a 2025-06)" in text
    assert "| Dirección de Recursos Humanos | sin ejecución |" in text
    assert "| a tiempo | 1 | 0 | 0 |\n" in text  # rrhh: this month on time, the others never run
    assert text.rstrip().endswith("| no llegó | 0 | 0 | 1 |")  # compras: run, and nothing arrived
    assert "Finanzas" not in text
