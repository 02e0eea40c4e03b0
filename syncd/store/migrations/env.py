"""Alembic environment: runs against the Engine syncd hands over (never a URL from a file)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from syncd.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` CLI during development: sqlalchemy.url in the config
    engine = create_engine(config.get_main_option("sqlalchemy.url"))

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    context.run_migrations()
