"""The one task-runner factory of the release flows: threads, or Dask.

* ``thread``: a pool of threads in this process (one institution on one machine, the default).
* ``dask`` with an ``address``: the cluster behind an existing scheduler, so the same command scales
  onto more machines.
* ``dask`` without one: a local cluster. One institution's items run as threads of one process
  (they share the configuration and the catalog already loaded); many institutions
  (``flows.national``) run in worker processes, one per core, as their stages are CPU-bound under
  the GIL. Those are forked from one server process that imported the stages, Prefect and Great
  Expectations once (``WORKER_PRELOAD``): each spawned worker would import them again, several
  seconds of CPU per worker and per cluster that a second worker on two cores only adds to. The
  forked workers run each task under the parent's Prefect settings (Prefect ships them with it).

Prefect and prefect-dask are imported only when a runner is made.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from transparencia.errors import ConfigError

if TYPE_CHECKING:
    from prefect.task_runners import TaskRunner

# What a worker process of a national run imports anyway, loaded once into the server it is forked from.
WORKER_PRELOAD = ("distributed", "transparencia.flows.national", "great_expectations")


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
        _fork_workers_from_preloaded_server()
        cluster = {"n_workers": workers or os.cpu_count() or 1, "processes": True, "threads_per_worker": 1}
    else:
        cluster = {"n_workers": workers or 1, "processes": False, "threads_per_worker": 4}
    return DaskTaskRunner(cluster_kwargs={**cluster, "dashboard_address": None})


def _fork_workers_from_preloaded_server() -> None:
    """Have Dask start local worker processes by forking a server process that imported
    ``WORKER_PRELOAD`` (it starts with the first cluster and serves every later one in this process)."""
    import dask
    from distributed.utils import get_mp_context

    os.environ["GX_ANALYTICS_ENABLED"] = "false"  # read by GX at import, in the server process
    dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"})
    get_mp_context().set_forkserver_preload(list(WORKER_PRELOAD))  # after Dask set its own list, once
