"""The one task-runner factory of the release flows: threads, or Dask.

* ``thread``: a pool of threads in this process (one institution on one machine, the default).
* ``dask`` with an ``address``: the cluster behind an existing scheduler, so the same command scales
  onto more machines.
* ``dask`` without one: a local cluster. One institution's items run as threads of one process
  (they share the configuration and the catalog already loaded); many institutions
  (``flows.national``) run in worker processes, one per core, as their stages are CPU-bound under
  the GIL.

Prefect and prefect-dask are imported only when a runner is made.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from transparencia.errors import ConfigError

if TYPE_CHECKING:
    from prefect.task_runners import TaskRunner


def task_runner(kind: str = "thread", address: str | None = None, workers: int | None = None, *,
                processes: bool = False) -> TaskRunner[Any]:
    """The task runner of ``kind``; ``processes`` asks a local Dask cluster for worker processes."""
    if kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if kind != "dask":
        raise ConfigError(f"Ejecutor de tareas desconocido '{kind}': use thread o dask")
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    if processes:
        cluster = {"n_workers": workers or os.cpu_count() or 1, "processes": True, "threads_per_worker": 1}
    else:
        cluster = {"n_workers": workers or 1, "processes": False, "threads_per_worker": 4}
    return DaskTaskRunner(cluster_kwargs={**cluster, "dashboard_address": None})
