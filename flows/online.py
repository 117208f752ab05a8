"""What is online is the truth: the item's months the target holds, with the store as their cache.

Every public file that describes more than one month (the history, the change summaries, the
description's totals, the chart, the data package) is rendered from the months the target holds,
never from whichever months this data folder happens to have: October published from one machine
and November from another, a reinstalled laptop, or an empty data folder all keep every month.

Each month's CSV on the target is the month as the public reads it; the target records its sha256
(CKAN's resource field, the local catalog's metadata). A stored month whose CSV as last published
(or read back) has that sha256 is current; any other month online is downloaded and stored again in
its published form (cédulas masked, omitted columns empty), which renders to the same bytes
(``publishers.formats.read_csv``) and is compared with its neighbours in that form
(``publishers.changes``). A month online without a CSV (``publish.formats`` without it) is taken
from the store as it is.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from transparencia.domain import Period, sha256_file
from transparencia.flows.store import MonthStore
from transparencia.publishers.base import PublishedResource, Publisher, ReadBack
from transparencia.publishers.formats import read_csv
from transparencia.publishers.names import month_resource_name
from transparencia.publishers.render import month_csv_sha256
from transparencia.schemas.catalog import Item
from transparencia.sources.config import InstitutionConfig

log = logging.getLogger(__name__)


def months_online(config: InstitutionConfig, item: Item, publisher: Publisher) -> set[Period]:
    """The months of the item the target holds: what the public can read, which the change summary
    compares with and the compliance report counts (the local store may hold other months)."""
    dataset = item.dataset_name(config.institution.acronym)
    return publisher.published_periods(config.institution.organization, dataset)


def refresh_store(config: InstitutionConfig, item: Item, publisher: Publisher) -> set[Period]:
    """Bring the store's copy of every month online up to date with the target; the months online.

    Reads only the target's resource list when the store is current; downloads a month's CSV only
    when the store lacks it or holds other bytes."""
    online = months_online(config, item, publisher)
    if not online or not isinstance(publisher, ReadBack):
        return online
    inst = config.institution
    held = publisher.published_resources(inst.organization, item.dataset_name(inst.acronym)) or []
    by_name = {r.name: r for r in held}
    store = MonthStore.of(config)
    for period in sorted(online):
        resource = by_name.get(month_resource_name(item.name, period, "csv"))
        if resource is not None and not _is_current(config, item, store, period, resource):
            _read_back(config, item, store, period, resource, publisher)
    return online


def _is_current(config: InstitutionConfig, item: Item, store: MonthStore, period: Period,
                resource: PublishedResource) -> bool:
    """The stored month is the one online: recorded so, or (a store from before the record) it
    renders to the CSV the target holds, which is then recorded."""
    meta = store.meta(item.slug, period)
    if meta is None or resource.sha256 is None:
        return False
    if "public_sha256" in meta:
        return meta["public_sha256"] == resource.sha256
    with tempfile.TemporaryDirectory() as folder:
        rendered = month_csv_sha256(item.table_schema(), config.privacy.get(item.code, {}),
                                    store.load(item.slug, period), Path(folder) / "mes.csv")
    if rendered == resource.sha256:
        store.record_public(item.slug, period, rendered)
    return rendered == resource.sha256


def _read_back(config: InstitutionConfig, item: Item, store: MonthStore, period: Period, resource: PublishedResource,
               reader: ReadBack) -> None:
    """Store the month as the target holds it (its CSV, in published form), with the CSV's sha256."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mes.csv"
        reader.download(resource, path)
        frame = read_csv(path, item.table_schema().fields)
        digest = sha256_file(path)
    store.save(item.slug, period, frame)
    store.record_public(item.slug, period, digest)
    log.info("%s %s: la copia local del mes faltaba o difería de la publicada; se leyó del destino",
             item.name, period)
