"""GitHub REST payloads -> normalized records. Pure functions, no I/O.

Each mapper takes one payload as the API returns it and raises ``MappingError`` (with a
reason a user can act on) when the payload lacks what the record needs; the stream turns
that into an ``ItemError`` for the item and goes on with the rest.

Payload facts these mappers rely on (GitHub REST docs):
- ``/repos/{o}/{r}/issues`` lists pull requests too; those items carry a ``pull_request``
  object and are skipped here (the pulls endpoint has the full record);
- a pull request's ``state`` is ``open`` or ``closed``; merged is ``closed`` + ``merged_at``;
  ``additions``/``deletions``/``changed_files`` are only in the single-PR payload, not in
  the list;
- a commit's git author (name, e-mail, date) is ``commit.author``; the GitHub account
  GitHub matched to that e-mail is the top-level ``author``, null when none matched;
- a review still ``PENDING`` has no ``submitted_at``; a deleted user appears as null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from syncd.records import (
    Account,
    Commit,
    Issue,
    IssueStatus,
    IssueType,
    PullRequest,
    PullRequestState,
    Release,
    Review,
    Scope,
)

Payload = Mapping[str, Any]


class MappingError(ValueError):
    """A payload cannot become a record; the message says why."""


# -- small readers --------------------------------------------------------------------------


def parse_time(value: Any, field: str) -> datetime:
    """GitHub's ISO-8601 timestamps ("2024-05-01T12:00:00Z") as aware UTC."""
    if not isinstance(value, str) or not value:
        raise MappingError(f"{field} is missing")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{field} {value!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        raise MappingError(f"{field} {value!r} has no time zone")
    return parsed.astimezone(UTC)


def optional_time(value: Any, field: str) -> datetime | None:
    return None if value in (None, "") else parse_time(value, field)


def format_time(value: datetime) -> str:
    """The inverse of ``parse_time``: what cursors store."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _require(payload: Payload, field: str) -> Any:
    value = payload.get(field)
    if value is None:
        raise MappingError(f"{field} is missing")
    return value


def _int(payload: Payload, field: str) -> int:
    value = _require(payload, field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MappingError(f"{field} {value!r} is not an integer")
    return value


def _optional_int(payload: Payload, field: str) -> int | None:
    value = payload.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MappingError(f"{field} {value!r} is not an integer")
    return value


def _str(payload: Payload, field: str) -> str:
    value = _require(payload, field)
    if not isinstance(value, str):
        raise MappingError(f"{field} {value!r} is not a string")
    return value


def _object(payload: Payload, field: str) -> Payload | None:
    value = payload.get(field)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise MappingError(f"{field} is not an object")
    return value


def user_id(user: Any) -> str | None:
    """The account id of an embedded user object (None for a deleted user)."""
    if not isinstance(user, Mapping) or user.get("id") is None:
        return None
    return str(user["id"])


# -- accounts -------------------------------------------------------------------------------

# A profile (``/users/{login}``) is the whole of what GitHub shows about a user now: a null
# ``email`` there means the user hides it (or removed it), and the store must forget the
# address it knew, so profile records are ``complete``. Embedded user objects say nothing
# about e-mail, and the store keeps what it knows for them.


def profile_account(
    external_id: str, *, login: str | None, name: str | None, email: str | None
) -> Account:
    """The account as its profile shows it: a public e-mail (GitHub only lets a user pick
    one of their *verified* addresses, so it counts as verified), or none."""
    email = email.strip() or None if email else None
    if email and email.lower().endswith("@users.noreply.github.com"):
        email = None  # a GitHub-generated relay address names no one outside GitHub
    return Account(
        external_id=external_id,
        display_name=name or None,
        email=email,
        login=login,
        active=True,
        email_verified=bool(email),
        complete=True,
    )


def map_user(user: Payload, *, profile: bool = False) -> Account:
    """An account from a user object.

    Embedded user objects (in issues, pulls, reviews) carry login and id only. With
    ``profile`` the payload is ``/users/{login}``: its ``email`` is the public profile
    address, which GitHub only lets a user pick from their *verified* addresses (GitHub
    docs, "Setting your commit email address" / profile settings), so it counts as verified.
    A commit's git e-mail does not: GitHub attributes commits to unverified addresses too.
    """
    external_id = user_id(user)
    if external_id is None:
        raise MappingError("user id is missing")
    login = user.get("login") if isinstance(user.get("login"), str) else None
    name = user.get("name") if isinstance(user.get("name"), str) and user.get("name") else None
    if profile:
        email = user.get("email") if isinstance(user.get("email"), str) else None
        return profile_account(external_id, login=login, name=name, email=email)
    return Account(external_id=external_id, display_name=name, login=login, active=True)


def accounts_in(*users: Any) -> list[Account]:
    """Accounts for the embedded user objects that are present (deleted users skipped)."""
    out: list[Account] = []
    for user in users:
        if isinstance(user, Mapping) and user.get("id") is not None:
            out.append(map_user(user))
    return out


# -- repository, milestones ------------------------------------------------------------------


def map_repository(payload: Payload, key: str | None = None) -> Scope:
    """The repository as a scope; ``key`` is the configured "owner/repo" (GitHub answers a
    renamed repository under its new name, but the scope keeps the name it was given)."""
    full_name = _str(payload, "full_name")
    return Scope(
        kind="github_repo",
        key=key or full_name,
        external_id=str(_int(payload, "id")),
        name=payload.get("name") or full_name,
        url=payload.get("html_url"),
    )


def _due_date(value: Any) -> date | None:
    # GitHub keeps the date a user picked as a timestamp at midnight US/Pacific, i.e.
    # 07:00Z or 08:00Z of that same calendar day: the UTC date is the picked date.
    parsed = optional_time(value, "due_on")
    return parsed.date() if parsed else None


def map_milestone(payload: Payload, repo: str) -> Release:
    state = payload.get("state")
    closed_at = optional_time(payload.get("closed_at"), "closed_at")
    return Release(
        external_id=str(_int(payload, "id")),
        scope_key=repo,
        kind="github_milestone",
        name=_str(payload, "title"),
        description=payload.get("description") or None,
        due_date=_due_date(payload.get("due_on")),
        released=state == "closed",
        released_at=closed_at.date() if state == "closed" and closed_at else None,
        url=payload.get("html_url"),
    )


# -- issues ---------------------------------------------------------------------------------

_TYPE_BY_NAME: dict[str, IssueType] = {
    "bug": "bug",
    "defect": "bug",
    "feature": "story",
    "enhancement": "story",
    "story": "story",
    "user story": "story",
    "task": "task",
    "chore": "task",
    "epic": "epic",
}
_LABEL_TYPE_PRECEDENCE: tuple[IssueType, ...] = ("bug", "epic", "story", "task")
_IN_PROGRESS_LABELS = frozenset(
    {"in progress", "in-progress", "doing", "wip", "status: in progress", "status/in progress"}
)
_PRIORITY_LABEL = re.compile(r"^(?:priority[:/ -]\s*(?P<name>.+)|(?P<p>p[0-4]))$", re.IGNORECASE)


def label_names(payload: Payload) -> tuple[str, ...]:
    names: list[str] = []
    for label in payload.get("labels") or ():
        name = label.get("name") if isinstance(label, Mapping) else label
        if isinstance(name, str) and name not in names:
            names.append(name)
    return tuple(names)


def is_pull_request_item(payload: Payload) -> bool:
    """True for the pull requests that ``/issues`` lists among the issues."""
    return payload.get("pull_request") is not None


def _issue_type(payload: Payload, labels: tuple[str, ...]) -> tuple[IssueType, str]:
    issue_type = _object(payload, "type")  # GitHub's issue types (organization setting)
    if issue_type and isinstance(issue_type.get("name"), str):
        name = issue_type["name"]
        return _TYPE_BY_NAME.get(name.lower(), "other"), name
    from_labels = {_TYPE_BY_NAME.get(label.lower()) for label in labels}
    for kind in _LABEL_TYPE_PRECEDENCE:  # "bug" + "enhancement": a bug
        if kind in from_labels:
            return kind, "issue"
    return "task", "issue"


def _issue_status(state: str, labels: tuple[str, ...]) -> IssueStatus:
    if state == "closed":
        return "done"
    if any(label.lower() in _IN_PROGRESS_LABELS for label in labels):
        return "in_progress"
    return "todo"


def _priority(labels: tuple[str, ...]) -> str | None:
    for label in labels:
        match = _PRIORITY_LABEL.match(label.strip())
        if match:
            return (match.group("name") or match.group("p")).strip().lower()
    return None


def map_issue(payload: Payload, repo: str) -> tuple[Issue, list[Account], list[Release]]:
    """An issue (not a pull request) with the accounts and milestone it refers to."""
    if is_pull_request_item(payload):
        raise MappingError("is a pull request, not an issue")
    number = _int(payload, "number")
    state = _str(payload, "state")
    if state not in ("open", "closed"):
        raise MappingError(f"state {state!r} is neither open nor closed")
    labels = label_names(payload)
    issue_type, original_type = _issue_type(payload, labels)
    reason = payload.get("state_reason") if isinstance(payload.get("state_reason"), str) else None
    assignee = payload.get("assignee")
    if assignee is None and payload.get("assignees"):
        assignee = payload["assignees"][0]
    milestone = _object(payload, "milestone")
    releases = [map_milestone(milestone, repo)] if milestone else []
    issue = Issue(
        external_id=str(_int(payload, "id")),
        scope_key=repo,
        key=f"{repo}#{number}",
        url=payload.get("html_url"),
        title=_str(payload, "title"),
        type=issue_type,
        original_type=original_type,
        status=_issue_status(state, labels),
        original_status=state,
        created_at=parse_time(payload.get("created_at"), "created_at"),
        updated_at=parse_time(payload.get("updated_at"), "updated_at"),
        priority=_priority(labels),
        assignee_id=user_id(assignee),
        reporter_id=user_id(payload.get("user")),
        resolved_at=optional_time(payload.get("closed_at"), "closed_at")
        if state == "closed"
        else None,
        resolution=reason if state == "closed" else None,
        labels=labels,
        release_ids=tuple(r.external_id for r in releases),
    )
    accounts = accounts_in(payload.get("user"), *(payload.get("assignees") or ()), assignee)
    return issue, accounts, releases


# -- pull requests, reviews -----------------------------------------------------------------


def _ref(payload: Payload, side: str) -> str | None:
    part = _object(payload, side)
    ref = part.get("ref") if part else None
    return ref if isinstance(ref, str) else None


def has_details(payload: Payload) -> bool:
    """Whether a pull request payload already carries the sizes only ``GET /pulls/{n}``
    returns (the list omits them)."""
    return all(payload.get(f) is not None for f in ("additions", "deletions", "changed_files"))


def map_pull_request(
    payload: Payload, repo: str, details: Payload | None = None
) -> tuple[PullRequest, list[Account], list[Release]]:
    """A pull request from its list item, completed by its single-PR payload if given."""
    full: dict[str, Any] = dict(payload)
    if details:
        full.update(details)
    number = _int(full, "number")
    state = _str(full, "state")
    if state not in ("open", "closed"):
        raise MappingError(f"state {state!r} is neither open nor closed")
    merged_at = optional_time(full.get("merged_at"), "merged_at")
    normalized: PullRequestState = "merged" if merged_at else state  # type: ignore[assignment]
    milestone = _object(full, "milestone")
    releases = [map_milestone(milestone, repo)] if milestone else []
    pull = PullRequest(
        external_id=str(_int(full, "id")),
        scope_key=repo,
        number=number,
        url=full.get("html_url"),
        title=_str(full, "title"),
        state=normalized,
        created_at=parse_time(full.get("created_at"), "created_at"),
        updated_at=parse_time(full.get("updated_at"), "updated_at"),
        body=full.get("body") if isinstance(full.get("body"), str) else None,
        is_draft=bool(full.get("draft")),
        author_id=user_id(full.get("user")),
        closed_at=optional_time(full.get("closed_at"), "closed_at"),
        merged_at=merged_at,
        head_ref=_ref(full, "head"),
        base_ref=_ref(full, "base"),
        additions=_optional_int(full, "additions"),
        deletions=_optional_int(full, "deletions"),
        changed_files=_optional_int(full, "changed_files"),
        release_ids=tuple(r.external_id for r in releases),
    )
    accounts = accounts_in(
        full.get("user"),
        *(full.get("assignees") or ()),
        *(full.get("requested_reviewers") or ()),
        full.get("merged_by"),
    )
    return pull, accounts, releases


def map_review(payload: Payload, pull_request_external_id: str) -> tuple[Review, list[Account]]:
    state = _str(payload, "state")
    review = Review(
        external_id=str(_int(payload, "id")),
        pull_request_external_id=pull_request_external_id,
        state=state.upper(),
        submitted_at=optional_time(payload.get("submitted_at"), "submitted_at"),
        author_id=user_id(payload.get("user")),
    )
    return review, accounts_in(payload.get("user"))


# -- commits --------------------------------------------------------------------------------


def map_commit(payload: Payload, repo: str, branch: str) -> tuple[Commit, list[Account]]:
    sha = _str(payload, "sha")
    git = _object(payload, "commit")
    if git is None:
        raise MappingError("commit is missing")
    author = _object(git, "author") or {}
    committer = _object(git, "committer") or {}
    authored_at = parse_time(author.get("date"), "commit.author.date")
    committed_at = optional_time(committer.get("date"), "commit.committer.date") or authored_at
    message = git.get("message")
    if not isinstance(message, str):
        raise MappingError("commit.message is missing")
    commit = Commit(
        scope_key=repo,
        sha=sha,
        message=message,
        authored_at=authored_at,
        committed_at=committed_at,
        author_id=user_id(payload.get("author")),
        author_name=author.get("name") if isinstance(author.get("name"), str) else None,
        author_email=author.get("email") if isinstance(author.get("email"), str) else None,
        branches=(branch,),
    )
    return commit, accounts_in(payload.get("author"))


def item_label(payload: Any, repo: str, kind: str = "") -> str:
    """What a user would search for to find a broken item: "acme/api#7", a sha, an id."""
    if isinstance(payload, Mapping):
        if isinstance(payload.get("number"), int):
            return f"{repo}#{payload['number']}"
        if isinstance(payload.get("sha"), str):
            return f"{repo}@{payload['sha'][:12]}"
        if payload.get("id") is not None:
            return f"{repo} {kind} {payload['id']}".replace("  ", " ")
    return f"{repo} {kind} item".replace("  ", " ")
