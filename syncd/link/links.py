"""Cross-tool links: Jira keys that pull requests and commits mention, kept in ``links``.

Incremental: a pull request or commit is (re)read when its row changed since the previous
derivation (``stored_at`` moves only when a row's content changes), with a look-back that
covers batches still being committed while the previous derivation ran. A change in the
set of tracked Jira projects re-reads everything, since it decides which keys count.
Keys of tracked projects that name no stored issue are kept with ``issue_id`` null
(dangling); they are resolved as soon as such an issue is stored.

Where the derivation stands is one ``sync_cursors`` row per GitHub source (scope ``*``,
stream ``links``), so it needs no table of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)

from syncd.link.keys import commit_keys, pull_request_keys
from syncd.store import models as m

LINKS = cast(Table, m.Link.__table__)
ISSUES, SCOPES = cast(Table, m.Issue.__table__), cast(Table, m.Scope.__table__)
SOURCES, PULLS = cast(Table, m.Source.__table__), cast(Table, m.PullRequest.__table__)
COMMITS, CURSORS = cast(Table, m.Commit.__table__), cast(Table, m.SyncCursor.__table__)

STATE_SCOPE = "*"
STATE_STREAM = "links"
STATE_VERSION = 1
# Batches written while a derivation runs may commit after it read: re-read that far back.
LOOKBACK = timedelta(minutes=15)
CHUNK = 1000
JIRA_SCOPE = "jira_project"


@dataclass
class LinkReport:
    full_sources: list[str] = field(default_factory=list)
    pull_requests: int = 0  # pull requests (re)read
    commits: int = 0
    added: int = 0
    removed: int = 0
    resolved: int = 0  # dangling links whose issue is now stored


def tracked_projects(conn: Connection) -> list[str]:
    """Keys of the Jira projects syncd syncs (any Jira source)."""
    rows = conn.execute(select(SCOPES.c.key).where(SCOPES.c.kind == JIRA_SCOPE).distinct())
    return sorted({key.upper() for (key,) in rows})


def refresh_links(engine: Engine, *, full: bool = False, now: datetime | None = None) -> LinkReport:
    """Bring ``links`` up to date with the stored pull requests, commits and issues."""
    now = now or datetime.now(UTC)
    report = LinkReport()
    with engine.connect() as conn:
        projects = tracked_projects(conn)
        sources = conn.execute(
            select(SOURCES.c.id, SOURCES.c.name).where(SOURCES.c.kind == "github")
        ).all()
    for source_id, name in sources:
        state = _load_state(engine, source_id)
        since: datetime | None = None
        if not full and state and state.get("projects") == projects:
            derived = state.get("derived_at")
            if isinstance(derived, str):
                since = datetime.fromisoformat(derived) - LOOKBACK
        if since is None:
            report.full_sources.append(name)
        _derive(engine, report, source_id, projects, since, pulls=True)
        _derive(engine, report, source_id, projects, since, pulls=False)
        _save_state(engine, source_id, {"v": STATE_VERSION, "derived_at": now.isoformat(),
                                        "projects": projects})  # fmt: skip
    with engine.begin() as conn:
        report.resolved = resolve_dangling(conn)
    return report


def _derive(
    engine: Engine,
    report: LinkReport,
    source_id: int,
    projects: Sequence[str],
    since: datetime | None,
    *,
    pulls: bool,
) -> None:
    table = PULLS if pulls else COMMITS
    columns = (
        (PULLS.c.id, PULLS.c.title, PULLS.c.head_ref, PULLS.c.body)
        if pulls
        else (COMMITS.c.id, COMMITS.c.sha, COMMITS.c.message)
    )
    last_id = 0
    while True:
        query = (
            select(*columns)
            .where(table.c.source_id == source_id, table.c.id > last_id)
            .order_by(table.c.id)
            .limit(CHUNK)
        )
        if since is not None:
            query = query.where(table.c.stored_at >= since)
        with engine.begin() as conn:
            rows = conn.execute(query).all()
            if not rows:
                return
            last_id = rows[-1][0]
            if pulls:
                desired = {
                    row[0]: set(pull_request_keys(row[1], row[2], row[3], projects)) for row in rows
                }
                report.pull_requests += len(rows)
                _replace(conn, report, "pull_request_id", desired, {})
            else:
                desired = {row[0]: set(commit_keys(row[2], projects)) for row in rows}
                report.commits += len(rows)
                _replace(conn, report, "commit_id", desired, {row[0]: row[1] for row in rows})


def _replace(
    conn: Connection,
    report: LinkReport,
    subject: str,
    desired: dict[int, set[tuple[str, str]]],
    shas: dict[int, str],
) -> None:
    """Make the links of these subjects exactly ``desired`` (key, via) per subject."""
    ids = sorted(desired)
    existing = conn.execute(
        select(LINKS.c.id, LINKS.c[subject], LINKS.c.issue_key, LINKS.c.via).where(
            LINKS.c[subject].in_(ids)
        )
    ).all()
    have: set[tuple[int, str, str]] = set()
    stale: list[int] = []
    for link_id, subject_id, key, via in existing:
        if (key, via) in desired.get(subject_id, set()):
            have.add((subject_id, key, via))
        else:
            stale.append(link_id)
    if stale:
        conn.execute(delete(LINKS).where(LINKS.c.id.in_(stale)))
        report.removed += len(stale)
    missing = [
        (subject_id, key, via)
        for subject_id in ids
        for key, via in sorted(desired[subject_id])
        if (subject_id, key, via) not in have
    ]
    if not missing:
        return
    issue_ids = issues_by_key(conn, {key for _, key, _ in missing})
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = [
        {
            "issue_key": key,
            "issue_id": issue_ids.get(key),
            "pull_request_id": subject_id if subject == "pull_request_id" else None,
            "commit_id": subject_id if subject == "commit_id" else None,
            "commit_sha": shas.get(subject_id),
            "via": via,
            "created_at": now,
        }
        for subject_id, key, via in missing
    ]
    conn.execute(insert(LINKS), rows)
    report.added += len(rows)


def issues_by_key(conn: Connection, keys: Iterable[str]) -> dict[str, int]:
    """Stored Jira issues by key (GitHub issues have "owner/repo#N" keys and never match)."""
    wanted = sorted(set(keys))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(ISSUES.c.key, func.min(ISSUES.c.id))
            .join(SCOPES, SCOPES.c.id == ISSUES.c.scope_id)
            .where(SCOPES.c.kind == JIRA_SCOPE, ISSUES.c.key.in_(wanted[start : start + 500]))
            .group_by(ISSUES.c.key)
        )
        found.update({key: issue_id for key, issue_id in rows})
    return found


def resolve_dangling(conn: Connection) -> int:
    """Point dangling links at their issue once it is stored; how many were resolved."""
    target = (
        select(func.min(ISSUES.c.id))
        .join(SCOPES, SCOPES.c.id == ISSUES.c.scope_id)
        .where(SCOPES.c.kind == JIRA_SCOPE, ISSUES.c.key == LINKS.c.issue_key)
        .scalar_subquery()
    )
    has_target = exists(
        select(ISSUES.c.id)
        .join(SCOPES, SCOPES.c.id == ISSUES.c.scope_id)
        .where(SCOPES.c.kind == JIRA_SCOPE, ISSUES.c.key == LINKS.c.issue_key)
    )
    result = conn.execute(
        update(LINKS).where(and_(LINKS.c.issue_id.is_(None), has_target)).values(issue_id=target)
    )
    return result.rowcount or 0


def _load_state(engine: Engine, source_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        value = conn.execute(
            select(CURSORS.c.cursor).where(
                CURSORS.c.source_id == source_id,
                CURSORS.c.scope_key == STATE_SCOPE,
                CURSORS.c.stream == STATE_STREAM,
            )
        ).scalar_one_or_none()
    if isinstance(value, dict) and value.get("v") == STATE_VERSION:
        return value
    return None


def _save_state(engine: Engine, source_id: int, state: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    where = (
        CURSORS.c.source_id == source_id,
        CURSORS.c.scope_key == STATE_SCOPE,
        CURSORS.c.stream == STATE_STREAM,
    )
    with engine.begin() as conn:
        updated = conn.execute(
            update(CURSORS).where(*where).values(cursor=state, updated_at=now, last_success_at=now)
        )
        if not updated.rowcount:
            conn.execute(
                insert(CURSORS).values(
                    source_id=source_id,
                    scope_key=STATE_SCOPE,
                    stream=STATE_STREAM,
                    cursor=state,
                    updated_at=now,
                    last_success_at=now,
                )
            )
