"""What the release flow's tasks do, one function per stage, without Prefect.

Validating reads the item's months already stored, so a row published in another month is caught
(``validation.period_fidelity``). Publishing stores a valid month (``flows.store``), renders it
with the item's whole history and syncs it to the target; a rejected month is neither stored nor
published, so the earlier months stay as they are. A dry run stores nothing, publishes nothing and
renders into the month's preview folder (``Workspace.preview``), the only place it writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import pandas as pd

from transparencia.domain import OutputFormat, Period, Target
from transparencia.errors import TransparenciaError
from transparencia.flows.ledger import WriteJournal
from transparencia.flows.memo import ValidationMemo, validation_key
from transparencia.flows.online import months_online, refresh_store
from transparencia.flows.store import MonthStore
from transparencia.publishers import backends
from transparencia.publishers.base import Publisher, ResultRecord
from transparencia.publishers.render import ItemRelease, WithdrawalRecord, render_release
from transparencia.publishers.verification import write_manifest
from transparencia.reports import compliance, compliance_table
from transparencia.schemas.catalog import Item
from transparencia.sources.config import InstitutionConfig
from transparencia.sources.extraction import Extraction
from transparencia.validation import validate
from transparencia.validation.findings import ValidationReport
from transparencia.validation.period_fidelity import natural_key


class StoredRecord(TypedDict):
    """The stored month as the run ledger records it (``flows.store.StoredMonth``)."""

    path: str
    sha256: str
    written: bool
    updated: str  # ISO date the content last changed


@dataclass(frozen=True)
class PublishedMonth:
    """A month this run published: the dataset's page, the backend's actions and the stored month."""

    url: str | None
    result: ResultRecord
    stored: StoredRecord | None  # None in a dry run
    writes: int
    changes: str = ""  # the change summary's headline (publishers.changes), for the compliance report

    @property
    def updated(self) -> str | None:
        return self.stored["updated"] if self.stored else None


def validate_month(config: InstitutionConfig, item: Item, period: Period, extraction: Extraction,
                   dry_run: bool = False) -> ValidationReport:
    """Validate the month against its schema and against the item's other stored months (a re-run of
    the same inputs reuses the last report: ``flows.memo``; a dry run reads the memo, never adds to it)."""
    store = MonthStore.of(config)
    published = store.other_months(item.slug, period, natural_key(item.table_schema()))
    memo, key = ValidationMemo(config.workspace), validation_key(extraction, item, period, published)
    report = memo.load(item.slug, period, key)
    if report is None:
        report = validate(extraction, item, period=period, published=published)
        if not dry_run:
            memo.save(item.slug, period, key, report)
    return report


def make_publisher(config: InstitutionConfig, target: Target, journal: WriteJournal | None = None) -> Publisher:
    """The backend registered for ``target`` (``publishers.backends``); a portal's backend reports
    every write call to ``journal`` (the run ledger's write journal)."""
    return backends.publisher(config, target, journal.append if journal is not None else None)


def publish_month(config: InstitutionConfig, item: Item, period: Period, extraction: Extraction,
                  report: ValidationReport, directorate: str, target: Target, dry_run: bool,
                  journal: WriteJournal | None = None) -> PublishedMonth | None:
    """Store and publish a valid month; None for a rejected one (neither stored nor published)."""
    if not report.valid:
        return None
    store = MonthStore.of(config)
    frame = extraction.frame
    publisher = make_publisher(config, target, journal)
    if dry_run:  # reads what is online, leaves the store as it is
        online = months_online(config, item, publisher) - {period}
        stored = None
        history = _history_with(store, item.slug, period, frame, item.table_schema().field_names, online)
    else:  # the store holds every month online as the target does (``flows.online``), then this one
        online = refresh_store(config, item, publisher) - {period}
        stored = store.save(item.slug, period, frame)
        history = store.history(item.slug, online | {period})
    keys = None if dry_run else _month_keys(store, item.slug, online | {period})
    release = ItemRelease(item=item, schema=item.table_schema(), period=period, frame=frame, history=history,
                          report=report, institution=config.institution, privacy=config.privacy.get(item.code, {}),
                          directorate=directorate, online=frozenset(online),
                          rows_key=_rows_key(extraction, keys), month_keys=keys)
    out_dir = (config.workspace.preview_build_dir(period, config.institution.organization, item.slug) if dry_run
               else build_dir(config, item))
    dataset, resources = render_release(release, out_dir, config.publish.formats)
    if not dry_run:  # what the target must hold, for the read-back verification
        write_manifest(out_dir, period, dataset, resources, len(history), sorted(online | {period}))
    result = publisher.sync(dataset, resources, dry_run=dry_run)
    if result.error:
        raise TransparenciaError(result.error)
    if not dry_run:  # the stored month is the one online (``flows.online`` reads it back otherwise)
        month_csv = next((r for r in resources if r.role == "month" and r.period == period
                          and r.format is OutputFormat.CSV), None)
        if month_csv is not None:
            store.record_public(item.slug, period, month_csv.sha256)
    return PublishedMonth(
        url=result.url, result=result.to_dict(), writes=result.writes, changes=_changes_headline(resources),
        stored=None if stored is None else {"path": str(stored.path), "sha256": stored.sha256,
                                            "written": stored.written, "updated": stored.updated},
    )


def _month_keys(store: MonthStore, slug: str, months: set[Period]) -> dict[Period, str] | None:
    """Each stored month's sha256 (the history is those months' Parquet, read back); None when one
    is not stored."""
    metas = {month: store.meta(slug, month) for month in months}
    return {month: meta["sha256"] for month, meta in metas.items() if meta} if all(metas.values()) else None


def _rows_key(extraction: Extraction, keys: dict[Period, str] | None) -> str | None:
    """The month's rows by the extraction's input key and the history's by each stored month's sha256:
    the render memo's fingerprint of the rows without hashing them. None when either is unknown."""
    if extraction.input_key is None or keys is None:
        return None
    return " ".join([extraction.input_key, *(f"{month}:{keys[month]}" for month in sorted(keys))])


def build_dir(config: InstitutionConfig, item: Item) -> Path:
    """Where an item's files are rendered before they are published, beside the manifest that
    ``transparencia verificar`` reads back."""
    return config.workspace.build_dir(config.institution.organization, item.slug)


def _changes_headline(resources) -> str:
    """The month's change summary in one sentence, as rendered beside the data."""
    found = next((r for r in resources if r.role == "changes" and r.format is OutputFormat.JSON), None)
    return json.loads(found.path.read_text(encoding="utf-8"))["headline"] if found else ""


def _history_with(store: MonthStore, slug: str, month: Period, frame: pd.DataFrame, columns: list[str],
                  online: set[Period]) -> pd.DataFrame:
    """A dry run's history: the stored months online plus this month, without writing anything."""
    kept = [store.load(slug, p) for p in store.months(slug) if p != month and p in online]
    return pd.concat([*kept, frame.reset_index(drop=True)[columns]], ignore_index=True)


def withdrawal(config: InstitutionConfig, item: Item, period: Period) -> WithdrawalRecord | None:
    """The latest withdrawal of the item's month (``transparencia retirar``), if it was ever withdrawn."""
    return next((w for w in reversed(MonthStore.of(config).withdrawals(item.slug)) if w["period"] == str(period)), None)


def target_months(config: InstitutionConfig, item: Item, target: Target) -> set[Period]:
    """The item's months the target already holds (from earlier runs).

    Asked only for an item this run did not publish; when the target cannot say (not
    configured, unreachable), no month is counted as online."""
    try:
        return months_online(config, item, make_publisher(config, target))
    except Exception:  # an unreachable target cannot vouch for anything
        return set()


def publish_report(config: InstitutionConfig, report: compliance.ComplianceReport, paths: dict[str, Path],
                   target: Target, dry_run: bool, journal: WriteJournal | None = None) -> ResultRecord:
    """Publish the compliance report's files to the report dataset, with its tables of every month online."""
    publisher = make_publisher(config, target, journal)
    dataset, resources = compliance_table.report_publication(config, report, paths, publisher)
    result = publisher.sync(dataset, resources, dry_run=dry_run)
    if result.error:
        raise TransparenciaError(result.error)
    return result.to_dict()
