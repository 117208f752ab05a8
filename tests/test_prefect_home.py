"""Prefect's home lives in the institution's data folder (its database beside the institution's
other files), unless PREFECT_HOME says otherwise; it is decided before Prefect is imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from institutions import write_institution

from transparencia.flows.environment import configure_prefect

CONFIG = """
institution: {name: Servicio Nacional de Migración, acronym: SNM, organization: snm-hogar}
data_dir: datos
publish: {target: local, local_dir: published, formats: [csv]}
directorates:
  - id: rrhh
    name: Dirección de Recursos Humanos
    sources:
      - {id: rrhh-planilla, type: file, path: "inbox/{period}/planilla*.xlsx", items: {planilla: {}}}
"""


def test_the_home_is_set_only_when_prefect_home_is_not(monkeypatch, tmp_path):
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    configure_prefect(home=tmp_path / "datos" / "prefect")
    assert os.environ["PREFECT_HOME"] == str(tmp_path / "datos" / "prefect")
    monkeypatch.setenv("PREFECT_HOME", "/srv/prefect")
    configure_prefect(home=tmp_path / "otra")
    assert os.environ["PREFECT_HOME"] == "/srv/prefect"


def test_the_cli_does_not_import_prefect_before_it_is_configured():
    code = "import sys, transparencia.cli.run; print('prefect' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.prefect
def test_a_run_keeps_prefect_in_the_institution_data_folder(tmp_path):
    config = write_institution(tmp_path / "snm", CONFIG)
    home = tmp_path / "usuario"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | {"HOME": str(home)}
    cli = Path(sys.executable).with_name("transparencia")
    done = subprocess.run([str(cli), "run", "--period", "2025-01", "--config", str(config), "--dry-run"],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 1, done.stdout + done.stderr  # the month's file is missing: run, not crashed
    assert any((tmp_path / "snm" / "datos" / "prefect").glob("*.db"))
    assert not (home / ".prefect").exists()
