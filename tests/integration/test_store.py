"""The store on SQLite and PostgreSQL: the schema of the normalized model, and what the
batch writer promises (aggregates replace their children, references resolve, deletions
are marked, nothing unchanged is rewritten)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, inspect, select

from syncd import records as r
from syncd.store import models as m
from syncd.store.db import current_revision, head_revision, upgrade
from syncd.store.writer import BatchWriter

DESIGN_TABLES = {
    "sources",
    "scopes",
    "accounts",
    "people",
    "issues",
    "issue_changes",
    "issue_links",
    "sprints",
    "sprint_issues",
    "releases",
    "release_items",
    "pull_requests",
    "reviews",
    "commits",
    "links",
    "sync_cursors",
    "sync_runs",
    "findings",
    "notifications",
    "silences",
    "reports",
}
T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def test_upgrade_creates_every_table_of_the_model_and_is_idempotent(db: Engine) -> None:
    assert set(inspect(db).get_table_names()) >= DESIGN_TABLES
    assert current_revision(db) == head_revision()
    upgrade(db)  # again: nothing to do, no error
    issue_columns = {c["name"] for c in inspect(db).get_columns("issues")}
    assert {
        "external_id",
        "key",
        "status",
        "original_status",
        "story_points",
        "due_date",
        "parent_key",
        "epic_key",
        "labels",
        "deleted_at",
    } <= issue_columns


def _source(db: Engine, scopes: tuple[str, ...] = ("PROJ",)) -> BatchWriter:
    with db.begin() as conn:
        source_id = conn.execute(
            m.table(m.Source)
            .insert()
            .values(name="jira", kind="jira", base_url="https://x", created_at=T0)
            .returning(m.Source.id)
        ).scalar_one()
        for key in scopes:
            conn.execute(
                m.table(m.Scope)
                .insert()
                .values(source_id=source_id, kind="jira_project", key=key, name=key, stored_at=T0)
            )
    return BatchWriter(db, source_id)


def _issue(n: int, **changes: object) -> r.Issue:
    issue = r.Issue(
        external_id=str(1000 + n),
        scope_key="PROJ",
        key=f"PROJ-{n}",
        url=None,
        title=f"Issue {n} — ünïcode 🚀 <b>html</b>",
        type="story",
        original_type="Story",
        status="in_progress",
        original_status="In Review",
        created_at=T0,
        updated_at=T0,
        assignee_id="acc-1",
        due_date=date(2026, 4, 1),
        story_points=3.0,
        labels=("x",),
    )
    return replace(issue, **changes)  # type: ignore[arg-type]


def test_references_resolve_through_stubs_that_records_later_fill(db: Engine) -> None:
    w = _source(db)
    issue = _issue(1, sprint_ids=("77",), release_ids=("10100",))
    w.write("PROJ", "issues", r.Batch(records=[issue]))
    with db.connect() as conn:
        account = conn.execute(select(m.Account)).one()
        sprint = conn.execute(select(m.Sprint)).one()
        release = conn.execute(select(m.Release)).one()
    assert (account.external_id, account.display_name) == ("acc-1", None)
    assert (sprint.external_id, sprint.state) == ("77", "unknown")
    assert (release.kind, release.external_id) == ("jira_version", "10100")

    w.write(
        "PROJ",
        "sprints",
        r.Batch(
            records=[
                r.Account(
                    external_id="acc-1",
                    display_name="Ana Lima",
                    email="Ana@Acme.example",
                    email_verified=True,
                ),
                r.Sprint(external_id="77", name="Sprint 7", state="active", board_id="3"),
                r.Release(
                    external_id="10100",
                    scope_key="PROJ",
                    kind="jira_version",
                    name="1.0",
                    due_date=date(2026, 5, 1),
                ),
            ]
        ),
    )
    with db.connect() as conn:
        assert conn.execute(select(m.Account.display_name, m.Account.email)).one() == (
            "Ana Lima",
            "ana@acme.example",
        )
        assert conn.execute(select(m.Sprint.name, m.Sprint.state)).one() == ("Sprint 7", "active")
        assert conn.execute(select(m.Release.name)).scalar_one() == "1.0"
        assert conn.execute(select(m.SprintIssue)).one().sprint_id == sprint.id

    # A later payload that does not show the e-mail does not erase it.
    w.write(
        "PROJ", "issues", r.Batch(records=[r.Account(external_id="acc-1", display_name="Ana Lima")])
    )
    with db.connect() as conn:
        assert conn.execute(select(m.Account.email, m.Account.email_verified)).one() == (
            "ana@acme.example",
            True,
        )
    # ...but the full profile, which no longer has one, does.
    profile = r.Account(external_id="acc-1", display_name="Ana Lima", complete=True)
    w.write("PROJ", "users", r.Batch(records=[profile]))
    with db.connect() as conn:
        assert conn.execute(select(m.Account.email, m.Account.email_verified)).one() == (
            None,
            False,
        )


def test_an_issue_replaces_its_links_sprints_and_versions(db: Engine) -> None:
    w = _source(db)
    link = r.IssueLinkRef("501", "blocked_by", "is blocked by", "1002", "PROJ-2")
    other = r.IssueLinkRef("502", "relates", "relates to", None, "OTHER-9")
    first = _issue(1, links=(link, other), sprint_ids=("1", "2"), release_ids=("v1", "v2"))
    w.write("PROJ", "issues", r.Batch(records=[first]))
    with db.connect() as conn:
        links = conn.execute(select(m.IssueLink).order_by(m.IssueLink.external_id)).all()
    assert [(x.external_id, x.to_issue_id) for x in links] == [("501", None), ("502", None)]

    # The target arrives later: the dangling link now points at it.
    w.write("PROJ", "issues", r.Batch(records=[_issue(2)]))
    with db.connect() as conn:
        target = conn.execute(select(m.Issue.id).where(m.Issue.key == "PROJ-2")).scalar_one()
        assert (
            conn.execute(
                select(m.IssueLink.to_issue_id).where(m.IssueLink.external_id == "501")
            ).scalar_one()
            == target
        )

    w.write(
        "PROJ",
        "issues",
        r.Batch(records=[replace(first, links=(link,), sprint_ids=("2",), release_ids=())]),
    )
    with db.connect() as conn:
        assert conn.execute(select(m.IssueLink.external_id)).scalars().all() == ["501"]
        sprints = (
            conn.execute(
                select(m.Sprint.external_id).join(
                    m.SprintIssue, m.SprintIssue.sprint_id == m.Sprint.id
                )
            )
            .scalars()
            .all()
        )
        assert sprints == ["2"]
        assert conn.execute(select(m.ReleaseItem)).all() == []


def test_changes_and_deletions(db: Engine) -> None:
    w = _source(db)
    issues = [_issue(n) for n in (1, 2, 3)]
    change = r.IssueChange(
        "h1:0", "1001", "status", T0, from_string="To Do", to_string="In Review", author_id="acc-2"
    )
    orphan = r.IssueChange("h9:0", "9999", "status", T0)
    w.write("PROJ", "issues", r.Batch(records=[*issues, change, orphan]))
    with db.connect() as conn:
        stored = conn.execute(select(m.IssueChange)).one()
        assert (stored.field, stored.to_string) == ("status", "In Review")
        assert conn.execute(select(m.SyncItemError.item)).scalar_one() == "issue id 9999"

    seen = T0 + timedelta(hours=1)
    w.write(
        "PROJ",
        "reconcile",
        r.Batch(records=[r.IssueDeletions("PROJ", frozenset({"1001", "1003"}), seen)]),
    )
    with db.connect() as conn:
        deleted = dict(conn.execute(select(m.Issue.key, m.Issue.deleted_at)).all())
    assert deleted == {"PROJ-1": None, "PROJ-2": seen, "PROJ-3": None}

    # Seen again (restored, or moved back): no longer deleted.
    w.write("PROJ", "issues", r.Batch(records=[issues[1]]))
    with db.connect() as conn:
        assert (
            conn.execute(select(m.Issue.deleted_at).where(m.Issue.key == "PROJ-2")).scalar_one()
            is None
        )


def test_a_moved_issue_keeps_one_row_with_its_new_key(db: Engine) -> None:
    w = _source(db, scopes=("PROJ", "OPS"))
    w.write("PROJ", "issues", r.Batch(records=[_issue(5)]))
    w.write("OPS", "issues", r.Batch(records=[_issue(5, key="OPS-1", scope_key="OPS")]))
    with db.connect() as conn:
        rows = conn.execute(select(m.Issue.key, m.Issue.scope_id)).all()
        ops = conn.execute(select(m.Scope.id).where(m.Scope.key == "OPS")).scalar_one()
    assert rows == [("OPS-1", ops)]


def test_cursor_is_stored_with_its_batch(db: Engine) -> None:
    w = _source(db)
    w.write(
        "PROJ",
        "issues",
        r.Batch(records=[_issue(1)], cursor={"watermark": "2026-03-02T08:30:00+00:00"}),
    )
    with db.connect() as conn:
        assert conn.execute(select(m.SyncCursor.cursor)).scalar_one() == {
            "watermark": "2026-03-02T08:30:00+00:00"
        }


def test_pull_request_sizes_and_commit_branches_are_not_forgotten(db: Engine) -> None:
    with db.begin() as conn:
        source_id = conn.execute(
            m.table(m.Source)
            .insert()
            .values(name="gh", kind="github", base_url="https://x", created_at=T0)
            .returning(m.Source.id)
        ).scalar_one()
        conn.execute(
            m.table(m.Scope)
            .insert()
            .values(
                source_id=source_id, kind="github_repo", key="acme/api", name="api", stored_at=T0
            )
        )
    w = BatchWriter(db, source_id)
    pr = r.PullRequest(
        external_id="9001",
        scope_key="acme/api",
        number=7,
        url=None,
        title="PROJ-1 login",
        state="merged",
        created_at=T0,
        updated_at=T0,
        additions=10,
        deletions=2,
        changed_files=3,
    )
    commit = r.Commit("acme/api", "abc123", "PROJ-1 fix", T0, T0, branches=("main",))
    w.write("acme/api", "pulls", r.Batch(records=[pr, commit]))
    # A later listing without sizes (they cost a request each), and the same commit seen
    # from another tracked branch.
    later = replace(
        pr, title="PROJ-1 login flow", additions=None, deletions=None, changed_files=None
    )
    w.write(
        "acme/api", "pulls", r.Batch(records=[later, replace(commit, branches=("release/1.0",))])
    )
    with db.connect() as conn:
        stored = conn.execute(select(m.PullRequest)).one()
        branches = conn.execute(select(m.Commit.branches)).scalar_one()
    assert (stored.title, stored.additions, stored.deletions, stored.changed_files) == (
        "PROJ-1 login flow",
        10,
        2,
        3,
    )
    assert branches == ["main", "release/1.0"]


def test_foreign_keys_stay_enforced_outside_batch_writes(db: Engine) -> None:
    w = _source(db)
    w.write("PROJ", "issues", r.Batch(records=[_issue(1)]))
    if db.dialect.name == "sqlite":
        with db.connect() as conn:  # pooled connections get their pragma back
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    with db.begin() as conn:  # deleting a source still cascades to its rows
        conn.execute(m.table(m.Source).delete())
    with db.connect() as conn:
        assert conn.execute(select(m.Issue.id)).all() == []
        assert conn.execute(select(m.Account.id)).all() == []


def test_an_older_read_never_overwrites_a_newer_one(db: Engine) -> None:
    w = _source(db, scopes=("PROJ", "OPS"))
    newer = _issue(5, key="OPS-1", scope_key="OPS", updated_at=T0 + timedelta(minutes=5))
    w.write("OPS", "issues", r.Batch(records=[newer]))
    w.write("PROJ", "issues", r.Batch(records=[_issue(5)]))  # read before the move
    with db.connect() as conn:
        assert conn.execute(select(m.Issue.key, m.Issue.updated_at)).one() == (
            "OPS-1",
            T0 + timedelta(minutes=5),
        )


def test_keys_written_elsewhere_follow_a_moved_issue(db: Engine) -> None:
    w = _source(db, scopes=("PROJ", "OPS"))
    epic = _issue(1, type="epic")
    child = _issue(2, epic_key="PROJ-1", parent_key="PROJ-1")
    blocked = _issue(
        3, links=(r.IssueLinkRef("77", "blocked_by", "is blocked by", "1001", "PROJ-1"),)
    )
    w.write("PROJ", "issues", r.Batch(records=[epic, child, blocked]))
    moved = replace(epic, key="OPS-9", scope_key="OPS", updated_at=T0 + timedelta(minutes=1))
    w.write("OPS", "issues", r.Batch(records=[moved]))
    with db.connect() as conn:
        assert conn.execute(
            select(m.Issue.epic_key, m.Issue.parent_key).where(m.Issue.key == "PROJ-2")
        ).one() == ("OPS-9", "OPS-9")
        assert conn.execute(select(m.IssueLink.to_issue_key)).scalar_one() == "OPS-9"
