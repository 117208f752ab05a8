"""Load a ``DatastoreTable`` (typed fields + Parquet rows) into the DataStore, exactly once.

Why one request per table
    CKAN's DataStore runs each ``datastore_create`` / ``datastore_upsert`` request in its own
    database transaction. A month loaded in several chunks is therefore visible half-loaded to any
    reader between chunks, and a chunk whose response is lost (a gateway 502/504, a client
    time-out) may or may not have been committed, so retrying it may insert its rows twice. A
    month sent as the ``records`` of a single ``datastore_create`` is neither: the table appears
    with all its rows in one commit or not at all. Whether a lost attempt landed is then a
    question with a clean answer (is there a table, with the expected fingerprint?), asked before
    every retry. The body is built from the Parquet file batch by batch and sent from a spooled
    temporary file, so the client never holds the month twice.

Verification
    After every load the table's ``TableFingerprint`` (row count and one checksum per column:
    sums of numbers, of text lengths, of day numbers) is read back with one
    ``datastore_search_sql`` and compared with the one computed from the Parquet file. A mismatch
    drops the table and loads it once more; a second mismatch is a ``TerminalError`` for the item.
    The same comparison decides whether an unchanged month's table is still intact.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from decimal import Decimal
from typing import IO

from transparencia.domain.jsontypes import JsonObject
from transparencia.errors import TerminalError
from transparencia.publishers.base import DatastoreTable, TableFingerprint
from transparencia.publishers.ckan_client import CkanClient, NotFoundError
from transparencia.publishers.tables import (
    canonical,
    checksum_expression,
    datastore_fields,
    expected_fingerprint,
    iter_record_chunks,
    local_checksum,
)

SQL_PAGE_ROWS = 32_000
SPOOL_BYTES = 64 << 20  # a request body larger than this is spooled to disk


def published_fingerprint(client: CkanClient, resource_id: str, table: DatastoreTable) -> TableFingerprint | None:
    """The table's fingerprint as CKAN holds it, or None when the resource has no table.

    One ``datastore_search_sql`` when the portal allows SQL search; else the checksum columns are
    paged through with ``datastore_search`` and summed here the same way.
    """
    columns = [(f.id, f.type, checksum_expression(f.id, f.type)) for f in table.fields]
    columns = [(column, kind, sql) for column, kind, sql in columns if sql]
    select = ", ".join(["count(*) AS n"] + [f'{sql} AS "c{i}"' for i, (_c, _k, sql) in enumerate(columns)])
    try:
        found = client.call("datastore_search_sql", {"sql": f'SELECT {select} FROM "{resource_id}"'})
    except NotFoundError:
        return None
    except TerminalError as error:
        if _is_missing_table(error):
            return None
        return _paged_fingerprint(client, resource_id, [(column, kind) for column, kind, _sql in columns])
    record = found["records"][0]
    return TableFingerprint(int(record["n"]), tuple((column, canonical(record[f"c{i}"]))
                                                    for i, (column, _k, _s) in enumerate(columns)))


def _paged_fingerprint(client: CkanClient, resource_id: str, columns: list[tuple[str, str]]) -> TableFingerprint | None:
    totals = {column: Decimal(0) for column, _kind in columns}
    rows, offset = 0, 0
    while True:
        try:
            page = client.call("datastore_search", {"resource_id": resource_id, "limit": SQL_PAGE_ROWS,
                                                    "offset": offset, "fields": [c for c, _k in columns] or ["_id"],
                                                    "sort": "_id"})
        except NotFoundError:
            return None
        records = page["records"]
        rows += len(records)
        for column, kind in columns:
            totals[column] += local_checksum([r.get(column) for r in records], kind)
        if len(records) < SQL_PAGE_ROWS:
            return TableFingerprint(rows, tuple((c, canonical(totals[c])) for c, _k in columns))
        offset += SQL_PAGE_ROWS


def _is_missing_table(error: TerminalError) -> bool:
    text = error.message.lower()
    return "does not exist" in text or "not found" in text or "no existe" in text


def published_dictionary(client: CkanClient, resource_id: str) -> list[JsonObject] | None:
    """The table's data dictionary (without ``_id``) as the portal answers it (shaped like
    ``tables.datastore_fields``), or None when there is no table."""
    try:
        found = client.call("datastore_search", {"resource_id": resource_id, "limit": 0})
    except NotFoundError:
        return None
    return [_dictionary_field(f) for f in found["fields"] if f["id"] != "_id"]


def _dictionary_field(found: JsonObject) -> JsonObject:
    info = found.get("info") or {}
    return {"id": found["id"], "type": found["type"], "info": {"label": info.get("label"), "notes": info.get("notes")}}


# --------------------------------------------------------------------------- loading


def _write_request_body(body: IO[bytes], resource_id: str, table: DatastoreTable) -> None:
    """The ``datastore_create`` JSON, written batch by batch."""
    head = {"resource_id": resource_id, "fields": datastore_fields(table), "force": True}
    if table.primary_key:
        head["primary_key"] = list(table.primary_key)
    body.write(json.dumps(head, ensure_ascii=False)[:-1].encode() + b', "records": [')
    first = True
    for records in iter_record_chunks(table):
        if not records:
            continue
        text = json.dumps(records, ensure_ascii=False, default=str)[1:-1]
        body.write((text if first else "," + text).encode())
        first = False
    body.write(b"]}")


def load_table(client: CkanClient, resource_id: str, table: DatastoreTable,
               expected: TableFingerprint | None = None) -> TableFingerprint:
    """Create the table behind ``resource_id`` with every row in one transaction, verified.

    Before each retry the table is looked up: present with the expected fingerprint means the lost
    attempt landed (done); present and different means it must go before the next attempt.
    """
    expected = expected or expected_fingerprint(table)
    for attempt in (1, 2):
        _create_once(client, resource_id, table, expected)
        found = published_fingerprint(client, resource_id, table)
        if found == expected:
            return expected
        if attempt == 2:
            differences = "; ".join(expected.differences(found)) if found else "no hay tabla"
            raise TerminalError(f"La tabla del DataStore no coincide con el mes validado tras recargarla ({differences}).")
        drop_table(client, resource_id)
    raise AssertionError("unreachable")


def _create_once(client: CkanClient, resource_id: str, table: DatastoreTable, expected: TableFingerprint) -> None:
    def landed() -> bool | None:
        found = published_fingerprint(client, resource_id, table)
        if found == expected:
            return True
        if found is not None:
            drop_table(client, resource_id)
        return None

    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
        _write_request_body(body, resource_id, table)
        try:
            client.call("datastore_create", body=body, before_retry=landed)
        except TerminalError:
            # a retry that raced a slow first attempt fails on the existing table: did the first land?
            if landed() is None:
                raise


def drop_table(client: CkanClient, resource_id: str) -> None:
    with contextlib.suppress(NotFoundError):
        client.call("datastore_delete", {"resource_id": resource_id, "force": True})
