"""Which month a run publishes: a month that has not ended is refused before anything starts, and
the manual deployment asks for a validated AAAA-MM period while the scheduled one says which month
it computed."""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path

import pytest
from institutions import sample_institution
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import Period
from transparencia.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_a_month_is_publishable_only_once_it_has_ended():
    assert Period(2025, 1).require_ended(dt.date(2025, 2, 1)) == Period(2025, 1)
    with pytest.raises(ConfigError, match=r"El período 2025-01 aún no ha terminado: .* a partir del 01/02/2025"):
        Period(2025, 1).require_ended(dt.date(2025, 1, 31))
    with pytest.raises(ConfigError, match="2027-05 aún no ha terminado"):
        Period(2027, 5).require_ended(dt.date(2025, 1, 31))


@pytest.mark.parametrize("command", ["run", "demo"])
def test_the_current_and_a_future_month_are_refused_with_exit_2(tmp_path, command):
    config = sample_institution(tmp_path)
    for month in (Period.of(dt.date.today()), Period.of(dt.date.today()).shift(5)):
        result = CliRunner().invoke(app, [command, "--period", str(month), "--config", str(config)],
                                    terminal_width=200)
        assert result.exit_code == 2, result.output
        assert f"El período {month} aún no ha terminado" in result.output
        assert not (tmp_path / "runs").exists() and not (tmp_path / "published").exists()


@pytest.mark.prefect
def test_the_manual_deployment_requires_a_valid_period(prefect_server):
    from prefect.client.orchestration import get_client
    from prefect.exceptions import PrefectHTTPStatusError

    from transparencia.flows.deploy import build_deployments

    _scheduled, manual = build_deployments(ROOT / "data" / "institution.yaml")
    deployment_id = manual.apply()
    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment_id)
        schema = stored.parameter_openapi_schema
        assert "period" in schema["required"] and "period" not in stored.parameters
        assert schema["properties"]["period"]["pattern"] == r"^\d{4}-(?:0[1-9]|1[0-2])$"
        assert "default" not in schema["properties"]["period"]
        assert stored.flow_id == client.read_flow_by_name("publicacion-mensual").id
        for parameters in ({}, {"period": "2025-13"}, {"period": "enero"}):
            with pytest.raises(PrefectHTTPStatusError):
                client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
        assert client.create_flow_run_from_deployment(deployment_id, parameters={"period": "2025-01"}).id


@pytest.mark.prefect
def test_the_scheduled_run_says_which_month_it_computed(prefect_server, tmp_path, caplog):
    from transparencia.flows.release import monthly_release

    config = sample_institution(tmp_path, month=Period.previous())  # its database must be there (pre-flight)
    with caplog.at_level("INFO"):
        state = monthly_release(config_path=str(config), dry_run=True, return_state=True)
    assert state.is_completed()
    expected = Period.previous()
    assert any(f"Sin período indicado: se publica {expected}, el mes anterior a hoy" in r.getMessage()
               for r in caplog.records)


def test_a_run_that_ended_gives_sigterm_back_to_the_handler_it_found(tmp_path):
    """The run makes SIGTERM unwind like Ctrl+C while it runs; a process that called it (a test, a
    scheduler's own Python) keeps its own handler afterwards."""
    def theirs(_number, _frame) -> None:
        pass

    previous = signal.signal(signal.SIGTERM, theirs)
    try:
        result = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(tmp_path / "falta.yaml")])
        assert result.exit_code == 2, result.output
        assert signal.getsignal(signal.SIGTERM) is theirs
    finally:
        signal.signal(signal.SIGTERM, previous)
