"""One person across Jira and GitHub: ``people`` rows and ``accounts.person_id``.

Two accounts are the same person when they share a *verified* e-mail address (any tool, any
source), or when the ``[people]`` configuration says so. Every other account is a person of
its own, so "what is this person working on" is one query whether or not a match was found.
Bot accounts (GitHub logins ending in ``[bot]``) belong to no person.

The grouping is recomputed from all accounts on every refresh (accounts are few: people,
not items) and only differences are written; a person keeps the id most of its accounts
already point at, so ids are stable across runs and across a changed mapping.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, delete, insert, select, update

from syncd.link.config import PeopleConfig, people_config
from syncd.store import models as m
from syncd.store.upsert import one_of

ACCOUNTS, PEOPLE = cast(Table, m.Account.__table__), cast(Table, m.Person.__table__)
SOURCES = cast(Table, m.Source.__table__)


@dataclass
class PeopleReport:
    people: int = 0
    created: int = 0
    updated: int = 0
    removed: int = 0
    accounts_moved: int = 0
    multi_tool: int = 0  # people with accounts in more than one tool


@dataclass(frozen=True)
class _Account:
    id: int
    kind: str  # the source's kind: jira / github
    external_id: str
    login: str | None
    email: str | None
    verified: bool
    display_name: str | None
    person_id: int | None

    @property
    def is_bot(self) -> bool:
        return self.kind == "github" and bool(self.login and self.login.endswith("[bot]"))


class _Groups:
    """Union-find over account ids."""

    def __init__(self, ids: list[int]) -> None:
        self.parent = {i: i for i in ids}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, ids: list[int]) -> None:
        for other in ids[1:]:
            a, b = self.find(ids[0]), self.find(other)
            if a != b:
                self.parent[max(a, b)] = min(a, b)


def group_accounts(accounts: list[_Account], config: PeopleConfig) -> list[list[_Account]]:
    """Accounts that are one person, each group sorted by account id. Pure."""
    humans = [a for a in accounts if not a.is_bot]
    groups = _Groups([a.id for a in humans])
    by_email: dict[str, list[int]] = defaultdict(list)
    for a in humans:
        if a.email and a.verified:
            by_email[a.email.strip().lower()].append(a.id)
    for ids in by_email.values():
        groups.union(ids)
    jira_by_ref: dict[str, list[int]] = defaultdict(list)
    github_by_login: dict[str, list[int]] = defaultdict(list)
    for a in humans:
        if a.kind == "github" and a.login:
            github_by_login[a.login.lower()].append(a.id)
        elif a.kind != "github":
            for ref in (a.external_id, a.login, a.email):
                if ref:
                    jira_by_ref[ref.strip().lower()].append(a.id)
    for link in config.links():
        ids = list(jira_by_ref.get(link.jira.lower(), []))
        if link.jira_is_email:
            ids += by_email.get(link.jira.lower(), [])
        for login in link.github:
            ids += github_by_login.get(login.lower(), [])
        if len(ids) > 1:
            groups.union(ids)
    members: dict[int, list[_Account]] = defaultdict(list)
    for a in humans:
        members[groups.find(a.id)].append(a)
    return [sorted(group, key=lambda a: a.id) for _, group in sorted(members.items())]


def _person_fields(group: list[_Account], config: PeopleConfig) -> tuple[str | None, str | None]:
    """(display name, e-mail): the Jira side's name first (the name a PM knows), then
    GitHub's profile name, then a login; a verified e-mail, Jira's first."""
    ordered = sorted(group, key=lambda a: (a.kind != "jira", a.id))
    name = next((a.display_name for a in ordered if a.display_name), None)
    name = name or next((a.login for a in ordered if a.login), None)
    email = next((a.email.lower() for a in ordered if a.email and a.verified), None)
    if email is None:
        refs = {a.email.lower() for a in group if a.email}
        email = next(
            (link.jira.lower() for link in config.links()
             if link.jira_is_email and link.jira.lower() in refs),
            None,
        )  # fmt: skip
    return name, email


def refresh_people(
    engine: Engine, people: PeopleConfig | Mapping[str, Any] | None = None
) -> PeopleReport:
    """Regroup all accounts into people and write what changed: a constant number of
    statements whatever the number of people (new people in one multi-row INSERT ...
    RETURNING, changed ones and moved accounts each in one executemany)."""
    config = people_config(people)
    report = PeopleReport()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        accounts = [
            _Account(*row)
            for row in conn.execute(
                select(
                    ACCOUNTS.c.id,
                    SOURCES.c.kind,
                    ACCOUNTS.c.external_id,
                    ACCOUNTS.c.login,
                    ACCOUNTS.c.email,
                    ACCOUNTS.c.email_verified,
                    ACCOUNTS.c.display_name,
                    ACCOUNTS.c.person_id,
                ).join(SOURCES, SOURCES.c.id == ACCOUNTS.c.source_id)
            )
        ]
        stored_people = {
            pid: (name, email)
            for pid, name, email in conn.execute(
                select(PEOPLE.c.id, PEOPLE.c.display_name, PEOPLE.c.email)
            )
        }
        groups = group_accounts(accounts, config)
        # Biggest groups choose first, so a split leaves the old id with the larger part.
        taken: set[int] = set()
        kept: list[tuple[int, list[_Account]]] = []
        new: list[list[_Account]] = []
        changed: list[dict[str, Any]] = []
        for group in sorted(groups, key=lambda g: (-len(g), g[0].id)):
            votes = Counter(
                a.person_id for a in group if a.person_id in stored_people and a.person_id
            )
            person_id = next(
                (pid for pid, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
                 if pid not in taken),
                None,
            )  # fmt: skip
            if len({a.kind for a in group}) > 1:
                report.multi_tool += 1
            if person_id is None:
                new.append(group)
                continue
            taken.add(person_id)
            kept.append((person_id, group))
            name, email = _person_fields(group, config)
            if stored_people[person_id] != (name, email):
                changed.append({"b_id": person_id, "b_name": name, "b_email": email})
        assignment: dict[int, int | None] = {a.id: None for a in accounts if a.is_bot}
        for person_id, group in kept:
            for a in group:
                assignment[a.id] = person_id
        if new:
            rows = []
            for group in new:
                name, email = _person_fields(group, config)
                rows.append(
                    {"display_name": name, "email": email, "created_at": now, "updated_at": now}
                )
            ids = _insert_people(conn, rows)
            for person_id, group in zip(ids, new, strict=True):
                taken.add(person_id)
                for a in group:
                    assignment[a.id] = person_id
            report.created = len(new)
        if changed:
            conn.execute(
                update(PEOPLE)
                .where(PEOPLE.c.id == bindparam("b_id"))
                .values(
                    display_name=bindparam("b_name"), email=bindparam("b_email"), updated_at=now
                ),
                changed,
            )
            report.updated = len(changed)
        moves = [
            {"b_account": a.id, "b_person": assignment.get(a.id)}
            for a in accounts
            if assignment.get(a.id) != a.person_id
        ]
        if moves:
            conn.execute(
                update(ACCOUNTS)
                .where(ACCOUNTS.c.id == bindparam("b_account"))
                .values(person_id=bindparam("b_person")),
                moves,
            )
            report.accounts_moved = len(moves)
        orphans = sorted(set(stored_people) - taken)
        if orphans:
            conn.execute(delete(PEOPLE).where(one_of(PEOPLE.c.id, orphans, conn.dialect.name)))
            report.removed = len(orphans)
        report.people = len(taken)
    return report


def _insert_people(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``people``; their ids, in the order of ``rows``."""
    if conn.dialect.name == "postgresql":
        # One multi-row INSERT ... RETURNING; SQLAlchemy matches the ids to the rows.
        stmt = insert(PEOPLE).returning(PEOPLE.c.id, sort_by_parameter_order=True)
        return list(conn.execute(stmt, rows).scalars())
    # SQLite does not say which RETURNING row is which (SQLAlchemy would then insert row by
    # row). One executemany inserts them in order under this transaction's write lock, each
    # with a rowid one above the largest in the table: they are the last len(rows) ids.
    conn.execute(insert(PEOPLE), rows)
    newest = select(PEOPLE.c.id).order_by(PEOPLE.c.id.desc()).limit(len(rows))
    return sorted(conn.execute(newest).scalars())
