"""Load a month's DataStore table with ckanext-xloader (PostgreSQL COPY) where the portal runs it, verified as ever.

Why
    Bounded ``datastore_upsert`` inserts (``publishers.ckan_datastore``) go through CKAN's JSON API,
    about 2,000 rows/s. xloader's job fetches the file already uploaded and COPYs it into the table
    (100k rows in about a second), and no request body carries the rows, so a proxy's body limit does
    not apply. The table is still in the staging dataset, unseen, and still verified before it is
    shown. A job has a fixed cost of a few seconds, so months under ``XloaderCopy.min_rows`` rows
    are still loaded in inserts. What the job cannot make faster is the portal's own indexing: CKAN
    builds a full-text index on every text column (``ckan.datastore.default_fts_index_field_types``),
    about 70 % of a 100k-row job on the local CKAN.

How (ckanext-xloader 2.6.0 on CKAN 2.11.6, verified on the local server)
    1. A job already queued for the upload (a portal that submits every upload) is waited for: it
       must not replace the table while ours fills it.
    2. The table is created empty with the month's fields. Each field's ``info.type_override`` is
       its type under the name Postgres reports ("int4" for "int"): xloader keeps a column's type
       only from there (otherwise every column is text), and keeps the table, its data dictionary
       and its primary key only when every name and type is the one it finds (else it drops the
       table and makes a new one, without the key); ``strip_extra_white`` is off, so cells are
       loaded as written.
    3. ``xloader_submit`` (``ignore_hash``: the upload is new, whatever its ``hash`` says); the job
       truncates the table and COPYs the CSV into it.
    4. ``xloader_status`` is read until the job is complete or failed, for at most
       ``XloaderCopy.patience``.
    5. The table's dictionary (names and types) and fingerprint are compared with the month's.

Falling back, never publishing an unverified table
    A failed job, a table that differs, or a submission xloader refuses: the table is dropped and
    loaded in bounded inserts, with a warning in the log. A job that has not started when the wait
    is over (a stopped worker, a long queue) is abandoned (``CopyAbandoned``): the publisher deletes
    the staging resource, so the job finds nothing if it starts later, and stages the file again for
    inserts. A job still running at that point may yet write: a ``TransientError``, nothing is
    published, and the next run's clean-up deletes the staging resource.

A portal that submits every upload itself (xloader's default formats)
    Its job for the upload replaces whatever table the resource has, so every load on a portal that
    runs xloader, inserts too (``insert_table``), starts once that job has ended. It also loads the
    files published without a table (the history, the dictionary, the XLSX) and writes their MD5
    into ``hash``: the publisher waits for those jobs too (``await_portal_job``) before it puts its
    sha256 back and shows the files, so no job rewrites a public resource after the month is shown
    (their tables are the portal's own, left as its job made them). A job that started
    between the publisher's last look and the deletion of an abandoned staging resource still makes
    its table, for a deleted resource that the next update of the staging dataset purges, out of any
    clean-up's reach: ``clear_abandoned`` waits for it to end and drops that table. When the file
    staged again meets a queue that still does not move, nothing is published (``TransientError``).

What the job changes besides the table
    It writes the file's MD5 into the resource's ``hash`` (the publisher puts its sha256 back) and
    makes the portal's default views (removed here: the publisher makes its own once the month is
    public, as after inserts).
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass

from transparencia.domain.jsontypes import JsonObject
from transparencia.errors import TransientError
from transparencia.publishers.base import DatastoreTable, TableFingerprint
from transparencia.publishers.ckan_capabilities import PortalCapabilities
from transparencia.publishers.ckan_client import CkanClient, NotFoundError
from transparencia.publishers.ckan_datastore import (
    BoundedInserts,
    drop_table,
    load_table,
    published_dictionary,
    published_fingerprint,
    row_total,
)
from transparencia.publishers.ckan_views import drop_table_views
from transparencia.publishers.tables import comparable_fields, datastore_fields, row_count

log = logging.getLogger(__name__)

WAITING = ("pending", "submitting")  # the job is queued and has not started
RUNNING = ("running", "running_but_viewable")
BUSY = (*WAITING, *RUNNING)
POLL_SECONDS = (0.25, 1.0)  # first and longest pause between two reads of the job's status
MIN_ROW_BYTES = 20  # no row of a published CSV is shorter (an item's columns, their commas and newline)


@dataclass(frozen=True)
class XloaderCopy(BoundedInserts):
    """A portal running ckanext-xloader: its job COPYs the uploaded CSV; bounded inserts stay the fallback."""

    base_wait: float = 120.0  # seconds a job may take to start and finish, plus ``wait_per_row`` per row
    wait_per_row: float = 0.002
    min_rows: int = 10_000  # below this, inserts are faster than a job's fixed cost (about 3 s on the local CKAN)

    def takes(self, table: DatastoreTable) -> bool:
        """Whether xloader should load this table: a month of a few thousand rows is loaded sooner in
        one or two inserts than by a job (queued, forked, its callbacks and indexes)."""
        return row_count(table) >= self.min_rows

    def patience(self, rows: int) -> float:
        return self.base_wait + self.wait_per_row * rows

    def patience_for_file(self, size: int) -> float:
        """The patience for the job of a file whose rows are not counted here (published without a
        table): as many rows as its bytes allow at ``MIN_ROW_BYTES`` each, an upper bound."""
        return self.patience(size // MIN_ROW_BYTES)


class CopyAbandoned(Exception):
    """xloader did not start the job in time: the staging resource must go (its job may start later);
    ``patience`` is how long that job may take if it starts as the resource goes."""

    def __init__(self, resource_id: str, reason: str, patience: float):
        super().__init__(reason)
        self.resource_id = resource_id
        self.reason = reason
        self.patience = patience


def inserts_only(loader: BoundedInserts) -> BoundedInserts:
    """The loader for a file staged again after an abandoned job: inserts, still after any job the portal
    queues for the upload itself."""
    return dataclasses.replace(loader, min_rows=sys.maxsize) if isinstance(loader, XloaderCopy) else loader


def table_loader(capabilities: PortalCapabilities, max_body: int) -> BoundedInserts:
    """How this portal's tables are loaded: by xloader when it runs it, else in bounded inserts."""
    return XloaderCopy(max_body) if capabilities.xloader else BoundedInserts(max_body)


def copy_table(client: CkanClient, resource_id: str, table: DatastoreTable, expected: TableFingerprint,
               loader: XloaderCopy) -> TableFingerprint:
    """Load the uploaded CSV behind ``resource_id`` into its table with xloader, verified; bounded
    inserts when xloader fails or its table differs (see the module doc)."""
    patience = loader.patience(row_count(table))
    deadline = time.monotonic() + patience
    _settled(client, resource_id, deadline, patience)
    problem = _copied(client, resource_id, table, expected, deadline, patience)
    if problem is None:
        return expected
    log.warning("La carga del DataStore con xloader no sirvió (%s); se carga en inserciones acotadas.", problem)
    return load_table(client, resource_id, table, expected, max_body=loader.max_body)


def insert_table(client: CkanClient, resource_id: str, table: DatastoreTable, expected: TableFingerprint,
                 loader: XloaderCopy) -> TableFingerprint:
    """Load the table in bounded inserts once the job the portal may have queued for the upload has ended:
    it would replace the table while, or after, the inserts fill it. Its default views go, as after our
    own job; the MD5 it wrote into ``hash`` is the caller's to put back."""
    if await_portal_job(client, resource_id, loader.patience(row_count(table))):
        drop_table_views(client, resource_id)
    return load_table(client, resource_id, table, expected, max_body=loader.max_body)


def await_portal_job(client: CkanClient, resource_id: str, patience: float) -> bool:
    """Wait for the job a portal that submits every upload queued for this one; True when there was one
    (it wrote the file's MD5 into ``hash``). ``CopyAbandoned`` or ``TransientError`` as ``copy_table``'s."""
    return bool(_settled(client, resource_id, time.monotonic() + patience, patience))


def clear_abandoned(client: CkanClient, abandoned: CopyAbandoned) -> None:
    """Drop the table a job that started as its staging resource was deleted makes for it (module doc).

    Called once the resource is deleted: a job still queued then cannot make one (its first read of the
    resource finds it gone); a running one is waited for, at most ``abandoned.patience``."""
    resource_id = abandoned.resource_id
    status = _waited(client, resource_id, time.monotonic() + abandoned.patience, RUNNING)
    if status.get("status") in RUNNING:
        log.warning("El trabajo de xloader del recurso provisional abandonado %s sigue en curso; si deja una tabla "
                    "en el DataStore, bórrela con datastore_delete.", resource_id)
    elif row_total(client, resource_id) is not None:
        drop_table(client, resource_id)


def _copied(client: CkanClient, resource_id: str, table: DatastoreTable, expected: TableFingerprint,
            deadline: float, patience: float) -> str | None:
    """Why the table xloader loaded cannot be used (Spanish), or None when it is the month's."""
    if row_total(client, resource_id) is not None:
        drop_table(client, resource_id)
    client.call("datastore_create", _typed_head(resource_id, table),
                before_retry=lambda: True if row_total(client, resource_id) == 0 else None)
    before = _status(client, resource_id)
    submitted = client.call("xloader_submit", {"resource_id": resource_id, "ignore_hash": True},
                            before_retry=lambda: True if _status(client, resource_id) != before else None)
    if not submitted and _status(client, resource_id).get("status") not in BUSY:
        return "xloader no aceptó la carga"
    status = _settled(client, resource_id, deadline, patience)
    drop_table_views(client, resource_id)
    if status.get("status") != "complete":
        return f"el trabajo de xloader terminó con error: {_error_text(status)}"
    dictionary = published_dictionary(client, resource_id)
    if dictionary is None or comparable_fields(dictionary) != comparable_fields(datastore_fields(table)):
        return "las columnas o sus tipos no son los del mes"
    found = published_fingerprint(client, resource_id, table)
    if found != expected:
        return "; ".join(expected.differences(found)) if found else "no quedó tabla"
    if table.primary_key:  # kept by the job; made again if a version of xloader made a new table
        client.call("datastore_create", {"resource_id": resource_id, "primary_key": list(table.primary_key),
                                         "force": True})
    return None


def _typed_head(resource_id: str, table: DatastoreTable) -> JsonObject:
    """``datastore_create`` of the empty table, each column's type also where xloader reads it."""
    described = datastore_fields(table)
    fields = [{**field, "info": {**field["info"], "type_override": typed["type"]}, "strip_extra_white": False}
              for field, typed in zip(described, comparable_fields(described), strict=True)]
    head: JsonObject = {"resource_id": resource_id, "fields": fields, "force": True}
    if table.primary_key:
        head["primary_key"] = list(table.primary_key)
    return head


def _settled(client: CkanClient, resource_id: str, deadline: float, patience: float) -> JsonObject:
    """The status of the resource's xloader job once it is not queued or running (empty when it never
    had one); ``CopyAbandoned`` or ``TransientError`` when the deadline comes first."""
    status = _waited(client, resource_id, deadline, BUSY)
    if status.get("status") in WAITING:
        raise CopyAbandoned(resource_id, "el trabajo de xloader no empezó a tiempo", patience)
    if status.get("status") in RUNNING:
        raise TransientError("El trabajo de xloader que carga una tabla del DataStore sigue en curso tras el "
                             "tiempo de espera; no se publica nada y se reintentará más tarde.")
    return status


def _waited(client: CkanClient, resource_id: str, deadline: float, states: tuple[str, ...]) -> JsonObject:
    """The status of the resource's xloader job once its state is not one of ``states``, or at the deadline."""
    pause = POLL_SECONDS[0]
    while True:
        status = _status(client, resource_id)
        if status.get("status") not in states or time.monotonic() >= deadline:
            return status
        time.sleep(pause)
        pause = min(pause * 2, POLL_SECONDS[1])


def _status(client: CkanClient, resource_id: str) -> JsonObject:
    """``xloader_status`` of the resource (state, job, error), empty when it never had a job."""
    try:
        found = client.call("xloader_status", {"resource_id": resource_id})
    except NotFoundError:
        return {}
    return {key: found.get(key) for key in ("status", "job_id", "last_updated", "error")}


def _error_text(status: JsonObject) -> str:
    error = status.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error)[:300]
    return str(error or status.get("status") or "estado desconocido")[:300]
