"""Load a ``DatastoreTable`` (typed fields + Parquet rows) into the DataStore, exactly once.

Bounded requests, into a table the public cannot see
    A month is loaded into a resource of the dataset's private staging dataset
    (``publishers.ckan_staging``), so nobody but the publisher reads the table while it fills: it
    is attached to the public dataset only once it is complete and verified. The table is created
    empty (fields and primary key), then filled by ``datastore_upsert`` inserts whose JSON bodies
    stay under ``max_body`` bytes (``MAX_BODY_BYTES`` by default): portals sit behind proxies that
    refuse larger bodies (often 1–10 MB), and a 100k-row month is about 20 MB of JSON.

Exactly once
    Each insert runs in its own CKAN transaction. Only this run writes to the staging table (the
    portal lease), so whether an insert whose answer was lost landed has a clean answer: the
    table's row count is either what it was before the insert (retry it) or that plus the
    insert's rows (it landed). The count is read before every retry.

Verification
    After every load the table's ``TableFingerprint`` (row count and one checksum per column:
    sums of numbers, of text lengths, of day numbers) is read back with one
    ``datastore_search_sql`` and compared with the one computed from the Parquet file. A mismatch
    drops the table and loads it once more; a second mismatch is a ``TerminalError`` for the item.
    The same comparison decides whether an unchanged month's table is still intact.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

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
MAX_BODY_BYTES = 4_000_000  # the largest request body a load sends by default (``publish.ckan.max_body_mb``)


@dataclass(frozen=True)
class BoundedInserts:
    """How any portal with the DataStore has a table loaded: ``datastore_upsert`` inserts of at most
    ``max_body`` bytes (``load_table``). A portal that can do better is a subclass (``ckan_xloader``)."""

    max_body: int = MAX_BODY_BYTES


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


def _create_head(resource_id: str, table: DatastoreTable) -> JsonObject:
    head: JsonObject = {"resource_id": resource_id, "fields": datastore_fields(table), "force": True}
    if table.primary_key:
        head["primary_key"] = list(table.primary_key)
    return head


def insert_bodies(resource_id: str, table: DatastoreTable, max_body: int = MAX_BODY_BYTES) -> Iterator[tuple[bytes, int]]:
    """The ``datastore_upsert`` insert bodies of the table's rows, each at most ``max_body`` bytes,
    with the number of rows each carries."""
    head = json.dumps({"resource_id": resource_id, "method": "insert", "force": True}, ensure_ascii=False)
    opening = head[:-1].encode() + b', "records": ['
    room = max_body - len(opening) - 2
    parts: list[bytes] = []
    size = 0
    for records in iter_record_chunks(table):
        for record in records:
            encoded = json.dumps(record, ensure_ascii=False, default=str).encode()
            if len(encoded) > room:
                raise TerminalError(f"Una fila ocupa {len(encoded):,} bytes, más que el máximo por petición "
                                    f"({max_body:,}); aumente publish.ckan.max_body_mb.")
            if parts and size + len(encoded) + 1 > room:
                yield opening + b",".join(parts) + b"]}", len(parts)
                parts, size = [], 0
            parts.append(encoded)
            size += len(encoded) + 1
    if parts:
        yield opening + b",".join(parts) + b"]}", len(parts)


def load_table(client: CkanClient, resource_id: str, table: DatastoreTable,
               expected: TableFingerprint | None = None, *, max_body: int = MAX_BODY_BYTES) -> TableFingerprint:
    """Create the table behind ``resource_id`` in bounded inserts, verified (see the module doc).

    A table the resource already has (a lost attempt's) is dropped first: the staging resource is
    this run's own."""
    expected = expected or expected_fingerprint(table)
    for attempt in (1, 2):
        _load_once(client, resource_id, table, max_body)
        found = published_fingerprint(client, resource_id, table)
        if found == expected:
            return expected
        if attempt == 2:
            differences = "; ".join(expected.differences(found)) if found else "no hay tabla"
            raise TerminalError(f"La tabla del DataStore no coincide con el mes validado tras recargarla ({differences}).")
        drop_table(client, resource_id)
    raise AssertionError("unreachable")


def row_total(client: CkanClient, resource_id: str) -> int | None:
    """The table's row count, or None when the resource has no table."""
    try:
        return int(client.call("datastore_search", {"resource_id": resource_id, "limit": 0})["total"])
    except NotFoundError:
        return None


def _load_once(client: CkanClient, resource_id: str, table: DatastoreTable, max_body: int) -> None:
    if row_total(client, resource_id) is not None:
        drop_table(client, resource_id)
    client.call("datastore_create", _create_head(resource_id, table),
                before_retry=lambda: True if row_total(client, resource_id) == 0 else None)
    rows = 0
    for body, count in insert_bodies(resource_id, table, max_body):
        before = rows

        def landed(before: int = before, count: int = count) -> bool | None:
            return True if row_total(client, resource_id) == before + count else None

        with io.BytesIO(body) as stream:
            client.call("datastore_upsert", body=stream, before_retry=landed)
        rows += count


def drop_table(client: CkanClient, resource_id: str) -> None:
    with contextlib.suppress(NotFoundError):
        client.call("datastore_delete", {"resource_id": resource_id, "force": True})
