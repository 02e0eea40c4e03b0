"""Read-only questions about links and people, for ``syncd status`` and the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, distinct, func, select

from syncd.store import models as m

LINKS, ACCOUNTS, PEOPLE = m.Link.__table__, m.Account.__table__, m.Person.__table__
SOURCES, PULLS, COMMITS = m.Source.__table__, m.PullRequest.__table__, m.Commit.__table__


@dataclass(frozen=True)
class DanglingKey:
    """A key of a tracked Jira project that pull requests or commits mention, but that
    names no stored issue (a typo, a deleted issue, or one not synced yet)."""

    key: str
    pull_requests: int
    commits: int
    first_seen_at: datetime
    example: str  # "acme/api#12" or "acme/api@1a2b3c4d5e6f": where to look


@dataclass(frozen=True)
class LinkSummary:
    links: int
    linked_issues: int
    pull_requests_with_links: int
    commits_with_links: int
    dangling_links: int
    dangling_keys: int
    by_via: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PeopleSummary:
    people: int
    in_several_tools: int  # people with accounts in both Jira and GitHub (or more)
    accounts_without_person: int  # bots, and accounts not derived yet


def dangling_keys(conn: Connection, limit: int = 50) -> list[DanglingKey]:
    """Dangling keys, most mentioned first."""
    rows = conn.execute(
        select(
            LINKS.c.issue_key,
            func.count(distinct(LINKS.c.pull_request_id)),
            func.count(distinct(LINKS.c.commit_id)),
            func.min(LINKS.c.created_at),
        )
        .where(LINKS.c.issue_id.is_(None))
        .group_by(LINKS.c.issue_key)
        .order_by(
            (
                func.count(distinct(LINKS.c.pull_request_id))
                + func.count(distinct(LINKS.c.commit_id))
            ).desc(),
            LINKS.c.issue_key,
        )
        .limit(limit)
    ).all()
    out = []
    for key, pulls, commits, first in rows:
        out.append(DanglingKey(key, pulls, commits, first, _example(conn, key)))
    return out


def _example(conn: Connection, key: str) -> str:
    scope = m.Scope.__table__
    pull = conn.execute(
        select(scope.c.key, PULLS.c.number)
        .join(PULLS, PULLS.c.scope_id == scope.c.id)
        .join(LINKS, LINKS.c.pull_request_id == PULLS.c.id)
        .where(LINKS.c.issue_key == key, LINKS.c.issue_id.is_(None))
        .order_by(PULLS.c.id)
        .limit(1)
    ).first()
    if pull:
        return f"{pull[0]}#{pull[1]}"
    commit = conn.execute(
        select(scope.c.key, COMMITS.c.sha)
        .join(COMMITS, COMMITS.c.scope_id == scope.c.id)
        .join(LINKS, LINKS.c.commit_id == COMMITS.c.id)
        .where(LINKS.c.issue_key == key, LINKS.c.issue_id.is_(None))
        .order_by(COMMITS.c.id)
        .limit(1)
    ).first()
    return f"{commit[0]}@{commit[1][:12]}" if commit else ""


def link_summary(conn: Connection) -> LinkSummary:
    total, issues, pulls, commits, dangling, dangling_keys_count = conn.execute(
        select(
            func.count(),
            func.count(distinct(LINKS.c.issue_id)),
            func.count(distinct(LINKS.c.pull_request_id)),
            func.count(distinct(LINKS.c.commit_id)),
            func.sum(case((LINKS.c.issue_id.is_(None), 1), else_=0)),
            func.count(distinct(case((LINKS.c.issue_id.is_(None), LINKS.c.issue_key)))),
        )
    ).one()
    by_via: dict[Any, Any] = dict(
        conn.execute(select(LINKS.c.via, func.count()).group_by(LINKS.c.via)).all()
    )
    return LinkSummary(
        links=total,
        linked_issues=issues,
        pull_requests_with_links=pulls,
        commits_with_links=commits,
        dangling_links=int(dangling or 0),
        dangling_keys=dangling_keys_count,
        by_via={str(k): int(v) for k, v in by_via.items()},
    )


def people_summary(conn: Connection) -> PeopleSummary:
    people = conn.execute(select(func.count()).select_from(PEOPLE)).scalar_one()
    kinds = (
        select(ACCOUNTS.c.person_id, func.count(distinct(SOURCES.c.kind)).label("kinds"))
        .join(SOURCES, SOURCES.c.id == ACCOUNTS.c.source_id)
        .where(ACCOUNTS.c.person_id.is_not(None))
        .group_by(ACCOUNTS.c.person_id)
        .subquery()
    )
    several = conn.execute(
        select(func.count()).select_from(kinds).where(kinds.c.kinds > 1)
    ).scalar_one()
    loose = conn.execute(
        select(func.count()).select_from(ACCOUNTS).where(ACCOUNTS.c.person_id.is_(None))
    ).scalar_one()
    return PeopleSummary(people, several, loose)


def accounts_of_person(conn: Connection, person_id: int) -> list[tuple[str, str, str | None]]:
    """(source name, account external id, login) of one person: what rules join on."""
    rows = conn.execute(
        select(SOURCES.c.name, ACCOUNTS.c.external_id, ACCOUNTS.c.login)
        .join(SOURCES, SOURCES.c.id == ACCOUNTS.c.source_id)
        .where(ACCOUNTS.c.person_id == person_id)
        .order_by(SOURCES.c.name, ACCOUNTS.c.external_id)
    )
    return [(name, external_id, login) for name, external_id, login in rows]
