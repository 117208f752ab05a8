"""Withdrawing a month published in error: ``transparencia retirar ITEM --period AAAA-MM --motivo "…"``.

The month leaves every place it reached: its resources (every format, its validation report, the
table a portal keeps behind them) are deleted from the target, it is removed from the store, the history
is rebuilt from the months that remain (or removed with the last one), and the catalog is
refreshed. What stays is a public, dated record in the dataset ("<item> — retiros de
publicación": when, which month, which files, why), an entry in the local run ledger, and the
month's compliance report re-published so that it no longer says the item is online.

Publishing the corrected month later (``transparencia run``) puts it back in place: the same
resource names, the history rebuilt again; the record of the withdrawal stays.
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from transparencia.domain import ItemKind, Period, Target
from transparencia.domain.vocab import PublishVerb
from transparencia.errors import ConfigError, TransparenciaError
from transparencia.flows.ledger import RunLedger, new_run_id
from transparencia.flows.online import refresh_store
from transparencia.flows.stages import build_dir, make_publisher
from transparencia.flows.store import MonthStore
from transparencia.publishers.base import DatasetSpec, PortalSession, Publisher, PublishResult, ResourceFile
from transparencia.publishers.names import withdrawn_resource_names
from transparencia.publishers.render import ItemRelease, WithdrawalRecord, render_withdrawal
from transparencia.publishers.verification import amend_manifest, mark_withdrawn, write_dataset_manifest
from transparencia.reports import compliance, compliance_table
from transparencia.reports.compliance import ItemFacts, ItemOutcome, ItemReport
from transparencia.schemas.catalog import Item
from transparencia.sources.config import InstitutionConfig, load_config
from transparencia.validation.findings import ValidationReport
from transparencia.wording import count


@dataclass
class WithdrawalResult:
    item: str  # code
    period: Period
    target: Target
    removed: list[str] = field(default_factory=list)  # resource names deleted from the target
    ledger_path: str | None = None
    report_updated: bool = False


def withdraw_month(config_path: str | Path, item_ref: str, month: Period, reason: str, target: Target | None = None,
                   today: dt.date | None = None) -> WithdrawalResult:
    """Withdraw ``item_ref``'s ``period`` from the target and record why (see the module docstring)."""
    config = load_config(config_path)
    item = config.catalog.get(item_ref)
    target = target or config.publish.target
    if item.kind is not ItemKind.DATASET:
        raise ConfigError(f"El punto {item.code} ({item.name}) es un documento: se corrige su enlace o su "
                          "fecha en la configuración, no se retira por mes.")
    reason = " ".join(reason.split())
    if not reason:
        raise ConfigError("Indique el motivo del retiro con --motivo \"…\": queda publicado junto al retiro.")

    store = MonthStore.of(config)
    publisher = make_publisher(config, target)
    if isinstance(publisher, PortalSession):  # the portal answers, the token may write, links have a public address
        publisher.preflight(config.institution.organization, config.institution.name, create_organization=False)
    ledger = RunLedger(run_id=new_run_id(), period=month, institution=config.institution.acronym, target=target,
                       dry_run=False, config=str(config.path))
    with ExitStack() as held:
        if isinstance(publisher, PortalSession):  # one writer per institution, as for ``run``
            held.enter_context(publisher.lease(config.institution.organization, ledger.run_id,
                                               f"retiro de {item.code} {month}", wait=config.publish.lease_wait * 60))
        # the months that remain are those online, as the target holds them (``flows.online``)
        online = refresh_store(config, item, publisher) - {month}
        remaining = [p for p in store.months(item.slug) if p in online]
        release = _release(config, item, month, store, remaining, online)

        names = withdrawn_resource_names(item.name, str(month), history_too=not remaining)
        dataset, _ = render_withdrawal(release, [], build_dir(config, item))
        removal = publisher.remove(dataset, names)
        date = (today or dt.date.today()).isoformat()
        removed = [a.name for a in removal.actions if a.action is PublishVerb.DELETE]
        if removed:  # on record before anything else can stop the withdrawal: a re-run completes the entry
            store.record_withdrawal(item.slug, _entry(date, month, removed, reason, pending=True))
        if removal.error:
            raise TransparenciaError(_stopped(removal.error, removed))
        was_stored = store.remove(item.slug, month)
        if store.pending_withdrawal(item.slug, month) is None and not was_stored:
            raise ConfigError(f"El punto {item.code} ({item.name}) no tiene publicado el mes {month} en el destino "
                              f"{target}: no hay nada que retirar.")
        records = store.record_withdrawal(item.slug, _entry(date, month, [], reason, pending=True))
        out_dir = build_dir(config, item)
        dataset, resources = render_withdrawal(release, records, out_dir, config.publish.formats)
        published = _checked(publisher.sync(dataset, resources))
        entry = store.record_withdrawal(item.slug, _entry(date, month, [], reason, pending=False))[-1]
        _record_for_verification(out_dir, month, entry["date"], dataset, resources, len(release.history), remaining)

        result = WithdrawalResult(item.code, month, target, entry["resources"])
        ledger.withdrawal = {"item": item.code, **entry, "stored_month_removed": was_stored}
        ledger.publish += [removal.to_dict(), published.to_dict()]
        try:
            result.report_updated = _update_report(config, item, month, entry, publisher, ledger)
        except TransparenciaError as exc:
            ledger.report_failed(exc)
        result.ledger_path = str(ledger.write(config.workspace))
        return result


def _entry(date: str, month: Period, removed: list[str], reason: str, *, pending: bool) -> WithdrawalRecord:
    return WithdrawalRecord(date=date, period=str(month), resources=removed, reason=reason, pending=pending)


def _stopped(error: str, removed: list[str]) -> str:
    """Why the withdrawal stopped, and what it had already taken off (recorded; a re-run finishes it)."""
    if not removed:
        return error
    return (f"{error} Ya se retiraron {count(len(removed), 'archivo')} ({'; '.join(removed)}): vuelva a ejecutar el "
            "mismo retiro para terminarlo; el registro público listará todos los archivos retirados.")


def _checked(result: PublishResult) -> PublishResult:
    if result.error:
        raise TransparenciaError(result.error)
    return result


def _record_for_verification(out_dir: Path, month: Period, date: str, dataset: DatasetSpec,
                             resources: list[ResourceFile], rows: int, remaining: list[Period]) -> None:
    """What ``verificar`` then expects: the month gone, the history (``rows`` of the ``remaining``
    months) and what describes every month as just published, and the following month's change
    summary as rendered again."""
    mark_withdrawn(out_dir, month, date)
    write_dataset_manifest(out_dir, month, dataset, resources, rows, remaining)
    for period in {r.period for r in resources if r.period is not None}:
        amend_manifest(out_dir, period, resources)


def _release(config: InstitutionConfig, item: Item, period: Period, store: MonthStore,
             remaining: list[Period], online: set[Period]) -> ItemRelease:
    """The item as rendering needs it, holding only the months that remain (``online``: those the
    target still holds)."""
    schema = item.table_schema()
    frames = [store.load(item.slug, p) for p in remaining]
    history = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=schema.field_names)
    empty = history.iloc[0:0]
    source = next((s for s in config.sources if item.code in s.items), None)
    report = ValidationReport(item.code, item.name, "", None, 0, period)
    return ItemRelease(item=item, schema=schema, period=period, frame=empty, history=history, report=report,
                       institution=config.institution, privacy=config.privacy.get(item.code, {}),
                       directorate=source.directorate_name if source else "", online=frozenset(online))


def _update_report(config: InstitutionConfig, item: Item, period: Period, entry: WithdrawalRecord,
                   publisher: Publisher, ledger: RunLedger) -> bool:
    """The month's compliance report no longer counts the item as online; re-published beside it."""
    source = config.workspace.report_file(period, "json")
    if not source.exists():
        return False
    report = compliance.load_report(source)
    report.items = [_withdrawn_row(item, period, row, entry) if row.code == item.code else row for row in report.items]
    paths = compliance.write_report(report, config.workspace.report_dir(period))
    dataset, resources = compliance_table.report_publication(config, report, paths, publisher)
    ledger.publish.append(_checked(publisher.sync(dataset, resources)).to_dict())
    return True


def _withdrawn_row(item: Item, period: Period, row: ItemReport, entry: WithdrawalRecord) -> ItemReport:
    """The item's row once its month is withdrawn: its status from ``verdict``, nothing online, the
    figures that still hold (where it came from, when it last changed) kept."""
    outcome = ItemOutcome(item.kind, item.frequency, period, withdrawn=True,
                          reason=compliance.withdrawal_reason(entry["date"], entry["reason"]))
    facts = ItemFacts(row.directorate, last_update=row.last_update, source=row.source, changes=row.changes)
    return compliance.item_report(item, outcome, facts)
