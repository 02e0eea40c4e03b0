"""Shared fixtures: a migrated database on SQLite and on the real PostgreSQL.

PostgreSQL tests get a schema of their own (dropped afterwards), so test runs and parallel
workers never see each other's rows. The server is ``$SYNCD_TEST_POSTGRES_URL`` (default: the
local one with trust auth and database ``test``); if it is unreachable the tests fail, loudly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from syncd.store.db import open_database, upgrade

pytest_plugins = ["tests.fixtures.sandbox"]

POSTGRES_URL = os.environ.get(
    "SYNCD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL of an empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'syncd.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # make the cause obvious instead of a wall of driver errors
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not usable: {exc}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    """A migrated database engine, once per backend."""
    engine = open_database(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
