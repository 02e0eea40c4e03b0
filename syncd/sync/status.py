"""What ``syncd status`` shows: per source, scope and stream, how fresh the data is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.orm import Session

from syncd.store import models as m


@dataclass(frozen=True)
class StreamStatus:
    source: str
    scope: str
    stream: str
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    last_run_status: str | None
    last_run_records: int | None
    last_run_requests: int | None
    item_errors: int


def stream_statuses(db: Engine) -> list[StreamStatus]:
    latest_run = (
        select(
            m.SyncRun.source_id,
            m.SyncRun.scope_key,
            m.SyncRun.stream,
            func.max(m.SyncRun.id).label("run_id"),
        )
        .group_by(m.SyncRun.source_id, m.SyncRun.scope_key, m.SyncRun.stream)
        .subquery()
    )
    errors = (
        select(
            m.SyncItemError.source_id,
            m.SyncItemError.scope_key,
            m.SyncItemError.stream,
            func.count().label("n"),
        )
        .group_by(m.SyncItemError.source_id, m.SyncItemError.scope_key, m.SyncItemError.stream)
        .subquery()
    )
    c = m.SyncCursor
    stmt = (
        select(
            m.Source.name,
            c.scope_key,
            c.stream,
            c.last_success_at,
            c.last_error,
            c.last_error_at,
            m.SyncRun.status,
            m.SyncRun.records,
            m.SyncRun.requests,
            func.coalesce(errors.c.n, 0),
        )
        .join(m.Source, m.Source.id == c.source_id)
        .outerjoin(
            latest_run,
            and_(
                latest_run.c.source_id == c.source_id,
                latest_run.c.scope_key == c.scope_key,
                latest_run.c.stream == c.stream,
            ),
        )
        .outerjoin(m.SyncRun, m.SyncRun.id == latest_run.c.run_id)
        .outerjoin(
            errors,
            and_(
                errors.c.source_id == c.source_id,
                errors.c.scope_key == c.scope_key,
                errors.c.stream == c.stream,
            ),
        )
        .order_by(m.Source.name, c.scope_key, c.stream)
    )
    with db.connect() as conn:
        return [StreamStatus(*row) for row in conn.execute(stmt)]


def recent_item_errors(db: Engine, limit: int = 20) -> list[m.SyncItemError]:
    with Session(db) as session:
        return list(
            session.scalars(
                select(m.SyncItemError).order_by(m.SyncItemError.last_seen_at.desc()).limit(limit)
            )
        )
