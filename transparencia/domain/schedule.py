"""The release schedule and the deadline it sets: the one home of both.

The scheduled release publishes the month before on a cron (06:00 on day 5, America/Panama, unless
the configuration's ``schedule`` says otherwise). What the directorates must meet is that run: an
input that arrives after it is not in the month's release. So a month's deadline is the schedule's
first firing after the month ends, and the template, the letters, the reminders and the punctuality
table all ask this module for it rather than repeating the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from transparencia.domain.period import MONTH_NAMES, Period
from transparencia.errors import ConfigError

RELEASE_CRON = "0 6 5 * *"
RELEASE_TIMEZONE = "America/Panama"


@dataclass(frozen=True)
class Deadline:
    """When a month's inputs are due: an aware moment, in the schedule's time zone."""

    period: Period
    moment: dt.datetime

    def missed_by(self, arrived: dt.datetime) -> bool:
        """Whether an input that arrived at ``arrived`` (aware) came too late for the month's release."""
        return arrived >= self.moment

    @property
    def label_es(self) -> str:
        """``'5 de febrero de 2025 a las 06:00'``: how a directorate reads it."""
        moment = self.moment
        return f"{moment.day} de {MONTH_NAMES[moment.month - 1]} de {moment.year} a las {moment:%H:%M}"


@dataclass(frozen=True)
class ReleaseSchedule:
    """A cron and its time zone, checked when built, so a bad one is a configuration error at load."""

    cron: str = RELEASE_CRON
    timezone: str = RELEASE_TIMEZONE

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"Zona horaria desconocida '{self.timezone}' (p. ej. America/Panama)") from None
        try:
            CronSim(self.cron, dt.datetime(2000, 1, 1))
        except CronSimError:
            raise ConfigError(f"Programación (cron) inválida '{self.cron}' (p. ej. '0 6 5 * *': "
                              "a las 06:00 del día 5 de cada mes)") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def deadline(self, period: Period) -> Deadline:
        """The first scheduled release after ``period`` ends (cron minutes: starting one minute before
        the month's end lets a release at 00:00 on the 1st count, as cronsim yields strictly later times)."""
        month_end = dt.datetime.combine(period.end, dt.time(), tzinfo=self.zone)
        return Deadline(period, next(CronSim(self.cron, month_end - dt.timedelta(minutes=1))))
