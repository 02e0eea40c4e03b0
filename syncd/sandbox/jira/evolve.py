"""Behaviour over time: the changes a busy Jira site sees, applied in batches, now.

Each change is recorded the way Jira records it: a changelog entry at the change's time
with the items Jira writes, and ``updated`` bumped to that time. A batch happens "now"
(the service clock) with one millisecond between changes, so the changes of one batch
share a minute — exactly what a sync that keeps a minute-granular watermark must survive.

Kinds (the first batch of at least eight changes contains each kind once, later batches
draw them by weight):

- ``transition``: the next workflow status (with resolution set or cleared), reopening now
  and then;
- ``reassign``: a new assignee (sometimes none);
- ``due_push``: the due date moves later (or is set);
- ``sprint_change``: the issue is moved into the next sprint (closed sprints stay in the
  Sprint field, as Jira keeps them);
- ``edit``: priority or summary edited;
- ``create``: a new issue (no changelog entry, like Jira);
- ``delete``: the issue disappears from every endpoint, leaving no trace in search
  (``data.deleted`` remembers it for tests);
- ``move``: the issue moves to another project: same id, new key, old key still resolves,
  fix versions cleared (they belong to the old project).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from syncd.sandbox.jira.data import JiraData
from syncd.sandbox.jira.generate import (
    assignee_item,
    duedate_item,
    fix_version_item,
    priority_item,
    resolution_item,
    sprint_item,
    status_item,
)
from syncd.sandbox.jira.model import PRIORITIES, STATUSES, ChangeItem, History, Issue
from syncd.sandbox.jira.texts import summary

KINDS = ("transition", "reassign", "due_push", "sprint_change", "edit", "create", "delete", "move")
WEIGHTS = (34, 12, 10, 12, 10, 15, 5, 2)

# The next status from each status, as a Jira Software workflow allows.
NEXT_STATUS: dict[str, tuple[str, ...]] = {
    "Backlog": ("To Do", "In Progress"),
    "To Do": ("In Progress", "In Progress", "Won't Do"),
    "In Progress": ("In Review", "In Review", "Blocked"),
    "Blocked": ("In Progress",),
    "In Review": ("Done", "Done", "In Progress"),
    "Done": ("In Progress",),  # reopened
    "Won't Do": ("To Do",),
}


class Evolver:
    def __init__(self, data: JiraData, seed: int, clock: Callable[[], float]) -> None:
        self.data = data
        self.rng = random.Random(f"jira-evolve:{data.size.name}:{seed}")
        self.clock = clock
        self.applied = 0
        self._ids: list[int] = list(data.issues)
        # Change times never go backwards (not before the generated data, not with a frozen clock).
        self._last_at = data.anchor_ms

    def apply(self, changes: int) -> dict[str, int]:
        counts: Counter[str] = Counter()
        now = max(int(self.clock() * 1000), self._last_at + 1)
        self._last_at = now + changes
        for n in range(changes):
            if self.applied < len(KINDS) and changes >= len(KINDS):
                kind = KINDS[self.applied]
            else:
                kind = self.rng.choices(KINDS, WEIGHTS)[0]
            done = getattr(self, f"_{kind}")(now + n)
            if not done:
                kind = "edit"
                self._edit(now + n)
            counts[kind] += 1
            self.applied += 1
        if changes:
            self.data.revision += 1
        return dict(counts)

    # -- helpers ---------------------------------------------------------------------------

    def _pick(self, accept: Callable[[Issue], bool]) -> Issue | None:
        for _ in range(200):
            if not self._ids:
                return None
            issue = self.data.issues.get(self._ids[self.rng.randrange(len(self._ids))])
            if issue is not None and accept(issue):
                return issue
        return None

    def _record(self, issue: Issue, at: int, author: int, *items: ChangeItem) -> None:
        t = max(at, issue.updated + 1)
        self._last_at = max(self._last_at, t)
        issue.history.append(History(self.data.next_history_id, t, author, tuple(items)))
        self.data.next_history_id += 1
        issue.updated = t

    def _person(self, issue: Issue) -> int:
        team = self.data.teams[issue.project]
        return team[self.rng.randrange(len(team))]

    @staticmethod
    def _open(issue: Issue) -> bool:
        return STATUSES[issue.status].category.key != "done"

    # -- kinds -----------------------------------------------------------------------------

    def _transition(self, at: int) -> bool:
        issue = self._pick(lambda i: self._open(i) or self.rng.random() < 0.05)
        if issue is None:
            return False
        new = self.rng.choice(NEXT_STATUS[issue.status])
        items = [status_item(issue.status, new)]
        done = STATUSES[new].category.key == "done"
        if done and issue.resolution is None:
            resolution = "Won't Do" if new == "Won't Do" else "Done"
            items.append(resolution_item(None, resolution))
            issue.resolution = resolution
        elif not done and issue.resolution is not None:
            items.append(resolution_item(issue.resolution, None))
            issue.resolution, issue.resolved = None, None
        if new == "In Progress" and issue.assignee is None:
            who = self._person(issue)
            items.append(assignee_item(self.data, None, who))
            issue.assignee = who
        author = issue.assignee if issue.assignee is not None else self._person(issue)
        self._record(issue, at, author, *items)
        issue.status = new
        issue.status_changed = issue.updated
        if done and issue.resolved is None:
            issue.resolved = issue.updated
        return True

    def _reassign(self, at: int) -> bool:
        issue = self._pick(self._open)
        if issue is None:
            return False
        new = None if self.rng.random() < 0.1 else self._person(issue)
        if new == issue.assignee:
            new = None if issue.assignee is not None else self._person(issue)
        self._record(
            issue,
            at,
            self.data.projects[issue.project].lead,
            assignee_item(self.data, issue.assignee, new),
        )
        issue.assignee = new
        return True

    def _due_push(self, at: int) -> bool:
        issue = self._pick(self._open)
        if issue is None:
            return False
        today = datetime.fromtimestamp(at / 1000, UTC).date()
        new = (issue.due or today) + timedelta(days=self.rng.randrange(7, 22))
        self._record(
            issue, at, self.data.projects[issue.project].lead, duedate_item(issue.due, new)
        )
        issue.due = new
        return True

    def _sprint_change(self, at: int) -> bool:
        issue = self._pick(lambda i: self._open(i) and i.type not in ("Epic", "Sub-task"))
        board = self.data.board_for(issue.project) if issue else None
        if issue is None or board is None:
            return False
        sprints = sorted(self.data.sprints_of(board.id), key=lambda s: s.sequence)
        open_sprints = [s for s in sprints if s.state != "closed"]
        if not open_sprints:
            return False
        closed = tuple(i for i in issue.sprints if self.data.sprints[i].state == "closed")
        current = [i for i in issue.sprints if self.data.sprints[i].state != "closed"]
        if current:
            later = [
                s for s in open_sprints if s.sequence > self.data.sprints[current[-1]].sequence
            ]
            target = later[0] if later else open_sprints[0]
        else:
            target = open_sprints[0]
        new = (*closed, target.id)
        if new == issue.sprints:
            return False
        self._record(
            issue,
            at,
            self.data.projects[issue.project].lead,
            sprint_item(self.data, issue.sprints, new),
        )
        issue.sprints = new
        return True

    def _edit(self, at: int) -> bool:
        issue = self._pick(lambda i: True)
        if issue is None:
            return False
        if self.rng.random() < 0.5:
            new = self.rng.choice([p for p in PRIORITIES if p != issue.priority])
            self._record(issue, at, self._person(issue), priority_item(issue.priority, new))
            issue.priority = new
        else:
            new_summary = (issue.summary + " (updated ✏️)")[:255]
            item = ChangeItem("summary", "jira", "summary", None, issue.summary, None, new_summary)
            self._record(issue, at, self._person(issue), item)
            issue.summary = new_summary
        return True

    def _create(self, at: int) -> bool:
        data = self.data
        project = data.projects[self.rng.choice(list(data.projects))]
        team = data.teams[project.key]
        reporter = team[self.rng.randrange(len(team))]
        kind = self.rng.choice(("Story", "Story", "Task", "Bug"))
        issue = Issue(
            id=data.next_issue_id,
            project=project.key,
            number=project.next_number,
            type=kind,
            summary=summary(self.rng, kind),
            status="To Do",
            priority=self.rng.choice(("Medium", "Medium", "High", "Low")),
            reporter=reporter,
            creator=reporter,
            assignee=team[self.rng.randrange(len(team))] if self.rng.random() < 0.5 else None,
            created=at,
            updated=at,
            status_changed=at,
            story_points=float(self.rng.choice((1, 2, 3, 5, 8)))
            if self.rng.random() < 0.6
            else None,
            rank=f"0|i{data.next_issue_id:05x}:",
        )
        board = data.board_for(project.key)
        active = [
            s
            for s in data.sprints.values()
            if board and s.board_id == board.id and s.state == "active"
        ]
        if active and self.rng.random() < 0.5:
            issue.sprints = (active[0].id,)  # set on the create screen: no changelog entry
        data.next_issue_id += 1
        project.next_number += 1
        data.issues[issue.id] = issue
        data.keys[issue.key] = issue.id
        self._ids.append(issue.id)
        return True

    def _leaf(self, issue: Issue) -> bool:
        return issue.type != "Epic" and not self.data.children_of(issue.id)

    def _delete(self, at: int) -> bool:
        issue = self._pick(self._leaf)
        if issue is None:
            return False
        data = self.data
        del data.issues[issue.id]
        data.deleted[issue.id] = issue.key
        for key in [k for k, v in data.keys.items() if v == issue.id]:
            del data.keys[key]
        data.remove_links_of(issue.id)
        return True

    def _move(self, at: int) -> bool:
        data = self.data
        if len(data.projects) < 2:
            return False
        issue = self._pick(lambda i: self._leaf(i) and i.type != "Sub-task")
        if issue is None:
            return False
        source = data.projects[issue.project]
        target = data.projects[self.rng.choice([k for k in data.projects if k != issue.project])]
        old_key = issue.key
        new_number = target.next_number
        target.next_number += 1
        items = [
            ChangeItem(
                "project",
                "jira",
                "project",
                str(source.id),
                source.name,
                str(target.id),
                target.name,
            ),
            ChangeItem(
                "Key", "jira", "issuekey", None, old_key, None, f"{target.key}-{new_number}"
            ),
        ]
        for version_id in issue.fix_versions:
            removed = fix_version_item(data, version_id)
            items.append(
                removed._replace(
                    from_=removed.to, from_string=removed.to_string, to=None, to_string=None
                )
            )
        self._record(issue, at, data.projects[target.key].lead, *items)
        issue.project, issue.number, issue.fix_versions = target.key, new_number, ()
        data.keys[issue.key] = issue.id  # the old key keeps resolving to the same issue
        return True
