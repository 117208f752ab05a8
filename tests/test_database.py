"""The database connector against the real PostgreSQL and MariaDB on this machine, and SQLite.

Each server gets a uniquely named database for the session (created here, dropped after) holding
a realistic ejecución presupuestaria extract: January 2025 rows, a December and a February row
outside the period, and amounts as exact NUMERIC values.
"""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from institutions import write_institution

from transparencia.domain import Period
from transparencia.errors import ConfigError, InputError, TransientError
from transparencia.schemas.catalog import load_catalog
from transparencia.sources.database import (
    DatabaseItemOptions,
    DatabaseSettings,
    check_database,
    extract_database,
    read_query,
)

pytestmark = pytest.mark.databases

PERIOD = Period.parse("2025-01")
CONTEXT = "Dirección de Finanzas, fuente 'finanzas-db', punto 10.2 (Ejecución presupuestaria)"
QUERY = """
    SELECT tipo_presupuesto AS "Tipo de presupuesto", programa AS "Programa", subprograma AS "Actividad",
           fuente AS "Fuente de financiamiento", objeto_gasto AS "Objeto del gasto",
           descripcion AS "Descripción del objeto", presupuesto_ley, presupuesto_modificado, asignado,
           compromiso, devengado, pagado, saldo, porcentaje_ejecucion
    FROM ejecucion_presupuestaria
    WHERE fecha_corte >= :period_start AND fecha_corte < :period_end
    ORDER BY id;
"""
OBJECTS = [("001", "Personal fijo"), ("030", "Gastos de representación fijos"), ("101", "Alquiler de edificios"),
           ("141", "Viáticos dentro del país"), ("201", "Alimentos para consumo humano")]


def budget_rows() -> list[dict]:
    """25 January rows (the last one at 23:59 on the 31st), plus one row each side of the month."""
    rows = []
    for i in range(25):
        code, description = OBJECTS[i % len(OBJECTS)]
        ley = Decimal(100000 + 2500 * i) + Decimal("0.25")
        rows.append({
            "fecha_corte": dt.datetime(2025, 1, 31, 23, 59) if i == 24 else dt.datetime(2025, 1, 31),
            "tipo_presupuesto": "Funcionamiento" if i < 20 else "Inversión",
            "programa": f"0{1 + i // 10} Dirección y Administración", "subprograma": f"Actividad {i}",
            "fuente": "Fondo General", "objeto_gasto": code, "descripcion": description,
            "presupuesto_ley": ley, "presupuesto_modificado": ley, "asignado": ley / 2,
            "compromiso": ley / 4, "devengado": ley / 5, "pagado": ley / 10, "saldo": ley / 2,
            "porcentaje_ejecucion": Decimal("20.00"),
        })
    outside = dict(rows[0], fecha_corte=dt.datetime(2024, 12, 31, 23, 59, 59), subprograma="Diciembre")
    after = dict(rows[0], fecha_corte=dt.datetime(2025, 2, 1), subprograma="Febrero")
    return [outside, *rows, after]


def create_budget_table(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    money = sa.Numeric(14, 2)
    table = sa.Table(
        "ejecucion_presupuestaria", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fecha_corte", sa.DateTime, nullable=False),
        sa.Column("tipo_presupuesto", sa.String(40)), sa.Column("programa", sa.String(120)),
        sa.Column("subprograma", sa.String(120)), sa.Column("fuente", sa.String(60)),
        sa.Column("objeto_gasto", sa.String(3)), sa.Column("descripcion", sa.String(200)),
        *(sa.Column(name, money) for name in ("presupuesto_ley", "presupuesto_modificado", "asignado",
                                              "compromiso", "devengado", "pagado", "saldo")),
        sa.Column("porcentaje_ejecucion", sa.Numeric(5, 2)),
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), budget_rows())


@pytest.fixture(scope="module")
def postgres_url() -> sa.URL:
    name = f"transparencia_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(f"postgresql://postgres@127.0.0.1:5432/{name}")
    engine = sa.create_engine(url.set(drivername="postgresql+psycopg"))
    create_budget_table(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE SEQUENCE contador")
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="module")
def mariadb_url() -> sa.URL:
    name = f"transparencia_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    url = sa.make_url(f"mysql://root@127.0.0.1:3306/{name}?charset=utf8mb4")
    engine = sa.create_engine(url.set(drivername="mysql+pymysql"))
    create_budget_table(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE `{name}`")
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> sa.URL:
    path = tmp_path / "contabilidad.sqlite"
    create_budget_table(sa.create_engine(f"sqlite:///{path}"))
    return sa.make_url(f"sqlite:///{path}")


@pytest.fixture(params=["postgres", "mariadb", "sqlite"])
def database_url(request) -> sa.URL:
    return request.getfixturevalue({"postgres": "postgres_url", "mariadb": "mariadb_url",
                                    "sqlite": "sqlite_url"}[request.param])


def settings_for(url: sa.URL, **overrides) -> DatabaseSettings:
    return DatabaseSettings(url=url.render_as_string(hide_password=False), **overrides)


def extract(url: sa.URL, query: str = QUERY, **overrides):
    schema = load_catalog().get("10.2").table_schema()
    return extract_database(settings_for(url, **overrides), DatabaseItemOptions(query=query), schema, "10.2",
                            PERIOD, base_dir=Path.cwd(), context=CONTEXT, directorate="Dirección de Finanzas")


def test_period_query_maps_columns_and_types_like_a_spreadsheet(database_url):
    extraction = extract(database_url)
    frame = extraction.frame
    assert extraction.rows == 25  # December and February rows are outside [2025-01-01, 2025-02-01)
    assert list(frame.index) == list(range(1, 26))  # 1-based record numbers
    assert extraction.missing_columns == []
    assert extraction.column_map["objeto_gasto"] == "Objeto del gasto"
    assert list(frame["objeto_gasto"][:3]) == ["001", "030", "101"]  # leading zeros kept
    assert frame["presupuesto_ley"].dtype == "float64"
    assert frame["presupuesto_ley"].iloc[1] == pytest.approx(102500.25)
    assert set(frame["periodo"]) == {"2025-01"}
    assert any(c.column == "periodo" and c.kind == "period_from_run" for c in extraction.coercions)
    assert frame["subprograma"].iloc[24] == "Actividad 24"  # 23:59 on the last day is in the month
    assert extraction.failures == []
    assert extraction.source.kind == "database"


def test_small_chunks_return_every_row_in_order(database_url):
    raw = read_query(database_url, DatabaseItemOptions(query=QUERY).sql, PERIOD, context=CONTEXT, chunk_size=4)
    assert len(raw) == 25
    assert list(raw["Actividad"]) == [f"Actividad {i}" for i in range(25)]
    assert list(raw.index) == list(range(1, 26))


def test_empty_month_gives_an_empty_frame_with_the_columns(database_url):
    raw = read_query(database_url, DatabaseItemOptions(query=QUERY).sql, Period.parse("2023-06"), context=CONTEXT)
    assert raw.empty
    assert "Objeto del gasto" in raw.columns


def test_a_query_that_writes_fails_in_the_read_only_transaction(postgres_url, mariadb_url, sqlite_url):
    writes = {
        postgres_url: "SELECT nextval('contador') AS n WHERE :period_start < :period_end",
        mariadb_url: ("INSERT INTO ejecucion_presupuestaria (fecha_corte, programa) "
                      "SELECT :period_start, 'escrito' FROM DUAL WHERE :period_start < :period_end"),
        sqlite_url: ("INSERT INTO ejecucion_presupuestaria (fecha_corte, programa) "
                     "SELECT :period_start, 'escrito' WHERE :period_start < :period_end"),
    }
    for url, query in writes.items():
        with pytest.raises(InputError) as caught:
            read_query(url, query, PERIOD, context=CONTEXT)
        message = caught.value.message
        assert message.startswith(CONTEXT) and "falló la consulta" in message
        assert ("read" in message.lower() and "only" in message.lower()) or "readonly" in message.lower()
        engine = sa.create_engine(url.set(drivername={"postgresql": "postgresql+psycopg",
                                                      "mysql": "mysql+pymysql"}.get(url.drivername, url.drivername)))
        with engine.connect() as connection:
            written = connection.exec_driver_sql(
                "SELECT COUNT(*) FROM ejecucion_presupuestaria WHERE programa = 'escrito'").scalar()
        engine.dispose()
        assert written == 0


def test_unreachable_database_is_transient_and_names_the_source():
    url = sa.make_url("postgresql://lector:clave-SECRETA@127.0.0.1:1/siafpa")
    with pytest.raises(TransientError) as caught:
        read_query(url.set(drivername="postgresql+psycopg"), "SELECT 1", PERIOD, context=CONTEXT, connect_timeout=3)
    message = caught.value.message
    assert message.startswith(CONTEXT)
    assert "no se pudo conectar a la base de datos postgresql+psycopg://lector:***@127.0.0.1:1/siafpa" in message
    assert "clave-SECRETA" not in message
    with pytest.raises(TransientError, match="no se pudo conectar"):
        read_query(sa.make_url("mysql+pymysql://root@127.0.0.1:1/x"), "SELECT 1", PERIOD, context=CONTEXT,
                   connect_timeout=3)


@pytest.fixture
def silent_server():
    """A port that accepts connections and never answers, as a server hung mid-handshake."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


ENGLISH = ("refused", "denied", "does not exist", "unknown database", "timeout", "timed out", "failed")


def test_common_driver_failures_are_said_in_spanish(postgres_url, mariadb_url, silent_server):
    cases = [
        (sa.make_url("postgresql+psycopg://lector@127.0.0.1:1/siafpa"), TransientError, "el servidor rechazó la conexión"),
        (sa.make_url("mysql+pymysql://root@127.0.0.1:1/x"), TransientError, "el servidor rechazó la conexión"),
        (sa.make_url(f"postgresql+psycopg://lector@127.0.0.1:{silent_server}/siafpa"), TransientError,
         "el servidor no respondió a tiempo"),
        (postgres_url.set(drivername="postgresql+psycopg", username="nadie_conocido"), InputError,
         "el usuario o la contraseña no son válidos"),
        (mariadb_url.set(drivername="mysql+pymysql", username="nadie_conocido"), InputError,
         "el usuario o la contraseña no son válidos"),
        (postgres_url.set(drivername="postgresql+psycopg", database="no_existe_esta_base"), InputError,
         "la base de datos indicada no existe en el servidor"),
        (mariadb_url.set(drivername="mysql+pymysql", database="no_existe_esta_base"), InputError,
         "la base de datos indicada no existe en el servidor"),
    ]
    for url, kind, spanish in cases:
        with pytest.raises(kind) as caught:
            read_query(url, "SELECT 1", PERIOD, context=CONTEXT, connect_timeout=1)
        message = caught.value.message
        assert f": {spanish}" in message, (url, message)
        assert not [word for word in ENGLISH if word in message.lower()], (url, message)


def test_a_missing_password_variable_publishes_only_what_failed(postgres_url, monkeypatch):
    monkeypatch.delenv("MIDA_FINANZAS_PASSWORD", raising=False)
    with pytest.raises(ConfigError) as caught:
        extract(postgres_url, password_env="MIDA_FINANZAS_PASSWORD")
    assert "la variable de entorno MIDA_FINANZAS_PASSWORD no está definida" in caught.value.message
    assert caught.value.public == f"{CONTEXT}: no se pudo leer la base de datos."


def test_unknown_database_is_terminal(postgres_url, mariadb_url):
    for url in (postgres_url, mariadb_url):
        with pytest.raises(InputError, match="no se pudo conectar"):
            extract(url.set(database="no_existe_esta_base"))


def test_failing_query_names_the_source_and_the_database_error(database_url):
    with pytest.raises(InputError) as caught:
        extract(database_url, query="SELECT * FROM ejecucion_inexistente WHERE f >= :period_start AND f < :period_end")
    message = caught.value.message
    assert message.startswith(CONTEXT)
    assert "falló la consulta" in message and "ejecucion_inexistente" in message


def test_query_with_no_matching_columns_says_which_were_expected(sqlite_url):
    with pytest.raises(InputError, match="ninguna columna de la consulta corresponde al esquema"):
        extract(sqlite_url, query="SELECT id AS xyz FROM ejecucion_presupuestaria "
                                  "WHERE fecha_corte >= :period_start AND fecha_corte < :period_end")


def test_password_comes_from_the_environment_and_is_masked(postgres_url, monkeypatch):
    monkeypatch.setenv("PRUEBA_PG_PASSWORD", "trust-ignora-esta-clave")
    extraction = extract(postgres_url, password_env="PRUEBA_PG_PASSWORD")
    assert extraction.rows == 25
    assert extraction.source.location == postgres_url.set(drivername="postgresql+psycopg").render_as_string(
        hide_password=False).replace("postgres@", "postgres:***@")
    assert "trust-ignora-esta-clave" not in repr(extraction.source)


def test_missing_sqlite_file_is_not_created(tmp_path):
    missing = tmp_path / "no-llego.sqlite"
    with pytest.raises(InputError, match="no existe la base de datos SQLite"):
        extract(sa.make_url(f"sqlite:///{missing}"))
    assert not missing.exists()


def test_relative_sqlite_path_is_relative_to_the_configuration(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    with sqlite3.connect(folder / "x.sqlite") as connection:
        connection.execute("CREATE TABLE t (a TEXT)")
    url = DatabaseSettings(url="sqlite:///inbox/x.sqlite").resolve_url(tmp_path, CONTEXT)
    assert Path(url.database) == folder / "x.sqlite"


def test_unknown_driver_is_a_config_error():
    with pytest.raises(ConfigError, match="no hay controlador para la base de datos 'oracle'"):
        read_query(sa.make_url("oracle://u@h/db"), "SELECT 1", PERIOD, context=CONTEXT)


def test_raw_rows_reach_the_archive_hook_before_mapping(sqlite_url):
    seen: list[pd.DataFrame] = []
    schema = load_catalog().get("10.2").table_schema()
    extract_database(settings_for(sqlite_url), DatabaseItemOptions(query=QUERY), schema, "10.2", PERIOD,
                     base_dir=Path.cwd(), context=CONTEXT, on_raw=lambda frame, shown: seen.append(frame))
    assert list(seen[0].columns)[:2] == ["Tipo de presupuesto", "Programa"]
    assert len(seen[0]) == 25


def test_postgres_casts_of_the_period_parameters_work(postgres_url):
    options = DatabaseItemOptions(query="SELECT :period_start::date AS desde, :period_end::date AS hasta;")
    raw = read_query(postgres_url, options.sql, PERIOD, context=CONTEXT)
    assert (raw["desde"].iloc[0], raw["hasta"].iloc[0]) == (dt.date(2025, 1, 1), dt.date(2025, 2, 1))


def test_validate_command_reads_a_configured_database_source(postgres_url, tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from transparencia.cli import app

    monkeypatch.setenv("PRUEBA_FINANZAS_URL", postgres_url.render_as_string(hide_password=False))
    config = write_institution(tmp_path, {
        "institution": {"name": "Servicio Nacional de Migración", "acronym": "SNM",
                        "organization": "servicio-nacional-de-migracion"},
        "directorates": [{"id": "finanzas", "name": "Dirección de Finanzas", "sources": [
            {"id": "finanzas-db", "type": "database", "url_env": "PRUEBA_FINANZAS_URL",
             "items": {"ejecucion-presupuestaria": {"query": QUERY}}}]}],
    })
    runner = CliRunner()
    result = runner.invoke(app, ["validate", "10.2", "--config", str(config), "--source", "finanzas-db",
                                 "--period", "2025-01", "--json"])
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["rows"] == 25 and report["valid"] is True
    assert "postgres@127.0.0.1" in report["file"]
    no_period = runner.invoke(app, ["validate", "10.2", "--config", str(config), "--source", "finanzas-db"])
    assert no_period.exit_code == 2
    assert "--period" in no_period.stderr


def test_two_query_columns_for_one_field_stop_naming_both(sqlite_url):
    query = ("SELECT programa AS \"Programa\", programa AS \"Programa presupuestario\", asignado, pagado "
             "FROM ejecucion_presupuestaria WHERE fecha_corte >= :period_start AND fecha_corte < :period_end")
    with pytest.raises(InputError, match=r"compiten por el mismo dato: 'Programa' \(columna 1\) y "
                                         r"'Programa presupuestario' \(columna 2\)"):
        extract(sqlite_url, query=query)


# --------------------------------------------------------------------------- pre-flight

DIRECTORATE = "Dirección de Finanzas"
WHERE = f"{DIRECTORATE}, fuente 'finanzas-db'"


def preflight(url: sa.URL, **overrides) -> ConfigError:
    """The pre-flight check of a source reading ``url``; the ConfigError it must stop with."""
    with pytest.raises(ConfigError) as caught:
        check_database(settings_for(url, **overrides), base_dir=Path.cwd(), context=WHERE, directorate=DIRECTORATE)
    return caught.value


def test_preflight_reads_a_good_database_without_complaint(database_url):
    check_database(settings_for(database_url), base_dir=Path.cwd(), context=WHERE, directorate=DIRECTORATE)


def test_preflight_turns_every_unreadable_database_into_a_configuration_error(postgres_url, mariadb_url,
                                                                              silent_server, monkeypatch):
    """Wrong user, password or database, a server down or silent, a missing secret: exit 2 material,
    said in Spanish to the officer, and publicly only as the directorate's database not read."""
    monkeypatch.delenv("MIDA_FINANZAS_PASSWORD", raising=False)
    pg, maria = postgres_url.set(drivername="postgresql+psycopg"), mariadb_url.set(drivername="mysql+pymysql")
    cases = [
        (pg.set(username="nadie_conocido"), {}, "el usuario o la contraseña no son válidos"),
        (maria.set(username="nadie_conocido"), {}, "el usuario o la contraseña no son válidos"),
        (maria, {"password_env": "PRUEBA_CLAVE_ERRADA"}, "el usuario o la contraseña no son válidos"),
        (pg.set(database="no_existe_esta_base"), {}, "la base de datos indicada no existe en el servidor"),
        (maria.set(database="no_existe_esta_base"), {}, "la base de datos indicada no existe en el servidor"),
        (pg.set(port=1), {}, "el servidor rechazó la conexión"),
        (maria.set(port=1), {}, "el servidor rechazó la conexión"),
        (pg.set(port=silent_server), {"probe_timeout": 1}, "el servidor no respondió a tiempo"),
        (pg, {"password_env": "MIDA_FINANZAS_PASSWORD"}, "la variable de entorno MIDA_FINANZAS_PASSWORD"),
    ]
    monkeypatch.setenv("PRUEBA_CLAVE_ERRADA", "no-es-la-clave")
    for url, overrides, reason in cases:
        error = preflight(url, **overrides)
        assert error.message.startswith(WHERE) and reason in error.message, (url, error.message)
        assert not [word for word in ENGLISH if word in error.message.lower()], (url, error.message)
        assert error.public == "No se pudo leer la base de datos de Dirección de Finanzas.", error.public


def test_preflight_gives_up_on_a_mariadb_that_accepts_and_never_answers(mariadb_url, silent_server):
    """PyMySQL waits for the server's greeting for its read time-out, which for a query is the query
    time-out (600 s): pre-flight bounds that wait by ``probe_timeout``. Before, this probe waited the
    600 s; the watchdog below is only there so that a regression fails instead of hanging."""
    from concurrent.futures import ThreadPoolExecutor

    silent = mariadb_url.set(drivername="mysql+pymysql", port=silent_server)
    with ThreadPoolExecutor(1) as pool:
        error = pool.submit(preflight, silent, probe_timeout=1).result(timeout=300)
    assert "el servidor no respondió a tiempo" in error.message, error.message
    assert error.public == "No se pudo leer la base de datos de Dirección de Finanzas."


def test_preflight_refuses_a_missing_sqlite_file_as_configuration(tmp_path):
    missing = tmp_path / "no-llego.sqlite"
    error = preflight(sa.make_url(f"sqlite:///{missing}"))
    assert "no existe la base de datos SQLite" in error.message and not missing.exists()
