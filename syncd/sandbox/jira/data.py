"""``JiraData``: every record of one simulated Jira site, with the indexes requests need.

This is the truth a test compares a synced store with:

- ``issues``: id -> :class:`~syncd.sandbox.jira.model.Issue` (live issues only);
- ``deleted``: id -> the key the issue had when it was deleted (gone from every endpoint);
- ``keys``: every key that resolves, including the old keys of moved issues (Jira keeps
  them: GET /issue/OLD-1 answers with the issue under its new key);
- ``links`` / ``links_by_issue``, ``projects``, ``versions``, ``boards``, ``sprints``,
  ``users`` (``api_user`` is the account the credentials belong to).

Custom fields and users inside changelog items are stored as tokens (``@sprint``,
``@u12``) and resolved per deployment when rendered, because Cloud and Data Center name
the same thing differently (field ids, accountId vs user key).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from syncd.sandbox.jira.model import Board, Issue, Link, Project, Sprint, User, Version
from syncd.sandbox.sizes import SandboxSize

# Tokens for custom fields in changelog items (resolved by render.py).
F_SPRINT = "@sprint"
F_STORY_POINTS = "@story_points"
F_RANK = "@rank"
F_EPIC_LINK = "@epic_link"


def user_token(index: int) -> str:
    return f"@u{index}"


@dataclass
class JiraData:
    size: SandboxSize
    seed: int
    anchor_ms: int  # generation "now": every generated timestamp is at or before it
    users: list[User] = field(default_factory=list)
    api_user: int = 0
    automation_user: int = 0
    projects: dict[str, Project] = field(default_factory=dict)
    teams: dict[str, list[int]] = field(default_factory=dict)  # project key -> user indexes
    versions: dict[int, Version] = field(default_factory=dict)
    boards: dict[int, Board] = field(default_factory=dict)
    sprints: dict[int, Sprint] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)
    deleted: dict[int, str] = field(default_factory=dict)
    links: dict[int, Link] = field(default_factory=dict)
    links_by_issue: dict[int, list[int]] = field(default_factory=dict)
    next_issue_id: int = 10000
    next_history_id: int = 10000
    next_link_id: int = 10000
    revision: int = 0  # bumped by every change; search caches key on it
    _children: tuple[int, dict[int, list[Issue]]] | None = field(default=None, repr=False)

    # -- lookups -------------------------------------------------------------------------

    def find_issue(self, id_or_key: str) -> Issue | None:
        """By numeric id or by key (current or old), case-insensitively for keys."""
        if id_or_key.isdigit():
            return self.issues.get(int(id_or_key))
        issue_id = self.keys.get(id_or_key.upper())
        return self.issues.get(issue_id) if issue_id is not None else None

    def find_project(self, id_or_key: str) -> Project | None:
        if id_or_key.isdigit():
            wanted = int(id_or_key)
            return next((p for p in self.projects.values() if p.id == wanted), None)
        return self.projects.get(id_or_key.upper())

    def board_for(self, project_key: str) -> Board | None:
        return next((b for b in self.boards.values() if b.project_key == project_key), None)

    def issue_links(self, issue_id: int) -> Iterator[Link]:
        for link_id in self.links_by_issue.get(issue_id, ()):
            yield self.links[link_id]

    def versions_of(self, project: Project) -> list[Version]:
        return [v for v in self.versions.values() if v.project_id == project.id]

    def sprints_of(self, board_id: int) -> list[Sprint]:
        return [s for s in self.sprints.values() if s.board_id == board_id]

    def children_of(self, issue_id: int) -> list[Issue]:
        """Issues whose ``parent`` is ``issue_id`` (index rebuilt once per revision)."""
        if self._children is None or self._children[0] != self.revision:
            children: dict[int, list[Issue]] = {}
            for other in self.issues.values():
                if other.parent is not None:
                    children.setdefault(other.parent, []).append(other)
            self._children = (self.revision, children)
        return self._children[1].get(issue_id, [])

    def history_count(self) -> int:
        return sum(len(i.history) for i in self.issues.values())

    # -- mutations shared by generation and evolution --------------------------------------

    def add_link(self, link_type: str, outward: int, inward: int) -> Link:
        link = Link(self.next_link_id, link_type, outward, inward)
        self.next_link_id += 1
        self.links[link.id] = link
        self.links_by_issue.setdefault(outward, []).append(link.id)
        self.links_by_issue.setdefault(inward, []).append(link.id)
        return link

    def remove_links_of(self, issue_id: int) -> None:
        for link_id in self.links_by_issue.pop(issue_id, []):
            link = self.links.pop(link_id, None)
            if link is None:
                continue
            other = link.inward if link.outward == issue_id else link.outward
            others = self.links_by_issue.get(other)
            if others and link_id in others:
                others.remove(link_id)
