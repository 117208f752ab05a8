"""Read back what is published for a month: the data folder's side of ``publishers.verification``.

The checks live with the publishers and compare what they are given (a dataset's manifests, the
item's stored months, the months online, a ``ReadBack`` target). This module finds those for a
month: the manifests beside each item's rendered files, the item's months in the store
(``flows.store``, first brought up to date with every month the target holds: ``flows.online``), and
what the target holds, read through its publisher.
``transparencia verificar`` and the release flow both call it.
"""

from __future__ import annotations

from collections.abc import Sequence

from transparencia.domain import ItemKind, Period, Target
from transparencia.errors import ConfigError
from transparencia.flows.online import refresh_store
from transparencia.flows.stages import build_dir, make_publisher
from transparencia.flows.store import MonthStore
from transparencia.publishers.base import ReadBack
from transparencia.publishers.names import history_resource_name
from transparencia.publishers.verification import (
    Check,
    Expected,
    StoredHistory,
    read_dataset_manifest,
    read_manifest,
    verify_dataset,
)
from transparencia.schemas.catalog import Item
from transparencia.sources.config import InstitutionConfig


def verify_period(config: InstitutionConfig, period: Period, target: Target,
                  items: Sequence[str] | None = None) -> list[Check]:
    """Every check of every item published (or withdrawn) for ``period``, or only ``items``, on ``target``."""
    store = MonthStore.of(config)
    publisher = make_publisher(config, target)
    if not isinstance(publisher, ReadBack):
        raise ConfigError(f"El destino {target.label} no permite leer lo publicado para verificarlo.")
    checks: list[Check] = []
    for item in config.catalog:
        if item.kind is not ItemKind.DATASET or (items is not None and item.code not in items):
            continue
        out_dir = build_dir(config, item)
        month = read_manifest(out_dir, period)
        if month is None:
            if items is not None:
                checks.append(Check(item.code, item.slug, "recursos", False,
                                    "no hay registro local de lo publicado para este mes"))
            continue
        online = refresh_store(config, item, publisher)  # every month online, whoever published it
        # A data folder from before the dataset's manifest existed: its newest month's manifest describes it.
        dataset = read_dataset_manifest(out_dir) or (read_manifest(out_dir, max(online)) if online else None) or month
        stored = _stored(store, item, online)
        checks.extend(verify_dataset(item.code, period, Expected(month, dataset), stored, publisher, online))
    return checks


def _stored(store: MonthStore, item: Item, online: set[Period]) -> StoredHistory:
    """The store's months online (refreshed from the target) and the name of the history CSV that
    must hold them all."""
    months = [m for m in store.months(item.slug) if m in online]
    rows = {m: meta["rows"] for m in months if (meta := store.meta(item.slug, m))}
    return StoredHistory(sum(rows.values()), months, rows, history_resource_name(item.name, "csv"))
