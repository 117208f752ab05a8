"""The monthly release flow: extract → normalise → validate → publish → report.

Orchestration only: submitting tasks, retries, and collecting each item's outcome. The stages
decide everything else (``flows.stages``: reading, validating, publishing) and the status each item gets in the report (``reports.compliance.classify``).

  extract   one task per (source, item): archives the raw input, then reads it
  validate  one task per item
  publish   one task per item: a valid month is stored, rendered with its history and synced
  report    the 24-item compliance report, written locally and published with the month

Items are independent: their chains are submitted at once and run concurrently on the task
runner (threads by default, Dask for many institutions). Retries are declared on the decorators
and apply only to ``TransientError`` (a dropped connection, a 5xx): retrying a bad file or a
wrong token would only repeat the same answer. A failing source never stops the others. The
caller may pass a ``progress`` callback: it hears each item's steps as they finish, then each
item's final status with its reason.

The flow returns a ``ReleaseResult``; when any item due failed, it ends Failed (with the same
result attached) so the Prefect UI and the CLI's exit code agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE
from prefect.futures import PrefectFuture, as_completed
from prefect.states import Failed, State

from transparencia.domain import ItemKind, ItemStatus, Period, Target
from transparencia.errors import ConfigError, TransientError, TransparenciaError
from transparencia.flows import stages
from transparencia.flows.ledger import RunLedger, WriteJournal, new_run_id
from transparencia.flows.progress import ItemProgress, ProgressCallback, Step
from transparencia.flows.stages import PublishedMonth
from transparencia.publishers.base import PortalSession
from transparencia.publishers.ckan_client import PortalUnavailableError
from transparencia.publishers.public import describe_source, public_error
from transparencia.reports import compliance
from transparencia.reports.compliance import (
    ComplianceReport,
    Extraction,
    ItemOutcome,
    ItemReport,
    Publishing,
    Validation,
)
from transparencia.schemas.catalog import Item
from transparencia.sources.config import DEFAULT_CONFIG, InstitutionConfig, SourceConfig, load_config
from transparencia.sources.extraction import Extraction as ExtractedTable
from transparencia.sources.registry import MissingInputError
from transparencia.validation.findings import ValidationReport
from transparencia.wording import count

RETRY_DELAYS: list[float] = [2, 10, 30]
# Statuses that make the run fail (exit 1) for an item the configuration feeds.
FAILED_STATUSES = {ItemStatus.REJECTED, ItemStatus.SOURCE_ERROR, ItemStatus.NOT_RECEIVED, ItemStatus.TARGET_ERROR}


def retry_if_transient(task, task_run, state) -> bool:
    """Retry only what may pass: TransientError. Everything else is terminal."""
    try:
        state.result()
    except PortalUnavailableError:
        return False  # the breaker is open: retrying within seconds only repeats the answer
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
    period: str
    run_id: str
    flow_run_id: str | None
    target: str
    dry_run: bool
    report: dict[str, Any]  # ComplianceReport.to_dict()
    report_paths: dict[str, str] = field(default_factory=dict)
    ledger_path: str | None = None
    writes: int = 0
    errors: list[str] = field(default_factory=list)
    due: list[str] = field(default_factory=list)  # codes with a configured source or document

    @property
    def items(self) -> list[ItemReport]:
        return ComplianceReport.from_dict(self.report).items

    @property
    def exit_code(self) -> int:
        """0 when every item due was published; 1 when some failed (even if an earlier month stays online).

        Items due are those the configuration feeds (a source or a document entry); an item with
        neither is a configuration gap ("no configurado"), not a failed run."""
        failed = any(i.code in self.due and (i.status in FAILED_STATUSES or i.attempt_failed) for i in self.items)
        return 1 if self.errors or failed else 0


# --------------------------------------------------------------------------- tasks


@task(name="extraer", retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=retry_if_transient,
      cache_policy=NO_CACHE, task_run_name="extraer-{code}-{source.id}")
def extract_task(config: InstitutionConfig, source: SourceConfig, code: str, period: Period,
                 run_id: str) -> ExtractedTable:
    from transparencia.sources.registry import extract_source

    return extract_source(config, source, code, period, run_id=run_id)


@task(name="validar", cache_policy=NO_CACHE, task_run_name="validar-{item.code}")
def validate_task(config: InstitutionConfig, extraction: ExtractedTable, item: Item, period: Period) -> ValidationReport:
    return stages.validate_month(config, item, period, extraction)


@task(name="publicar", retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=retry_if_transient,
      cache_policy=NO_CACHE, task_run_name="publicar-{item.code}")
def publish_task(config: InstitutionConfig, item: Item, period: Period, extraction: ExtractedTable,
                 report: ValidationReport, directorate: str, target: Target, dry_run: bool,
                 journal: WriteJournal | None = None) -> PublishedMonth | None:
    return stages.publish_month(config, item, period, extraction, report, directorate, target, dry_run, journal)


@task(name="publicar-informe", retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=retry_if_transient,
      cache_policy=NO_CACHE)
def publish_report_task(config: InstitutionConfig, report: ComplianceReport, paths: dict[str, Path],
                        target: Target, dry_run: bool, journal: WriteJournal | None = None) -> dict[str, Any]:
    return stages.publish_report(config, report, paths, target, dry_run, journal)


# --------------------------------------------------------------------------- collecting outcomes


@dataclass
class Chain:
    """One item's submitted tasks."""

    source: SourceConfig
    extract: PrefectFuture
    validate: PrefectFuture
    publish: PrefectFuture


def _error_message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, TransparenciaError) else f"{type(exc).__name__}: {exc}"


def _step_event(code: str, step: Step, value: Any) -> ItemProgress | None:
    """The progress event of a finished task, read from its result."""
    if step is Step.EXTRACTED:
        return ItemProgress(code, step, rows=value.rows)
    if step is Step.VALIDATED:
        return ItemProgress(code, step, errors=len(value.errors), warnings=len(value.warnings))
    if value is not None:
        return ItemProgress(code, step, writes=value.writes)
    return None


def _wait(chains: dict[str, Chain], progress: ProgressCallback | None) -> None:
    """Wait for every task, telling ``progress`` about each step that finished well.

    ``as_completed`` may report an item's steps out of order (a memoised validation can be seen
    before its extraction), so each item's steps are told in their own order: a step is told once
    it and every earlier step of the item have completed.
    """
    owner = {}
    for code, chain in chains.items():
        owner.update({chain.extract: code, chain.validate: code, chain.publish: code})
    completed: set[PrefectFuture] = set()
    told: dict[str, int] = dict.fromkeys(chains, 0)
    for future in as_completed(list(owner)):
        completed.add(future)
        code = owner[future]
        if progress is not None:
            told[code] = _tell_steps(code, chains[code], completed, told[code], progress)


def _tell_steps(code: str, chain: Chain, completed: set[PrefectFuture], told: int,
                progress: ProgressCallback) -> int:
    """Tell the item's completed steps after the first ``told`` ones, in order; return how many are told."""
    ordered = ((chain.extract, Step.EXTRACTED), (chain.validate, Step.VALIDATED), (chain.publish, Step.PUBLISHED))
    for future, step in ordered[told:]:
        if future not in completed:
            break
        told += 1
        try:
            value = future.result()
        except Exception:  # a failed step is told once, in the item's final event
            continue
        event = _step_event(code, step, value)
        if event is not None:
            progress(event)
    return told


def _dataset_outcome(config: InstitutionConfig, item: Item, period: Period, chain: Chain | None, facts: dict[str, Any],
                     ledger: RunLedger) -> ItemOutcome:
    """An item's outcome read from its tasks' final states; ``facts`` gets the report's figures."""
    base = ItemOutcome(ItemKind.DATASET, item.frequency, period, applies=item.applies, configured=chain is not None,
                       not_applicable_reason=item.reason or "")
    if chain is None or not item.applies:
        return base
    facts["directorate"] = chain.source.directorate_name
    try:
        extraction = chain.extract.result()
    except MissingInputError as exc:
        return _replace(base, extraction=Extraction.NOT_RECEIVED, reason=public_error(exc))
    except Exception as exc:  # unusable input: the public reason is shown, the full detail stays local
        ledger.errors.append(f"{item.code}: {_error_message(exc)}")
        message = public_error(exc)
        facts.update(errors=1, findings=[{"rule": "fuente", "severity": "error", "message": message, "column": None,
                                          "row": None, "value": None, "file": None, "sheet": None}])
        return _replace(base, extraction=Extraction.SOURCE_ERROR, reason=message)
    facts.update(rows=extraction.rows, source=describe_source(extraction.source))
    read = _replace(base, extraction=Extraction.READ)
    try:
        report = chain.validate.result()
    except Exception as exc:
        ledger.errors.append(f"{item.code}: {_error_message(exc)}")
        facts["errors"] = 1
        return _replace(read, validation=Validation.FAILED, reason=public_error(exc))
    facts.update(errors=len(report.errors), warnings=len(report.warnings),
                 findings=_public_findings(config, item, report))
    ledger.findings[item.code] = [f.to_dict() for f in report.findings]
    checked = _replace(read, validation=Validation.VALID if report.valid else Validation.INVALID,
                       warnings=len(report.warnings))
    if not report.valid:
        return _replace(checked, reason=_rejection(facts["findings"], len(report.errors)))
    try:
        published = chain.publish.result()
    except Exception as exc:
        if isinstance(exc, PortalUnavailableError):
            ledger.outage = exc.message
        ledger.errors.append(f"{item.code}: No se pudo publicar: {_error_message(exc)}")
        return _replace(checked, publishing=Publishing.FAILED, reason=f"No se pudo publicar: {public_error(exc)}")
    facts.update(url=published.url, last_update=published.updated, changes=published.changes)
    ledger.publish.append(published.result)
    if published.stored:
        ledger.outputs.append({"item": item.code, **published.stored})
    return _replace(checked, publishing=Publishing.PUBLISHED)


def _public_findings(config: InstitutionConfig, item: Item, report: ValidationReport) -> list[dict[str, Any]]:
    """The findings as the published report may show them (personal data per policy, no paths)."""
    from transparencia.publishers.public import public_findings

    schema = item.table_schema()
    return public_findings(report, schema, schema.treatments(config.privacy.get(item.code, {})))


def _replace(outcome: ItemOutcome, **changes: Any) -> ItemOutcome:
    import dataclasses

    return dataclasses.replace(outcome, **changes)


def _rejection(findings: list[dict[str, Any]], errors: int) -> str:
    """Why an item was rejected, in one line: how many errors and the first one (as published)."""
    first = next((f["message"] for f in findings if f["severity"] == "error"), "")
    return (f"{count(errors, 'error')} (el primero: {first.rstrip('.')}); no se publicó este mes y los meses "
            "anteriores siguen publicados.")


def _document_outcome(config: InstitutionConfig, item: Item, period: Period, facts: dict[str, Any]) -> ItemOutcome:
    entry = next((d for d in config.documents if d.item == item.code), None)
    base = ItemOutcome(ItemKind.DOCUMENT, item.frequency, period, applies=item.applies, configured=entry is not None,
                       not_applicable_reason=item.reason or "")
    if entry is None or not item.applies:
        return base
    # a local file's path means nothing to the public: no file:// link, the file by name only
    facts.update(url=entry.url, source=entry.title or (f"archivo {entry.path.name}" if entry.path else None),
                 last_update=entry.updated.isoformat() if entry.updated else None)
    exists = entry.path is None or entry.path.exists()
    return _replace(base, document=compliance.DocumentState(entry.updated, exists, entry.path.name if entry.path else ""))


def _item_report(config: InstitutionConfig, item: Item, period: Period, target: Target, chains: dict[str, Chain],
                 ledger: RunLedger) -> ItemReport:
    facts: dict[str, Any] = {"directorate": config.directorate_name(item.directorate)}
    if item.kind is ItemKind.DATASET:
        outcome = _dataset_outcome(config, item, period, chains.get(item.code), facts, ledger)
        if outcome.configured and outcome.applies and outcome.publishing is not Publishing.PUBLISHED:
            outcome = _replace(outcome, online=stages.month_online(config, item, period, target))
    else:
        outcome = _document_outcome(config, item, period, facts)
    return compliance.item_report(item, outcome, **facts)


# --------------------------------------------------------------------------- the flow


def _flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return str(flow_run.id) if flow_run.id else None


@flow(name="publicacion-mensual", description="Publicación mensual de los puntos de transparencia de una institución.",
      log_prints=False)
def monthly_release(period: str | None = None, config_path: str = str(DEFAULT_CONFIG), target: str | None = None,
                    dry_run: bool = False, progress: Any = None) -> ReleaseResult | State:
    """Release one month (the previous month when ``period`` is not given) of one institution.

    ``progress`` is an optional ``ProgressCallback`` (typed ``Any``: Prefect describes parameters as
    JSON, and a deployment never passes one)."""
    logger = get_run_logger()
    config = load_config(config_path)
    month = Period.parse(period) if period else Period.previous()
    chosen = Target.parse(target, "Destino de publicación") if target else config.publish.target
    ledger = RunLedger(run_id=new_run_id(), period=str(month), institution=config.institution.acronym,
                       target=chosen, dry_run=dry_run, config=str(config.path), flow_run_id=_flow_run_id(),
                       task_runner=type(monthly_release.task_runner).__name__)
    journal = WriteJournal.for_run(config.data_dir, str(month), ledger.run_id)
    logger.info("Publicación de %s, período %s, destino %s", config.institution.acronym, month, chosen)
    try:
        with ExitStack() as held:
            _prepare_portal(config, month, chosen, ledger, journal, dry_run, held)
            report, result = _release_items(config, month, chosen, dry_run, ledger, journal, progress)
    except BaseException as exc:
        if journal.entries():  # a run that wrote and then failed still says what it wrote
            ledger.errors.append(_error_message(exc))
            ledger.write(config.data_dir)
        raise
    logger.info("%s; registro de la ejecución: %s", report.headline, result.ledger_path)
    if result.exit_code:
        return Failed(message=f"{report.headline}: hay puntos que no se publicaron", data=result)
    return result


def _prepare_portal(config: InstitutionConfig, month: Period, chosen: Target, ledger: RunLedger,
                    journal: WriteJournal, dry_run: bool, held: ExitStack) -> None:
    """Before any extraction, on a target with a ``PortalSession``: pre-flight checks, then (real runs)
    the lease and the left-over sweep. The lease's writes are journaled apart (``tipo: bloqueo``)."""
    publisher = stages.make_publisher(config, chosen, journal)
    if not isinstance(publisher, PortalSession):
        return
    organization = config.institution.organization
    publisher.preflight(organization, config.institution.name, create_organization=not dry_run)
    if dry_run:
        return
    held.enter_context(publisher.lease(organization, month, ledger.run_id,
                                       on_write=journal.tagged(tipo="bloqueo").append))
    for leftover in publisher.sweep_leftovers(organization):
        get_run_logger().info("Restos de una publicación interrumpida eliminados: %s", leftover)


def _release_items(config: InstitutionConfig, month: Period, chosen: Target, dry_run: bool, ledger: RunLedger,
                   journal: WriteJournal, progress: Any) -> tuple[ComplianceReport, ReleaseResult]:
    from transparencia.sources.registry import planned_extractions

    chains: dict[str, Chain] = {}
    for source, code in planned_extractions(config, month):
        item = config.catalog.get(code)
        extract, publish = extract_task, publish_task
        if progress is not None:  # the caller's bars hear of each retry as it is scheduled
            extract = extract_task.with_options(retry_condition_fn=reporting_retries(progress, code))
            publish = publish_task.with_options(retry_condition_fn=reporting_retries(progress, code))
        extract_f = extract.submit(config, source, code, month, ledger.run_id)
        validate_f = validate_task.submit(config, extract_f, item, month)
        publish_f = publish.submit(config, item, month, extract_f, validate_f, source.directorate_name,
                                   chosen, dry_run, journal)
        chains[code] = Chain(source, extract_f, validate_f, publish_f)
    _wait(chains, progress)

    items = [_item_report(config, item, month, chosen, chains, ledger) for item in config.catalog]
    if progress is not None:
        for entry in items:
            if entry.code in chains:
                progress(ItemProgress(entry.code, Step.FINAL, status=entry.status, reason=entry.detail,
                                      attempt_failed=entry.attempt_failed))
    report = ComplianceReport(config.institution.name, config.institution.acronym, str(month), items,
                              compliance.past_scores(config.data_dir / "reports", str(month)))
    result = ReleaseResult(str(month), ledger.run_id, ledger.flow_run_id, chosen, dry_run, report.to_dict(),
                           due=sorted({*chains, *(d.item for d in config.documents)}))
    _record_inputs(config, str(month), ledger)
    if ledger.outage:
        ledger.errors.append(f"{ledger.outage} No se reescribió el informe de cumplimiento local: sigue el de la "
                             "última publicación completa.")
    elif not dry_run:
        _report_and_verify(config, report, month, chosen, ledger, journal, result)
    ledger.items = {i.code: {"status": i.status, "rows": i.rows, "errors": i.errors, "warnings": i.warnings}
                    for i in items}
    result.ledger_path = str(ledger.write(config.data_dir))
    result.errors, result.writes = ledger.errors, ledger.writes
    return report, result


def _report_and_verify(config: InstitutionConfig, report: ComplianceReport, month: Period, chosen: Target,
                       ledger: RunLedger, journal: WriteJournal, result: ReleaseResult) -> None:
    """Write and publish the compliance report, then read back what was published and check it."""
    from transparencia.publishers.verification import verify_period

    paths = compliance.write_report(report, config.data_dir / "reports" / str(month))
    result.report_paths = {fmt: str(p) for fmt, p in paths.items()}
    try:
        ledger.publish.append(publish_report_task(config, report, paths, chosen, False, journal))
    except Exception as exc:
        ledger.errors.append(f"Informe de cumplimiento: {_error_message(exc)}")
    published = [i.code for i in report.items if i.kind == ItemKind.DATASET
                 and i.status in (ItemStatus.PUBLISHED, ItemStatus.PUBLISHED_WITH_WARNINGS)]
    checks = verify_period(config, str(month), chosen, items=published)
    ledger.verification = [c.to_dict() for c in checks]
    ledger.errors.extend(f"Verificación: {c.describe()}" for c in checks if not c.ok)


def _record_inputs(config: InstitutionConfig, period: str, ledger: RunLedger) -> None:
    """The inputs this run read, with their sha256, from the raw archive's manifest."""
    from transparencia.sources.archive import read_manifest

    manifest = read_manifest(config.data_dir, period)
    for key, revision in manifest.get("runs", {}).get(ledger.run_id, {}).get("inputs", {}).items():
        entry: dict[str, Any] = next((r for r in manifest["inputs"][key]["revisions"] if r["revision"] == revision), {})
        ledger.inputs.append({"key": key, "revision": revision, "sha256": entry.get("sha256"),
                              "size": entry.get("size"), "origin": entry.get("origin")})


def task_runner(kind: str = "thread", address: str | None = None, workers: int | None = None):
    """The task runner: threads on one machine, or Dask (a new local cluster, or ``address``)."""
    if kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers or 1, "processes": False,
                                              "threads_per_worker": 4, "dashboard_address": None})
    raise ConfigError(f"Ejecutor de tareas desconocido '{kind}': use thread o dask")


def run_release(period: Period | str | None, config_path: str | Path, target: str | None = None, dry_run: bool = False,
                runner: str = "thread", dask_address: str | None = None,
                progress: ProgressCallback | None = None) -> ReleaseResult:
    """Run the flow and return its result, whether it ended Completed or Failed."""
    configured = monthly_release.with_options(task_runner=task_runner(runner, dask_address))
    state = configured(period=None if period is None else str(Period.parse(period)), config_path=str(config_path),
                       target=target, dry_run=dry_run, progress=progress, return_state=True)
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        raise outcome
    if not isinstance(outcome, ReleaseResult):
        raise TypeError(f"the flow returned {type(outcome).__name__}, not a ReleaseResult")
    return outcome
