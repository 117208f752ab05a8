"""Many institutions' months in one run, on a Dask cluster of worker processes.

An operator who publishes for many institutions (a shared service for municipalities and juntas
comunales) gives one configuration per institution. Each institution's release is one task on the
Dask cluster, and inside it the institution's own flow (``flows.release.monthly_release``) runs as
a subflow, so the Prefect UI shows one flow run per institution under the national run.

* The stages are CPU-bound under the GIL, so institutions run in worker *processes*: a local
  cluster sized to the machine's cores by default, or the cluster behind an existing scheduler's
  address (``dask scheduler`` on one host, ``dask worker tcp://…:8786`` on each of the others), so
  the same command scales onto more machines with no change.
* One institution's failure (a broken configuration, a crash) never stops the others: it becomes
  that institution's line in the summary, with the reason.
* Workers must reach the same Prefect API as the parent: without ``PREFECT_API_URL`` the run
  starts one temporary server (``flows.server``) and hands its address to the workers (each would
  otherwise start its own).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE
from prefect.settings import temporary_settings

from transparencia.domain import Period
from transparencia.errors import ConfigError, TransparenciaError
from transparencia.flows import server
from transparencia.flows.release import ReleaseResult, monthly_release, result_of, stages_inline
from transparencia.flows.runners import task_runner

CONFIG_SUFFIXES = (".yaml", ".yml")
# An institution's subflow sends no heartbeats: they tell the server a flow run whose process died,
# and here the national run already hears of a lost worker through its task. The heartbeat thread
# sleeps in one-second steps and each subflow's end waits for it: half a second per institution.
NO_SUBFLOW_HEARTBEATS = {"flows.heartbeat_frequency": None}


@dataclass
class InstitutionRun:
    """One institution's part of the run: its release's result, or why it could not run."""

    config: str
    seconds: float = 0.0
    result: ReleaseResult | None = None
    error: str | None = None
    error_exit: int = 1
    worker: str = ""  # host:pid of the process that ran it

    @property
    def exit_code(self) -> int:
        if self.error or self.result is None:
            return self.error_exit
        return self.result.exit_code

    @property
    def institution(self) -> str:
        if self.result is not None:
            return self.result.report["institution"]
        return short_name(self.config)


@dataclass
class NationalResult:
    period: Period
    runs: list[InstitutionRun] = field(default_factory=list)
    workers: int = 0

    @property
    def exit_code(self) -> int:
        """The worst institution's: 0 all published, 1 items rejected or missing (or a crash), 2 configuration."""
        return max((r.exit_code for r in self.runs), default=0)


def config_paths(entries: Sequence[Path]) -> list[Path]:
    """The configuration files named, a folder standing for every YAML file directly in it."""
    paths: list[Path] = []
    for entry in entries:
        if entry.is_dir():
            found = sorted(p for p in entry.iterdir() if p.suffix.lower() in CONFIG_SUFFIXES and p.is_file())
            if not found:
                raise ConfigError(f"La carpeta '{entry}' no tiene configuraciones (.yaml).")
            paths += found
        else:
            paths.append(entry)
    if len(set(paths)) != len(paths):
        raise ConfigError("Una configuración aparece más de una vez.")
    return paths


def short_name(config_path: str) -> str:
    """How a configuration is named before it is loaded: its folder and file, e.g. 'municipio-colon/institution.yaml'."""
    path = Path(config_path)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


@task(name="publicar-institucion", cache_policy=NO_CACHE, task_run_name="institucion-{label}")
def institution_task(config_path: str, label: str, period: str, target: str | None, dry_run: bool,
                     review: bool | None = None,
                     send_mail: bool = True) -> InstitutionRun:
    """Run one institution's month as a subflow, its stages in line (one unit of work: no task run per
    item and stage); a failure is returned, not raised, so it stays that institution's."""
    run = InstitutionRun(config_path, worker=f"{socket.gethostname()}:{os.getpid()}")
    started = time.perf_counter()
    try:
        with stages_inline(), temporary_settings(updates=NO_SUBFLOW_HEARTBEATS):
            run.result = result_of(monthly_release(period=period, config_path=config_path, target=target,
                                                   dry_run=dry_run, review=review, send_mail=send_mail,
                                                   return_state=True))
    except TransparenciaError as error:
        run.error, run.error_exit = error.message, 2 if isinstance(error, ConfigError) else 1
    except Exception as error:  # one institution's crash is its own line in the summary
        run.error = f"{type(error).__name__}: {error}"
    run.seconds = time.perf_counter() - started
    return run


@flow(name="publicacion-varias-instituciones",
      description="Publicación mensual de varias instituciones, cada una en su propio subflujo.", log_prints=False)
def national_release(period: str, config_paths: list[str], target: str | None = None,
                     dry_run: bool = False, review: bool | None = None,
                     send_mail: bool = True) -> NationalResult:
    logger = get_run_logger()
    futures = [institution_task.submit(path, short_name(path), period, target, dry_run, review, send_mail)
               for path in config_paths]
    result = NationalResult(Period.parse(period))
    for path, future in zip(config_paths, futures, strict=True):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):  # the worker itself was lost
            outcome = InstitutionRun(path, error=f"{type(outcome).__name__}: {outcome}")
        result.runs.append(outcome)
    logger.info("%d instituciones, %d con problemas", len(result.runs), sum(1 for r in result.runs if r.exit_code))
    return result


def run_national(period: Period | None, configs: Sequence[Path], target: str | None = None, dry_run: bool = False,
                 dask_address: str | None = None, workers: int | None = None,
                 review: bool | None = None, send_mail: bool = True) -> NationalResult:
    """Release ``period`` (the previous month by default) of every configuration on Dask; ``review``
    overrides each configuration's ``publish.review`` (each institution's month then waits for its
    own approval on the flow run's page)."""
    month = period or Period.previous()
    paths = [str(p) for p in config_paths(configs)]
    with server.api():  # workers inherit its address from the environment
        runner = task_runner("dask", dask_address, workers, processes=True)
        result = national_release.with_options(task_runner=runner)(period=str(month), config_paths=paths, target=target,
                                                                   dry_run=dry_run, review=review,
                                                                   send_mail=send_mail)
    result.workers = workers or (0 if dask_address else os.cpu_count() or 1)
    return result
