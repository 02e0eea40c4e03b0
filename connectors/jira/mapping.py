"""Jira API JSON -> normalized records. Pure functions: no I/O, no clock, no config objects.

Shapes handled (Cloud REST v3 and v2, Data Center REST v2):
- users: Cloud ``accountId``; Data Center ``key`` (stable) and ``name`` (the login, which
  can be renamed). A hidden email is simply absent.
- rich text: v3 returns descriptions as ADF documents; nothing mapped here reads rich text,
  so both shapes pass through untouched.
- the Sprint custom field: Cloud gives objects; Data Center gives objects or the legacy
  ``com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=1,rapidViewId=2,...]`` strings.
- changelog ``created``: an ISO string, except in Cloud's bulk changelog response where it
  can be epoch milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from syncd.records import (
    Account,
    Issue,
    IssueChange,
    IssueLinkRef,
    IssueStatus,
    IssueType,
    Release,
    Scope,
    Sprint,
)


class MappingError(ValueError):
    """The payload of one item is not what Jira sends: the item is reported and skipped."""


# -- custom fields ------------------------------------------------------------------------

_SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
_EPIC_LINK_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-link"
_STORY_POINTS_SCHEMA = "com.pyxis.greenhopper.jira:jsw-story-points"
_STORY_POINT_NAMES = ("story points", "story point estimate")


@dataclass(frozen=True)
class FieldIds:
    """Ids of the custom fields this instance uses for what syncd maps."""

    story_points: str | None = None
    sprint: str | None = None
    epic_link: str | None = None

    def requested(self) -> list[str]:
        return [f for f in (self.story_points, self.sprint, self.epic_link) if f]


def discover_fields(
    fields: Iterable[Mapping[str, Any]],
    *,
    story_points: str | None = None,
    sprint: str | None = None,
    epic_link: str | None = None,
) -> FieldIds:
    """Find the custom fields in a /rest/api/2/field listing; explicit ids win.

    Fields are recognised by their plugin type (``schema.custom``), which is stable across
    sites and languages, unlike ids and names. Story points: Jira Software's own estimate
    type (Cloud's "Story point estimate"); only without one, a field named "Story Points"
    (Data Center's number field). A Cloud site often also has a legacy, empty "Story Points"
    number field, so the name alone would pick the wrong one.
    """
    found_sprint = found_epic = found_points = None
    by_name: dict[str, str] = {}
    for f in fields:
        fid = f.get("id")
        if not isinstance(fid, str):
            continue
        schema = f.get("schema") or {}
        custom = schema.get("custom") if isinstance(schema, Mapping) else None
        name = str(f.get("name") or "").strip().lower()
        if custom == _SPRINT_SCHEMA and found_sprint is None:
            found_sprint = fid
        elif custom == _EPIC_LINK_SCHEMA and found_epic is None:
            found_epic = fid
        elif custom == _STORY_POINTS_SCHEMA and found_points is None:
            found_points = fid
        elif name in _STORY_POINT_NAMES and name not in by_name:
            by_name[name] = fid
    if found_points is None:
        found_points = next((by_name[n] for n in _STORY_POINT_NAMES if n in by_name), None)
    return FieldIds(
        story_points=story_points or found_points,
        sprint=sprint or found_sprint,
        epic_link=epic_link or found_epic,
    )


# -- scalars ------------------------------------------------------------------------------


def parse_datetime(value: Any, what: str) -> datetime:
    """Jira timestamps ("2024-01-15T10:23:45.123+0000") or epoch milliseconds, as UTC."""
    if isinstance(value, bool):
        raise MappingError(f"{what}: expected a timestamp, got {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    if not isinstance(value, str):
        raise MappingError(f"{what}: expected a timestamp, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MappingError(f"{what}: {value[:40]!r} is not a timestamp") from None
    if parsed.tzinfo is None:
        raise MappingError(f"{what}: {value[:40]!r} has no time zone")
    return parsed.astimezone(UTC)


def _opt_datetime(value: Any, what: str) -> datetime | None:
    return None if value in (None, "", "<null>") else parse_datetime(value, what)


def _opt_date(value: Any, what: str) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MappingError(f"{what}: expected a date, got {type(value).__name__}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise MappingError(f"{what}: {value[:40]!r} is not a date") from None


def _opt_int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MappingError(f"{what}: expected a number of seconds, got {value!r}")
    return int(value)


def _opt_float(value: Any, what: str) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise MappingError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise MappingError(f"{what}: expected a number, got {str(value)[:40]!r}")


def _obj(value: Any, what: str) -> Mapping[str, Any] | None:
    if value is None or type(value) is dict:  # the common case, without an ABC check
        return value
    if not isinstance(value, Mapping):
        raise MappingError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(f"{what}: expected a list, got {type(value).__name__}")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise MappingError(f"{what}: expected text, got {type(value).__name__}")
    return value


def _opt_text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


# -- users --------------------------------------------------------------------------------


def account_id(user: Mapping[str, Any] | None) -> str | None:
    """The stable id of a user: Cloud accountId, else Data Center user key, else name."""
    if not user:
        return None
    for name in ("accountId", "key", "name"):
        value = user.get(name)
        if value:
            return str(value)
    return None


def map_account(user: Mapping[str, Any] | None, *, trust_emails: bool = True) -> Account | None:
    external_id = account_id(user)
    if user is None or external_id is None:
        return None
    email = user.get("emailAddress") or None
    return Account(
        external_id=external_id,
        display_name=user.get("displayName") or None,
        email=email,
        login=user.get("name") if "accountId" not in user else None,
        active=bool(user.get("active", True)),
        email_verified=bool(email) and trust_emails,
    )


# -- classification -----------------------------------------------------------------------

_TYPE_NAMES: dict[str, IssueType] = {
    "epic": "epic",
    "story": "story",
    "user story": "story",
    "task": "task",
    "bug": "bug",
    "defect": "bug",
    "sub-task": "subtask",
    "subtask": "subtask",
    "sub-bug": "subtask",
}

_STATUS_CATEGORIES: dict[str, IssueStatus] = {
    "new": "todo",
    "indeterminate": "in_progress",
    "done": "done",
    "undefined": "todo",
}


def issue_type(issuetype: Mapping[str, Any]) -> IssueType:
    """From the issue type's hierarchy level where Jira gives one (Cloud: -1 subtask, 1 epic
    and above), its subtask flag, then its (English) name."""
    level = issuetype.get("hierarchyLevel")
    if issuetype.get("subtask") is True or level == -1:
        return "subtask"
    if isinstance(level, int) and not isinstance(level, bool) and level >= 1:
        return "epic"
    return _TYPE_NAMES.get(str(issuetype.get("name") or "").strip().lower(), "other")


def issue_status(status: Mapping[str, Any]) -> IssueStatus:
    category = _obj(status.get("statusCategory"), "status.statusCategory")
    key = str((category or {}).get("key") or "").lower()
    if key not in _STATUS_CATEGORIES:
        raise MappingError(f"status {status.get('name')!r} has no known category ({key!r})")
    return _STATUS_CATEGORIES[key]


# (outward normalized, inward normalized) by link type name or outward wording
_LINK_TYPES: dict[str, tuple[str, str]] = {
    "blocks": ("blocks", "blocked_by"),
    "block": ("blocks", "blocked_by"),
    "duplicate": ("duplicates", "duplicated_by"),
    "duplicates": ("duplicates", "duplicated_by"),
    "cloners": ("clones", "cloned_by"),
    "clones": ("clones", "cloned_by"),
    "problem/incident": ("causes", "caused_by"),
    "causes": ("causes", "caused_by"),
    "relates": ("relates", "relates"),
    "relates to": ("relates", "relates"),
}


def map_link(link: Mapping[str, Any], what: str) -> IssueLinkRef:
    """One entry of ``issuelinks`` as seen from the issue that lists it."""
    link_type = _obj(link.get("type"), f"{what}.type") or {}
    outward = _obj(link.get("outwardIssue"), f"{what}.outwardIssue")
    inward = _obj(link.get("inwardIssue"), f"{what}.inwardIssue")
    other = outward or inward
    if other is None or not other.get("key"):
        raise MappingError(f"{what}: names no linked issue")
    names = _LINK_TYPES.get(str(link_type.get("name") or "").strip().lower()) or _LINK_TYPES.get(
        str(link_type.get("outward") or "").strip().lower(), ("other", "other")
    )
    direction = 0 if outward is not None else 1
    wording = link_type.get("outward" if outward is not None else "inward")
    return IssueLinkRef(
        external_id=str(link.get("id") or f"{link_type.get('id')}:{other.get('id')}"),
        type=names[direction],
        original_type=str(wording or link_type.get("name") or ""),
        to_issue_external_id=_opt_text(other.get("id")),
        to_issue_key=str(other["key"]),
    )


# -- sprints ------------------------------------------------------------------------------

_LEGACY_SPRINT = re.compile(
    r"^com\.atlassian\.greenhopper\.service\.sprint\.Sprint@\w+\[(.*)\]$", re.S
)
_LEGACY_KEYS = (
    "id",
    "rapidViewId",
    "state",
    "name",
    "goal",
    "startDate",
    "endDate",
    "completeDate",
    "activatedDate",
    "sequence",
    "synced",
    "autoStartStop",
    "incompleteIssuesDestinationId",
)
_LEGACY_SPLIT = re.compile(r",(?=(?:" + "|".join(_LEGACY_KEYS) + r")=)")


def _legacy_sprint(text: str) -> dict[str, Any]:
    """Parse Data Center's ``Sprint@hash[id=1,name=A, B,...]`` string. Names may contain
    commas, so split only before a known ``key=``."""
    match = _LEGACY_SPRINT.match(text.strip())
    if not match:
        raise MappingError(f"sprint value {text[:60]!r} is neither an object nor a Sprint@ string")
    values: dict[str, Any] = {}
    for part in _LEGACY_SPLIT.split(match.group(1)):
        key, _, value = part.partition("=")
        values[key] = None if value == "<null>" else value
    values["boardId"] = values.get("rapidViewId")
    return values


def map_sprint(value: Any, what: str = "sprint") -> Sprint:
    """A sprint from the agile API or from an issue's Sprint field (either shape)."""
    data = _legacy_sprint(value) if isinstance(value, str) else _obj(value, what)
    if not data or data.get("id") in (None, ""):
        raise MappingError(f"{what}: has no id")
    board = data.get("originBoardId", data.get("boardId"))
    return Sprint(
        external_id=str(data["id"]),
        name=str(data.get("name") or ""),
        state=str(data.get("state") or "unknown").lower(),
        board_id=None if board in (None, "") else str(board),
        start_at=_opt_datetime(data.get("startDate"), f"{what}.startDate"),
        end_at=_opt_datetime(data.get("endDate"), f"{what}.endDate"),
        completed_at=_opt_datetime(data.get("completeDate"), f"{what}.completeDate"),
        goal=data.get("goal") or None,
    )


# -- versions / projects ------------------------------------------------------------------


def map_release(version: Mapping[str, Any], *, scope_key: str, base_url: str) -> Release:
    """A Jira version. Jira keeps one date for the target and, once released, the release:
    ``releaseDate`` is the due date, and the release date when ``released``."""
    if version.get("id") in (None, ""):
        raise MappingError("version has no id")
    released = bool(version.get("released", False))
    due = _opt_date(version.get("releaseDate"), "version.releaseDate")
    return Release(
        external_id=str(version["id"]),
        scope_key=scope_key,
        kind="jira_version",
        name=str(version.get("name") or ""),
        description=version.get("description") or None,
        start_date=_opt_date(version.get("startDate"), "version.startDate"),
        due_date=due,
        released=released,
        released_at=due if released else None,
        archived=bool(version.get("archived", False)),
        url=f"{base_url}/projects/{scope_key}/versions/{version['id']}",
    )


def map_project(project: Mapping[str, Any], *, base_url: str) -> Scope:
    key = _text(project.get("key"), "project.key")
    return Scope(
        kind="jira_project",
        key=key,
        external_id=str(project.get("id") or key),
        name=str(project.get("name") or key),
        url=f"{base_url}/browse/{key}",
    )


# -- issues -------------------------------------------------------------------------------


@dataclass
class MappedIssue:
    """Everything one issue payload yields."""

    issue: Issue
    changes: list[IssueChange] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    sprints: list[Sprint] = field(default_factory=list)


def embedded_changelog(raw: Mapping[str, Any]) -> tuple[list[Any], bool]:
    """The histories a search result embeds, and whether that is all of them.

    Search embeds a capped number (100 on Data Center and the legacy Cloud search, fewer
    on Cloud's search/jql); ``total`` tells whether more exist.
    """
    changelog = raw.get("changelog")
    if not isinstance(changelog, Mapping):
        return [], False
    histories = changelog.get("histories")
    if not isinstance(histories, list):
        return [], False
    total = changelog.get("total")
    complete = not isinstance(total, int) or total <= len(histories)
    return histories, complete


def merge_histories(*sources: Iterable[Any]) -> list[Any]:
    """Histories from several reads of one changelog, each once (by id), oldest first."""
    by_id: dict[str, Any] = {}
    for source in sources:
        for history in source:
            if isinstance(history, Mapping) and history.get("id") is not None:
                by_id.setdefault(str(history["id"]), history)
            else:
                raise MappingError("changelog entry without an id")
    return sorted(by_id.values(), key=lambda h: (_history_sort_key(h), str(h["id"])))


def _history_sort_key(history: Mapping[str, Any]) -> float:
    created = history.get("created")
    try:
        return parse_datetime(created, "changelog.created").timestamp()
    except MappingError:
        return 0.0


def map_changes(
    issue_id: str, histories: Iterable[Any], *, trust_emails: bool = True
) -> tuple[list[IssueChange], list[Account]]:
    changes: list[IssueChange] = []
    authors: dict[str, Account] = {}
    text = _opt_text
    for history in histories:
        h = _obj(history, "changelog entry") or {}
        hid = h.get("id")
        if hid in (None, ""):
            raise MappingError("changelog entry without an id")
        changed_at = parse_datetime(h.get("created"), f"changelog {hid}.created")
        author_id = account_id(_obj(h.get("author"), f"changelog {hid}.author"))
        if author_id is not None and author_id not in authors:
            account = map_account(h["author"], trust_emails=trust_emails)
            if account is not None:
                authors[author_id] = account
        for index, item in enumerate(_list(h.get("items"), f"changelog {hid}.items")):
            it = _obj(item, f"changelog {hid}.items[{index}]") or {}
            name = it.get("field")
            if not name or type(name) is not str:
                raise MappingError(f"changelog {hid}.items[{index}] names no field")
            changes.append(
                IssueChange(
                    external_id=f"{hid}:{index}",
                    issue_external_id=issue_id,
                    field=name.lower(),
                    changed_at=changed_at,
                    from_value=text(it.get("from")),
                    from_string=text(it.get("fromString")),
                    to_value=text(it.get("to")),
                    to_string=text(it.get("toString")),
                    author_id=author_id,
                    field_id=text(it.get("fieldId")),
                )
            )
    return changes, list(authors.values())


def issue_updated(raw: Mapping[str, Any]) -> datetime:
    """The issue's ``updated`` timestamp (what incremental windows are built on)."""
    fields = raw.get("fields")
    if not isinstance(fields, Mapping):
        raise MappingError("has no fields")
    return parse_datetime(fields.get("updated"), "updated")


def map_issue(
    raw: Mapping[str, Any],
    *,
    scope_key: str,
    base_url: str,
    field_ids: FieldIds,
    histories: Iterable[Any] | None = None,
    trust_emails: bool = True,
) -> MappedIssue:
    """One issue from a search result. ``histories`` replaces the embedded changelog when
    the caller fetched the complete one. Raises MappingError naming what is wrong."""
    issue_id = raw.get("id")
    key = raw.get("key")
    if issue_id in (None, "") or not isinstance(key, str) or not key:
        raise MappingError("has no id or key")
    f = raw.get("fields")
    if not isinstance(f, Mapping):
        raise MappingError("has no fields")
    for required in ("summary", "issuetype", "status", "created", "updated"):
        if f.get(required) is None:
            raise MappingError(f"field {required!r} is missing")

    issuetype = _obj(f["issuetype"], "issuetype") or {}
    status = _obj(f["status"], "status") or {}
    accounts: list[Account] = []
    for role in ("assignee", "reporter", "creator"):
        account = map_account(_obj(f.get(role), role), trust_emails=trust_emails)
        if account is not None:
            accounts.append(account)

    sprints: list[Sprint] = []
    if field_ids.sprint:
        raw_sprints = f.get(field_ids.sprint)
        if isinstance(raw_sprints, Mapping | str):
            raw_sprints = [raw_sprints]
        for n, value in enumerate(_list(raw_sprints, "sprint")):
            sprints.append(map_sprint(value, f"sprint[{n}]"))

    parent = _obj(f.get("parent"), "parent")
    parent_key = str(parent["key"]) if parent and parent.get("key") else None
    epic_key = None
    if field_ids.epic_link and isinstance(f.get(field_ids.epic_link), str):
        epic_key = f[field_ids.epic_link] or None
    if epic_key is None and parent_key and parent is not None:
        parent_type = _obj(
            (_obj(parent.get("fields"), "parent.fields") or {}).get("issuetype"), "parent.issuetype"
        )
        if parent_type and issue_type(parent_type) == "epic":
            epic_key = parent_key

    issue_key = str(key)
    issue = Issue(
        external_id=str(issue_id),
        scope_key=scope_key,
        key=issue_key,
        url=f"{base_url}/browse/{issue_key}",
        title=_text(f["summary"], "summary"),
        type=issue_type(issuetype),
        original_type=str(issuetype.get("name") or ""),
        status=issue_status(status),
        original_status=str(status.get("name") or ""),
        created_at=parse_datetime(f["created"], "created"),
        updated_at=parse_datetime(f["updated"], "updated"),
        priority=((_obj(f.get("priority"), "priority") or {}).get("name") or None),
        assignee_id=account_id(f.get("assignee")),
        reporter_id=account_id(f.get("reporter")),
        resolved_at=_opt_datetime(f.get("resolutiondate"), "resolutiondate"),
        due_date=_opt_date(f.get("duedate"), "duedate"),
        story_points=(
            _opt_float(f.get(field_ids.story_points), "story points")
            if field_ids.story_points
            else None
        ),
        original_estimate_s=_opt_int(f.get("timeoriginalestimate"), "timeoriginalestimate"),
        remaining_estimate_s=_opt_int(f.get("timeestimate"), "timeestimate"),
        time_spent_s=_opt_int(f.get("timespent"), "timespent"),
        parent_key=parent_key,
        epic_key=epic_key,
        resolution=((_obj(f.get("resolution"), "resolution") or {}).get("name") or None),
        labels=tuple(str(label) for label in _list(f.get("labels"), "labels")),
        components=tuple(
            str((_obj(c, "components[]") or {}).get("name") or "")
            for c in _list(f.get("components"), "components")
        ),
        links=tuple(
            map_link(_obj(link, f"issuelinks[{n}]") or {}, f"issuelinks[{n}]")
            for n, link in enumerate(_list(f.get("issuelinks"), "issuelinks"))
        ),
        sprint_ids=tuple(dict.fromkeys(s.external_id for s in sprints)),
        release_ids=tuple(
            dict.fromkeys(
                str((_obj(v, "fixVersions[]") or {}).get("id"))
                for v in _list(f.get("fixVersions"), "fixVersions")
            )
        ),
    )
    if "None" in issue.release_ids:
        raise MappingError("a fix version has no id")

    if histories is None:
        histories, _ = embedded_changelog(raw)
    changes, authors = map_changes(issue.external_id, histories, trust_emails=trust_emails)
    return MappedIssue(issue=issue, changes=changes, accounts=accounts + authors, sprints=sprints)


def issue_fields(field_ids: FieldIds) -> list[str]:
    """The fields a search asks for: what ``map_issue`` reads, nothing more (payload size
    is most of a sync's time)."""
    return [
        "summary",
        "issuetype",
        "status",
        "priority",
        "assignee",
        "reporter",
        "creator",
        "created",
        "updated",
        "resolutiondate",
        "resolution",
        "duedate",
        "labels",
        "components",
        "fixVersions",
        "issuelinks",
        "parent",
        "project",
        "timeoriginalestimate",
        "timeestimate",
        "timespent",
        *field_ids.requested(),
    ]
