"""The monthly release flow: extract → normalise → validate → publish → report.

Orchestration only: every task is a thin wrapper around a stage's function.

  extract   one task per (source, item): archives the raw input, then reads it (sources.registry)
  validate  one task per item (validation.validate)
  publish   one task per item: stores the valid month, renders the release with the item's whole
            history, and syncs it to the target (local catalog or CKAN); a rejected item is never
            stored nor published, so its earlier months stay as they are
  report    the 24-item compliance report, written locally and published with the month

Items are independent: their chains are submitted at once and run concurrently on the task
runner (threads by default, Dask for many institutions). Retries are declared on the decorators
and apply only to ``TransientError`` (a dropped connection, a 5xx): retrying a bad file or a
wrong token would only repeat the same answer. A failing source never stops the others.

The flow returns a ``ReleaseResult``; when any item due was rejected or missing, it ends Failed
(with the same result attached) so the Prefect UI and the CLI's exit code agree.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE
from prefect.states import Failed

from transparencia.domain import ItemStatus, Period, Target
from transparencia.errors import ConfigError, TransientError, TransparenciaError
from transparencia.flows.ledger import RunLedger, new_run_id
from transparencia.flows.store import MonthStore
from transparencia.publishers.public import describe_source, public_error
from transparencia.reports import compliance
from transparencia.reports.compliance import ComplianceReport, ItemReport
from transparencia.sources.config import DEFAULT_CONFIG, InstitutionConfig, SourceConfig, load_config
from transparencia.sources.registry import MissingInputError

STEPS = ("extraer", "validar", "publicar")
RETRY_DELAYS = [2, 10, 30]

# --------------------------------------------------------------------------- progress


_listeners: list[Callable[[str, str, dict[str, Any]], None]] = []


def add_listener(listener: Callable[[str, str, dict[str, Any]], None]) -> None:
    """Called as ``listener(item_code, step, info)`` when an item finishes a step (the CLI's bars)."""
    _listeners.append(listener)


def remove_listener(listener: Callable[[str, str, dict[str, Any]], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def _notify(code: str, step: str, **info: Any) -> None:
    for listener in list(_listeners):
        listener(code, step, info)


def retry_if_transient(task, task_run, state) -> bool:
    """Retry only what may pass: TransientError. Everything else is terminal."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:
        return False
    return False


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
        """0 when every item due was published; 1 when some were rejected or missing.

        Items due are those the configuration feeds (a source or a document entry); an item with
        neither shows as "faltante" in the report but is a configuration gap, not a failed run."""
        bad = {ItemStatus.REJECTED, ItemStatus.NOT_RECEIVED}
        return 1 if self.errors or any(i.status in bad and i.code in self.due for i in self.items) else 0


# --------------------------------------------------------------------------- helpers


def make_publisher(config: InstitutionConfig, target: str):
    """The backend for ``target``; CKAN settings come from the configuration, else CKAN_URL/CKAN_API_TOKEN(_FILE)."""
    if target == "local":
        from transparencia.publishers.local import LocalCatalog

        return LocalCatalog(config.publish.local_dir)
    if target == "ckan":
        from transparencia.publishers.ckan import CkanPublisher

        ckan = config.publish.ckan
        if ckan is None or os.environ.get("CKAN_URL"):
            return CkanPublisher.from_env()
        return CkanPublisher(ckan.resolve_url(), ckan.resolve_token())
    raise ConfigError(f"Destino de publicación desconocido '{target}': use {' o '.join(Target)}")


# --------------------------------------------------------------------------- tasks


@task(name="extraer", retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=retry_if_transient,
      cache_policy=NO_CACHE, task_run_name="extraer-{code}-{source.id}")
def extract_task(config: InstitutionConfig, source: SourceConfig, code: str, period: str, run_id: str):
    from transparencia.sources.registry import extract_source

    started = time.perf_counter()
    try:
        extraction = extract_source(config, source, code, period, run_id=run_id)
    except MissingInputError as exc:
        _notify(code, "faltante", detail=exc.message)
        raise
    _notify(code, "extraer", rows=extraction.rows, seconds=time.perf_counter() - started)
    return extraction


@task(name="validar", cache_policy=NO_CACHE, task_run_name="validar-{item.code}")
def validate_task(config: InstitutionConfig, extraction, item, period: str):
    from transparencia.validation import validate
    from transparencia.validation.period_fidelity import natural_key

    started = time.perf_counter()
    store = MonthStore(config.data_dir / "store", config.institution.organization)
    published = store.other_months(item.slug, period, natural_key(item.table_schema()))
    report = validate(extraction, item, period=period, published=published)
    _notify(item.code, "validar", errors=len(report.errors), warnings=len(report.warnings),
            seconds=time.perf_counter() - started)
    return report


@task(name="publicar", retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=retry_if_transient,
      cache_policy=NO_CACHE, task_run_name="publicar-{code}")
def publish_task(config: InstitutionConfig, code: str, period: str, extraction, report, source_name: str,
                 target: str, dry_run: bool) -> dict[str, Any]:
    """Store and publish a valid month; a rejected one is neither stored nor published."""
    if not report.valid:
        _notify(code, "rechazado")
        return {"published": False}
    from transparencia.publishers.render import ItemRelease, render_release

    started = time.perf_counter()
    item = config.catalog.get(code)
    store = MonthStore(config.data_dir / "store", config.institution.organization)
    frame = extraction.frame
    if dry_run:
        stored = None
        history = _concat(store.history(item.slug), frame, item.table_schema().field_names, period, store, item.slug)
    else:
        stored = store.save(item.slug, period, frame)
        history = store.history(item.slug)
    release = ItemRelease(item=item, schema=item.table_schema(), period=period, frame=frame, history=history,
                          report=report, institution=config.institution, privacy=config.privacy.get(code, {}),
                          directorate=source_name)
    out_dir = config.data_dir / "build" / config.institution.organization / item.slug
    dataset, resources = render_release(release, out_dir, config.publish.formats)
    result = make_publisher(config, target).sync(dataset, resources, dry_run=dry_run)
    if result.error:
        raise TransparenciaError(result.error)
    _notify(code, "publicar", writes=result.writes, seconds=time.perf_counter() - started)
    return {
        "published": True, "url": result.url, "result": result.to_dict(),
        "stored": None if stored is None else {"path": str(stored.path), "sha256": stored.sha256,
                                                "written": stored.written, "updated": stored.updated},
        "updated": stored.updated if stored else None,
    }


def _concat(history, frame, columns, period, store, slug):
    """A dry run's history: the stored months plus this month, without writing anything."""
    import pandas as pd

    kept = [store.load(slug, p) for p in store.months(slug) if p != period]
    return pd.concat([*kept, frame.reset_index(drop=True)[columns]], ignore_index=True)


@task(name="publicar-informe", retries=3, retry_delay_seconds=RETRY_DELAYS, retry_condition_fn=retry_if_transient,
      cache_policy=NO_CACHE)
def publish_report_task(config: InstitutionConfig, report: ComplianceReport, paths: dict[str, Path],
                        target: str, dry_run: bool) -> dict[str, Any]:
    inst = config.institution
    dataset = compliance.report_dataset(report, inst.organization, inst.license_id, inst.maintainer,
                                        inst.maintainer_email)
    result = make_publisher(config, target).sync(dataset, compliance.report_resources(report, paths), dry_run=dry_run)
    if result.error:
        raise TransparenciaError(result.error)
    return result.to_dict()


# --------------------------------------------------------------------------- the flow


def _flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return str(flow_run.id) if flow_run.id else None


def _error_message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, TransparenciaError) else f"{type(exc).__name__}: {exc}"


def _public_findings(config: InstitutionConfig, item, report) -> list[dict[str, Any]]:
    """The findings as the published report may show them (personal data per policy, no paths)."""
    from transparencia.publishers.privacy import treatments
    from transparencia.publishers.public import public_findings

    schema = item.table_schema()
    return public_findings(report, schema, treatments(schema, config.privacy.get(item.code, {})))


def _dataset_status(config, item, period, pairs, futures, ledger) -> ItemReport:
    """What happened to one tabular item, read from its tasks' final states."""
    status = ItemReport(item.code, item.name, item.kind, item.frequency, ItemStatus.NOT_RECEIVED,
                          config.directorate_name(item.directorate))
    if not item.applies:
        status.status, status.detail = ItemStatus.NOT_APPLICABLE, item.reason or "No aplica a la institución."
        return status
    if item.code not in futures:
        status.detail = "Ninguna fuente de la configuración alimenta este punto."
        return status
    source, (extract_f, validate_f, publish_f) = pairs[item.code], futures[item.code]
    status.directorate = source.directorate_name
    try:
        extraction = extract_f.result()
    except MissingInputError as exc:
        status.detail = public_error(exc)
        return status
    except Exception as exc:  # unusable input: the item is rejected and the reason shown
        ledger.errors.append(f"{item.code}: {_error_message(exc)}")  # the full detail stays local
        status.status, status.errors, status.detail = ItemStatus.REJECTED, 1, public_error(exc)
        status.findings = [{"rule": "fuente", "severity": "error", "message": status.detail, "column": None,
                            "row": None, "value": None, "file": None, "sheet": None}]
        return status
    status.rows, status.source = extraction.rows, describe_source(extraction.source)
    try:
        report = validate_f.result()
    except Exception as exc:
        ledger.errors.append(f"{item.code}: {_error_message(exc)}")
        status.status, status.errors, status.detail = ItemStatus.REJECTED, 1, public_error(exc)
        return status
    status.errors, status.warnings = len(report.errors), len(report.warnings)
    status.findings = _public_findings(config, item, report)
    ledger.findings[item.code] = [f.to_dict() for f in report.findings]
    if not report.valid:
        status.status = ItemStatus.REJECTED
        status.detail = "Tiene errores: no se publicó este mes; los meses anteriores siguen publicados."
        return status
    try:
        published = publish_f.result()
    except Exception as exc:
        status.status, status.detail = ItemStatus.NOT_RECEIVED, f"No se pudo publicar: {public_error(exc)}"
        ledger.errors.append(f"{item.code}: No se pudo publicar: {_error_message(exc)}")
        return status
    status.status = ItemStatus.PUBLISHED_WITH_WARNINGS if report.warnings else ItemStatus.PUBLISHED
    status.url, status.last_update = published.get("url"), published.get("updated")
    ledger.publish.append(published["result"])
    if published.get("stored"):
        ledger.outputs.append({"item": item.code, **published["stored"]})
    return status


def _document_status(config: InstitutionConfig, item, period: str) -> ItemReport:
    status = ItemReport(item.code, item.name, item.kind, item.frequency, ItemStatus.NOT_RECEIVED,
                          config.directorate_name(item.directorate))
    if not item.applies:
        status.status, status.detail = ItemStatus.NOT_APPLICABLE, item.reason or "No aplica a la institución."
        return status
    entry = next((d for d in config.documents if d.item == item.code), None)
    if entry is None:
        status.detail = "El documento no está configurado (enlace o archivo con su fecha de actualización)."
        return status
    status.url = entry.url  # a local file's path means nothing to the public: no file:// link
    status.source = entry.title or (f"archivo {entry.path.name}" if entry.path else None)
    status.last_update = entry.updated.isoformat() if entry.updated else None
    status.status = compliance.document_status(item.frequency, entry.updated, Period.parse(period))
    if entry.path is not None and not entry.path.exists():
        status.status, status.detail = ItemStatus.NOT_RECEIVED, f"No existe el archivo '{entry.path.name}'."
    elif status.status == ItemStatus.OUTDATED:
        status.detail = (f"Última actualización {status.last_update}; la frecuencia {item.frequency_label} "
                         f"exige actualizarlo al menos cada {item.frequency.freshness_months} mes(es).")
    elif entry.updated is None:
        status.detail = "Falta la fecha de actualización del documento."
    return status


@flow(name="publicacion-mensual", description="Publicación mensual de los puntos de transparencia de una institución.",
      log_prints=False)
def monthly_release(period: str | None = None, config_path: str = str(DEFAULT_CONFIG), target: str | None = None,
                    dry_run: bool = False):
    """Release one month (the previous month when ``period`` is not given) of one institution."""
    logger = get_run_logger()
    config = load_config(config_path)
    period = str(Period.parse(period) if period else Period.previous())
    target = Target.parse(target, "Destino de publicación") if target else config.publish.target
    ledger = RunLedger(run_id=new_run_id(), period=period, institution=config.institution.acronym, target=target,
                       dry_run=dry_run, config=str(config.path), flow_run_id=_flow_run_id(),
                       task_runner=type(monthly_release.task_runner).__name__)
    logger.info("Publicación de %s, período %s, destino %s", config.institution.acronym, period, target)

    from transparencia.sources.registry import planned_extractions

    pairs: dict[str, SourceConfig] = {}
    futures: dict[str, tuple] = {}
    for source, code in planned_extractions(config, period):
        extract_f = extract_task.submit(config, source, code, period, ledger.run_id)
        validate_f = validate_task.submit(config, extract_f, config.catalog.get(code), period)
        publish_f = publish_task.submit(config, code, period, extract_f, validate_f, source.directorate_name,
                                        target, dry_run)
        pairs[code], futures[code] = source, (extract_f, validate_f, publish_f)
    for chain in futures.values():
        chain[-1].wait()

    items = [
        _dataset_status(config, item, period, pairs, futures, ledger) if item.kind == "dataset"
        else _document_status(config, item, period)
        for item in config.catalog
    ]
    report = ComplianceReport(config.institution.name, config.institution.acronym, period, items)
    result = ReleaseResult(period, ledger.run_id, ledger.flow_run_id, target, dry_run, report.to_dict(),
                           due=sorted({*pairs, *(d.item for d in config.documents)}))
    _record_inputs(config, period, ledger)
    if not dry_run:
        paths = compliance.write_report(report, config.data_dir / "reports" / period)
        result.report_paths = {fmt: str(p) for fmt, p in paths.items()}
        try:
            published = publish_report_task(config, report, paths, target, dry_run)
            ledger.publish.append(published)
        except Exception as exc:
            ledger.errors.append(f"Informe de cumplimiento: {_error_message(exc)}")
    ledger.items = {i.code: {"status": i.status, "rows": i.rows, "errors": i.errors, "warnings": i.warnings}
                    for i in items}
    result.errors, result.writes = ledger.errors, ledger.writes
    result.ledger_path = str(ledger.write(config.data_dir))
    logger.info("%s; registro de la ejecución: %s", report.headline, result.ledger_path)
    if result.exit_code:
        return Failed(message=f"{report.headline}: hay puntos rechazados o faltantes", data=result)
    return result


def _record_inputs(config: InstitutionConfig, period: str, ledger: RunLedger) -> None:
    """The inputs this run read, with their sha256, from the raw archive's manifest."""
    from transparencia.sources.archive import read_manifest

    manifest = read_manifest(config.data_dir, period)
    for key, revision in manifest.get("runs", {}).get(ledger.run_id, {}).get("inputs", {}).items():
        entry = next((r for r in manifest["inputs"][key]["revisions"] if r["revision"] == revision), {})
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
                runner: str = "thread", dask_address: str | None = None) -> ReleaseResult:
    """Run the flow and return its result, whether it ended Completed or Failed."""
    configured = monthly_release.with_options(task_runner=task_runner(runner, dask_address))
    state = configured(period=None if period is None else str(Period.parse(period)), config_path=str(config_path), target=target, dry_run=dry_run,
                       return_state=True)
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
