"""Output that reads at any width, and hints that can be copied: every progress line names its item,
`items` fits 80 columns, and the command a message suggests repeats the options it was given."""

from __future__ import annotations

import io

import pytest
from institutions import sample_institution
from rich.console import Console
from typer.testing import CliRunner

from transparencia.cli import app, run_hint
from transparencia.cli.run import item_bars
from transparencia.schemas import load_catalog
from transparencia.sources.config import DEFAULT_CONFIG


@pytest.mark.parametrize("width", [80, 120])
def test_every_progress_line_names_its_item_beside_a_long_reason(width):
    out = io.StringIO()
    with item_bars(Console(file=out, width=width, force_terminal=False)) as bars:
        done = bars.add_task("publicado (14 escrituras)", total=3, code="11.3")
        bars.add_task("rechazado: " + "el archivo tiene errores " * 10, total=3, code="10.2p")
        bars.update(done, completed=3)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert lines[-2].split()[:2] == ["11.3", "publicado"] and lines[-1].split()[:2] == ["10.2p", "rechazado:"]
    assert all(len(line) <= width for line in lines)


def test_items_fits_80_columns_one_line_per_item():
    result = CliRunner().invoke(app, ["items"], terminal_width=80)
    lines = result.output.splitlines()
    assert result.exit_code == 0 and max(map(len, lines)) <= 80 and len(lines) <= 40
    for item in load_catalog():
        assert any(line.split()[:2] == [item.code, item.slug] for line in lines), item.code
    assert "transparencia items --json" in result.output  # where the legal basis went


def test_hints_repeat_the_options_the_command_was_given(tmp_path):
    config = sample_institution(tmp_path / "mi institución")
    assert run_hint("2025-02", DEFAULT_CONFIG) == "transparencia run --period 2025-02"
    assert run_hint("2025-02", config, "ckan") == (f"transparencia run --period 2025-02 --config '{config}' "
                                                   "--target ckan")
    result = CliRunner().invoke(app, ["report", "--period", "2025-01", "--config", str(config)], terminal_width=400)
    assert result.exit_code == 2 and f"--config '{config}''" in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["verificar", "--period", "2025-01", "--config", str(config)],
                                terminal_width=400)
    assert result.exit_code == 2 and f"--config '{config}' --target local" in " ".join(result.output.split())
