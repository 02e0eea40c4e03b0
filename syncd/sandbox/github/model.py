"""The simulated GitHub's data: the truth that the HTTP layer renders and tests compare with.

Plain slotted dataclasses, timestamps as integer epoch seconds (UTC). A large sandbox holds
~200,000 commits, so every object here is as small as reasonable: no datetimes, no dicts per
object, no rendered JSON.

GitHub facts the model keeps (each one is a trap for a client):

- Issues and pull requests of a repository share one number sequence, and every pull
  request is also an issue with its *own* ``id`` (``PullRequest.issue_id``), different from
  the pull request's ``id``.
- A pull request's ``state`` is only ``open`` or ``closed``; merged is ``closed`` with
  ``merged_at`` set.
- A commit's git author/committer (name, email, dates) are separate from the GitHub accounts
  the API attaches (``author_user``/``committer_user``), which are ``None`` when GitHub cannot
  match the email to an account.
- Commits are a graph (``parents``); "the commits of a branch" are those reachable from its
  head, and some commits (of open, closed or squash-merged pull requests) are on no branch
  that is listed by default.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

NO_KEYS: tuple[str, ...] = ()
_LOG_CACHE_SIZE = 16  # heads per repository


@dataclass(slots=True, eq=False)
class User:
    login: str
    id: int
    type: str = "User"  # "User" | "Bot" | "Organization"
    name: str | None = None
    public_email: str | None = None  # what /users/{login} shows; often None on real GitHub
    work_email: str | None = None  # truth: the person's work email, public or not
    company: str | None = None
    location: str | None = None
    created_at: int = 0
    updated_at: int = 0
    site_admin: bool = False

    @property
    def node_id(self) -> str:
        prefix = {"User": "U_", "Bot": "BOT_", "Organization": "O_"}[self.type]
        return f"{prefix}kgDO{self.id:08X}"


@dataclass(slots=True, eq=False)
class Label:
    id: int
    name: str
    color: str
    description: str | None
    default: bool = False


@dataclass(slots=True, eq=False)
class Milestone:
    id: int
    number: int
    title: str
    description: str | None
    creator: User
    state: str  # "open" | "closed"
    due_on: int | None  # midnight US/Pacific as UTC, the way GitHub stores due dates
    created_at: int
    updated_at: int
    closed_at: int | None = None


@dataclass(slots=True, eq=False)
class Review:
    id: int
    user: User
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    body: str
    submitted_at: int
    commit_id: str


@dataclass(slots=True, eq=False)
class Commit:
    sha: str
    message: str
    author_name: str
    author_email: str
    author_date: int
    committer_name: str
    committer_email: str
    committer_date: int
    parents: tuple[str, ...]
    author_user: User | None
    committer_user: User | None
    additions: int
    deletions: int
    files: int
    keys: tuple[str, ...] = NO_KEYS  # truth: existing Jira keys the message mentions
    seq: int = 0  # creation order, breaks committer-date ties when sorting


@dataclass(slots=True, eq=False)
class Branch:
    name: str
    head: str  # sha
    protected: bool = False


@dataclass(slots=True, eq=False)
class Issue:
    """A GitHub issue that is not a pull request."""

    id: int
    number: int
    title: str
    body: str | None
    user: User
    labels: list[Label]
    state: str  # "open" | "closed"
    state_reason: str | None  # None | "completed" | "not_planned" | "reopened"
    assignees: list[User]
    milestone: Milestone | None
    comments: int
    created_at: int
    updated_at: int
    closed_at: int | None = None
    closed_by: User | None = None
    locked: bool = False
    keys: tuple[str, ...] = NO_KEYS  # truth: existing Jira keys in title or body


@dataclass(slots=True, eq=False)
class PullRequest:
    id: int
    issue_id: int  # the id of this pull request seen as an issue (a different number)
    number: int
    title: str
    body: str | None
    user: User
    labels: list[Label]
    state: str  # "open" | "closed" (merged is closed + merged_at)
    draft: bool
    created_at: int
    updated_at: int
    closed_at: int | None
    merged_at: int | None
    merged_by: User | None
    merge_commit_sha: str | None
    head_ref: str
    base_ref: str
    base_sha: str
    commit_shas: list[str]  # oldest first
    milestone: Milestone | None
    assignees: list[User]
    requested_reviewers: list[User]
    reviews: list[Review] = field(default_factory=list)
    comments: int = 0
    review_comments: int = 0
    locked: bool = False
    # truth: existing Jira keys by where they appear: "title" | "branch" | "body"
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def head_sha(self) -> str:
        return self.commit_shas[-1]

    @property
    def merged(self) -> bool:
        return self.merged_at is not None


@dataclass(slots=True, eq=False)
class Repo:
    id: int
    owner: User
    name: str
    description: str | None
    default_branch: str
    merge_style: str  # "squash" | "merge": how pull requests land on the default branch
    language: str
    topics: list[str]
    created_at: int
    updated_at: int
    pushed_at: int
    labels: dict[str, Label] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, Branch] = field(default_factory=dict)
    next_number: int = 1  # shared by issues and pull requests
    has_issues: bool = True  # False: Issues disabled in the settings; /issues answers 410
    version: int = 0  # bumped on every change; keys the list caches
    _log_cache: dict[str, list[Commit]] = field(default_factory=dict, repr=False)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    def touch(self) -> None:
        self.version += 1

    def log(self, head_sha: str) -> list[Commit]:
        """Commits reachable from ``head_sha``, newest committer date first (as ``git log``
        and GitHub's commit list order them when dates follow ancestry, which ours do).

        Commits never change once created, so a head's log never does either: it is cached
        per head, and a commit pushed on top of a cached head extends that log instead of
        walking the whole history again (evolve pushes all the time)."""
        cached = self._log_cache.get(head_sha)
        if cached is not None:
            return cached
        commits = self.commits
        head = commits[head_sha]
        parent_log = self._log_cache.get(head.parents[0]) if len(head.parents) == 1 else None
        if parent_log is not None and (
            not parent_log
            or (head.committer_date, head.seq) > (parent_log[0].committer_date, parent_log[0].seq)
        ):
            result = [head, *parent_log]
        else:
            seen: set[str] = set()
            stack = [head_sha]
            while stack:
                sha = stack.pop()
                if sha in seen:
                    continue
                seen.add(sha)
                stack.extend(commits[sha].parents)
            result = sorted(
                (commits[s] for s in seen), key=lambda c: (c.committer_date, c.seq), reverse=True
            )
        if len(self._log_cache) >= _LOG_CACHE_SIZE:
            self._log_cache.pop(next(iter(self._log_cache)))
        self._log_cache[head_sha] = result
        return result

    def branch_log(self, branch: str | None = None) -> list[Commit]:
        """The commits of ``branch`` (default: the default branch), newest first; none in
        an empty repository."""
        if not self.commits:
            return []
        return self.log(self.branches[branch or self.default_branch].head)

    def items(self) -> Iterator[Issue | PullRequest]:
        """Issues and pull requests, as ``/issues`` lists them."""
        yield from self.issues.values()
        yield from self.pulls.values()


@dataclass(slots=True, eq=False)
class GitHubData:
    """Everything the simulated GitHub knows. ``repos`` is keyed by "owner/name"."""

    users: dict[str, User]  # by login
    repos: dict[str, Repo]
    viewer: User  # the account the sandbox token belongs to
    now: int  # the generation anchor: all generated history lies before it
    # Next id per kind. Real GitHub ids are past 2**31 for issues and pull requests (a trap
    # for 32-bit columns), so ours start there too.
    ids: dict[str, int] = field(
        default_factory=lambda: {
            "pull": 1_900_000_000,
            "review": 2_300_000_000,
            "issue": 2_400_000_000,
            "milestone": 11_000_000,
            "label": 6_000_000_000,
        }
    )

    def new_id(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def repo_by_id(self, repo_id: int) -> Repo | None:
        for repo in self.repos.values():
            if repo.id == repo_id:
                return repo
        return None

    def counts(self) -> dict[str, int]:
        repos = self.repos.values()
        return {
            "repos": len(self.repos),
            "users": sum(1 for u in self.users.values() if u.type != "Organization"),
            "issues": sum(len(r.issues) for r in repos),
            "pulls": sum(len(r.pulls) for r in repos),
            "reviews": sum(len(p.reviews) for r in repos for p in r.pulls.values()),
            "commits": sum(len(r.commits) for r in repos),
            "branches": sum(len(r.branches) for r in repos),
            "milestones": sum(len(r.milestones) for r in repos),
        }
