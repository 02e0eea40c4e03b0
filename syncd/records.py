"""Normalized records: the one vocabulary connectors speak and the store understands.

Connectors map API payloads to these; the store upserts them. Records refer to each other by
the source's own identifiers (``external_id``, repository keys, commit shas), never by
database ids, so a connector needs no store to produce them.

Conventions:
- every datetime is timezone-aware UTC (``utc()`` converts); dates are ``datetime.date``;
- ``external_id`` is the source's stable id (Jira issue id "10012", GitHub node/number id),
  unique within one source for that record type;
- accounts are referenced by ``AccountRef``-style external ids (Jira accountId or user key,
  GitHub user id); a mapper emits the ``Account`` records it saw next to the records that
  point at them, so references resolve within a batch;
- an ``Issue`` is an aggregate: its ``links``, ``sprint_ids`` and ``release_ids`` are the
  complete current sets and replace what the store held for that issue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

IssueType = Literal["epic", "story", "task", "bug", "subtask", "other"]
IssueStatus = Literal["todo", "in_progress", "done"]
PullRequestState = Literal["open", "closed", "merged"]
ScopeKind = Literal["jira_project", "github_repo"]
ReleaseKind = Literal["jira_version", "github_milestone"]


def utc(value: datetime | None) -> datetime | None:
    """Return ``value`` as aware UTC; naive datetimes are refused (their zone is unknown)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Scope:
    """A Jira project or a GitHub repository."""

    kind: ScopeKind
    key: str  # "PROJ" or "owner/repo"
    external_id: str
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """A user as one tool knows them."""

    external_id: str  # Jira accountId (Cloud) or user key/name (DC); GitHub user id
    display_name: str | None = None
    email: str | None = None
    login: str | None = None  # GitHub login, Jira DC username
    active: bool = True
    email_verified: bool = False  # only verified emails merge people across tools
    # True when this is the account's full profile: its empty fields mean "not set" (an
    # e-mail the user hid) rather than "not in this payload", so they clear stored values.
    complete: bool = False


@dataclass(frozen=True, slots=True)
class IssueLinkRef:
    """One dependency as seen from the issue that carries it.

    Jira lists a link on both issues (A "blocks" B on A, B "is blocked by" A on B); each
    issue owns its own view, so ``type`` names the direction from the carrying issue:
    blocks / blocked_by, duplicates / duplicated_by, clones / cloned_by, causes / caused_by,
    relates, other.
    """

    external_id: str  # the link's own id in the source
    type: str
    original_type: str  # the source's wording, e.g. "is blocked by"
    to_issue_external_id: str | None
    to_issue_key: str


@dataclass(frozen=True, slots=True)
class Issue:
    external_id: str
    scope_key: str
    key: str  # "PROJ-12" or "owner/repo#34"
    url: str | None
    title: str
    type: IssueType
    original_type: str
    status: IssueStatus
    original_status: str
    created_at: datetime
    updated_at: datetime
    priority: str | None = None
    assignee_id: str | None = None  # Account.external_id
    reporter_id: str | None = None
    resolved_at: datetime | None = None
    due_date: date | None = None
    story_points: float | None = None
    original_estimate_s: int | None = None
    remaining_estimate_s: int | None = None
    time_spent_s: int | None = None
    parent_key: str | None = None
    epic_key: str | None = None
    resolution: str | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    links: tuple[IssueLinkRef, ...] = ()
    sprint_ids: tuple[str, ...] = ()  # Sprint.external_id, every sprint the issue was in
    release_ids: tuple[str, ...] = ()  # Release.external_id (fix versions / milestone)


@dataclass(frozen=True, slots=True)
class IssueChange:
    """One field change from an issue's history; history is append-only."""

    external_id: str  # unique per source: "<history id>:<item index>"
    issue_external_id: str
    field: str  # lower-case field name: status, assignee, duedate, sprint, fix version...
    changed_at: datetime
    from_value: str | None = None  # machine value (ids)
    from_string: str | None = None  # human value
    to_value: str | None = None
    to_string: str | None = None
    author_id: str | None = None
    field_id: str | None = None


@dataclass(frozen=True, slots=True)
class IssueDeletions:
    """The complete set of issue ids that exist in one scope, as observed at ``observed_at``.

    The store marks issues of that scope that are not in the set (and were last seen
    before ``observed_at``) deleted, and clears ``deleted_at`` on those that are.
    """

    scope_key: str
    present_external_ids: frozenset[str]
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class Sprint:
    external_id: str
    name: str
    state: str  # future / active / closed
    board_id: str | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    completed_at: datetime | None = None
    goal: str | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """A Jira version or a GitHub milestone."""

    external_id: str
    scope_key: str
    kind: ReleaseKind
    name: str
    description: str | None = None
    start_date: date | None = None
    due_date: date | None = None
    released: bool = False
    released_at: date | None = None
    archived: bool = False
    url: str | None = None


@dataclass(frozen=True, slots=True)
class PullRequest:
    external_id: str
    scope_key: str
    number: int
    url: str | None
    title: str
    state: PullRequestState
    created_at: datetime
    updated_at: datetime
    body: str | None = None
    is_draft: bool = False
    author_id: str | None = None
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    head_ref: str | None = None
    base_ref: str | None = None
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None
    release_ids: tuple[str, ...] = ()  # milestone


@dataclass(frozen=True, slots=True)
class Review:
    external_id: str
    pull_request_external_id: str
    state: str  # APPROVED / CHANGES_REQUESTED / COMMENTED / DISMISSED / PENDING
    submitted_at: datetime | None
    author_id: str | None = None


@dataclass(frozen=True, slots=True)
class Commit:
    scope_key: str
    sha: str
    message: str
    authored_at: datetime
    committed_at: datetime
    author_id: str | None = None  # GitHub user id when GitHub matched the email
    author_name: str | None = None
    author_email: str | None = None
    branches: tuple[str, ...] = ()


Record = (
    Scope
    | Account
    | Issue
    | IssueChange
    | IssueDeletions
    | Sprint
    | Release
    | PullRequest
    | Review
    | Commit
)


@dataclass(frozen=True, slots=True)
class ItemError:
    """A source item that could not be mapped: recorded, skipped, and the sync goes on."""

    item: str  # what the user would search for: "PROJ-12", "acme/api#7", a page URL
    reason: str


@dataclass(slots=True)
class Batch:
    """Records plus the cursor that becomes true once they are stored (one transaction)."""

    records: list[Record] = field(default_factory=list)
    cursor: dict | None = None  # None: keep the stored cursor
    errors: list[ItemError] = field(default_factory=list)
    progress: tuple[int, int | None] | None = None  # (done, total) for progress display
