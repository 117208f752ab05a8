"""The database connector: one parameterised, read-only query per item, read in chunks.

Any SQLAlchemy URL works (PostgreSQL, MySQL/MariaDB, SQL Server, SQLite); plain ``postgresql://``
and ``mysql://`` URLs are mapped to the installed drivers (psycopg 3 and PyMySQL). The query
receives two bound parameters, never string formatting:

    :period_start  the first day of the reporting month        (inclusive)
    :period_end    the first day of the following month       (exclusive)

so a query reads the half-open interval ``fecha >= :period_start AND fecha < :period_end``, which
keeps a timestamp late on the last day of the month and never counts a row in two months.

The query runs inside a read-only transaction (a query that writes fails, whatever the account's
rights), with explicit connect and statement time-outs, and its rows are fetched in chunks from a
server-side cursor. Result column names are then matched to the item's schema exactly like a
spreadsheet's headers, and the values normalised the same way.

Credentials come from an environment variable or a file, read at the moment of connecting; the URL
shown to people and stored in ``SourceRef.location`` has its password masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import NullPool

from transparencia.domain import Period
from transparencia.errors import ConfigError, InputError, TransientError, TransparenciaError
from transparencia.schemas.spec import Integer, Months, PathValue, Spec, Text
from transparencia.schemas.table import TableSchema
from transparencia.sources.extraction import Extraction, SourceRef
from transparencia.sources.headers import competing_columns, match_columns
from transparencia.sources.normalise import normalise_table, supply_period
from transparencia.sources.secrets import mask_url, resolve_secret, url_has_password

_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg",
            "mysql": "mysql+pymysql", "mariadb": "mysql+pymysql"}
# Connection failures that retrying cannot fix: wrong password, unknown database or user.
_TERMINAL_CONNECT = ("authentication failed", "access denied", "does not exist", "unknown database",
                     "no password supplied", "role ", "invalid password")
# The common driver failures (psycopg, PyMySQL) said in Spanish, checked in this order: PyMySQL's
# time-out also reads "Can't connect", and PostgreSQL's unknown role also "does not exist".
_DRIVER_REASONS = (
    (("timeout expired", "timed out"), "el servidor no respondió a tiempo"),
    (("connection refused", "errno 111"), "el servidor rechazó la conexión (¿está encendido y es el puerto correcto?)"),
    (("authentication failed", "access denied", "no password supplied", "invalid password", "role "),
     "el usuario o la contraseña no son válidos"),
    (("does not exist", "unknown database"), "la base de datos indicada no existe en el servidor"),
)


class DatabaseSettings(Spec):
    """How to reach a database. Exactly one of ``url``, ``url_env``, ``url_file``; a ``url`` written
    in the configuration has no password (give it with ``password_env`` or ``password_file``)."""

    url: Text | None = None
    url_env: Text | None = None
    url_file: PathValue | None = None
    password_env: Text | None = None
    password_file: PathValue | None = None
    connect_timeout: Integer = 10  # seconds
    query_timeout: Integer = 600  # seconds; an unattended monthly run must not hang
    chunk_size: Integer = 5000  # rows fetched per round trip
    probe_timeout: Integer = 5  # seconds: pre-flight's bound on connecting and on its trial query

    def check(self, where: str) -> None:
        given = [k for k in ("url", "url_env", "url_file") if getattr(self, k)]
        if len(given) != 1:
            raise ConfigError(f"{where}: indique uno solo de 'url', 'url_env' o 'url_file' (tiene: {', '.join(given) or 'ninguno'})")
        if self.url and url_has_password(self.url):
            raise ConfigError(f"{where}.url: la contraseña no puede ir en el archivo ({mask_url(self.url)}); "
                              "use 'password_env' o 'password_file', o la URL completa en 'url_env'")
        if self.password_env and self.password_file:
            raise ConfigError(f"{where}: indique 'password_env' o 'password_file', no ambos")
        for key in ("connect_timeout", "query_timeout", "chunk_size", "probe_timeout"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"{where}.{key}: debe ser un número entero positivo")

    def resolve_url(self, base_dir: Path, what: str) -> URL:
        """The full URL, password included, read from the environment or files now."""
        if self.url:
            text = self.url
        else:
            url_file = None if self.url_file is None else _under(base_dir, self.url_file)
            text = resolve_secret(env=self.url_env, file=url_file, what=what)
        try:
            url = make_url(text)
        except (sa_exc.ArgumentError, ValueError):
            raise ConfigError(f"{what}: la URL de la base de datos no es válida ({mask_url(text)})") from None
        url = with_driver(url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            url = url.set(database=str(_under(base_dir, Path(url.database))))
        if self.password_env or self.password_file:
            password_file = None if self.password_file is None else _under(base_dir, self.password_file)
            url = url.set(password=resolve_secret(env=self.password_env, file=password_file, what=what))
        return url


class DatabaseItemOptions(Spec):
    """The query feeding one item. It must use both ``:period_start`` and ``:period_end``."""

    query: Text
    empty_periods: Months = ()  # months declared without movements: a query cannot say so itself

    def check(self, where: str) -> None:
        for marker in ("{period", "{year", "{month", "%s", "%("):
            if marker in self.query:
                raise ConfigError(f"{where}.query: no use '{marker}' en la consulta; el período llega como "
                                  "parámetros :period_start y :period_end")
        for name in (":period_start", ":period_end"):
            if name not in self.query:
                raise ConfigError(f"{where}.query: la consulta debe usar {name} "
                                  "(p. ej. WHERE fecha >= :period_start AND fecha < :period_end)")

    @property
    def sql(self) -> str:
        """The query as sent: without trailing semicolons (a server-side cursor rejects them), and
        with PostgreSQL casts written ``:period_start::date`` kept as casts of the parameter."""
        query = self.query.strip().rstrip(";").strip()
        return re.sub(r":(period_start|period_end)::", r":\1 ::", query)


def with_driver(url: URL) -> URL:
    """Plain ``postgresql://`` and ``mysql://`` URLs use the installed drivers (psycopg 3, PyMySQL)."""
    return url.set(drivername=_DRIVERS.get(url.drivername, url.drivername))


def display_url(url: URL) -> str:
    return mask_url(url.render_as_string(hide_password=False))


def read_query(url: URL, sql: str, period: Period, *, context: str, connect_timeout: int = 10,
               query_timeout: int = 600, chunk_size: int = 5000) -> pd.DataFrame:
    """Run one query read-only and return its rows as they came (column names as the database gives
    them, values untouched); the index is the 1-based record number."""
    url = with_driver(url)
    shown = display_url(url)
    with _connected(url, context, connect_timeout, query_timeout) as connection:
        try:
            _begin_read_only(connection)
            # yield_per implies stream_results: a server-side cursor, fetched chunk_size rows at a time
            result = connection.execute(sa.text(sql), {"period_start": period.start, "period_end": period.end},
                                        execution_options={"yield_per": chunk_size})
            if not result.returns_rows:
                raise InputError(f"{context}: la consulta no devuelve filas; debe ser un SELECT ({shown})")
            columns = list(result.keys())
            chunks = [pd.DataFrame(list(part), columns=columns, dtype=object) for part in result.partitions(chunk_size)]
        except sa_exc.StatementError as exc:
            raise _query_error(exc, context, shown) from None
        finally:
            connection.rollback()
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=columns, dtype=object)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def check_database(settings: DatabaseSettings, *, base_dir: Path, context: str, directorate: str) -> None:
    """Pre-flight: read the secrets, connect and run ``SELECT 1``, each bounded by ``probe_timeout``.

    A database that cannot be read now (a missing secret, a wrong user, password or database, a server
    that refuses or does not answer) will not be read by the run either: it is a configuration error
    to fix before the month is published, so the run stops before anything public is rewritten. The
    bound covers reading too, so a server that accepts the connection and never answers costs
    seconds, not the query time-out. The officer's message names the source and the reason in
    Spanish; the public one only the directorate."""
    public = f"No se pudo leer la base de datos de {directorate}."
    try:
        url = settings.resolve_url(base_dir, context)
        _probe(url, context, settings.probe_timeout)
    except TransparenciaError as exc:
        raise ConfigError(exc.message, public) from None


def _probe(url: URL, context: str, timeout: int) -> None:
    with _connected(url, context, timeout, timeout) as connection:
        try:
            connection.exec_driver_sql("SELECT 1").scalar()
        except sa_exc.StatementError as exc:
            raise _query_error(exc, context, display_url(url)) from None


@contextmanager
def _connected(url: URL, context: str, connect_timeout: int, query_timeout: int) -> Iterator[Connection]:
    """One connection, its failure to open said in Spanish, and the engine disposed of afterwards (a
    run reads each source once: no pool is worth keeping)."""
    engine = _engine(url, context, connect_timeout, query_timeout)
    try:
        try:
            connection = engine.connect()
        except sa_exc.DBAPIError as exc:
            raise _connect_error(exc, context, display_url(url)) from None
        with connection:
            yield connection
    finally:
        engine.dispose()


def extract_database(settings: DatabaseSettings, options: DatabaseItemOptions, schema: TableSchema,
                     item_code: str, period: Period, *, base_dir: Path, context: str, directorate: str | None = None,
                     on_raw: Callable[[pd.DataFrame, str], None] | None = None,
                     recall: Callable[[Callable[[], Extraction]], Extraction] | None = None) -> Extraction:
    """Read an item from a database into its schema. ``on_raw(frame, masked_url)`` sees the rows
    exactly as returned, before any mapping (the raw-input archive hooks in here); ``recall(convert)``
    may answer the mapped and typed rows from a memo instead of calling ``convert`` (``sources.memo``)."""
    try:
        url = settings.resolve_url(base_dir, context)
    except ConfigError as exc:  # the officer sees the variable or file; the public, only what failed
        raise ConfigError(exc.message, f"{context}: no se pudo leer la base de datos.") from None
    raw = read_query(url, options.sql, period, context=context, connect_timeout=settings.connect_timeout,
                     query_timeout=settings.query_timeout, chunk_size=settings.chunk_size)
    if on_raw is not None:
        on_raw(raw, display_url(url))
    source = SourceRef(kind="database", location=display_url(url), directorate=directorate)

    def convert() -> Extraction:
        return frame_to_extraction(raw, schema, item_code, source, context, period)

    return convert() if recall is None else recall(convert)


def frame_to_extraction(raw: pd.DataFrame, schema: TableSchema, item_code: str, source: SourceRef,
                        context: str, period: Period) -> Extraction:
    """Map result columns to the schema and normalise values, as for a spreadsheet.

    Exact ``NUMERIC`` values arrive as ``Decimal`` and become floats like every other amount. A query
    that does not select ``periodo`` gets the period it was run for (recorded as a coercion).
    """
    headers = [str(c) for c in raw.columns]
    match = match_columns(headers, schema)
    if not match.positions:
        raise InputError(f"{context}: ninguna columna de la consulta corresponde al esquema '{schema.name}' "
                         f"(columnas: {', '.join(headers) or 'ninguna'}; esperadas: {', '.join(schema.field_names)})")
    competing = competing_columns(match, headers, schema, lambda i: f"columna {i + 1}")
    if competing:
        raise InputError(f"{context}: hay columnas de la consulta que compiten por el mismo dato: {competing}. "
                         "Deje una sola en el SELECT o renómbrela con AS.")
    mapped = pd.DataFrame({name: raw.iloc[:, position].map(_plain) for name, position in match.positions.items()},
                          index=raw.index)
    missing, filled = supply_period(mapped, list(match.missing), period)
    frame, coercions, failures = normalise_table(mapped, schema)
    return Extraction(
        item=item_code, frame=frame, source=source, header_row=None,
        column_map=dict(match.column_map), missing_columns=missing,
        ignored_columns=list(match.ignored), coercions=filled + coercions, failures=failures,
    )


def _plain(value: object) -> object:
    return float(value) if isinstance(value, Decimal) else value


def _under(base_dir: Path, path: Path) -> Path:
    return path if path.is_absolute() else base_dir / path


def _engine(url: URL, context: str, connect_timeout: int, query_timeout: int) -> sa.Engine:
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or not Path(database).is_file():
            raise InputError(f"{context}: no existe la base de datos SQLite '{database}'")
        connect_args: dict = {"timeout": connect_timeout}
    elif backend == "postgresql":
        connect_args = {"connect_timeout": connect_timeout,
                        "options": f"-c statement_timeout={query_timeout * 1000}"}
    elif backend == "mysql":
        connect_args = {"connect_timeout": connect_timeout, "read_timeout": query_timeout}
    elif backend == "mssql":
        connect_args = {"timeout": connect_timeout}
    else:
        connect_args = {}
    try:
        return sa.create_engine(url, connect_args=connect_args, poolclass=NullPool)
    except (sa_exc.NoSuchModuleError, sa_exc.ArgumentError, ImportError):
        raise ConfigError(f"{context}: no hay controlador para la base de datos '{url.drivername}' "
                          f"({display_url(url)}); use postgresql, mysql, mssql o sqlite") from None


def _begin_read_only(connection: Connection) -> None:
    """Make the transaction read-only before the query runs, so a query that writes fails."""
    backend = connection.dialect.name
    if backend == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif backend == "mysql":
        connection.exec_driver_sql("START TRANSACTION READ ONLY")
    elif backend == "sqlite":
        connection.exec_driver_sql("PRAGMA query_only = ON")
    # SQL Server has no per-transaction read-only switch; give the source a login with read rights only.


def _first_line(exc: sa_exc.StatementError) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def _in_spanish(reason: str) -> str:
    """The driver's reason in Spanish when it is a common one; otherwise as the driver gave it."""
    lowered = reason.lower()
    return next((spanish for markers, spanish in _DRIVER_REASONS if any(m in lowered for m in markers)), reason)


def _connect_error(exc: sa_exc.DBAPIError, context: str, shown: str) -> Exception:
    reason = _first_line(exc)
    message = f"{context}: no se pudo conectar a la base de datos {shown}: {_in_spanish(reason)}"
    public = f"{context}: no se pudo conectar con la base de datos."
    if any(marker in reason.lower() for marker in _TERMINAL_CONNECT):
        return InputError(message, public)
    return TransientError(message, public)


def _query_error(exc: sa_exc.StatementError, context: str, shown: str) -> Exception:
    reason = _first_line(exc)
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return TransientError(f"{context}: se perdió la conexión con la base de datos {shown}: {reason}",
                              f"{context}: se perdió la conexión con la base de datos.")
    return InputError(f"{context}: falló la consulta en {shown}: {reason}",
                      f"{context}: falló la consulta a la base de datos.")
