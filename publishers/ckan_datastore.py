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
import datetime as dt
import functools
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import ckanapi
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transparencia.errors import InputError, TerminalError
from transparencia.publishers.base import DatastoreTable
from transparencia.publishers.ckan_client import CkanClient

BATCH_ROWS = 20_000
SQL_PAGE_ROWS = 32_000
EPOCH = dt.date(1970, 1, 1)
SPOOL_BYTES = 64 << 20  # a request body larger than this is spooled to disk


@dataclass(frozen=True)
class TableFingerprint:
    """Row count and one checksum per column: what must match between the month and its table."""

    rows: int
    checksums: tuple[tuple[str, str], ...]  # (column, exact decimal text), in field order

    def differences(self, other: TableFingerprint) -> list[str]:
        """Spanish descriptions of what differs (empty when equal)."""
        found = [] if self.rows == other.rows else [f"filas: se esperaban {self.rows}, hay {other.rows}"]
        theirs = dict(other.checksums)
        for column, value in self.checksums:
            if Decimal(value) != Decimal(theirs.get(column, "NaN")):
                found.append(f"suma de control de '{column}': se esperaba {value}, hay {theirs.get(column)}")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {"filas": self.rows, "sumas": dict(self.checksums)}


def datastore_fields(table: DatastoreTable) -> list[dict[str, Any]]:
    """The data dictionary as CKAN stores it: id, explicit type, and Spanish label/notes."""
    return [{"id": f.id, "type": f.type, "info": {"label": f.label, "notes": f.notes}} for f in table.fields]


def _json_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Dates, timestamps and decimals as ISO/decimal strings; ints, floats, bools and text as is."""
    columns = []
    for column in batch.columns:
        kind = column.type
        if pa.types.is_temporal(kind) or pa.types.is_decimal(kind):
            column = pc.cast(column, pa.string())
        elif pa.types.is_floating(kind):
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, kind), column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _parquet(table: DatastoreTable) -> pq.ParquetFile:
    try:
        parquet = pq.ParquetFile(table.rows_path)
    except (OSError, pa.ArrowInvalid) as error:
        raise InputError(f"No se pudo leer el archivo de filas para el DataStore '{table.rows_path}': {error}") from error
    missing = [f.id for f in table.fields if f.id not in parquet.schema_arrow.names]
    if missing:
        raise InputError(f"El archivo '{table.rows_path}' no tiene las columnas {missing} del diccionario de datos.")
    return parquet


def iter_record_chunks(table: DatastoreTable, chunk_rows: int = BATCH_ROWS) -> Iterator[list[dict[str, Any]]]:
    """Rows of the Parquet file as JSON-ready dicts, ``chunk_rows`` at a time, never all in memory."""
    for batch in _parquet(table).iter_batches(batch_size=chunk_rows, columns=[f.id for f in table.fields]):
        yield _json_ready(batch).to_pylist()


def row_count(table: DatastoreTable) -> int:
    return pq.ParquetFile(table.rows_path).metadata.num_rows


# --------------------------------------------------------------------------- fingerprints


def _checksum_expression(field_id: str, kind: str) -> str | None:
    """SQL for a column's checksum, or None when the type has none (bool)."""
    column = '"' + field_id.replace('"', '""') + '"'
    return {
        "numeric": f"sum({column})", "int": f"sum({column})",
        "text": f"sum(length({column}))",
        "date": f"sum({column} - date '1970-01-01')",
    }.get(kind)


def _local_checksum(values: list[Any], kind: str) -> Decimal:
    present = [v for v in values if v is not None]
    if kind in ("numeric", "int"):
        return sum((Decimal(repr(v)) if isinstance(v, float) else Decimal(str(v)) for v in present), Decimal(0))
    if kind == "text":
        return Decimal(sum(len(str(v)) for v in present))
    return Decimal(sum((dt.date.fromisoformat(str(v)[:10]) - EPOCH).days for v in present))


def expected_fingerprint(table: DatastoreTable) -> TableFingerprint:
    """The fingerprint of the rows as they are sent (the same JSON-ready values), from the Parquet file.

    Cached per file version: the manifest, the publisher and the verification ask for the same one."""
    stat = table.rows_path.stat()
    return _fingerprint_of(table, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _fingerprint_of(table: DatastoreTable, _mtime_ns: int, _size: int) -> TableFingerprint:
    kinds = {f.id: f.type for f in table.fields if _checksum_expression(f.id, f.type)}
    totals = dict.fromkeys(kinds, Decimal(0))
    rows = 0
    for records in iter_record_chunks(table):
        rows += len(records)
        for column, kind in kinds.items():
            totals[column] += _local_checksum([r[column] for r in records], kind)
    return TableFingerprint(rows, tuple((c, _canonical(totals[c])) for c in kinds))


def _canonical(value: Any) -> str:
    number = Decimal(str(value if value is not None else 0))
    return format(number.normalize(), "f") if number else "0"


def published_fingerprint(client: CkanClient, resource_id: str, table: DatastoreTable) -> TableFingerprint | None:
    """The table's fingerprint as CKAN holds it, or None when the resource has no table.

    One ``datastore_search_sql`` when the portal allows SQL search; else the checksum columns are
    paged through with ``datastore_search`` and summed here the same way.
    """
    columns = [(f.id, f.type, _checksum_expression(f.id, f.type)) for f in table.fields]
    columns = [(column, kind, sql) for column, kind, sql in columns if sql]
    select = ", ".join(["count(*) AS n"] + [f'{sql} AS "c{i}"' for i, (_c, _k, sql) in enumerate(columns)])
    try:
        found = client.call("datastore_search_sql", {"sql": f'SELECT {select} FROM "{resource_id}"'})
    except ckanapi.NotFound:
        return None
    except TerminalError as error:
        if _is_missing_table(error):
            return None
        return _paged_fingerprint(client, resource_id, [(column, kind) for column, kind, _sql in columns])
    record = found["records"][0]
    return TableFingerprint(int(record["n"]), tuple((column, _canonical(record[f"c{i}"]))
                                                    for i, (column, _k, _s) in enumerate(columns)))


def _paged_fingerprint(client: CkanClient, resource_id: str, columns: list[tuple[str, str]]) -> TableFingerprint | None:
    totals = {column: Decimal(0) for column, _kind in columns}
    rows, offset = 0, 0
    while True:
        try:
            page = client.call("datastore_search", {"resource_id": resource_id, "limit": SQL_PAGE_ROWS,
                                                    "offset": offset, "fields": [c for c, _k in columns] or ["_id"],
                                                    "sort": "_id"})
        except ckanapi.NotFound:
            return None
        records = page["records"]
        rows += len(records)
        for column, kind in columns:
            totals[column] += _local_checksum([r.get(column) for r in records], kind)
        if len(records) < SQL_PAGE_ROWS:
            return TableFingerprint(rows, tuple((c, _canonical(totals[c])) for c, _k in columns))
        offset += SQL_PAGE_ROWS


def _is_missing_table(error: TerminalError) -> bool:
    text = error.message.lower()
    return "does not exist" in text or "not found" in text or "no existe" in text


def published_dictionary(client: CkanClient, resource_id: str) -> list[dict[str, Any]] | None:
    """The table's data dictionary (without ``_id``), or None when there is no table."""
    try:
        found = client.call("datastore_search", {"resource_id": resource_id, "limit": 0})
    except ckanapi.NotFound:
        return None
    return [{"id": f["id"], "type": f["type"], "info": {k: (f.get("info") or {}).get(k) for k in ("label", "notes")}}
            for f in found["fields"] if f["id"] != "_id"]


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
    with contextlib.suppress(ckanapi.NotFound):
        client.call("datastore_delete", {"resource_id": resource_id, "force": True})
