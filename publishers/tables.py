"""What a published table must hold, computed from the month's Parquet rows: its fingerprint and dictionary.

A ``DatastoreTable`` is published as a queryable table (the CKAN DataStore) beside its files. The
``TableFingerprint`` (row count and one checksum per column: sums of numbers, of text lengths, of
day numbers) is computed here from the rows exactly as they are sent, so the manifest
(``publishers.verification``), the loader (``publishers.ckan_datastore``) and the read-back compare
the same numbers. The rows are read batch by batch, never all in memory.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transparencia.errors import InputError
from transparencia.publishers.base import Cell, DatastoreTable, DictionaryField, Record, TableFingerprint

BATCH_ROWS = 20_000
EPOCH = dt.date(1970, 1, 1)


def datastore_fields(table: DatastoreTable) -> list[DictionaryField]:
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


def iter_record_chunks(table: DatastoreTable, chunk_rows: int = BATCH_ROWS) -> Iterator[list[Record]]:
    """Rows of the Parquet file as JSON-ready dicts, ``chunk_rows`` at a time, never all in memory."""
    for batch in _parquet(table).iter_batches(batch_size=chunk_rows, columns=[f.id for f in table.fields]):
        yield _json_ready(batch).to_pylist()


def row_count(table: DatastoreTable) -> int:
    return pq.ParquetFile(table.rows_path).metadata.num_rows


def checksum_expression(field_id: str, kind: str) -> str | None:
    """SQL for a column's checksum, or None when the type has none (bool)."""
    column = '"' + field_id.replace('"', '""') + '"'
    return {
        "numeric": f"sum({column})", "int": f"sum({column})",
        "text": f"sum(length({column}))",
        "date": f"sum({column} - date '1970-01-01')",
    }.get(kind)


def local_checksum(values: Sequence[Cell], kind: str) -> Decimal:
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
    kinds = {f.id: f.type for f in table.fields if checksum_expression(f.id, f.type)}
    totals = dict.fromkeys(kinds, Decimal(0))
    rows = 0
    for records in iter_record_chunks(table):
        rows += len(records)
        for column, kind in kinds.items():
            totals[column] += local_checksum([r[column] for r in records], kind)
    return TableFingerprint(rows, tuple((c, canonical(totals[c])) for c in kinds))


def canonical(value: Cell | Decimal) -> str:
    number = Decimal(str(value if value is not None else 0))
    return format(number.normalize(), "f") if number else "0"
