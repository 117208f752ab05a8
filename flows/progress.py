"""What a release run tells its caller while it runs: one event per item and step, then the
item's final status with its reason; a run under review also says where and until when it waits
for the officer's decision. The flow calls the callback it is given (the CLI's
progress bars); nothing is kept in module state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from transparencia.domain import ItemStatus


class Step(StrEnum):
    EXTRACTED = "extraer"
    VALIDATED = "validar"
    PUBLISHED = "publicar"
    PREVIEWED = "vista previa"  # rendered and planned, not published: the review decides (``flows.review``)
    RETRY = "reintento"  # a step failed with a passing error and will run again
    FINAL = "final"


STEPS = (Step.EXTRACTED, Step.VALIDATED, Step.PUBLISHED)


@dataclass(frozen=True)
class ItemProgress:
    """One item finished one step. A ``RETRY`` event says a step failed with a passing error and
    when it runs again ("reintento 2 de 3 en 10 s"). The ``FINAL`` event carries the item's status in
    the report and, for an item that did not publish (or whose attempt failed), the reason in one line."""

    code: str
    step: Step
    rows: int | None = None
    errors: int | None = None
    warnings: int | None = None
    writes: int | None = None
    status: ItemStatus | None = None
    reason: str = ""
    attempt_failed: bool = False
    retry: int | None = None  # RETRY: which retry this is (1 for the first), of ``retries``, in ``delay`` s
    retries: int | None = None
    delay: float | None = None


@dataclass(frozen=True)
class AwaitingReview:
    """The run waits for the officer's decision on the month's preview: where to give it (the flow
    run's page in the Prefect UI) and until when; with no decision by then nothing is published."""

    url: str | None
    deadline: dt.datetime  # UTC


ProgressCallback = Callable[[ItemProgress | AwaitingReview], None]
