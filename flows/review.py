"""The review before publishing (``publish.review``, or the run's ``review`` parameter).

With review on, the release extracts, validates and renders every item and asks the target what
publishing would write (a dry run: nothing reaches the target). It then posts that preview to the
Prefect UI as a Markdown artifact (``reports.review``) and pauses until the officer decides in the
form Prefect shows on the flow run's page ("Resume"), or through Prefect's API
(``resume_flow_run(flow_run_id, run_input={...})``, which checks the answer against the form's
schema). The form (``ReviewForm``) takes a decision (approve all, approve all except some items,
reject), the items left out and the officer's name: Prefect's open-source server has no users to
take it from. Only the approved items are then published; the others are reported as not approved,
with the reason, and the report and the log say who decided and when.

``pause_flow_run``, not ``suspend_flow_run``: a suspended run leaves its process and is started
again from the top by a worker once resumed, so everything before the pause (the extracted frames,
the validation reports, the rendered files) would have to be persisted as task results, and the
run would need a deployment, which a CLI run has not. A paused run keeps its process, its months in
memory and its portal lease while it waits (it polls the API), and goes on where it stopped. The
cost is a process that waits, which one institution's monthly run can afford.

When nobody decides within ``publish.review_timeout`` minutes, Prefect gives up the pause and would
fail the run with its own English message; the run instead takes itself back (a forced Running
state) and ends as Cancelled, saying in Spanish that nothing was published.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from prefect import get_client, get_run_logger, pause_flow_run
from prefect.artifacts import create_markdown_artifact
from prefect.exceptions import FlowPauseTimeout
from prefect.input import RunInput
from prefect.runtime import flow_run
from prefect.states import Running
from prefect.utilities.slugify import slugify
from pydantic import Field, create_model

from transparencia.domain import ReviewDecision
from transparencia.flows.outcome import Withheld
from transparencia.flows.progress import AwaitingReview, ProgressCallback
from transparencia.publishers.base import ActionRecord
from transparencia.reports.compliance import ComplianceReport, Review
from transparencia.reports.review import form_description, preview_markdown, publishable
from transparencia.wording import count

EXCLUDED = "Excluido por el oficial en la revisión: no se publicó este mes."
REJECTED = "Rechazado por el oficial en la revisión: no se publicó nada este mes."
EXPIRED = "La revisión venció sin decisión: no se publicó nada este mes."



def _excluded_field() -> Any:
    """The form's field of items left out (declared twice: on the form, and with this month's choices)."""
    return Field(default_factory=list, title="Puntos que no se publican",
                 description="Con «aprobar todo excepto estos puntos»: los puntos que se dejan fuera este mes. "
                             "Un punto marcado aquí nunca se publica.")


class ReviewForm(RunInput):
    """The officer's answer to the month's preview, as Prefect's form asks for it."""

    decision: ReviewDecision = Field(title="Decisión", description="Qué se publica de la vista previa.")
    excluded: list[str] = _excluded_field()
    officer: str = Field(title="Su nombre", min_length=2, pattern=r"\S",
                         description="Quien decide; queda en el informe de cumplimiento y en el registro.")


@dataclass(frozen=True)
class ReviewEnd:
    """How the review ended: the officer's decision, or None when none came within ``minutes``."""

    review: Review | None
    minutes: float

    @property
    def publishes(self) -> bool:
        """Whether anything may be published (the officer approved, all or part)."""
        return self.review is not None and self.review.decision is not ReviewDecision.REJECT

    @property
    def state_name(self) -> str:
        """The name of the run's final state when nothing is published."""
        return "Sin aprobación" if self.review is None else "Rechazada"

    @property
    def sentence(self) -> str:
        """Who decided what and when, or that nobody decided in time: the log, the state and the CLI say it."""
        if self.review is not None:
            return self.review.sentence
        return f"La revisión venció sin decisión tras {duration(self.minutes)}: no se publicó nada."

    def to_dict(self) -> dict[str, Any]:
        """As the run ledger records it."""
        decided = self.review.to_dict() if self.review else {"decision": None}
        return {**decided, "timeout_minutes": self.minutes, "sentence": self.sentence}


def duration(minutes: float) -> str:
    """'24 horas', '90 minutos', '3 segundos'."""
    seconds = round(minutes * 60)
    if seconds % 3600 == 0:
        return count(seconds // 3600, "hora")
    if seconds % 60 == 0:
        return count(seconds // 60, "minuto")
    return count(seconds, "segundo")


def request_review(preview: ComplianceReport, plans: Mapping[str, Sequence[ActionRecord]], minutes: float,
                   progress: ProgressCallback | None) -> ReviewEnd:
    """Post the preview, pause for the officer's decision (at most ``minutes``) and return it."""
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    key = f"{slugify(preview.acronym)}-vista-previa"
    create_markdown_artifact(preview_markdown(preview, plans, deadline), key=key,
                             description=f"Vista previa de {preview.acronym}, {preview.period.label_es}: "
                                         "nada publicado todavía")
    codes = [item.code for item in publishable(preview, plans)]
    form = review_form(codes, form_description(preview, codes, key, deadline))
    url = flow_run.ui_url
    get_run_logger().info("Vista previa lista; nada se publica hasta la decisión del oficial. Decida en %s antes "
                          "del %s UTC.", url, f"{deadline:%d/%m/%Y %H:%M}")
    if progress is not None:
        progress(AwaitingReview(url, deadline))
    answer = await_decision(form, minutes)
    end = ReviewEnd(None if answer is None else review_of(answer, _resumed_at()), minutes)
    get_run_logger().info(end.sentence)
    return end


def review_form(codes: Sequence[str], description: str) -> type[ReviewForm]:
    """This month's form: the items that may be left out are those the preview would publish (the UI
    offers them as choices and Prefect's API refuses any other), with ``description`` above it."""
    form: type[ReviewForm] = ReviewForm
    if codes:
        choice: Any = Literal.__getitem__(tuple(codes))
        form = create_model(ReviewForm.__name__, __base__=ReviewForm,
                            excluded=(list[choice], _excluded_field()))
    return form.with_initial_data(description=description)


def await_decision(form: type[ReviewForm], minutes: float) -> ReviewForm | None:
    """The officer's answer, or None when none came within ``minutes``; the run is then set running
    again, so that it ends in a state of its own rather than in Prefect's English failure."""
    seconds = max(1, math.ceil(minutes * 60))
    try:
        return pause_flow_run(wait_for_input=form, timeout=seconds, poll_interval=min(10, max(1, seconds // 10)))
    except FlowPauseTimeout:
        with get_client(sync_client=True) as client:
            client.set_flow_run_state(flow_run.id, Running(message=EXPIRED), force=True)
        return None


def _resumed_at() -> dt.datetime:
    """When the decision reached the run: the time of the state the API set on resuming it."""
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run.id).state
    return (state.timestamp if state is not None else dt.datetime.now(dt.UTC)).astimezone(dt.UTC)


def review_of(answer: ReviewForm, decided_at: dt.datetime) -> Review:
    """The report's record of the answer; the items left out count only when something is approved."""
    excluded = () if answer.decision is ReviewDecision.REJECT else tuple(dict.fromkeys(answer.excluded))
    return Review(ReviewDecision(answer.decision), answer.officer.strip(), decided_at, excluded)


def withheld(codes: Iterable[str], end: ReviewEnd) -> dict[str, Withheld]:
    """The items of ``codes`` (those the preview would publish) the review holds back, each with why:
    all of them when the officer rejected or did not decide in time, else those left out. An item
    the officer listed is held back whatever the decision says: a listed item is never published."""
    if end.review is None:
        return {code: Withheld(EXPIRED) for code in codes}
    if end.review.decision is ReviewDecision.REJECT:
        return {code: Withheld(REJECTED) for code in codes}
    return {code: Withheld(EXCLUDED) for code in codes if code in end.review.excluded}
