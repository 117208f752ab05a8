"""A new data folder's temporary Prefect server starts from a copy of an empty database this Prefect
version already migrated (the template, in the user's cache): the copy is whole or absent, a database
already there is never replaced, and a database the user configured is never ours to seed."""

from __future__ import annotations

import contextlib
import os
import sqlite3

import pytest

from transparencia.flows import server


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "datos" / "prefect"))
    for name in [n for n in os.environ if n.startswith("PREFECT_") and "DATABASE" in n]:
        monkeypatch.delenv(name)
    return tmp_path / "datos" / "prefect"


def migrated(path) -> None:
    """A database as a server leaves it once migrated: its schema, no runs."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE alembic_version (version_num TEXT)")
        db.execute("INSERT INTO alembic_version VALUES ('abc123')")
        db.commit()


def versions(path) -> list[tuple[str]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT version_num FROM alembic_version").fetchall()


def test_a_migrated_database_is_kept_as_the_template_and_seeds_the_next_new_folder(home, tmp_path):
    first = tmp_path / "primera.db"
    migrated(first)
    server._keep_as_template(first)
    template = server.database_template()
    assert template.parent == tmp_path / "cache" / "transparencia"
    assert versions(template) == [("abc123",)]

    database = server._default_database()
    assert database == home / "prefect.db"
    assert server._seed(database) is True
    assert versions(database) == [("abc123",)]
    assert sorted(p.name for p in home.iterdir()) == ["prefect.db"]  # no partial copy left beside it


def test_an_existing_database_is_never_replaced_and_no_template_seeds_nothing(home, tmp_path):
    database = server._default_database()
    assert server._seed(database) is False and not database.exists()  # no template yet

    template_source = tmp_path / "plantilla.db"
    migrated(template_source)
    server._keep_as_template(template_source)
    home.mkdir(parents=True)
    database.write_bytes(b"la base de datos de la institucion")
    assert server._seed(database) is False
    assert database.read_bytes() == b"la base de datos de la institucion"


def test_a_database_the_user_configured_is_not_seeded(home, monkeypatch):
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://127.0.0.1/prefect")
    assert server._default_database() is None
