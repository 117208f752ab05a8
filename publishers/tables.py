"""What a published table must hold, computed from the month's Parquet rows: its fingerprint and dictionary.

A ``DatastoreTable`` is published as a queryable table (the CKAN DataStore) beside its files. The
``TableFingerprint`` (row count and one checksum per column: sums of numbers, of text lengths, of
day numbers) is computed here from the rows exactly as they are sent, so the manifest
(``publishers.verification``), the loader (``publishers.ckan_datastore``) and the read-back compare
the same numbers. The rows are read batch by batch, never all in memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transparencia.domain.jsontypes import JsonObject
from transparencia.errors import InputError
from transparencia.publishers.base import Cell, DatastoreTable, DictionaryField, Record, TableFingerprint

BATCH_ROWS = 20_000
EPOCH = dt.date(1970, 1, 1)


def datastore_fields(table: DatastoreTable) -> list[DictionaryField]:
    """The data dictionary as CKAN stores it: id, explicit type, and Spanish label/notes."""
    return [{"id": f.id, "type": f.type, "info": {"label": f.label, "notes": f.notes}} for f in table.fields]


TYPE_ALIASES = {"int": "int4", "integer": "int4", "bigint": "int8", "float": "float8", "boolean": "bool"}


def comparable_fields(fields: Sequence[DictionaryField] | Sequence[JsonObject]) -> list[JsonObject]:
    """Dictionary fields as they compare with what a DataStore answers: it reports the Postgres name
    of a type ("int4" for "int")."""
    return [{**f, "type": TYPE_ALIASES.get(f["type"], f["type"])} for f in fields]


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
    for batch in _parquet(table).iter_batches(batch_size=BATCH_ROWS, columns=list(kinds) or None):
        rows += batch.num_rows
        for column, kind in kinds.items():
            totals[column] += column_checksum(batch.column(column), kind)
    return TableFingerprint(rows, tuple((c, canonical(totals[c])) for c in kinds))


def column_checksum(column: pa.Array, kind: str) -> Decimal:
    """``local_checksum`` of the column's JSON-ready values, computed on the Arrow column: amounts as
    whole hundredths, other numbers once per distinct value (times its count), text lengths and day
    numbers summed by Arrow; anything else value by value."""
    if kind in ("numeric", "int") and pa.types.is_floating(column.type) and (cents := _exact_cents(column)) is not None:
        return Decimal(cents) / 100
    if kind in ("numeric", "int") and (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        counts = pc.value_counts(column).to_pylist()
        return sum((local_checksum([c["values"]], kind) * c["counts"] for c in counts
                    if c["values"] is not None and c["values"] == c["values"]), Decimal(0))
    if kind == "text" and pa.types.is_string(column.type):
        return Decimal(pc.sum(pc.utf8_length(column)).as_py() or 0)
    if kind == "date" and pa.types.is_string(column.type):  # ISO dates, as a DataStore's rows hold them
        with contextlib.suppress(pa.ArrowInvalid):
            days = pc.utf8_slice_codeunits(column, 0, 10).cast(pa.date32()).cast(pa.int32())
            return Decimal(pc.sum(days).as_py() or 0)
    return local_checksum(_json_ready(pa.RecordBatch.from_arrays([column], names=["c"])).column(0).to_pylist(), kind)


def _exact_cents(column: pa.Array) -> int | None:
    """The sum of the column's numbers in hundredths, exactly, when every number is a whole number of
    hundredths (amounts): then each float is the double nearest to ``n / 100``, and its shortest
    ``repr`` is that decimal (two decimals of at most 15 digits never share a double; the total is kept
    under 10**15 hundredths, so every number is). None otherwise."""
    values = column.to_numpy(zero_copy_only=False)
    values = values[~np.isnan(values)]
    hundredths = np.rint(values * 100)
    if not np.array_equal(hundredths / 100, values) or np.abs(hundredths).sum() >= 1e15:
        return None
    return int(hundredths.astype(np.int64).sum())


def canonical(value: Cell | Decimal) -> str:
    number = Decimal(str(value if value is not None else 0))
    return format(number.normalize(), "f") if number else "0"
