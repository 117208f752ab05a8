"""Reminders before the deadline: the scheduled flow ``recordatorios``, every day at the release's hour.

Each day it asks whether the month before has reached its reminder day (``reminder_days`` before the
deadline, ``notify.reminder_month``); from that day until the release it sends a reminder to every
directorate whose input has not arrived. Running every day rather than once means a day the server
was down is caught up the next, and the mail log keeps it to one message per directorate and state:
a directorate that still owes the same files is not reminded twice, one whose files arrive drops out.
The release itself reminds once more, first thing, whoever still owes (``flows.release``).
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger

from transparencia.domain import Period
from transparencia.flows import notify
from transparencia.flows.ledger import new_run_id
from transparencia.flows.notify import MailOutcome
from transparencia.sources.config import DEFAULT_CONFIG, load_config


@flow(name="recordatorios", description="Recordatorios a las direcciones cuyos archivos del mes aún no llegaron.",
      log_prints=False)
def reminders_flow(config_path: str = str(DEFAULT_CONFIG), period: str | None = None,
                   dry_run: bool = False) -> MailOutcome:
    """Remind the directorates that owe ``period``'s inputs; without a period, the month whose reminder
    day has come (nothing on other days)."""
    config = load_config(config_path)
    month = Period.parse(period) if period else notify.reminder_month(config, dt.datetime.now(config.schedule.zone))
    if month is None:
        get_run_logger().info(notify.NO_REMINDERS_TODAY)
        return MailOutcome(disabled=True)
    outcome = notify.send_reminders(config, month, new_run_id(), dry_run)
    notify.log_outcome(outcome, get_run_logger())
    return outcome
