"""Read back what is published for a month: the data folder's side of ``publishers.verification``.

The checks live with the publishers and compare what they are given (a dataset's manifest, the
item's stored months, a ``ReadBack`` target). This module finds those for a month: the manifest beside
each item's rendered files, the item's months in the store (``flows.store``, which the flows write)
and the target's publisher. ``transparencia verificar`` and the release flow both call it.
"""

from __future__ import annotations

from collections.abc import Sequence

from transparencia.domain import ItemKind, Period, Target
from transparencia.errors import ConfigError
from transparencia.flows.stages import build_dir, make_publisher
from transparencia.flows.store import MonthStore
from transparencia.publishers.base import ReadBack
from transparencia.publishers.verification import Check, StoredHistory, read_manifest, verify_dataset
from transparencia.sources.config import InstitutionConfig


def verify_period(config: InstitutionConfig, period: Period, target: Target,
                  items: Sequence[str] | None = None) -> list[Check]:
    """Every check of every item published for ``period`` (or only ``items``) on ``target``."""
    store = MonthStore.of(config)
    reader = make_publisher(config, target)
    if not isinstance(reader, ReadBack):
        raise ConfigError(f"El destino {target.label} no permite leer lo publicado para verificarlo.")
    checks: list[Check] = []
    for item in config.catalog:
        if item.kind is not ItemKind.DATASET or (items is not None and item.code not in items):
            continue
        manifest = read_manifest(build_dir(config, item), period)
        if manifest is None:
            if items is not None:
                checks.append(Check(item.code, item.slug, "recursos", False,
                                    "no hay registro local de lo publicado para este mes"))
            continue
        stored = StoredHistory(store.rows(item.slug), store.months(item.slug))
        checks.extend(verify_dataset(item.code, manifest, stored, reader, period))
    return checks
