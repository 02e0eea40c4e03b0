"""Cross-tool links: Jira keys that pull requests and commits mention, kept in ``links``.

Incremental: a pull request or commit is (re)read when its row changed since the previous
derivation (``stored_at`` moves only when a row's content changes), with a look-back that
covers batches still being committed while the previous derivation ran. The changed rows are
found through the ``(source_id, stored_at)`` indexes, then read by id. A change in the set
of tracked Jira projects re-reads everything, since it decides which keys count.

Keys of tracked projects that name no stored issue are kept with ``issue_id`` null
(dangling). A dangling link can only resolve when an issue with its key is stored (created,
synced for the first time, or moved to that key), so each derivation looks up the keys of
the issues stored since the previous one, not every dangling link against every issue.

Two derivations may run at once (the daemon and a manual ``syncd sync``, or two workers):
links are inserted with ``ON CONFLICT DO NOTHING`` on their partial unique indexes, and the
derivation's state with an upsert, so the second one finds the rows the first one wrote
instead of failing on a unique index.

Where the derivation stands is one ``sync_cursors`` row per GitHub source (scope ``*``,
stream ``links``), so it needs no table of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, delete, func, select, update

from syncd.link.keys import commit_keys, pull_request_keys
from syncd.store import models as m
from syncd.store.upsert import insert_missing, one_of, upsert

LINKS, ISSUES, SCOPES = m.table(m.Link), m.table(m.Issue), m.table(m.Scope)
SOURCES, PULLS = m.table(m.Source), m.table(m.PullRequest)
COMMITS, CURSORS = m.table(m.Commit), m.table(m.SyncCursor)

STATE_SCOPE = "*"
STATE_STREAM = "links"
STATE_VERSION = 1
# Batches written while a derivation runs may commit after it read: re-read that far back.
LOOKBACK = timedelta(minutes=15)
CHUNK = 1000
JIRA_SCOPE = "jira_project"

# The partial unique indexes of ``links``: the conflict targets of its inserts.
_UNIQUE = {
    "pull_request_id": (
        ("pull_request_id", "issue_key", "via"),
        LINKS.c.pull_request_id.is_not(None),
    ),
    "commit_id": (("commit_id", "issue_key", "via"), LINKS.c.commit_id.is_not(None)),
}


@dataclass
class LinkReport:
    full_sources: list[str] = field(default_factory=list)
    pull_requests: int = 0  # pull requests (re)read
    commits: int = 0
    added: int = 0  # links written (another derivation running at once may have written some)
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
    previous: list[datetime | None] = []
    for source_id, name in sources:
        state = _load_state(engine, source_id)
        since: datetime | None = None
        if not full and state and state.get("projects") == projects:
            derived = state.get("derived_at")
            if isinstance(derived, str):
                since = datetime.fromisoformat(derived) - LOOKBACK
        if since is None:
            report.full_sources.append(name)
        previous.append(since)
        _derive(engine, report, source_id, projects, since, pulls=True)
        _derive(engine, report, source_id, projects, since, pulls=False)
        _save_state(engine, source_id, {"v": STATE_VERSION, "derived_at": now.isoformat(),
                                        "projects": projects})  # fmt: skip
    if sources:
        # Issues stored since the earliest previous derivation (all of them if a source
        # was derived in full) are the only ones that can resolve a dangling link.
        issues_since = None if None in previous else min(p for p in previous if p)
        with engine.begin() as conn:
            report.resolved = resolve_dangling(conn, since=issues_since)
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
    for rows in _changed_rows(engine, table, columns, source_id, since):
        with engine.begin() as conn:
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


def _changed_rows(
    engine: Engine, table: Table, columns: Sequence[Any], source_id: int, since: datetime | None
) -> Iterable[Sequence[Any]]:
    """The rows of ``table`` (one source) stored since ``since`` (all without), in chunks.

    Incremental: the ids of the changed rows come from one range scan of the
    ``(source_id, stored_at)`` index, then each chunk is read by id. In full: keyset pages
    by id. (Paging by id with a ``stored_at`` filter would walk the whole table by its
    primary key to find the few rows that changed.)
    """
    if since is not None:
        with engine.connect() as conn:
            ids = list(
                conn.execute(
                    select(table.c.id).where(
                        table.c.source_id == source_id, table.c.stored_at >= since
                    )
                ).scalars()
            )
        ids.sort()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            with engine.connect() as conn:
                yield conn.execute(
                    select(*columns)
                    .where(one_of(table.c.id, chunk, conn.dialect.name))
                    .order_by(table.c.id)
                ).all()
        return
    last_id = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(*columns)
                .where(table.c.source_id == source_id, table.c.id > last_id)
                .order_by(table.c.id)
                .limit(CHUNK)
            ).all()
        if not rows:
            return
        last_id = rows[-1][0]
        yield rows


def _replace(
    conn: Connection,
    report: LinkReport,
    subject: str,
    desired: dict[int, set[tuple[str, str]]],
    shas: dict[int, str],
) -> None:
    """Make the links of these subjects exactly ``desired`` (key, via) per subject."""
    ids = sorted(desired)
    dialect = conn.dialect.name
    existing = conn.execute(
        select(LINKS.c.id, LINKS.c[subject], LINKS.c.issue_key, LINKS.c.via).where(
            one_of(LINKS.c[subject], ids, dialect)
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
        conn.execute(delete(LINKS).where(one_of(LINKS.c.id, stale, dialect)))
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
    # Another derivation may have inserted some of these since they were read as missing.
    key_columns, index_where = _UNIQUE[subject]
    insert_missing(conn, LINKS, rows, key_columns, index_where=index_where)
    report.added += len(rows)


def _jira_issue_key_lookup() -> Any:
    return (
        select(ISSUES.c.key, func.min(ISSUES.c.id))
        .join(SCOPES, SCOPES.c.id == ISSUES.c.scope_id)
        .where(SCOPES.c.kind == JIRA_SCOPE)
        .group_by(ISSUES.c.key)
    )


def issues_by_key(conn: Connection, keys: Iterable[str]) -> dict[str, int]:
    """Stored Jira issues by key (GitHub issues have "owner/repo#N" keys and never match):
    one lookup in the ``issues(key)`` index per key, the keys bound as one array."""
    wanted = sorted(set(keys))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 5 * CHUNK):
        chunk = wanted[start : start + 5 * CHUNK]
        rows = conn.execute(
            _jira_issue_key_lookup().where(one_of(ISSUES.c.key, chunk, conn.dialect.name))
        )
        found.update({key: issue_id for key, issue_id in rows})
    return found


def resolve_dangling(conn: Connection, *, since: datetime | None = None) -> int:
    """Point dangling links at their issue once it is stored; how many were resolved.

    With ``since``, only issues stored since then are looked at (through the
    ``(source_id, stored_at)`` index of each Jira source); without, every dangling key is
    looked up once.
    """
    dialect = conn.dialect.name
    dangling = select(LINKS.c.issue_key).where(LINKS.c.issue_id.is_(None)).distinct()
    if since is None:
        found = issues_by_key(conn, conn.execute(dangling).scalars())
    else:
        jira_sources = conn.execute(
            select(SOURCES.c.id).where(SOURCES.c.kind == "jira").order_by(SOURCES.c.id)
        ).scalars()
        found = {}
        for source_id in list(jira_sources):
            rows = conn.execute(
                _jira_issue_key_lookup().where(
                    ISSUES.c.source_id == source_id,
                    ISSUES.c.stored_at >= since,
                    ISSUES.c.key.in_(dangling),
                )
            )
            for key, issue_id in rows:
                found[key] = min(issue_id, found.get(key, issue_id))
    if not found:
        return 0
    keys = sorted(found)
    resolved = conn.execute(
        select(func.count())
        .select_from(LINKS)
        .where(LINKS.c.issue_id.is_(None), one_of(LINKS.c.issue_key, keys, dialect))
    ).scalar_one()
    conn.execute(
        update(LINKS)
        .where(LINKS.c.issue_key == bindparam("b_key"), LINKS.c.issue_id.is_(None))
        .values(issue_id=bindparam("b_issue")),
        [{"b_key": key, "b_issue": found[key]} for key in keys],
    )
    return int(resolved)


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
    row = {
        "source_id": source_id,
        "scope_key": STATE_SCOPE,
        "stream": STATE_STREAM,
        "cursor": state,
        "updated_at": now,
        "last_success_at": now,
    }
    with engine.begin() as conn:
        upsert(conn, CURSORS, [row], ("source_id", "scope_key", "stream"))
