"""Generate a Jira site deterministically from (size, seed, anchor).

Each issue is simulated from its creation to the anchor: its status walks a Jira Software
workflow, it is assigned, pulled into sprints and carried over when a sprint closes
unfinished, its due date is pushed, time is logged. Every change is recorded as a changelog
entry at the time it happened, so the fields and the changelog always agree and ``updated``
is the time of the last entry. A few issues per project are re-ranked over and over, so
their changelog runs past 100 entries (the cap Jira applies when embedding changelogs).

Same (size, seed, anchor) -> the same site, byte for byte. The anchor defaults to the
current UTC midnight so that the data is recent (active sprints, due dates ahead).
"""

from __future__ import annotations

import functools
import gc
import hashlib
import random
import uuid
from datetime import UTC, date, datetime, timedelta

from syncd.sandbox.jira.data import (
    F_RANK,
    F_SPRINT,
    F_STORY_POINTS,
    JiraData,
    user_token,
)
from syncd.sandbox.jira.model import (
    PRIORITIES,
    RESOLUTIONS,
    STATUSES,
    Board,
    ChangeItem,
    History,
    Issue,
    Project,
    Sprint,
    User,
    Version,
)
from syncd.sandbox.jira.texts import AWKWARD_SUMMARIES, LABELS, LONG_SUMMARY, SPRINT_GOALS, summary
from syncd.sandbox.people import jira_people
from syncd.sandbox.sizes import SandboxSize

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
SPRINT_LENGTH = 14 * DAY

PROJECT_NAMES = {
    "PROJ": "Core Platform",
    "OPS": "Operations",
    "MOB": "Mobile App",
    "DATA": "Data Platform",
    "INFRA": "Infrastructure",
}
# "Automation for Jira" has this accountId on every Cloud site.
AUTOMATION_ACCOUNT_ID = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"
API_USER_EMAIL = "syncd-bot@acme.example"
API_USER_TZ = "America/Los_Angeles"  # never UTC, and with DST: the JQL date trap bites

# Event = (time ms, author index, items); sorted and turned into History at the end.
Event = tuple[int, int, tuple[ChangeItem, ...]]


def default_anchor_ms() -> int:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(today.timestamp() * 1000)


def span_days(size: SandboxSize) -> int:
    return 730 if size.issues_per_project > 5000 else 365


def generate(size: SandboxSize, seed: int, anchor_ms: int | None = None) -> JiraData:
    # Generation allocates millions of long-lived, acyclic objects; the cyclic collector
    # would rescan them over and over (half the time at the large size), so pause it.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _generate(size, seed, anchor_ms)
    finally:
        if paused:
            gc.enable()


def _generate(size: SandboxSize, seed: int, anchor_ms: int | None) -> JiraData:
    anchor = default_anchor_ms() if anchor_ms is None else anchor_ms
    data = JiraData(size=size, seed=seed, anchor_ms=anchor)
    rng = random.Random(f"jira:{size.name}:{seed}")
    start = anchor - span_days(size) * DAY
    _users(data)
    _projects(data, rng)
    _versions(data, rng, start)
    _boards_and_sprints(data, rng, start)
    _issues(data, rng, start)
    _links(data, rng)
    return data


# --- users --------------------------------------------------------------------------------


def _account_id(email: str, index: int) -> str:
    digest = hashlib.sha1(email.encode()).hexdigest()
    if index % 5 == 1:
        # Older Atlassian accounts: "557058:<uuid>".
        return f"557058:{uuid.UUID(digest[:32])}"
    return "5" + digest[:23]


def _users(data: JiraData) -> None:
    for i, person in enumerate(jira_people()):
        data.users.append(
            User(
                index=i,
                account_id=_account_id(person.email, i),
                name=person.jira_name,
                # Users created before Jira 8.4 keep key == name; newer ones get JIRAUSERnnnnn.
                key=person.jira_name if i < 10 else f"JIRAUSER{10100 + i}",
                display_name=person.display_name,
                email=person.email,
                time_zone=person.time_zone,
                # One person left the company: deactivated, still on old issues.
                active=person.jira_name != "mbrown",
                # Cloud hides emailAddress for users whose profile visibility says so.
                email_visible=i % 9 != 4,
            )
        )
    n = len(data.users)
    data.automation_user = n
    data.users.append(
        User(
            index=n,
            account_id=AUTOMATION_ACCOUNT_ID,
            name="automation",
            key="automation",
            display_name="Automation for Jira",
            email="",
            time_zone="UTC",
            email_visible=False,
            account_type="app",
        )
    )
    data.api_user = n + 1
    data.users.append(
        User(
            index=n + 1,
            account_id=_account_id(API_USER_EMAIL, 0),
            name="syncd-bot",
            key="JIRAUSER19999",
            display_name="syncd integration",
            email=API_USER_EMAIL,
            time_zone=API_USER_TZ,
        )
    )


def _humans(data: JiraData) -> list[int]:
    return [
        u.index for u in data.users if u.account_type == "atlassian" and u.index != data.api_user
    ]


# --- projects, versions, boards, sprints --------------------------------------------------


def _projects(data: JiraData, rng: random.Random) -> None:
    humans = _humans(data)
    for i, key in enumerate(data.size.jira_projects):
        team = sorted(rng.sample(humans, k=min(10, len(humans))))
        data.projects[key] = Project(
            id=10000 + i,
            key=key,
            name=PROJECT_NAMES.get(key, key.title()),
            lead=team[0],
            description=f"{PROJECT_NAMES.get(key, key)} — owned by the {key.lower()} team",
            next_number=data.size.issues_per_project + 1,
        )
        data.teams[key] = team


def _versions(data: JiraData, rng: random.Random, start: int) -> None:
    version_id = 10000
    anchor_day = _day(data.anchor_ms)
    for project in data.projects.values():
        count = max(5, span_days(data.size) // 45 + 3)
        first = _day(start) + timedelta(days=30 + rng.randrange(10))
        for n in range(count):
            release = first + timedelta(days=45 * n + rng.randrange(-5, 6))
            released = release <= anchor_day
            no_date = n == count - 1  # the last one is planned without a date
            # One version is overdue: its date passed but it was never released.
            overdue = released and n == count - 4
            data.versions[version_id] = Version(
                id=version_id,
                project_id=project.id,
                name=f"{project.key} {1 + n // 4}.{n % 4}",
                description="" if n % 3 else f"Release train {n}",
                start_date=release - timedelta(days=44) if not no_date else None,
                release_date=None if no_date else release,
                released=released and not overdue,
                archived=n == 0,
            )
            version_id += 1


def _boards_and_sprints(data: JiraData, rng: random.Random, start: int) -> None:
    sprint_id = 1
    # Sprints start on a Monday at 09:00 UTC.
    first = datetime.fromtimestamp(start / 1000, UTC).replace(hour=9, minute=0, second=0)
    first -= timedelta(days=first.weekday())
    first_ms = int(first.timestamp() * 1000)
    for board_id, project in enumerate(data.projects.values(), start=1):
        data.boards[board_id] = Board(board_id, f"{project.key} board", project.key)
        k = 0
        futures = 0
        while futures < 2:
            s = first_ms + k * SPRINT_LENGTH
            e = s + SPRINT_LENGTH
            if e <= data.anchor_ms:
                state = "closed"
            elif s <= data.anchor_ms:
                state = "active"
            else:
                state = "future"
                futures += 1
            complete = e - rng.randrange(0, 4 * HOUR) if state == "closed" else None
            dated = state != "future" or futures == 1  # the furthest future sprint has no dates
            data.sprints[sprint_id] = Sprint(
                id=sprint_id,
                board_id=board_id,
                name=f"{project.key} Sprint {k + 1}",
                state=state,
                start=s if dated else None,
                end=e if dated else None,
                complete=complete,
                created=s - 3 * DAY,
                goal=SPRINT_GOALS[rng.randrange(len(SPRINT_GOALS))],
                sequence=sprint_id,
            )
            sprint_id += 1
            k += 1


def _day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).date()


# --- issues -------------------------------------------------------------------------------

_TYPE_WEIGHTS = (("Story", 48), ("Task", 20), ("Bug", 20), ("Sub-task", 8), ("Spike", 1))
_PRIORITY_WEIGHTS = (("Medium", 50), ("High", 20), ("Low", 15), ("Highest", 8), ("Lowest", 7))


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    total = sum(w for _, w in table)
    roll = rng.randrange(total)
    for value, weight in table:
        if roll < weight:
            return value
        roll -= weight
    raise AssertionError("unreachable")


def _issues(data: JiraData, rng: random.Random, start: int) -> None:
    n = data.size.issues_per_project
    plan: list[tuple[int, str, int, str]] = []  # (created, project, number, type)
    for key in data.projects:
        # Skewed towards recent: teams file more issues than they did a year ago.
        window = data.anchor_ms - 2 * HOUR - (start + HOUR)
        created = sorted(
            data.anchor_ms - 2 * HOUR - int(window * rng.random() ** 1.4) for _ in range(n)
        )
        epics = max(2, n * 3 // 100)
        epic_slots = set(rng.sample(range(n // 2), k=min(epics, n // 2)))
        for i, t in enumerate(created):
            kind = "Epic" if i in epic_slots else _weighted(rng, _TYPE_WEIGHTS)
            if kind == "Sub-task" and i < 5:
                kind = "Task"  # a sub-task needs an earlier parent
            plan.append((t, key, i + 1, kind))
    plan.sort()
    sim = _Simulator(data, rng)
    for created_at, key, number, kind in plan:
        issue_id = data.next_issue_id
        data.next_issue_id += 1
        sim.simulate(issue_id, key, number, kind, created_at)
    _assign_history_ids(data)


def _assign_history_ids(data: JiraData) -> None:
    """Changelog ids grow with time across the whole site, as Jira's do.

    Sort keys are packed into one int (time, issue, position) rather than tuples: at the
    large size this list has close to a million entries."""
    order: list[int] = []
    base = 10000
    for issue in data.issues.values():
        offset = (issue.id - base) << 10
        for pos, h in enumerate(issue.history):
            order.append((h.created << 32) | offset | pos)
    order.sort()
    next_id = data.next_history_id
    for packed in order:
        issue = data.issues[((packed >> 10) & 0x3FFFFF) + base]
        pos = packed & 0x3FF
        issue.history[pos] = issue.history[pos]._replace(id=next_id)
        next_id += 1
    data.next_history_id = next_id


# Identical change items are shared between issues (functools.cache): the large size holds
# close to a million of them, and most are the same few status transitions.
@functools.cache
def status_item(old: str, new: str) -> ChangeItem:
    a, b = STATUSES[old], STATUSES[new]
    return ChangeItem("status", "jira", "status", a.id, a.name, b.id, b.name)


@functools.cache
def resolution_item(old: str | None, new: str | None) -> ChangeItem:
    a = RESOLUTIONS[old] if old else None
    b = RESOLUTIONS[new] if new else None
    return ChangeItem(
        "resolution",
        "jira",
        "resolution",
        a.id if a else None,
        a.name if a else None,
        b.id if b else None,
        b.name if b else None,
    )


def assignee_item(data: JiraData, old: int | None, new: int | None) -> ChangeItem:
    return ChangeItem(
        "assignee",
        "jira",
        "assignee",
        user_token(old) if old is not None else None,
        data.users[old].display_name if old is not None else None,
        user_token(new) if new is not None else None,
        data.users[new].display_name if new is not None else None,
    )


def sprint_item(data: JiraData, old: tuple[int, ...], new: tuple[int, ...]) -> ChangeItem:
    def ids(s: tuple[int, ...]) -> str:
        return ", ".join(str(i) for i in s)

    def names(s: tuple[int, ...]) -> str:
        return ", ".join(data.sprints[i].name for i in s)

    return ChangeItem("Sprint", "custom", F_SPRINT, ids(old), names(old), ids(new), names(new))


def duedate_item(old: date | None, new: date | None) -> ChangeItem:
    # Jira records due dates as "2024-05-01" with a display string "2024-05-01 00:00:00.0".
    def s(d: date | None) -> str | None:
        return f"{d.isoformat()} 00:00:00.0" if d else None

    return ChangeItem(
        "duedate",
        "jira",
        "duedate",
        old.isoformat() if old else None,
        s(old),
        new.isoformat() if new else None,
        s(new),
    )


def story_points_item(old: float | None, new: float | None) -> ChangeItem:
    def s(v: float | None) -> str | None:
        return None if v is None else f"{v:g}"

    return ChangeItem(F_STORY_POINTS, "custom", F_STORY_POINTS, None, s(old), None, s(new))


def time_items(
    old_spent: int | None, new_spent: int, old_remaining: int | None, new_remaining: int
) -> tuple[ChangeItem, ...]:
    def s(v: int | None) -> str | None:
        return None if v is None else str(v)

    return (
        ChangeItem(
            "timespent", "jira", "timespent", s(old_spent), s(old_spent), s(new_spent), s(new_spent)
        ),
        ChangeItem(
            "timeestimate",
            "jira",
            "timeestimate",
            s(old_remaining),
            s(old_remaining),
            s(new_remaining),
            s(new_remaining),
        ),
    )


@functools.cache
def rank_item(higher: bool) -> ChangeItem:
    return ChangeItem(
        "Rank", "custom", F_RANK, "", "", "", "Ranked higher" if higher else "Ranked lower"
    )


@functools.cache
def priority_item(old: str, new: str) -> ChangeItem:
    a, b = PRIORITIES[old], PRIORITIES[new]
    return ChangeItem("priority", "jira", "priority", a.id, a.name, b.id, b.name)


def fix_version_item(data: JiraData, version_id: int) -> ChangeItem:
    v = data.versions[version_id]
    return ChangeItem("Fix Version", "jira", "fixVersions", None, None, str(v.id), v.name)


class _Simulator:
    """Walks one issue from creation to the anchor, collecting its changelog."""

    def __init__(self, data: JiraData, rng: random.Random) -> None:
        self.data = data
        self.rng = rng
        self.by_project: dict[str, list[Issue]] = {k: [] for k in data.projects}
        self.epics: dict[str, list[Issue]] = {k: [] for k in data.projects}
        self.versions: dict[str, list[Version]] = {
            p.key: sorted(data.versions_of(p), key=lambda v: (v.release_date or date.max, v.id))
            for p in data.projects.values()
        }
        self.sprints: dict[str, list[Sprint]] = {}
        for board in data.boards.values():
            self.sprints[board.project_key] = sorted(
                data.sprints_of(board.id), key=lambda s: s.sequence
            )
        self.rank_counter = 0
        # Shared change items: most issues make the same sprint and assignee moves.
        self._items: dict[tuple[object, ...], ChangeItem] = {}

    def sprint_change(self, old: tuple[int, ...], new: tuple[int, ...]) -> ChangeItem:
        key = ("sprint", old, new)
        if key not in self._items:
            self._items[key] = sprint_item(self.data, old, new)
        return self._items[key]

    def assignee_change(self, old: int | None, new: int | None) -> ChangeItem:
        key = ("assignee", old, new)
        if key not in self._items:
            self._items[key] = assignee_item(self.data, old, new)
        return self._items[key]

    def simulate(self, issue_id: int, project: str, number: int, kind: str, created: int) -> None:
        data, rng = self.data, self.rng
        team = data.teams[project]
        anchor = data.anchor_ms
        age = anchor - created
        reporter = (
            team[rng.randrange(len(team))] if rng.random() < 0.9 else data.projects[project].lead
        )
        assignee = team[rng.randrange(len(team))] if rng.random() < 0.6 else None
        self.rank_counter += 1
        issue = Issue(
            id=issue_id,
            project=project,
            number=number,
            type=kind,
            summary=_summary(rng, kind, number),
            status="Backlog" if kind == "Story" and rng.random() < 0.2 else "To Do",
            priority=_weighted(rng, _PRIORITY_WEIGHTS),
            reporter=reporter,
            creator=reporter,
            assignee=assignee,
            created=created,
            updated=created,
            status_changed=created,
            labels=tuple(sorted(set(rng.sample(LABELS, k=rng.choice((0, 0, 1, 1, 2)))))),
            rank=f"0|i{self.rank_counter:05x}:",
        )
        events: list[Event] = []
        # Parent: a sub-task hangs off an earlier story/task/bug; others may join an epic.
        if kind == "Sub-task":
            candidates = [
                i for i in self.by_project[project][-60:] if i.type in ("Story", "Task", "Bug")
            ]
            if candidates:
                issue.parent = candidates[rng.randrange(len(candidates))].id
            else:
                issue.type = kind = "Task"
        elif kind != "Epic" and self.epics[project] and rng.random() < 0.6:
            epic = self.epics[project][rng.randrange(len(self.epics[project]))]
            issue.epic = epic.id
            issue.parent = epic.id
        if kind in ("Story", "Bug", "Task", "Spike") and rng.random() < 0.8:
            issue.story_points = float(rng.choice((1, 2, 3, 5, 8, 13)))
        if kind != "Epic" and rng.random() < 0.6:
            issue.original_estimate = rng.choice((1, 2, 4, 8, 16, 24)) * 3600
            issue.remaining_estimate = issue.original_estimate

        # Lifecycle: the older the issue, the likelier it is finished.
        horizon = 120 * DAY if kind == "Epic" else 40 * DAY
        p_done = min(0.78, age / horizon)
        roll = rng.random()
        if roll < p_done:
            target = "wontdo" if rng.random() < 0.05 else "done"
        else:
            target = rng.choice(("todo", "todo", "in_progress", "review", "blocked"))
        path = self._path(target)
        end = created + (
            int(rng.uniform(2 * HOUR, min(age, 30 * DAY))) if target in ("done", "wontdo") else age
        )
        end = min(end, anchor - MINUTE)
        times = sorted(
            rng.randrange(created + MINUTE, max(created + 2 * MINUTE, end)) for _ in path
        )
        times = _strictly_increasing(times, anchor - MINUTE)
        status, resolution = issue.status, None
        first_progress: int | None = None
        resolved: int | None = None
        for t, new_status in zip(times, path, strict=True):
            items = [status_item(status, new_status)]
            category = STATUSES[new_status].category.key
            if category == "done" and resolution is None:
                new_res = "Won't Do" if new_status == "Won't Do" else "Done"
                items.append(resolution_item(None, new_res))
                resolution, resolved = new_res, t
            elif category != "done" and resolution is not None:
                items.append(resolution_item(resolution, None))
                resolution, resolved = None, None
            if new_status == "In Progress" and first_progress is None:
                first_progress = t
                if issue.assignee is None:
                    who = team[rng.randrange(len(team))]
                    items.append(self.assignee_change(None, who))
                    issue.assignee = who
            author = issue.assignee if issue.assignee is not None else team[0]
            if rng.random() < 0.1:
                author = data.automation_user
            events.append((t, author, tuple(items)))
            status = new_status
            issue.status_changed = t
        issue.status, issue.resolution, issue.resolved = status, resolution, resolved
        if issue.status == "In Review" and rng.random() < 0.3:
            # A transition and an edit in the same minute: watermarks must not skip it.
            t = min(issue.status_changed + rng.randrange(5_000, 40_000), anchor - 1)
            events.append((t, team[0], (priority_item(issue.priority, "High"),)))
            issue.priority = "High"

        # Reassignment now and then.
        if issue.assignee is not None and rng.random() < 0.15 and age > DAY:
            t = rng.randrange(created + MINUTE, anchor - MINUTE)
            new = team[rng.randrange(len(team))]
            if new != issue.assignee and (first_progress is None or t > first_progress):
                events.append(
                    (t, data.projects[project].lead, (self.assignee_change(issue.assignee, new),))
                )
                issue.assignee = new

        if kind not in ("Epic", "Sub-task"):
            self._sprints(issue, events, first_progress, resolved)
        self._due_date(issue, events)
        self._estimates(issue, events, first_progress, resolved)
        self._fix_version(issue, events)
        if issue.story_points is not None and rng.random() < 0.1 and age > DAY:
            t = rng.randrange(created + MINUTE, anchor - MINUTE)
            new_points = float(rng.choice((1, 2, 3, 5, 8, 13)))
            if new_points != issue.story_points:
                events.append(
                    (t, issue.reporter, (story_points_item(issue.story_points, new_points),))
                )
                issue.story_points = new_points
        # Some issues are re-ranked constantly: their changelogs run past 100 entries.
        if number in (3, 70) or rng.random() < 0.002:
            for _ in range(rng.randrange(101, 160)):
                t = rng.randrange(created + MINUTE, anchor - MINUTE)
                events.append((t, team[rng.randrange(len(team))], (rank_item(rng.random() < 0.5),)))

        self._finish(issue, events)

    def _path(self, target: str) -> list[str]:
        rng = self.rng
        if target == "todo":
            return ["To Do"] if rng.random() < 0.2 else []
        if target == "wontdo":
            return ["Won't Do"]
        path = ["In Progress"]
        if target == "blocked":
            return [*path, "Blocked"]
        if target == "in_progress":
            return [*path, "Blocked", "In Progress"] if rng.random() < 0.2 else path
        path.append("In Review")
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            path += ["In Progress", "In Review"]
        if target == "review":
            return path
        path.append("Done")
        if rng.random() < 0.05:
            path += ["In Progress", "Done"]  # reopened, then done again
        return path

    def _sprints(
        self, issue: Issue, events: list[Event], first_progress: int | None, resolved: int | None
    ) -> None:
        rng, data = self.rng, self.data
        sprints = self.sprints[issue.project]
        lead = data.projects[issue.project].lead
        if first_progress is None:
            # Not started: in the backlog, or planned into the active / next sprint.
            if rng.random() < 0.55:
                return
            candidates = [
                s for s in sprints if s.state in ("active", "future") and s.start is not None
            ]
            if not candidates:
                return
            sprint = candidates[0] if rng.random() < 0.7 else candidates[-1]
            t = max(issue.created + MINUTE, min(sprint.created, data.anchor_ms - MINUTE))
            t = min(t, data.anchor_ms - MINUTE)
            events.append((t, lead, (self.sprint_change((), (sprint.id,)),)))
            issue.sprints = (sprint.id,)
            return
        index = next(
            (
                i
                for i, s in enumerate(sprints)
                if s.start is not None and s.start <= first_progress < (s.end or 0)
            ),
            None,
        )
        if index is None:
            return
        current: tuple[int, ...] = ()
        sprint = sprints[index]
        t = max(issue.created + 1, min(first_progress - 1, sprint.start or first_progress))
        while True:
            new = (*current, sprint.id)
            events.append((t, lead, (self.sprint_change(current, new),)))
            current = new
            done_in_sprint = resolved is not None and resolved <= (
                sprint.complete or data.anchor_ms
            )
            if sprint.state != "closed" or done_in_sprint or index + 1 >= len(sprints):
                break
            # Closed with the issue unfinished: carried over into the next sprint.
            index += 1
            nxt = sprints[index]
            if nxt.start is None or nxt.start > data.anchor_ms:
                break
            t = max(t + 1, sprint.complete or nxt.start)
            sprint = nxt
        issue.sprints = current

    def _due_date(self, issue: Issue, events: list[Event]) -> None:
        rng = self.rng
        if rng.random() >= 0.45:
            return
        due = _day(issue.created) + timedelta(days=rng.randrange(14, 60))
        issue.due = due
        end = issue.resolved or self.data.anchor_ms
        for _ in range(3):
            if rng.random() >= 0.3:
                break
            lo = issue.created + MINUTE
            hi = min(
                end, int(datetime(due.year, due.month, due.day, tzinfo=UTC).timestamp() * 1000)
            )
            if hi <= lo:
                break
            t = rng.randrange(lo, hi)
            new_due = due + timedelta(days=rng.randrange(7, 22))
            events.append(
                (t, self.data.projects[issue.project].lead, (duedate_item(due, new_due),))
            )
            due = new_due
        issue.due = due

    def _estimates(
        self, issue: Issue, events: list[Event], first_progress: int | None, resolved: int | None
    ) -> None:
        if issue.original_estimate is None or first_progress is None:
            return
        rng = self.rng
        spent = int(issue.original_estimate * rng.uniform(0.3, 1.5)) // 900 * 900 or 900
        remaining = 0 if resolved else max(0, issue.original_estimate - spent)
        t = resolved - 1 if resolved else min(first_progress + HOUR, self.data.anchor_ms - MINUTE)
        t = max(t, first_progress + 1)
        author = issue.assignee if issue.assignee is not None else issue.reporter
        events.append((t, author, time_items(None, spent, issue.remaining_estimate, remaining)))
        issue.time_spent, issue.remaining_estimate = spent, remaining

    def _fix_version(self, issue: Issue, events: list[Event]) -> None:
        rng = self.rng
        if issue.type == "Sub-task" or rng.random() >= 0.6:
            return
        when = _day(issue.resolved or issue.created)
        versions = [
            v
            for v in self.versions[issue.project]
            if v.release_date is None or v.release_date >= when
        ]
        if not versions:
            return
        version = versions[0] if rng.random() < 0.7 else versions[rng.randrange(len(versions))]
        if rng.random() < 0.5:
            t = rng.randrange(issue.created + MINUTE, self.data.anchor_ms - MINUTE)
            events.append(
                (
                    t,
                    self.data.projects[issue.project].lead,
                    (fix_version_item(self.data, version.id),),
                )
            )
        issue.fix_versions = (version.id,)

    def _finish(self, issue: Issue, events: list[Event]) -> None:
        events.sort(key=lambda e: e[0])
        issue.history = [History(0, t, author, items) for t, author, items in events]
        issue.updated = max(issue.created, events[-1][0]) if events else issue.created
        data = self.data
        data.issues[issue.id] = issue
        data.keys[issue.key] = issue.id
        self.by_project[issue.project].append(issue)
        if issue.type == "Epic":
            self.epics[issue.project].append(issue)


def _summary(rng: random.Random, kind: str, number: int) -> str:
    """Every project holds each awkward summary at least once (numbers 4, 11, 18, ...), so
    even the small size exercises them; elsewhere they appear at random."""
    awkward = (*AWKWARD_SUMMARIES, LONG_SUMMARY)
    slot, rest = divmod(number - 4, 7)
    if rest == 0 and 0 <= slot < len(awkward):
        return awkward[slot].format(area="reporting")[:255]
    return summary(rng, kind)


def _strictly_increasing(times: list[int], limit: int) -> list[int]:
    out: list[int] = []
    for t in times:
        if out and t <= out[-1]:
            t = out[-1] + 1000
        out.append(min(t, limit))
    return out


# --- links --------------------------------------------------------------------------------


def _links(data: JiraData, rng: random.Random) -> None:
    ids = list(data.issues)
    by_project: dict[str, list[int]] = {}
    for issue in data.issues.values():
        by_project.setdefault(issue.project, []).append(issue.id)
    for issue_id in ids:
        if rng.random() >= 0.15:
            continue
        issue = data.issues[issue_id]
        pool = by_project[issue.project] if rng.random() < 0.8 else ids
        other = pool[rng.randrange(len(pool))]
        if other == issue_id:
            continue
        roll = rng.random()
        kind = "Blocks" if roll < 0.6 else "Relates" if roll < 0.9 else "Duplicate"
        data.add_link(kind, issue_id, other)
