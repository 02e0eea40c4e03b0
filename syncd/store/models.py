"""The normalized model (DESIGN.md): one SQLAlchemy 2.0 class per table.

Table names are part of the contract. Every synced row carries ``source_id``; natural keys
(``source_id`` + the source's ``external_id``) are unique, so upserts are idempotent.
Strings are ``Text``: trackers set no length we can trust, and PostgreSQL would otherwise
truncate or refuse what SQLite keeps.
``stored_at`` changes only when a row's content changes (upserts skip identical rows).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from syncd.store.types import JsonValue, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JsonValue, list[str]: JsonValue}


def table(model: type[Base]) -> Table:
    """A model's Table, typed as one (``__table__`` is typed as a plain FromClause)."""
    return Base.metadata.tables[model.__tablename__]


def _source_fk(*, indexed: bool = False) -> Mapped[int]:
    """Most tables have a unique key that starts with ``source_id``, which serves lookups
    and cascading deletes; the others ask for an index of their own."""
    return mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=indexed)


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    base_url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Scope(Base):
    __tablename__ = "scopes"
    __table_args__ = (UniqueConstraint("source_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    kind: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    stored_at: Mapped[datetime]


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text, index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    external_id: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text, index=True)
    login: Mapped[str | None] = mapped_column(Text, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    stored_at: Mapped[datetime]


class Issue(Base):
    __tablename__ = "issues"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_issues_key", "key"),  # links find issues by key alone
        Index("ix_issues_source_stored", "source_id", "stored_at"),
        Index("ix_issues_scope_status", "scope_id", "status"),
        Index("ix_issues_scope_updated", "scope_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    original_type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    original_status: Mapped[str] = mapped_column(Text)
    priority: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    story_points: Mapped[float | None] = mapped_column(Float)
    original_estimate_s: Mapped[int | None] = mapped_column(Integer)
    remaining_estimate_s: Mapped[int | None] = mapped_column(Integer)
    time_spent_s: Mapped[int | None] = mapped_column(Integer)
    parent_key: Mapped[str | None] = mapped_column(Text, index=True)
    epic_key: Mapped[str | None] = mapped_column(Text, index=True)
    resolution: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[list[str]]
    components: Mapped[list[str]]
    deleted_at: Mapped[datetime | None]
    stored_at: Mapped[datetime]


class IssueChange(Base):
    __tablename__ = "issue_changes"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_issue_changes_issue_changed", "issue_id", "changed_at"),
        Index("ix_issue_changes_field_changed", "field", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(Text)
    field_id: Mapped[str | None] = mapped_column(Text)
    from_value: Mapped[str | None] = mapped_column(Text)
    from_string: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)
    to_string: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    stored_at: Mapped[datetime]


class IssueLink(Base):
    """A dependency as listed by ``from_issue`` (each side of a Jira link owns its view)."""

    __tablename__ = "issue_links"
    __table_args__ = (UniqueConstraint("from_issue_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    external_id: Mapped[str] = mapped_column(Text)
    from_issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    # Null until the target issue is stored (it may be untracked or not yet synced).
    to_issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("issues.id", ondelete="SET NULL"), index=True
    )
    to_issue_key: Mapped[str] = mapped_column(Text)
    to_issue_external_id: Mapped[str | None] = mapped_column(Text, index=True)
    type: Mapped[str] = mapped_column(Text)
    original_type: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime]


class Sprint(Base):
    __tablename__ = "sprints"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    external_id: Mapped[str] = mapped_column(Text)
    board_id: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    goal: Mapped[str | None] = mapped_column(Text)
    stored_at: Mapped[datetime]


class SprintIssue(Base):
    __tablename__ = "sprint_issues"

    sprint_id: Mapped[int] = mapped_column(
        ForeignKey("sprints.id", ondelete="CASCADE"), primary_key=True
    )
    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    source_id: Mapped[int] = _source_fk(indexed=True)


class Release(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("source_id", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    scope_id: Mapped[int | None] = mapped_column(
        ForeignKey("scopes.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    released_at: Mapped[date | None] = mapped_column(Date)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    stored_at: Mapped[datetime]


class ReleaseItem(Base):
    __tablename__ = "release_items"
    __table_args__ = (
        CheckConstraint("(issue_id IS NULL) <> (pull_request_id IS NULL)", name="one_subject"),
        Index(
            "uq_release_items_issue",
            "release_id",
            "issue_id",
            unique=True,
            sqlite_where=text("issue_id IS NOT NULL"),
            postgresql_where=text("issue_id IS NOT NULL"),
        ),
        Index(
            "uq_release_items_pull_request",
            "release_id",
            "pull_request_id",
            unique=True,
            sqlite_where=text("pull_request_id IS NOT NULL"),
            postgresql_where=text("pull_request_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk(indexed=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    pull_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="CASCADE"), index=True
    )


class PullRequest(Base):
    __tablename__ = "pull_requests"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        UniqueConstraint("scope_id", "number"),
        Index("ix_pull_requests_scope_state", "scope_id", "state"),
        Index("ix_pull_requests_scope_updated", "scope_id", "updated_at"),
        Index("ix_pull_requests_source_stored", "source_id", "stored_at"),  # link derivation
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(Text)
    number: Mapped[int] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)
    is_draft: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    merged_at: Mapped[datetime | None]
    head_ref: Mapped[str | None] = mapped_column(Text)
    base_ref: Mapped[str | None] = mapped_column(Text)
    additions: Mapped[int | None] = mapped_column(Integer)
    deletions: Mapped[int | None] = mapped_column(Integer)
    changed_files: Mapped[int | None] = mapped_column(Integer)
    stored_at: Mapped[datetime]


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    pull_request_id: Mapped[int] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    stored_at: Mapped[datetime]


class Commit(Base):
    __tablename__ = "commits"
    __table_args__ = (
        UniqueConstraint("scope_id", "sha"),
        Index("ix_commits_scope_committed", "scope_id", "committed_at"),
        Index("ix_commits_source_stored", "source_id", "stored_at"),  # link derivation
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk(indexed=True)
    scope_id: Mapped[int] = mapped_column(ForeignKey("scopes.id", ondelete="CASCADE"))
    sha: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    author_name: Mapped[str | None] = mapped_column(Text)
    author_email: Mapped[str | None] = mapped_column(Text)
    authored_at: Mapped[datetime]
    committed_at: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text)
    branches: Mapped[list[str]]
    stored_at: Mapped[datetime]


class Link(Base):
    """A cross-tool link: a Jira key mentioned by a pull request or a commit.

    ``issue_id`` is null while the key names no stored issue (a dangling key of a tracked
    project); ``issue_key`` always says what was written.
    """

    __tablename__ = "links"
    __table_args__ = (
        CheckConstraint("(pull_request_id IS NULL) <> (commit_id IS NULL)", name="one_subject"),
        Index(
            "uq_links_pull_request",
            "pull_request_id",
            "issue_key",
            "via",
            unique=True,
            sqlite_where=text("pull_request_id IS NOT NULL"),
            postgresql_where=text("pull_request_id IS NOT NULL"),
        ),
        Index(
            "uq_links_commit",
            "commit_id",
            "issue_key",
            "via",
            unique=True,
            sqlite_where=text("commit_id IS NOT NULL"),
            postgresql_where=text("commit_id IS NOT NULL"),
        ),
        Index("ix_links_issue_key", "issue_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_key: Mapped[str] = mapped_column(Text)
    issue_id: Mapped[int | None] = mapped_column(
        ForeignKey("issues.id", ondelete="SET NULL"), index=True
    )
    pull_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("pull_requests.id", ondelete="CASCADE")
    )
    commit_id: Mapped[int | None] = mapped_column(
        ForeignKey("commits.id", ondelete="CASCADE"), index=True
    )
    commit_sha: Mapped[str | None] = mapped_column(Text)
    via: Mapped[str] = mapped_column(Text)  # title/branch/body/commit_message/remote_link
    created_at: Mapped[datetime]


class SyncCursor(Base):
    __tablename__ = "sync_cursors"
    __table_args__ = (UniqueConstraint("source_id", "scope_key", "stream"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    scope_key: Mapped[str] = mapped_column(Text)
    stream: Mapped[str] = mapped_column(Text)
    cursor: Mapped[dict[str, Any] | None]
    etag: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class SyncRun(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_stream_started", "source_id", "scope_key", "stream", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    scope_key: Mapped[str] = mapped_column(Text)
    stream: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(Text)  # running/success/failed/stopped
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    batches: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    item_errors: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SyncItemError(Base):
    """A source item that could not be mapped, so a user can find out why it is missing."""

    __tablename__ = "sync_item_errors"
    __table_args__ = (UniqueConstraint("source_id", "scope_key", "stream", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = _source_fk()
    scope_key: Mapped[str] = mapped_column(Text)
    stream: Mapped[str] = mapped_column(Text)
    item: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))


class Finding(Base):
    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_rule_state", "rule_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(Text, unique=True)
    severity: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any]]
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(Text, index=True)  # pending/firing/resolved
    first_seen_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receiver: Mapped[str] = mapped_column(Text)
    group_key: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(Text, unique=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(Text)  # pending/sent/failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Silence(Base):
    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(primary_key=True)
    matchers: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_by: Mapped[str] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_audience_generated", "audience", "generated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(Text)
    generated_at: Mapped[datetime]
    content: Mapped[str] = mapped_column(Text)
