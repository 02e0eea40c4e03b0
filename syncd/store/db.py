"""Opening the database and migrating it.

SQLite is the embedded default (one file, WAL so readers never block the writer);
PostgreSQL (``postgresql+psycopg://``) is for production. Both are migrated by Alembic.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from syncd.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x73796E6364  # "syncd": one advisory lock id for schema migrations
log = logging.getLogger("syncd.store")


def open_database(url: str, *, echo: bool = False) -> Engine:
    """An Engine for ``url``, set up for concurrent syncing threads."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database.url {url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            echo=echo,
            hide_parameters=True,  # error messages must not carry record contents
            connect_args={"timeout": 60, "check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() in ("psycopg2", "pg8000", "asyncpg"):
            raise ConfigError("database.url: use the psycopg 3 driver: postgresql+psycopg://...")
        parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            echo=echo,
            hide_parameters=True,
            pool_pre_ping=True,
            pool_size=10,
            # No server-side prepared statements: psycopg prepares a statement after five
            # runs, PostgreSQL then switches to a generic plan, and in a generic plan
            # `col = ANY($1)` over a growing table is a scan per lookup (first syncs turned
            # quadratic: 1,494 -> 243 issue rows/s from 10k to 100k issues).
            connect_args={"prepare_threshold": None},
        )
    raise ConfigError(
        f"database.url: {parsed.get_backend_name()!r} is not supported; use sqlite:///path "
        "or postgresql+psycopg://user@host/db"
    )


def describe_db_error(exc: BaseException) -> str:
    """A database error in one line: the driver's own message, without SQL or parameters."""
    orig = getattr(exc, "orig", None)
    text_ = str(orig if orig is not None else exc).strip().splitlines()
    return f"{type(orig or exc).__name__}: {text_[0] if text_ else ''}"[:500]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: index pages of large syncs stay hot
    cursor.close()


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision``; a no-op when it is already there.

    On PostgreSQL an advisory lock makes processes that start together (several workers,
    a daemon and a CLI) migrate one after the other instead of racing.
    """
    if current_revision(engine) == head_revision() and revision == "head":
        return
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), revision)
        return
    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        try:
            if current_revision(engine) != head_revision() or revision != "head":
                command.upgrade(alembic_config(engine), revision)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            lock.commit()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
