"""Many institutions in one run, on a real local Dask cluster of two worker processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from institutions import sample_institution
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import Period
from transparencia.errors import ConfigError
from transparencia.flows.national import config_paths
from transparencia.flows.runners import task_runner

pytestmark = pytest.mark.prefect


def institution(folder: Path, acronym: str) -> Path:
    """The sample institution under another name and organization, with its demo month of 2025-01."""
    return sample_institution(folder, month=Period(2025, 1), acronym=acronym, organization=f"org-{acronym.lower()}",
                              name=f"Institución {acronym}")


def test_a_folder_stands_for_its_configurations(tmp_path):
    for name in ("b.yaml", "a.yml", "notas.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
    assert [p.name for p in config_paths([tmp_path])] == ["a.yml", "b.yaml"]
    with pytest.raises(ConfigError, match="más de una vez"):
        config_paths([tmp_path / "a.yml", tmp_path / "a.yml"])


def test_the_local_cluster_has_one_worker_process_per_core():
    runner = task_runner("dask", processes=True)
    assert runner.cluster_kwargs["processes"] is True
    assert runner.cluster_kwargs["n_workers"] == os.cpu_count()


def test_institutions_run_on_worker_processes_and_one_failure_stops_none(prefect_server, tmp_path):
    from distributed import Client, LocalCluster

    first, second = institution(tmp_path / "uno", "UNO"), institution(tmp_path / "dos", "DOS")
    broken = tmp_path / "rota" / "institution.yaml"
    broken.parent.mkdir()
    broken.write_text("institution: {name: X\n", encoding="utf-8")

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        done = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(first), "--config", str(broken),
                                        "--config", str(second), "--dask-address", cluster.scheduler_address])
        ran_here = client.run(lambda: "transparencia.flows.release" in sys.modules)

    assert any(ran_here.values())  # the releases ran in the cluster's worker processes
    said = " ".join(done.output.split())
    assert done.exit_code == 2, done.output  # the broken configuration; the others still ran
    assert "Institución UNO 21 de 24" in said and "Institución DOS 21 de 24" in said
    assert "rota/institution.yaml" in said and "el YAML no es válido" in said
    for folder in ("uno", "dos"):
        assert (tmp_path / folder / "reports" / "2025-01" / "informe-cumplimiento-2025-01.json").exists()
        assert (tmp_path / folder / "published" / "index.html").exists()
