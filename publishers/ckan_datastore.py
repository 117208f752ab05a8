"""Load a ``DatastoreTable`` (typed fields + Parquet rows) into the DataStore behind a resource.

Always into a fresh table (the publisher loads into a staging resource and switches it in only
when complete, see ``publishers.ckan``), so rows go in with ``method: insert`` — no per-row
primary-key lookups — in large chunks read from the Parquet file batch by batch, a few requests in
flight at once. The first request is ``datastore_create`` with the data dictionary (explicit types,
Spanish ``info.label``/``info.notes``): CKAN never guesses a type.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transparencia.errors import InputError
from transparencia.publishers.base import DatastoreTable
from transparencia.publishers.ckan_client import CkanClient


@dataclass(frozen=True)
class LoadOptions:
    chunk_rows: int = 20_000
    parallel_requests: int = 2


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


def iter_record_chunks(table: DatastoreTable, chunk_rows: int) -> Iterator[list[dict[str, Any]]]:
    """Rows of the Parquet file as JSON-ready dicts, ``chunk_rows`` at a time, never all in memory."""
    try:
        parquet = pq.ParquetFile(table.rows_path)
    except (OSError, pa.ArrowInvalid) as error:
        raise InputError(f"No se pudo leer el archivo de filas para el DataStore '{table.rows_path}': {error}") from error
    expected = [f.id for f in table.fields]
    missing = [name for name in expected if name not in parquet.schema_arrow.names]
    if missing:
        raise InputError(f"El archivo '{table.rows_path}' no tiene las columnas {missing} del diccionario de datos.")
    for batch in parquet.iter_batches(batch_size=chunk_rows, columns=expected):
        yield _json_ready(batch).to_pylist()


def row_count(table: DatastoreTable) -> int:
    return pq.ParquetFile(table.rows_path).metadata.num_rows


def load_fresh_table(client: CkanClient, resource_id: str, table: DatastoreTable,
                     options: LoadOptions = LoadOptions()) -> int:
    """Create the table behind ``resource_id`` with its data dictionary and insert every row."""
    chunks = iter_record_chunks(table, options.chunk_rows)
    first = next(chunks, [])
    create = {"resource_id": resource_id, "fields": datastore_fields(table), "records": first, "force": True}
    if table.primary_key:
        create["primary_key"] = list(table.primary_key)
    client.call("datastore_create", create)
    _insert_chunks(client, resource_id, chunks, options.parallel_requests)
    return row_count(table)


def _insert_chunks(client: CkanClient, resource_id: str, chunks: Iterator[list[dict[str, Any]]],
                   parallel: int) -> None:
    """Insert chunks with at most ``parallel`` requests (and chunks) in flight."""
    def insert(records: list[dict[str, Any]]) -> None:
        client.call("datastore_upsert", {"resource_id": resource_id, "records": records,
                                         "method": "insert", "force": True})

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        in_flight: list[Future] = []
        for records in chunks:
            if len(in_flight) >= parallel:
                in_flight.pop(0).result()
            in_flight.append(pool.submit(insert, records))
        for future in in_flight:
            future.result()
