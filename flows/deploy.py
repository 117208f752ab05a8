"""Deployments of the monthly release: a cron schedule and a manual trigger with a period.

  publicacion-programada  releases the previous month on a cron (default 06:00 on day 5 of each
                          month, America/Panama), so directorates have four days to send inputs
  publicacion-manual      the officer picks the period in the Prefect UI ("Run" → parameters): a
                          required AAAA-MM field (``manual_release``), so no run publishes a month
                          nobody chose

``transparencia serve`` serves both from this process (no work pool needed); prefect.yaml
declares the same two for ``prefect deploy --all`` with a process work pool and a worker.
"""

from __future__ import annotations

from pathlib import Path

from prefect.schedules import Cron

from transparencia.domain.schedule import RELEASE_CRON, RELEASE_TIMEZONE
from transparencia.flows.release import manual_release, monthly_release
from transparencia.flows.reminders import reminders_flow

SCHEDULED = "publicacion-programada"
MANUAL = "publicacion-manual"
REMINDERS = "recordatorio-programado"


def build_deployments(config_path: str | Path, cron: str = RELEASE_CRON, timezone: str = RELEASE_TIMEZONE,
                      target: str | None = None):
    """The two RunnerDeployments; ``apply()`` them or hand them to ``prefect.serve``."""
    config = str(Path(config_path).resolve())
    scheduled = monthly_release.to_deployment(
        name=SCHEDULED,
        schedules=[Cron(cron, timezone=timezone)],
        parameters={"config_path": config, "target": target},
        description=f"Publica el mes anterior cada mes (cron '{cron}', zona {timezone}).",
        tags=["transparencia", "programada"],
    )
    manual = manual_release.to_deployment(
        name=MANUAL,
        parameters={"config_path": config, "target": target},
        description="Publicación a pedido: indique el período (AAAA-MM) al ejecutar.",
        tags=["transparencia", "manual"],
    )
    return scheduled, manual


def reminder_deployment(config_path: str | Path, cron: str = RELEASE_CRON, timezone: str = RELEASE_TIMEZONE):
    """The daily reminders, at the release's hour: the flow itself decides whether the day has come."""
    minute, hour = cron.split()[:2]
    daily = f"{minute} {hour} * * *"
    return reminders_flow.to_deployment(
        name=REMINDERS,
        schedules=[Cron(daily, timezone=timezone)],
        parameters={"config_path": str(Path(config_path).resolve())},
        description=(f"Cada día (cron '{daily}', zona {timezone}): recordatorios a las direcciones cuyos archivos "
                     "no llegaron, desde 'reminder_days' días antes de la fecha límite."),
        tags=["transparencia", "recordatorios"],
    )


def serve(config_path: str | Path, cron: str = RELEASE_CRON, timezone: str = RELEASE_TIMEZONE,
          target: str | None = None) -> None:
    """Serve the deployments until interrupted (needs PREFECT_API_URL pointing at a Prefect server)."""
    from prefect import serve as prefect_serve

    prefect_serve(*build_deployments(config_path, cron, timezone, target),
                  reminder_deployment(config_path, cron, timezone))
