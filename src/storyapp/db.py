"""Engines for SQLite and PostgreSQL, tuned for short concurrent write transactions.

SQLite runs in WAL mode so readers never wait for a purge, with a busy timeout so writers
queue instead of failing. A transaction opened by :func:`write_transaction` starts with
``BEGIN IMMEDIATE`` on SQLite: it takes the write lock before its first read, so two purges
that run at once wait for each other instead of deadlocking on the upgrade from read to write.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL

from asyncq import ConfigError
from storyapp.config import DatabaseSettings
from storyapp.models import Base

log = logging.getLogger("storyapp.db")

SQLITE_BUSY_TIMEOUT_S = 30.0
_WRITE_OPTION = "storyapp_write"


def make_engine(url: str | URL, schema: str = "") -> Engine:
    """An engine for ``url``; with ``schema`` every table lives in that PostgreSQL schema."""
    engine = create_engine(url, pool_pre_ping=True, **_dialect_arguments(url))
    if engine.dialect.name == "sqlite":
        _tune_sqlite(engine)
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


def engine_from_settings(settings: DatabaseSettings) -> Engine:
    return make_engine(settings.url, settings.schema)


def _dialect_arguments(url: str | URL) -> dict[str, Any]:
    if str(url).startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    return {"pool_size": 5, "max_overflow": 5}


def _tune_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and transactions that SQLAlchemy begins itself (see the module doc)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One short transaction that will write; committed on success, rolled back on error."""
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE_OPTION: True})
        with connection.begin():
            yield connection


def _schema_name(engine: Engine) -> str | None:
    name: str | None = engine.get_execution_options().get("schema_translate_map", {}).get(None)
    return name


def create_schema(engine: Engine) -> None:
    """Create every table and index that does not exist yet (safe to run again)."""
    schema = _schema_name(engine)
    with engine.begin() as connection:
        if schema:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        Base.metadata.create_all(connection)
    log.info("Created the database schema: database=%s.", engine.url.render_as_string())


def ping(engine: Engine) -> None:
    """Run a trivial query; raises SQLAlchemy's error when the database cannot be reached."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def require_schema(engine: Engine) -> None:
    """Raise ConfigError unless every table exists, so commands run before ``db init`` say so.

    A missing SQLite file is reported before connecting: connecting would create it empty.
    """
    database = engine.url.database or ""
    on_disk = engine.dialect.name == "sqlite" and database not in ("", ":memory:")
    if on_disk and not Path(database).exists():
        raise ConfigError(
            f"The database file {database} does not exist; run `storyapp db init` first."
        )

    schema = _schema_name(engine)
    with engine.connect() as connection:
        inspector = inspect(connection)
        missing = [
            table.name
            for table in Base.metadata.sorted_tables
            if not inspector.has_table(table.name, schema=schema)
        ]
    if missing:
        raise ConfigError(
            f"The database has no table {', '.join(missing)}; run `storyapp db init` first."
        )
