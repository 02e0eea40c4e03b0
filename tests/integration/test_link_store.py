"""Links and people derived from a real store, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from syncd import records as r
from syncd.link import links as links_module
from syncd.link import refresh
from syncd.link.config import PeopleConfig
from syncd.link.links import refresh_links
from syncd.link.people import refresh_people
from syncd.link.queries import dangling_keys, link_summary, people_summary
from syncd.store import models as m
from syncd.store.writer import BatchWriter

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def _source(db: Engine, name: str, kind: str, scopes: dict[str, str]) -> BatchWriter:
    with db.begin() as conn:
        source_id = conn.execute(
            m.Source.__table__.insert()
            .values(name=name, kind=kind, base_url="https://x", created_at=T0)
            .returning(m.Source.id)
        ).scalar_one()
        for key, scope_kind in scopes.items():
            conn.execute(
                m.Scope.__table__.insert().values(
                    source_id=source_id, kind=scope_kind, key=key, name=key, stored_at=T0
                )
            )
    return BatchWriter(db, source_id)


def _jira_issue(n: int, project: str = "PROJ") -> r.Issue:
    return r.Issue(
        external_id=f"{project}{n}",
        scope_key=project,
        key=f"{project}-{n}",
        url=None,
        title=f"Issue {n}",
        type="task",
        original_type="Task",
        status="todo",
        original_status="To Do",
        created_at=T0,
        updated_at=T0,
    )


def _pull(n: int, title: str, branch: str = "main", body: str | None = None) -> r.PullRequest:
    return r.PullRequest(
        external_id=str(900 + n),
        scope_key="acme/api",
        number=n,
        url=None,
        title=title,
        state="open",
        created_at=T0,
        updated_at=T0,
        body=body,
        head_ref=branch,
        author_id="1001",
    )


def _commit(sha: str, message: str) -> r.Commit:
    return r.Commit(
        scope_key="acme/api",
        sha=sha * 40,
        message=message,
        authored_at=T0,
        committed_at=T0,
        branches=("main",),
    )


@pytest.fixture
def stores(db: Engine) -> tuple[BatchWriter, BatchWriter]:
    jira = _source(db, "jira", "jira", {"PROJ": "jira_project", "OPS": "jira_project"})
    github = _source(db, "github", "github", {"acme/api": "github_repo"})
    return jira, github


def _links(db: Engine) -> set[tuple[str, str, str, bool]]:
    links, pulls, commits = m.Link.__table__, m.PullRequest.__table__, m.Commit.__table__
    with db.connect() as conn:
        rows = conn.execute(
            select(
                links.c.issue_key,
                links.c.via,
                pulls.c.number,
                commits.c.sha,
                links.c.issue_id,
            )
            .outerjoin(pulls, pulls.c.id == links.c.pull_request_id)
            .outerjoin(commits, commits.c.id == links.c.commit_id)
        ).all()
    return {
        (key, via, f"#{number}" if number else sha[:1], issue_id is not None)
        for key, via, number, sha, issue_id in rows
    }


def test_links_found_in_titles_branches_bodies_and_messages(db: Engine, stores) -> None:
    jira, github = stores
    jira.write("PROJ", "issues", r.Batch([_jira_issue(1), _jira_issue(2)]))
    github.write(
        "acme/api",
        "pull_requests",
        r.Batch(
            [
                _pull(1, "[PROJ-1] Add login", "feature/proj-1-login-12", "Fixes PROJ-2, ABC-3"),
                _pull(2, "Support UTF-8 in CSV import"),
            ]
        ),
    )
    github.write("acme/api", "commits", r.Batch([_commit("a", "OPS-77 tune pool (ABC-1)")]))

    report = refresh_links(db)
    assert report.full_sources == ["github"]
    assert _links(db) == {
        ("PROJ-1", "title", "#1", True),
        ("PROJ-1", "branch", "#1", True),
        ("PROJ-2", "body", "#1", True),
        ("OPS-77", "commit_message", "a", False),  # tracked project, no such issue: dangling
    }
    with db.connect() as conn:
        (dangling,) = dangling_keys(conn)
        summary = link_summary(conn)
    assert (dangling.key, dangling.commits, dangling.example) == (
        "OPS-77",
        1,
        "acme/api@" + "a" * 12,
    )
    assert (summary.links, summary.dangling_keys, summary.linked_issues) == (4, 1, 2)


def test_links_follow_changes_incrementally(db: Engine, stores) -> None:
    jira, github = stores
    github.write("acme/api", "pull_requests", r.Batch([_pull(1, "PROJ-5: first")]))
    refresh_links(db)
    assert _links(db) == {("PROJ-5", "title", "#1", False)}

    # The issue appears in Jira: the dangling link resolves without re-reading anything.
    jira.write("PROJ", "issues", r.Batch([_jira_issue(5)]))
    second = refresh_links(db)
    assert second.resolved == 1 and second.full_sources == []
    assert _links(db) == {("PROJ-5", "title", "#1", True)}

    # The title changes: the old link goes, the new one comes.
    github.write("acme/api", "pull_requests", r.Batch([_pull(1, "OPS-6: renamed")]))
    third = refresh_links(db)
    assert (third.added, third.removed) == (1, 1)
    assert _links(db) == {("OPS-6", "title", "#1", False)}


def test_a_project_no_longer_tracked_drops_its_links(db: Engine, stores) -> None:
    _, github = stores
    github.write("acme/api", "pull_requests", r.Batch([_pull(1, "PROJ-5 OPS-6")]))
    refresh_links(db)
    with db.begin() as conn:
        conn.execute(m.Scope.__table__.delete().where(m.Scope.__table__.c.key == "OPS"))
    report = refresh_links(db)
    assert report.full_sources == ["github"]
    assert _links(db) == {("PROJ-5", "title", "#1", False)}


def _account(external_id: str, **kw: object) -> r.Account:
    return r.Account(external_id=external_id, **kw)  # type: ignore[arg-type]


def _people(db: Engine) -> dict[str, set[str]]:
    """person display name -> its accounts as "source:external_id"."""
    accounts, people, sources = m.Account.__table__, m.Person.__table__, m.Source.__table__
    with db.connect() as conn:
        rows = conn.execute(
            select(people.c.display_name, sources.c.name, accounts.c.external_id)
            .join(accounts, accounts.c.person_id == people.c.id)
            .join(sources, sources.c.id == accounts.c.source_id)
        ).all()
    out: dict[str, set[str]] = {}
    for name, source, external_id in rows:
        out.setdefault(name, set()).add(f"{source}:{external_id}")
    return out


def test_people_by_verified_email_and_by_mapping(db: Engine, stores) -> None:
    jira, github = stores
    jira.write(
        "PROJ",
        "users",
        r.Batch(
            [
                _account(
                    "j-alice",
                    display_name="Alice Johnson",
                    email="alice.johnson@acme.example",
                    email_verified=True,
                ),
                _account(
                    "j-noah",
                    display_name="Noah Williams",
                    email="noah.williams@acme.example",
                    email_verified=True,
                ),
                _account(
                    "j-helen",
                    display_name="Helen Carter",
                    email="helen.carter@acme.example",
                    email_verified=True,
                ),
            ]
        ),
    )
    github.write(
        "acme/api",
        "users",
        r.Batch(
            [
                _account(
                    "1001",
                    login="alicej",
                    display_name="Alice J",
                    email="Alice.Johnson@acme.example",
                    email_verified=True,
                ),
                _account("1014", login="zz-top-dev"),  # no public e-mail: needs the mapping
                _account("1020", login="kmori-oss", email="kenji.mori@acme.example"),
                _account("49699333", login="dependabot[bot]"),
            ]
        ),
    )
    mapping = PeopleConfig.model_validate({"noah.williams@acme.example": "zz-top-dev"})

    report = refresh(db, mapping).people
    assert report.multi_tool == 2
    assert _people(db) == {
        "Alice Johnson": {"jira:j-alice", "github:1001"},
        "Noah Williams": {"jira:j-noah", "github:1014"},
        "Helen Carter": {"jira:j-helen"},
        "kmori-oss": {"github:1020"},  # unverified e-mail: a person of their own
    }
    with db.connect() as conn:
        summary = people_summary(conn)
    assert (summary.people, summary.in_several_tools, summary.accounts_without_person) == (4, 2, 1)

    # Ids are stable; dropping the mapping splits Noah, and only what changed is written.
    with db.connect() as conn:
        before = dict(conn.execute(select(m.Account.external_id, m.Account.person_id)).all())
    again = refresh_people(db, mapping)
    assert (again.created, again.updated, again.accounts_moved, again.removed) == (0, 0, 0, 0)
    split = refresh_people(db, {})
    assert (split.created, split.accounts_moved) == (1, 1)
    with db.connect() as conn:
        after = dict(conn.execute(select(m.Account.external_id, m.Account.person_id)).all())
    assert after["j-noah"] == before["j-noah"] and after["1014"] != before["1014"]
    assert after["j-alice"] == before["j-alice"] == before["1001"]


def test_people_config_accepts_a_github_prefix() -> None:
    config = PeopleConfig.model_validate({"jane@acme.example": ["github:janedoe", "jd2"]})
    assert [(link.jira, link.github) for link in config.links()] == [
        ("jane@acme.example", ("janedoe", "jd2"))
    ]


def test_people_config_rejects_a_login_given_to_two_people() -> None:
    with pytest.raises(ValueError, match="mapped to both"):
        PeopleConfig.model_validate({"a@x.example": "alicej", "b@x.example": ["AliceJ"]})
    with pytest.raises(ValueError, match="not a GitHub login"):
        PeopleConfig.model_validate({"a@x.example": "not a login"})


def test_unverified_email_does_not_merge(db: Engine, stores) -> None:
    jira, github = stores
    jira.write(
        "PROJ",
        "users",
        r.Batch([_account("j-x", display_name="X", email="x@acme.example", email_verified=True)]),
    )
    github.write(
        "acme/api",
        "users",
        r.Batch([_account("7", login="x-gh", email="x@acme.example", email_verified=False)]),
    )
    refresh_people(db)
    assert _people(db) == {"X": {"jira:j-x"}, "x-gh": {"github:7"}}


# -- concurrency, incremental cost ----------------------------------------------------------


def test_two_derivations_at_once_both_succeed(
    db: Engine, stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon and a manual ``syncd sync`` (or two workers) derive at the same moment:
    both read the same links as missing before either writes them."""
    jira, github = stores
    jira.write("PROJ", "issues", r.Batch([_jira_issue(1)]))
    github.write(
        "acme/api",
        "pull_requests",
        r.Batch([_pull(n, f"PROJ-{n}: change {n}", f"feature/ops-{n}-x") for n in (1, 2, 3)]),
    )
    github.write("acme/api", "commits", r.Batch([_commit("a", "PROJ-1 tune pool")]))
    both_read = threading.Barrier(2, timeout=30)
    lookup = links_module.issues_by_key

    def in_step(conn, keys):  # type: ignore[no-untyped-def]
        both_read.wait()  # each has computed the same missing links; now both insert them
        return lookup(conn, keys)

    monkeypatch.setattr(links_module, "issues_by_key", in_step)
    errors: list[BaseException] = []

    def derive() -> None:
        try:
            refresh_links(db)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=derive) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert _links(db) == {
        ("PROJ-1", "title", "#1", True),
        ("PROJ-2", "title", "#2", False),
        ("PROJ-3", "title", "#3", False),
        ("OPS-1", "branch", "#1", False),
        ("OPS-2", "branch", "#2", False),
        ("OPS-3", "branch", "#3", False),
        ("PROJ-1", "commit_message", "a", True),
    }
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Link)).scalar_one() == 7
        states = conn.execute(
            select(func.count()).select_from(m.SyncCursor).where(m.SyncCursor.stream == "links")
        ).scalar_one()
    assert states == 1


def test_only_issues_stored_since_the_last_derivation_resolve_dangling_links(
    db: Engine, stores
) -> None:
    jira, github = stores
    github.write("acme/api", "pull_requests", r.Batch([_pull(1, "PROJ-7 and PROJ-8")]))
    refresh_links(db)
    # PROJ-7 is stored, but (as far as the derivation can tell) before the last derivation
    # and its look-back: it cannot be what a dangling link waits for, so it is not looked
    # at. A real store never gets here (the link would have found it when inserted); the
    # state is made up to show which issues are read.
    jira.write("PROJ", "issues", r.Batch([_jira_issue(7)]))
    with db.begin() as conn:
        conn.execute(
            m.Issue.__table__.update()
            .where(m.Issue.__table__.c.key == "PROJ-7")
            .values(stored_at=datetime.now(UTC) - timedelta(days=1))
        )
    jira.write("PROJ", "issues", r.Batch([_jira_issue(8)]))
    report = refresh_links(db)
    assert (report.resolved, report.full_sources) == (1, [])
    assert _links(db) == {("PROJ-7", "title", "#1", False), ("PROJ-8", "title", "#1", True)}
    # A full derivation looks every dangling key up.
    assert refresh_links(db, full=True).resolved == 1
    assert _links(db) == {("PROJ-7", "title", "#1", True), ("PROJ-8", "title", "#1", True)}


_BIG = ("pull_requests", "commits", "issues", "links")


def _plans(db: Engine, statements: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(statement, its plan) for the reads and updates of the big tables."""
    out = []
    with db.connect() as conn:
        if db.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # tiny tables: show index use
        for statement, params in statements:
            head = statement.lstrip().split(None, 1)[0].upper()
            if head not in ("SELECT", "UPDATE", "DELETE") or not any(t in statement for t in _BIG):
                continue
            if isinstance(params, list):  # executemany: one set is enough for a plan
                params = params[0]
            prefix = "EXPLAIN QUERY PLAN " if db.dialect.name == "sqlite" else "EXPLAIN "
            rows = conn.exec_driver_sql(prefix + statement, params).all()
            out.append((statement, "\n".join(str(row[-1]) for row in rows)))
    return out


def test_an_incremental_derivation_reads_changed_rows_through_indexes(db: Engine, stores) -> None:
    jira, github = stores
    jira.write("PROJ", "issues", r.Batch([_jira_issue(n) for n in range(1, 30)]))
    github.write(
        "acme/api",
        "pull_requests",
        r.Batch([_pull(n, f"PROJ-{n} / PROJ-{n + 100}") for n in range(1, 40)]),
    )
    github.write(
        "acme/api", "commits", r.Batch([_commit(c, f"PROJ-{i} x") for i, c in enumerate("abcd")])
    )
    refresh_links(db)
    day_ago = datetime.now(UTC) - timedelta(days=1)
    with db.begin() as conn:  # all of it stored long before the look-back
        for model in (m.Issue, m.PullRequest, m.Commit):
            conn.execute(model.__table__.update().values(stored_at=day_ago))
    github.write("acme/api", "pull_requests", r.Batch([_pull(3, "PROJ-4 renamed")]))
    jira.write("PROJ", "issues", r.Batch([_jira_issue(104)]))

    statements: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        statements.append((statement, params))

    event.listen(db, "before_cursor_execute", capture)
    try:
        report = refresh_links(db)
    finally:
        event.remove(db, "before_cursor_execute", capture)
    assert (report.pull_requests, report.commits, report.resolved) == (1, 0, 1)
    plans = _plans(db, statements)
    assert plans
    full_scan = re.compile(
        r"^(SCAN (pull_requests|commits|issues|links)\b(?! USING (COVERING )?INDEX))"
        r"|Seq Scan on (pull_requests|commits|issues|links)\b",
        re.MULTILINE,
    )
    assert not [(s, p) for s, p in plans if full_scan.search(p)]
    # The changed rows are found by the (source_id, stored_at) indexes.
    used = "\n".join(p for _, p in plans)
    for index in ("ix_pull_requests_source_stored", "ix_commits_source_stored",
                  "ix_issues_source_stored"):  # fmt: skip
        assert index in used, index


def _count_statements(db: Engine, fn: Any) -> int:
    seen: list[str] = []

    def capture(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db, "before_cursor_execute", capture)
    try:
        fn()
    finally:
        event.remove(db, "before_cursor_execute", capture)
    return len(seen)


@pytest.mark.parametrize("count", [3, 40])
def test_people_are_written_in_a_constant_number_of_statements(
    db: Engine, stores, count: int
) -> None:
    jira, github = stores

    def accounts(suffix: str) -> None:
        jira.write(
            "PROJ",
            "users",
            r.Batch(
                [
                    _account(f"j{n}", display_name=f"Person {n}{suffix}",
                             email=f"p{n}@acme.example", email_verified=True)
                    for n in range(count)
                ]
            ),
        )  # fmt: skip
        github.write(
            "acme/api",
            "users",
            r.Batch(
                [
                    _account(str(1000 + n), login=f"p{n}-gh", email=f"p{n}@acme.example",
                             email_verified=True)
                    for n in range(count)
                ]
            ),
        )  # fmt: skip

    accounts("")
    created = _count_statements(db, lambda: refresh_people(db))
    # Every person renamed, and every GitHub account split off by a changed e-mail.
    accounts(" (renamed)")
    github.write(
        "acme/api",
        "users",
        r.Batch(
            [
                _account(str(1000 + n), login=f"p{n}-gh", email=f"other{n}@acme.example",
                         email_verified=True, complete=True)
                for n in range(count)
            ]
        ),
    )  # fmt: skip
    changed = _count_statements(db, lambda: refresh_people(db))
    report = refresh_people(db)
    assert (report.people, report.multi_tool) == (2 * count, 0)
    assert _people(db)["Person 0 (renamed)"] == {"jira:j0"}
    # Reads, one INSERT for the new people, one UPDATE each for people and accounts, one
    # DELETE: the same for 3 people as for 40.
    assert created <= 6 and changed <= 7, (created, changed)
