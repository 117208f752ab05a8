"""The monthly release flow: extract → normalise → validate → publish → report.

Orchestration only: submitting tasks, retries, and collecting each item's outcome. The stages
decide everything else (``flows.stages``: reading, validating, publishing) and the status each item gets in the report (``reports.compliance.classify``).

  extract   one task per (source, item): archives the raw input, then reads it
  validate  one task per item
  publish   one task per item: a valid month is stored, rendered with its history and synced
  report    the 24-item compliance report, written locally and published with the month

Items are independent: their chains are submitted at once and run concurrently on the task
runner (threads by default, Dask for many institutions). Retries apply only to ``TransientError``
(a dropped connection, a 5xx): retrying a bad file or a wrong token would only repeat the same
answer. Each kind is retried in one place: a source's on the extract task's decorator; a portal's
by the backend itself, with backoff and then a breaker that stops the rest of the run
(``publishers.base.PortalUnavailableError``), so the publish tasks declare no retries: a task
retried seconds later would only find the breaker open. A failing source never stops the others. The
caller may pass a ``progress`` callback: it hears each item's steps as they finish, then each
item's final status with its reason.

The flow returns a ``ReleaseResult`` in a Completed state whose message is the outcome in Spanish
(``run_state``): a month with items missing or rejected is an expected outcome the report explains,
not a crash, so it ends Completed named "Incompleto", which the Prefect UI shows and filters on. A
Failed state (whose data Prefect requires to be an exception) is left for a run that could not do
its job. The log lists each unpublished item with its reason, the lines the CLI prints. A real run
then posts the month's report to the Prefect UI as artifacts keyed by institution (``flows.artifacts``).

With review on (``publish.review`` or the ``review`` parameter), the publish tasks first only
preview (render, and ask the target what they would write), the run pauses for the officer's
decision (``flows.review``), and then only the approved items are published. A month the officer
rejected, or left undecided past ``publish.review_timeout``, publishes nothing (not even the
compliance report) and ends Cancelled, named "Rechazada" or "Sin aprobación".
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar, cast

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE
from prefect.context import FlowRunContext
from prefect.exceptions import TerminationSignal
from prefect.futures import PrefectFuture, as_completed
from prefect.states import Cancelled, Completed, State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import opaque, quote
from pydantic import Field

from transparencia.domain import YEARMONTH_PATTERN, ItemKind, Period, Target
from transparencia.domain.files import WritesStopped, discard_temporaries
from transparencia.errors import InputError, RunInterrupted, TransientError
from transparencia.flows import notify, observations, stages
from transparencia.flows.artifacts import post_release_artifacts
from transparencia.flows.ledger import RunLedger, WriteJournal, error_message, lease_task, new_run_id
from transparencia.flows.notify import MailOutcome
from transparencia.flows.outcome import (
    UNPUBLISHED_HEADER,
    Assessment,
    StageResults,
    Withheld,
    dataset_assessment,
    document_assessment,
    published_notes,
    reason_line,
)
from transparencia.flows.progress import ItemProgress, ProgressCallback, Step
from transparencia.flows.punctuality import post_punctuality
from transparencia.flows.review import ReviewEnd, request_review, withheld
from transparencia.flows.runners import task_runner
from transparencia.flows.stages import PublishedMonth
from transparencia.flows.verify import verify_period
from transparencia.publishers.base import PortalSession, ResultRecord
from transparencia.publishers.public import public_error
from transparencia.reports import compliance
from transparencia.reports.compliance import (
    ComplianceReport,
    Extraction,
    ItemOutcome,
    ItemReport,
    Publishing,
)
from transparencia.reports.observaciones import DirectorateObservations
from transparencia.schemas.catalog import Item
from transparencia.sources.archive import run_inputs
from transparencia.sources.config import DEFAULT_CONFIG, InstitutionConfig, SourceConfig, load_config
from transparencia.sources.extraction import Extraction as ExtractedTable
from transparencia.sources.registry import check_sources, extract_source, planned_extractions
from transparencia.validation.findings import ValidationReport

RETRY_DELAYS: list[float] = [2, 10, 30]
P = ParamSpec("P")
R = TypeVar("R")


def retry_if_transient(task, task_run, state) -> bool:
    """Retry only what may pass: TransientError. Everything else is terminal."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:
        return False
    return False


def reporting_retries(progress: ProgressCallback, code: str) -> Callable:
    """``retry_if_transient`` that also tells ``progress`` about each retry of item ``code``: which
    retry, of how many, after how long, and why (the error's public summary, in one line).

    A closure rather than a partial: Prefect only calls plain functions as retry conditions."""

    def decide(task, task_run, state) -> bool:
        retry = retry_if_transient(task, task_run, state)
        if retry:
            number = max(task_run.run_count, 1)
            delays = task.retry_delay_seconds or 0
            delay = delays[min(number, len(delays)) - 1] if isinstance(delays, Sequence) else delays
            progress(ItemProgress(code, Step.RETRY, retry=number, retries=task.retries, delay=delay,
                                  reason=_failure_reason(state)))
        return retry

    return decide


def _failure_reason(state) -> str:
    try:
        state.result()
    except Exception as exc:
        return public_error(exc)
    return ""


# --------------------------------------------------------------------------- results


@dataclass
class ReleaseResult:
    period: Period
    run_id: str
    flow_run_id: str | None
    target: str
    dry_run: bool
    report: dict[str, Any]  # ComplianceReport.to_dict()
    report_paths: dict[str, str] = field(default_factory=dict)
    report_url: str | None = None  # the published compliance report's dataset, as its publisher gives it
    ledger_path: str | None = None
    writes: int = 0
    errors: list[str] = field(default_factory=list)
    due: list[str] = field(default_factory=list)  # codes with a configured source or document
    observations: list[DirectorateObservations] = field(default_factory=list)  # what each directorate gets back
    review: ReviewEnd | None = None  # how the review before publishing ended, when the run had one
    mail: MailOutcome = field(default_factory=MailOutcome)  # what was (or, in a dry run, would be) e-mailed

    @cached_property
    def items(self) -> list[ItemReport]:
        """The report's rows, read once: the exit code, the log and the CLI all ask for them."""
        return ComplianceReport.from_dict(self.report).items

    @property
    def exit_code(self) -> int:
        """0 when every item due was published; 1 when some failed (even if an earlier month stays online).

        Items due are those the configuration feeds (a source or a document entry); an item with
        neither is a configuration gap ("no configurado"), not a failed run."""
        failed = any(i.code in self.due and (i.status.failed or i.attempt_failed) for i in self.items)
        return 1 if self.errors or failed else 0

    @property
    def unpublished(self) -> list[ItemReport]:
        """The items due that did not publish, or whose attempt failed (an earlier month may stay online)."""
        return [i for i in self.items if i.code in self.due and (not i.fulfilled or i.attempt_failed)]


INCOMPLETE = "Incompleto"  # the name of the Completed state of a month with items not published


def run_state(result: ReleaseResult, headline: str) -> State[ReleaseResult]:
    """The flow's final state: Completed, its message the outcome in Spanish; named "Incompleto"
    when the CLI would exit 1 (items due not published, or errors), so the UI tells such months apart.
    A month whose review let nothing through (rejected, or no decision in time) ends Cancelled: the
    run stopped before publishing, as decided; an approval is said after the outcome."""
    review = result.review
    if review is not None and not review.publishes:
        return Cancelled(name=review.state_name, message=review.sentence, data=result)
    approval = f". {review.sentence}" if review is not None else ""
    if result.exit_code:
        return Completed(name=INCOMPLETE, message=f"{headline}: hay puntos que no se publicaron{approval}",
                         data=result)
    return Completed(message=headline + approval, data=result)


# --------------------------------------------------------------------------- tasks


def cancelled_when_stopped(work: Callable[P, R]) -> Callable[P, R]:
    """A task still running when its run is interrupted ends Cancelled, not Failed with a traceback:
    its next write is refused (``discard_temporaries``), and that is all it has left to say."""

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return work(*args, **kwargs)
        except WritesStopped as stop:
            return cast(R, Cancelled(message=str(stop)))  # Prefect ends a task in the state it returns

    return run


@task(name="extraer", retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=retry_if_transient,
      cache_policy=NO_CACHE, task_run_name="extraer-{code}-{source.id}")
@cancelled_when_stopped
def extract_task(config: InstitutionConfig, source: SourceConfig, code: str, period: Period,
                 run_id: str | None) -> ExtractedTable | InputError:
    """The source's table, or the ``InputError`` of an input that is missing or unusable: returned,
    not raised, because a directorate's missing or wrong file is an expected monthly outcome that the
    report explains, not a task that crashed (Prefect logs a failed task and its dependants as ERRORs).
    Inputs are archived under ``run_id``; a dry run passes None: it reads them where they are."""
    try:
        return extract_source(config, source, code, period, run_id=run_id)
    except InputError as refused:
        return refused


@task(name="validar", cache_policy=NO_CACHE, task_run_name="validar-{item.code}")
@cancelled_when_stopped
def validate_task(config: InstitutionConfig, extraction: ExtractedTable | InputError, item: Item,
                  period: Period, dry_run: bool = False) -> ValidationReport | InputError:
    """The month's validation; an input that could not be read passes on its error (nothing to validate)."""
    if isinstance(extraction, InputError):
        return extraction
    return stages.validate_month(config, item, period, extraction, dry_run)


@task(name="publicar", cache_policy=NO_CACHE, task_run_name="publicar-{item.code}")
@cancelled_when_stopped
def publish_task(config: InstitutionConfig, item: Item, period: Period, extraction: ExtractedTable | InputError,
                 report: ValidationReport | InputError, directorate: str, target: Target, dry_run: bool,
                 journal: WriteJournal | None = None) -> PublishedMonth | None:
    """The valid month published; None when there is nothing to publish (unread input, rejected month)."""
    if isinstance(extraction, InputError) or isinstance(report, InputError):
        return None
    return stages.publish_month(config, item, period, extraction, report, directorate, target, dry_run, journal)


@task(name="publicar-informe", cache_policy=NO_CACHE)
@cancelled_when_stopped
def publish_report_task(config: InstitutionConfig, report: ComplianceReport, paths: dict[str, Path],
                        target: Target, dry_run: bool, journal: WriteJournal | None = None) -> ResultRecord:
    return stages.publish_report(config, report, paths, target, dry_run, journal)


@task(name="enviar-recordatorios", cache_policy=NO_CACHE)
def reminders_task(config: InstitutionConfig, period: Period, run_id: str, dry_run: bool, send: bool) -> MailOutcome:
    """Before extracting: a reminder to each directorate whose input has not arrived."""
    return notify.send_reminders(config, period, run_id, dry_run, send=send)


@task(name="enviar-resultados", cache_policy=NO_CACHE)
def results_task(config: InstitutionConfig, report: ComplianceReport, letters: list[DirectorateObservations],
                 run_id: str, dry_run: bool, send: bool) -> MailOutcome:
    """After the report: each directorate with findings its letter and annotated files, then the
    officer's summary."""
    return notify.send_results(config, report, letters, run_id, dry_run, send=send)


# --------------------------------------------------------------------------- stages in line

# In a run of many institutions (``flows.national``) one institution is one unit of work: its items'
# stages run as plain calls inside its flow, not as Prefect tasks, each of which costs server
# round-trips that grow with the items; a single institution's run keeps one task per stage, which
# the officer reads in the UI.
_INLINE: ContextVar[bool] = ContextVar("transparencia_stages_inline", default=False)


@contextlib.contextmanager
def stages_inline() -> Iterator[None]:
    """Run the stages of the releases started in this block as plain calls (see ``_INLINE``)."""
    token = _INLINE.set(True)
    try:
        yield
    finally:
        _INLINE.reset(token)


class Done:
    """A stage already run in this thread, read like a finished ``PrefectFuture``: its value, or the
    exception that ended it (raised by ``result``). A stage after one that failed does not run: it
    ends with the same exception, as a Prefect task whose upstream failed does not run."""

    def __init__(self, work: Callable[..., Any], *args: Any, retries: Sequence[float] = ()) -> None:
        self.value: Any = None
        self.error: BaseException | None = next((a.error for a in args if isinstance(a, Done) and a.error), None)
        if self.error is None:
            self._run(work, [a.value if isinstance(a, Done) else a for a in args], retries)

    def _run(self, work: Callable[..., Any], args: list[Any], retries: Sequence[float]) -> None:
        for delay in [*retries, None]:
            try:
                self.value = work(*args)
                return
            except TransientError as error:  # retried as the task's retry_condition_fn would
                self.error = error
                if delay is None:
                    return
                time.sleep(delay)
            except Exception as error:
                self.error = error
                return

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def _submitted(task_: Any, *args: Any, **options: Any) -> PrefectFuture | Done:
    """``task_`` submitted to the flow's task runner, or (stages in line) run here."""
    if _INLINE.get():
        return Done(task_.fn, *args, retries=task_.retry_delay_seconds if task_.retries else ())
    if _on_threads():  # Dask would rebuild the annotations (tuples) as plain tuples
        args = tuple(map(_as_given, args))
    return task_.submit(*args, **options)


def _called(task_: Any, *args: Any) -> Any:
    """``task_`` called as a task run, or (stages in line) as a plain function."""
    return task_.fn(*args) if _INLINE.get() else task_(*map(_as_given, args))


def _as_given(argument: Any) -> Any:
    """A task's argument as Prefect should take it: an upstream future resolved to its value, kept as
    the task's input, without walking the value (``opaque``); anything else as it is (``quote``).
    Prefect would otherwise walk every argument twice per task (the institution's whole configuration,
    each extraction and report) to find futures in it and to record the task's inputs, and read each
    future's task run from the API: in a small month, more than the stages' own work."""
    return opaque(argument) if isinstance(argument, PrefectFuture) else quote(argument)


def _on_threads() -> bool:
    """Whether the running flow submits its tasks to its own thread pool."""
    context = FlowRunContext.get()
    return context is not None and isinstance(context.task_runner, ThreadPoolTaskRunner)


def _completed(futures: list[Any]) -> Iterable[Any]:
    """The futures as they complete (stages run in line have all completed, in order)."""
    return futures if all(isinstance(f, Done) for f in futures) else as_completed(futures)


# --------------------------------------------------------------------------- collecting outcomes


@dataclass
class Chain:
    """One item's submitted tasks. ``step`` is what the last one does: publish, or (a run under
    review, before the decision) only preview; ``withheld`` says why the review held the month back."""

    source: SourceConfig
    extract: PrefectFuture | Done
    validate: PrefectFuture | Done
    publish: PrefectFuture | Done
    step: Step = Step.PUBLISHED
    withheld: Withheld | None = None


def _step_event(code: str, step: Step, value: Any) -> ItemProgress | None:
    """The progress event of a finished task, read from its result."""
    if step is Step.EXTRACTED:
        return ItemProgress(code, step, rows=value.rows)
    if step is Step.VALIDATED:
        return ItemProgress(code, step, errors=len(value.errors), warnings=len(value.warnings))
    if value is not None:
        return ItemProgress(code, step, writes=value.writes)
    return None


def _wait(chains: dict[str, Chain], progress: ProgressCallback | None,
          on_published: Callable[[str, PublishedMonth], None] | None = None, told_already: int = 0) -> None:
    """Wait for every task, telling ``progress`` about each step that finished well (after the first
    ``told_already`` steps of each item: the publishing that follows a review has its other steps told),
    and ``on_published`` about each item published (the ledger notes its writes as they happen).

    ``as_completed`` may report an item's steps out of order (a memoised validation can be seen
    before its extraction), so each item's steps are told in their own order: a step is told once
    it and every earlier step of the item have completed.
    """
    owner = {}
    for code, chain in chains.items():
        owner.update({chain.extract: code, chain.validate: code, chain.publish: code})
    completed: set[PrefectFuture | Done] = set()
    told: dict[str, int] = dict.fromkeys(chains, told_already)
    for future in _completed(list(owner)):
        completed.add(future)
        code = owner[future]
        if (on_published is not None and future is chains[code].publish
                and isinstance(published := _result(future), PublishedMonth)):
            on_published(code, published)
        if progress is not None:
            told[code] = _tell_steps(code, chains[code], completed, told[code], progress)


def _tell_steps(code: str, chain: Chain, completed: set[PrefectFuture | Done], told: int,
                progress: ProgressCallback) -> int:
    """Tell the item's completed steps after the first ``told`` ones, in order; return how many are told."""
    ordered = ((chain.extract, Step.EXTRACTED), (chain.validate, Step.VALIDATED), (chain.publish, chain.step))
    for future, step in ordered[told:]:
        if future not in completed:
            break
        told += 1
        value = _result(future)
        if isinstance(value, Exception):  # a failed step is told once, in the item's final event
            continue
        event = _step_event(code, step, value)
        if event is not None:
            progress(event)
    return told


def _stage_results(chain: Chain) -> StageResults:
    """The item's task results, each its value or the exception that ended it (every task has finished)."""
    publication = chain.withheld or _result(chain.publish)
    return StageResults(chain.source.directorate_name, _result(chain.extract), _result(chain.validate), publication)


def _result(future: PrefectFuture[Any] | Done) -> Any:
    try:
        return future.result()
    except Exception as exc:
        return exc


def _assessment(config: InstitutionConfig, item: Item, period: Period, target: Target,
                chains: dict[str, Chain]) -> Assessment:
    """What the item's stages mean: its outcome, its figures and what the ledger keeps."""
    if item.kind is not ItemKind.DATASET:
        return document_assessment(config, item, period)
    chain = chains.get(item.code)
    assessment = dataset_assessment(config, item, period, None if chain is None else _stage_results(chain))
    outcome = assessment.outcome
    if outcome.publishing is Publishing.PUBLISHED:
        assessment = dataclasses.replace(assessment, outcome=dataclasses.replace(outcome, last_online=period))
    elif outcome.configured and outcome.applies:
        assessment = dataclasses.replace(assessment, outcome=_not_published(config, item, target, outcome))
    return assessment


def _item_report(config: InstitutionConfig, item: Item, period: Period, target: Target, chains: dict[str, Chain],
                 ledger: RunLedger) -> ItemReport:
    """The item's row in the report; what the ledger keeps about it is noted on the way."""
    assessment = _assessment(config, item, period, target, chains)
    ledger.note(item.code, assessment.notes)
    return compliance.item_report(item, assessment.outcome, assessment.facts)


def _not_published(config: InstitutionConfig, item: Item, target: Target, outcome: ItemOutcome) -> ItemOutcome:
    """An item this run did not publish: whether its month is online from an earlier run, and, when it
    is not and its source did not come, whether the month was withdrawn (then it reads "retirado")."""
    months = stages.target_months(config, item, target)
    online = outcome.period in months
    outcome = dataclasses.replace(outcome, last_online=max(months, default=None))
    withdrawal = None if online or outcome.extraction is not Extraction.NOT_RECEIVED else \
        stages.withdrawal(config, item, outcome.period)
    if withdrawal is None:
        return dataclasses.replace(outcome, online=online)
    return dataclasses.replace(outcome, withdrawn=True,
                               reason=compliance.withdrawal_reason(withdrawal["date"], withdrawal["reason"]))


# --------------------------------------------------------------------------- the flow


def _flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return str(flow_run.id) if flow_run.id else None


@flow(name="publicacion-mensual", description="Publicación mensual de los puntos de transparencia de una institución.",
      log_prints=False)
def monthly_release(period: str | None = None, config_path: str = str(DEFAULT_CONFIG), target: str | None = None,
                    dry_run: bool = False, progress: Any = None, review: bool | None = None,
                    send_mail: bool = True, run_id: str | None = None) -> State[ReleaseResult]:
    """Release one month (the previous month when ``period`` is not given) of one institution.

    ``progress`` is an optional ``ProgressCallback`` (typed ``Any``: Prefect describes parameters as
    JSON, and a deployment never passes one). ``review`` overrides ``publish.review``: whether the
    officer approves the month's preview before anything is published (a dry run publishes nothing
    and is never reviewed). ``send_mail=False`` sends no e-mail. ``run_id`` names a run whose caller
    already took the portal's lease under it (the CLI's pre-flight, before Prefect started): the
    flow joins that lease; a deployment's run leaves it empty and takes the lease itself."""
    logger = get_run_logger()
    config = load_config(config_path)
    month = _month_to_release(period)
    chosen = Target.parse(target, "Destino de publicación") if target else config.publish.target
    reviewed = config.publish.reviews(review, dry_run)
    ledger = RunLedger(run_id=run_id or new_run_id(), period=month, institution=config.institution.acronym,
                       target=chosen, dry_run=dry_run, config=str(config.path), flow_run_id=_flow_run_id(),
                       task_runner=type(monthly_release.task_runner).__name__)
    journal = WriteJournal.for_run(config.workspace, month, ledger.run_id)
    logger.info("Publicación de %s, período %s, destino %s%s", config.institution.acronym, month, chosen,
                ", con revisión antes de publicar" if reviewed else "")
    try:
        with ExitStack() as held:
            check_sources(config, month)
            _prepare_portal(config, month, chosen, ledger, journal, dry_run, held)
            reminders = _called(reminders_task, config, month, ledger.run_id, dry_run, send_mail)
            report, result = _release_items(config, month, chosen, dry_run, ledger, journal, progress,
                                            config.publish.review_timeout if reviewed else None, send_mail, reminders)
    except (KeyboardInterrupt, TerminationSignal) as stop:
        return _interrupted(config, ledger, stop)
    except BaseException as exc:
        if journal.entries():  # a run that wrote and then failed still says what it wrote
            ledger.errors.append(error_message(exc))
            ledger.write(config.workspace)
        raise
    _log_outcome(report, result)
    if not dry_run:  # a rehearsal publishes nothing, so it adds no month to the console's history
        post_release_artifacts(report, result.report_url, config.publish.public_url)
    headline = f"Vista previa, no se publicó nada: {report.headline} si se publicara" if dry_run else report.headline
    return run_state(result, headline)


def _interrupted(config: InstitutionConfig, ledger: RunLedger, stop: BaseException) -> State[Any]:
    """A run stopped by Ctrl+C or SIGTERM ends Cancelled, not Running or Crashed: the files being
    written are discarded (none is left half-written, and the tasks still running write nothing
    more), and the ledger lists what was written until then. The CLI exits 128 + the signal's number."""
    number = stop.signal if isinstance(stop, TerminationSignal) else signal.SIGINT
    name = signal.Signals(number).name
    ledger.interrupt(name)
    path = ledger.write(config.workspace)
    discard_temporaries()
    message = (f"Ejecución interrumpida por la señal {name}: se detuvo sin terminar; lo escrito hasta ese "
               f"momento está en el registro {path.name}. Vuelva a ejecutar el mes para completarlo.")
    get_run_logger().warning(message)
    return Cancelled(message=message, data=RunInterrupted(message, number))


def _log_outcome(report: ComplianceReport, result: ReleaseResult) -> None:
    """The outcome where an unattended run keeps it: the headline, each unpublished item with its
    reason, and the errors of the run."""
    logger = get_run_logger()
    logger.info("%s; registro de la ejecución: %s", report.headline, result.ledger_path)
    if result.unpublished:
        logger.warning("\n".join([UNPUBLISHED_HEADER, *(reason_line(i) for i in result.unpublished)]))
    for message in result.errors:
        logger.error("Error: %s", message)
    notify.log_outcome(result.mail, logger)



# The manual deployment's period: required, and checked by the Prefect form and API (the schema has the pattern).
MonthText = Annotated[str, Field(pattern=YEARMONTH_PATTERN, title="Período (AAAA-MM)",
                                 description="Mes a publicar, ya terminado, p. ej. 2025-01.")]


# Whether the officer approves the preview first; empty, as the configuration says (``publish.review``).
ReviewChoice = Annotated[bool | None, Field(title="Revisión antes de publicar",
                                            description="Sí: nada se publica hasta que usted apruebe la vista "
                                                        "previa. Vacío: lo que diga la configuración.")]


@flow(name="publicacion-mensual", description="Publicación a pedido de un mes: indique el período (AAAA-MM).",
      log_prints=False)
def manual_release(period: MonthText, config_path: str = str(DEFAULT_CONFIG), target: str | None = None,
                   dry_run: bool = False, review: ReviewChoice = None, send_mail: bool = True) -> State[ReleaseResult]:
    """The manual deployment's entry point: the same release, under the same flow name, with the period
    required, so a run started without one is refused instead of publishing the previous month."""
    return monthly_release.fn(period=period, config_path=config_path, target=target, dry_run=dry_run, review=review,
                              send_mail=send_mail)


def _month_to_release(period: str | None) -> Period:
    """The month given, or (a scheduled run) the month before today, said in the log; either only
    once it has ended."""
    if period:
        return Period.parse(period).require_ended()
    today = dt.date.today()
    month = Period.previous(today)
    get_run_logger().info("Sin período indicado: se publica %s, el mes anterior a hoy (%s), como en cada "
                          "ejecución programada", month, f"{today:%d/%m/%Y}")
    return month


def _prepare_portal(config: InstitutionConfig, month: Period, chosen: Target, ledger: RunLedger,
                    journal: WriteJournal, dry_run: bool, held: ExitStack) -> None:
    """Before any extraction, on a target with a ``PortalSession``: pre-flight checks, then (real runs)
    the institution's lease (joined when the CLI took it for this run; else waited for, within
    ``publish.lease_wait``) and the left-over sweep it covers. The lease's writes are journaled apart
    (``tipo: bloqueo``)."""
    publisher = stages.make_publisher(config, chosen, journal)
    if not isinstance(publisher, PortalSession):
        return
    organization = config.institution.organization
    publisher.preflight(organization, config.institution.name, create_organization=not dry_run)
    if dry_run:
        return
    held.enter_context(publisher.lease(organization, ledger.run_id, lease_task(month),
                                       on_write=journal.tagged(tipo="bloqueo").append,
                                       wait=config.publish.lease_wait * 60, tell=get_run_logger().info))
    for leftover in publisher.sweep_leftovers(organization):
        get_run_logger().info("Restos de una publicación interrumpida eliminados: %s", leftover)


def _release_items(config: InstitutionConfig, month: Period, chosen: Target, dry_run: bool, ledger: RunLedger,
                   journal: WriteJournal, progress: Any,
                   review_minutes: float | None, send_mail: bool = True,
                   reminders: MailOutcome | None = None) -> tuple[ComplianceReport, ReleaseResult]:
    """Every item's chain, then the report; with ``review_minutes`` the chains first only preview,
    and the officer's decision (waited for at most that long) says which are published."""
    def note_published(code: str, published: PublishedMonth) -> None:
        ledger.note(code, published_notes(code, published))
        if not dry_run:
            ledger.checkpoint(config.workspace)

    chains = _submit(config, month, chosen, dry_run, ledger, journal, progress, preview=review_minutes is not None)
    _wait(chains, progress, None if review_minutes is not None else note_published)  # a preview writes nothing
    end = None
    if review_minutes is not None:
        end = _reviewed(config, month, chosen, chains, review_minutes, progress)
        ledger.review = end.to_dict()
        chains = _publish_approved(config, month, chosen, chains, end, journal, progress, note_published)

    items = [_item_report(config, item, month, chosen, chains, ledger) for item in config.catalog]
    if progress is not None:
        for entry in items:
            if entry.code in chains:
                progress(ItemProgress(entry.code, Step.FINAL, status=entry.status, reason=entry.detail,
                                      attempt_failed=entry.attempt_failed))
    report = ComplianceReport(config.institution.name, config.institution.acronym, month, items,
                              compliance.past_scores(config.workspace.report_files("json"), month),
                              review=end.review if end is not None else None)
    result = ReleaseResult(month, ledger.run_id, ledger.flow_run_id, chosen, dry_run, report.to_dict(),
                           due=sorted({*chains, *(d.item for d in config.documents)}), review=end)
    ledger.inputs = run_inputs(config.workspace, month, ledger.run_id)
    if ledger.outage:
        ledger.keep_last_report()
    elif dry_run:
        preview = compliance.write_report(report, config.workspace.preview(month), ["html"], preview=True)
        result.report_paths = {fmt: str(p) for fmt, p in preview.items()}
    elif end is None or end.publishes:  # a month the review stopped publishes no report either
        _report_and_verify(config, report, month, chosen, ledger, journal, result)
        post_punctuality(config, month)
    ledger.items = {i.code: {"status": i.status, "rows": i.rows, "errors": i.errors, "warnings": i.warnings}
                    for i in items}
    result.observations = _observations(config, month, ledger)
    result.mail = reminders or MailOutcome()
    if not ledger.outage:  # after an outage the month's state is unknown: nothing to tell yet
        sent = _called(results_task, config, report, result.observations, ledger.run_id, dry_run, send_mail)
        result.mail = result.mail.merge(sent)
    ledger.mail = result.mail.to_dict()
    result.ledger_path = str(ledger.write(config.workspace))
    result.errors, result.writes = ledger.errors, ledger.writes
    return report, result


def _submit(config: InstitutionConfig, month: Period, chosen: Target, dry_run: bool, ledger: RunLedger,
            journal: WriteJournal, progress: Any, preview: bool) -> dict[str, Chain]:
    """Submit every item's extract → validate → publish chain; with ``preview`` the last task only
    renders and asks the target what it would write (a dry run), for the review to decide on."""
    chains: dict[str, Chain] = {}
    for source, code in planned_extractions(config):
        item = config.catalog.get(code)
        extract = extract_task
        if progress is not None:  # the caller's bars hear of each retry as it is scheduled
            extract = extract_task.with_options(retry_condition_fn=reporting_retries(progress, code))
        extract_f = _submitted(extract, config, source, code, month, None if dry_run else ledger.run_id)
        # Prefect resolves a future passed as an argument to its result (and Done its value)
        validate_f = _submitted(validate_task, config, extract_f, item, month, dry_run)
        publish_f = _submitted(publish_task, config, item, month, extract_f, validate_f,
                               source.directorate_name, chosen, dry_run or preview, journal)
        chains[code] = Chain(source, extract_f, validate_f, publish_f, Step.PREVIEWED if preview else Step.PUBLISHED)
    return chains


def _reviewed(config: InstitutionConfig, month: Period, chosen: Target, chains: dict[str, Chain], minutes: float,
              progress: ProgressCallback | None) -> ReviewEnd:
    """Post the month's preview (the report it would have, what each item would write) and wait for
    the officer's decision (``flows.review``)."""
    items = []
    for item in config.catalog:
        assessment = _assessment(config, item, month, chosen, chains)
        items.append(compliance.item_report(item, assessment.outcome, assessment.facts))
    preview = ComplianceReport(config.institution.name, config.institution.acronym, month, items)
    plans = {code: value.result["actions"] for code, chain in chains.items()
             if isinstance(value := _result(chain.publish), PublishedMonth)}
    return request_review(preview, plans, minutes, progress)


def _publish_approved(config: InstitutionConfig, month: Period, chosen: Target, chains: dict[str, Chain],
                      end: ReviewEnd, journal: WriteJournal, progress: ProgressCallback | None,
                      on_published: Callable[[str, PublishedMonth], None]) -> dict[str, Chain]:
    """Publish the previewed months the review approved; the others keep why they were held back."""
    previewed = [code for code, chain in chains.items() if isinstance(_result(chain.publish), PublishedMonth)]
    held = withheld(previewed, end)
    approved: dict[str, Chain] = {}
    for code in previewed:
        chain = chains[code]
        if code in held:
            continue
        publish_f = _submitted(publish_task, config, config.catalog.get(code), month, chain.extract,
                               chain.validate, chain.source.directorate_name, chosen, False, journal)
        approved[code] = dataclasses.replace(chain, publish=publish_f, step=Step.PUBLISHED)
    _wait(approved, progress, on_published, told_already=2)  # extraction and validation were told before the review
    return {code: dataclasses.replace(chain, withheld=held.get(code)) for code, chain in chains.items()} | approved


def _observations(config: InstitutionConfig, month: Period, ledger: RunLedger) -> list[DirectorateObservations]:
    """Each directorate's observaciones of this run; preparing them can never fail the release:
    a failure is said in the log, and ``transparencia observaciones`` prepares them again."""
    try:
        preview = config.workspace.preview_observations(month) if ledger.dry_run else None  # a dry run's stay there
        return observations.of_run(config, month, ledger.to_dict(), preview)
    except Exception as exc:
        get_run_logger().warning("No se pudieron preparar las observaciones para las direcciones: %s. "
                                 "Prepárelas con 'transparencia observaciones --period %s'.", error_message(exc), month)
        return []


def _report_and_verify(config: InstitutionConfig, report: ComplianceReport, month: Period, chosen: Target,
                       ledger: RunLedger, journal: WriteJournal, result: ReleaseResult) -> None:
    """Write and publish the compliance report, then read back what was published and check it."""
    paths = compliance.write_report(report, config.workspace.report_dir(month))
    result.report_paths = {fmt: str(p) for fmt, p in paths.items()}
    try:
        record = _called(publish_report_task, config, report, paths, chosen, False, journal)
        ledger.publish.append(record)
        result.report_url = record["url"]
    except Exception as exc:
        ledger.report_failed(exc)
    published = [i.code for i in report.items if i.kind == ItemKind.DATASET and i.status.fulfilled]
    ledger.verified(verify_period(config, month, chosen, items=published))


def run_release(period: Period | None, config_path: str | Path, target: str | None = None, dry_run: bool = False,
                runner: str = "thread", dask_address: str | None = None,
                progress: ProgressCallback | None = None, review: bool | None = None,
                send_mail: bool = True, run_id: str | None = None) -> ReleaseResult:
    """Run the flow and return its result (a run that could not do its job raises); ``run_id``: see
    ``monthly_release``."""
    configured = monthly_release.with_options(task_runner=task_runner(runner, dask_address))
    state = configured(period=None if period is None else str(period), config_path=str(config_path),
                       target=target, dry_run=dry_run, progress=progress, review=review, send_mail=send_mail,
                       run_id=run_id, return_state=True)
    return result_of(state)


def result_of(state: State[Any]) -> ReleaseResult:
    """The release's result from the flow's final state; the exception of a run that failed is raised."""
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        raise outcome
    if not isinstance(outcome, ReleaseResult):
        raise TypeError(f"the flow returned {type(outcome).__name__}, not a ReleaseResult")
    return outcome
