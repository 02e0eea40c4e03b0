"""The simulated Jira's data: plain records plus the fixed catalogues every Jira site has.

The records are the truth tests compare a synced store against. They are kept compact
(slots, integer milliseconds, user indexes, tuples for history) because the ``large`` size
holds 100,000 issues and close to a million changelog entries in one process; JSON is only
built when a request asks for it (``render.py``).

Conventions:
- timestamps are integer epoch milliseconds (UTC); dates are ``datetime.date``;
- users are indexes into ``JiraData.users``;
- an issue's ``history`` is oldest first and its last entry's time is ``updated`` (or
  ``created`` when it has none): Jira bumps ``updated`` on every change it records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

# --- catalogues --------------------------------------------------------------------------
# Status category ids and keys are fixed across every Jira site (1 undefined, 2 new,
# 3 done, 4 indeterminate): /rest/api/2/statuscategory.


class StatusCategory(NamedTuple):
    id: int
    key: str
    name: str
    color: str


CAT_TODO = StatusCategory(2, "new", "To Do", "blue-gray")
CAT_IN_PROGRESS = StatusCategory(4, "indeterminate", "In Progress", "yellow")
CAT_DONE = StatusCategory(3, "done", "Done", "green")
STATUS_CATEGORIES = (CAT_TODO, CAT_DONE, CAT_IN_PROGRESS)


class Status(NamedTuple):
    id: str
    name: str
    category: StatusCategory
    description: str


# Ids as a default Jira Software workflow has them ("3" In Progress is a built-in status).
STATUSES: dict[str, Status] = {
    s.name: s
    for s in (
        Status("10000", "To Do", CAT_TODO, ""),
        Status("10001", "Backlog", CAT_TODO, "Not yet planned"),
        Status("3", "In Progress", CAT_IN_PROGRESS, "This issue is being actively worked on."),
        Status("10002", "In Review", CAT_IN_PROGRESS, "Waiting for code review"),
        Status("10003", "Blocked", CAT_IN_PROGRESS, "Waiting on something outside the team"),
        Status("10004", "Done", CAT_DONE, ""),
        Status("10005", "Won't Do", CAT_DONE, "Closed without doing it"),
    )
}


class IssueType(NamedTuple):
    id: str
    name: str
    subtask: bool
    hierarchy_level: int  # Cloud: 1 epic, 0 standard, -1 subtask
    description: str


ISSUE_TYPES: dict[str, IssueType] = {
    t.name: t
    for t in (
        IssueType("10000", "Epic", False, 1, "A big user story that needs to be broken down."),
        IssueType("10001", "Story", False, 0, "Functionality or a feature expressed as a goal."),
        IssueType("10002", "Task", False, 0, "A small, distinct piece of work."),
        IssueType("10004", "Bug", False, 0, "A problem or error."),
        IssueType("10003", "Sub-task", True, -1, "A small piece of work that's part of a task."),
        # A site-specific type: mappers must cope with names they don't know.
        IssueType("10005", "Spike", False, 0, "Time-boxed research."),
    )
}


class Priority(NamedTuple):
    id: str
    name: str
    color: str


PRIORITIES: dict[str, Priority] = {
    p.name: p
    for p in (
        Priority("1", "Highest", "#d04437"),
        Priority("2", "High", "#f15C75"),
        Priority("3", "Medium", "#f79232"),
        Priority("4", "Low", "#707070"),
        Priority("5", "Lowest", "#999999"),
    )
}


class Resolution(NamedTuple):
    id: str
    name: str
    description: str


RESOLUTIONS: dict[str, Resolution] = {
    r.name: r
    for r in (
        Resolution("10000", "Done", "Work has been completed on this issue."),
        Resolution("10001", "Won't Do", "This issue won't be actioned."),
        Resolution("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
    )
}


class LinkType(NamedTuple):
    id: str
    name: str
    inward: str
    outward: str


LINK_TYPES: dict[str, LinkType] = {
    t.name: t
    for t in (
        LinkType("10000", "Blocks", "is blocked by", "blocks"),
        LinkType("10001", "Cloners", "is cloned by", "clones"),
        LinkType("10002", "Duplicate", "is duplicated by", "duplicates"),
        LinkType("10003", "Relates", "relates to", "relates to"),
    )
}


# --- custom fields -------------------------------------------------------------------------
# Custom field ids differ from site to site, so clients must discover them through
# /rest/api/2/field by their schema type, never hard-code them. The ids below are what a
# fresh Cloud site and a typical Data Center site use; they differ on purpose.


class CustomFields(NamedTuple):
    sprint: str
    story_points: str
    epic_link: str
    rank: str
    # Cloud sites carry both the team-managed "Story point estimate" and a legacy
    # "Story Points" field that is usually empty: picking a field by name is a trap.
    legacy_story_points: str | None
    epic_name: str | None


CLOUD_FIELDS = CustomFields(
    sprint="customfield_10020",
    story_points="customfield_10016",
    epic_link="customfield_10014",
    rank="customfield_10019",
    legacy_story_points="customfield_10028",
    epic_name=None,
)
DC_FIELDS = CustomFields(
    sprint="customfield_10104",
    story_points="customfield_10106",
    epic_link="customfield_10101",
    rank="customfield_10105",
    legacy_story_points=None,
    epic_name="customfield_10102",
)


# --- records -------------------------------------------------------------------------------


@dataclass(slots=True)
class User:
    index: int
    account_id: str  # Cloud accountId
    name: str  # Data Center username
    key: str  # Data Center user key (JIRAUSER10100 for users created since Jira 8.4)
    display_name: str
    email: str
    time_zone: str
    active: bool = True
    email_visible: bool = True  # Cloud hides emailAddress by the user's profile visibility
    account_type: str = "atlassian"  # "app" for automation


@dataclass(slots=True)
class Project:
    id: int
    key: str
    name: str
    lead: int
    description: str
    next_number: int  # the number the next created issue gets


@dataclass(slots=True)
class Version:
    id: int
    project_id: int
    name: str
    description: str
    start_date: date | None
    release_date: date | None
    released: bool
    archived: bool = False


@dataclass(slots=True)
class Board:
    id: int
    name: str
    project_key: str
    type: str = "scrum"


@dataclass(slots=True)
class Sprint:
    id: int
    board_id: int
    name: str
    state: str  # "closed" | "active" | "future"
    start: int | None  # ms
    end: int | None
    complete: int | None
    created: int
    goal: str
    sequence: int


class ChangeItem(NamedTuple):
    field: str
    fieldtype: str  # "jira" | "custom"
    field_id: str | None
    from_: str | None
    from_string: str | None
    to: str | None
    to_string: str | None


class History(NamedTuple):
    id: int
    created: int  # ms
    author: int  # user index
    items: tuple[ChangeItem, ...]


@dataclass(slots=True)
class Issue:
    id: int
    project: str  # project key (changes when the issue moves)
    number: int
    type: str  # IssueType name
    summary: str
    status: str  # Status name
    priority: str
    reporter: int
    creator: int
    assignee: int | None
    created: int
    updated: int
    status_changed: int
    resolution: str | None = None
    resolved: int | None = None
    due: date | None = None
    story_points: float | None = None
    original_estimate: int | None = None  # seconds
    remaining_estimate: int | None = None
    time_spent: int | None = None
    labels: tuple[str, ...] = ()
    fix_versions: tuple[int, ...] = ()
    sprints: tuple[int, ...] = ()  # every sprint the Sprint field lists, oldest first
    parent: int | None = None  # issue id: the epic (Cloud) or the parent of a sub-task
    epic: int | None = None  # issue id of the epic ("Epic Link"), also set on Cloud
    rank: str = ""
    description: str | None = None  # None: generated on demand from the seed
    history: list[History] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.project}-{self.number}"


@dataclass(slots=True)
class Link:
    id: int
    type: str  # LinkType name
    outward: int  # issue id of the side the outward phrase belongs to ("A blocks B": A)
    inward: int  # issue id of the other side ("B is blocked by A": B)
