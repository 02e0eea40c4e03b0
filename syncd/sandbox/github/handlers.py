"""The endpoints: filtering, sorting and paging over the model, rendered by ``render``.

Each handler takes a :class:`Ctx` and its path parameters and returns a :class:`Reply`
(or raises :class:`ApiError`); auth, rate limits, ETags and headers are the service's.
Parameter semantics are those of docs.github.com (REST API version 2022-11-28); the
non-obvious ones are commented where they are implemented.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .app_auth import AppAuthority
from .errors import DOCS, ApiError, not_found
from .model import Commit, GitHubData, Issue, PullRequest, Repo, User
from .paging import Page
from .render import Renderer, iso


@dataclass
class Reply:
    data: Any
    status: int = 200
    total: int | None = None  # a paginated list: how many items in all (for Link)
    page: Page | None = None
    link_path: str | None = None  # API path the Link URLs point to (without the prefix)
    last_modified: int | None = None
    strong_etag: bool = False  # for immutable resources; GitHub's JSON ETags are weak
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RepoView:
    """Per-repository figures derived from the model, recomputed when the repo changes."""

    version: int
    milestone_counts: dict[int, list[int]]  # number -> [open, closed] (issues and PRs)
    open_issues: int  # open issues + open pull requests, as GitHub counts them
    sorted_cache: dict[tuple[Any, ...], list[Any]]


def build_view(repo: Repo) -> RepoView:
    counts: dict[int, list[int]] = {}
    open_count = 0
    for item in repo.items():
        if item.state == "open":
            open_count += 1
        if item.milestone is not None:
            pair = counts.setdefault(item.milestone.number, [0, 0])
            pair[0 if item.state == "open" else 1] += 1
    return RepoView(repo.version, counts, open_count, {})


@dataclass
class Ctx:
    data: GitHubData
    query: dict[str, list[str]]
    render: Renderer
    viewer: User
    view_of: Callable[[Repo], RepoView]
    rate_status: Callable[[], dict[str, int]]
    app: AppAuthority
    installation_id: int | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def page(self) -> Page:
        return Page.from_query(self.query)


# -- parameters ---------------------------------------------------------------------------

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def parse_time(value: str | None, name: str, docs: str) -> int | None:
    """An ISO 8601 timestamp parameter (``since``, ``until``). GitHub refuses other forms
    with 422, e.g. ``{"message": "The since parameter needs to be in ISO 8601 format:
    YYYY-MM-DDTHH:MM:SSZ"}`` (seen in JuliaRegistries/TagBot#61). A time without a zone is
    read as UTC."""
    if value is None or value == "":
        return None
    text = value.strip().replace(" ", "+")  # an unencoded "+01:00" arrives as " 01:00"
    if not _ISO.match(text):
        raise ApiError(
            422, f"The {name} parameter needs to be in ISO 8601 format: YYYY-MM-DDTHH:MM:SSZ", docs
        )
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _choice(value: str | None, allowed: Sequence[str], default: str) -> str:
    return value if value is not None and value in allowed else default


def _paged(ctx: Ctx, items: Sequence[Any], link_path: str, render: Callable[[Any], Any]) -> Reply:
    page = ctx.page()
    rows = [render(item) for item in page.slice(items)]
    return Reply(rows, total=len(items), page=page, link_path=link_path)


def find_repo(data: GitHubData, owner: str, name: str) -> Repo:
    # Owner and repository names are not case sensitive (docs, path parameters).
    wanted = f"{owner}/{name}".lower()
    for full_name, repo in data.repos.items():
        if full_name.lower() == wanted:
            return repo
    raise not_found(f"{DOCS}/repos/repos#get-a-repository")


def _number(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise not_found() from exc


# -- meta, users, repositories ------------------------------------------------------------


def rate_limit(ctx: Ctx) -> Reply:
    core = ctx.rate_status()
    resources = {
        "core": core,
        "search": {"limit": 30, "remaining": 30, "reset": core["reset"], "used": 0},
        "graphql": {"limit": 5000, "remaining": 5000, "reset": core["reset"], "used": 0},
        "integration_manifest": {"limit": 5000, "remaining": 5000, "reset": core["reset"],
                                 "used": 0},
        "code_search": {"limit": 10, "remaining": 10, "reset": core["reset"], "used": 0},
    }  # fmt: skip
    # "rate" is deprecated but still sent, and still read by some clients.
    return Reply({"resources": resources, "rate": core})


def authenticated_user(ctx: Ctx) -> Reply:
    if ctx.installation_id is not None:
        # An installation token acts as the app, not as a user.
        raise ApiError(
            403,
            "Resource not accessible by integration",
            f"{DOCS}/users/users#get-the-authenticated-user",
        )
    return Reply(
        ctx.render.full_user(ctx.viewer, private=True), last_modified=ctx.viewer.updated_at
    )


def get_user(ctx: Ctx, login: str) -> Reply:
    user = ctx.data.users.get(login)
    if user is None:
        lowered = login.lower()
        user = next((u for u in ctx.data.users.values() if u.login.lower() == lowered), None)
    if user is None:
        raise not_found(f"{DOCS}/users/users#get-a-user")
    return Reply(ctx.render.full_user(user), last_modified=user.updated_at)


def get_org(ctx: Ctx, org: str) -> Reply:
    user = ctx.data.users.get(org)
    if user is None or user.type != "Organization":
        raise not_found(f"{DOCS}/orgs/orgs#get-an-organization")
    api = f"{ctx.render.urls.api}/orgs/{user.login}"
    simple = ctx.render.user(user) or {}
    result = {
        "login": user.login,
        "id": user.id,
        "node_id": user.node_id,
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": simple.get("avatar_url"),
        "description": None,
        "name": user.name,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": simple.get("html_url"),
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
        "type": "Organization",
        "total_private_repos": sum(1 for r in ctx.data.repos.values() if r.owner is user),
    }
    return Reply(result, last_modified=user.updated_at)


def _repo_list(ctx: Ctx, repos: list[Repo], link_path: str) -> Reply:
    return _paged(ctx, repos, link_path, lambda r: ctx.render.repo(r, ctx.view_of(r).open_issues))


def org_repos(ctx: Ctx, org: str) -> Reply:
    owner = ctx.data.users.get(org)
    if owner is None or owner.type != "Organization":
        raise not_found(f"{DOCS}/repos/repos#list-organization-repositories")
    repos = sorted(
        (r for r in ctx.data.repos.values() if r.owner is owner), key=lambda r: r.created_at
    )
    # GitHub writes these Link URLs with the organization's id.
    return _repo_list(ctx, repos, f"/organizations/{owner.id}/repos")


def user_repos(ctx: Ctx) -> Reply:
    repos = sorted(ctx.data.repos.values(), key=lambda r: r.full_name)
    return _repo_list(ctx, repos, "/user/repos")


def installation_repos(ctx: Ctx) -> Reply:
    if not ctx.installation_id is not None:
        raise ApiError(
            403,
            "You must authenticate with an installation access token in order to list "
            "repositories for an installation.",
            f"{DOCS}/apps/installations#list-repositories-accessible-to-the-app-installation",
        )
    repos = sorted(ctx.data.repos.values(), key=lambda r: r.full_name)
    reply = _repo_list(ctx, repos, "/installation/repositories")
    reply.data = {"total_count": len(repos), "repository_selection": "all",
                  "repositories": reply.data}  # fmt: skip
    return reply


def get_repo(ctx: Ctx, repo: Repo) -> Reply:
    view = ctx.view_of(repo)
    return Reply(ctx.render.full_repo(repo, view.open_issues), last_modified=repo.updated_at)


# -- issues -------------------------------------------------------------------------------

_ISSUES_DOCS = f"{DOCS}/issues/issues#list-repository-issues"


def _issues_enabled(repo: Repo) -> None:
    """A repository with Issues disabled answers 410 Gone to its issue endpoints, e.g.
    ``{"message": "Issues are disabled for this repo", ...}`` (ingydotnet/git-hub#72,
    pockethub/PocketHub#57, ansible/ansibullbot#845)."""
    if not repo.has_issues:
        raise ApiError(410, "Issues are disabled for this repo", _ISSUES_DOCS)


def list_issues(ctx: Ctx, repo: Repo) -> Reply:
    """``GET /repos/{o}/{r}/issues``: issues AND pull requests ("GitHub's REST API considers
    every pull request an issue"), open by default, newest first by default. ``since`` keeps
    items updated at or after the time."""
    _issues_enabled(repo)
    state = _choice(ctx.arg("state"), ("open", "closed", "all"), "open")
    sort = _choice(ctx.arg("sort"), ("created", "updated", "comments"), "created")
    direction = _choice(ctx.arg("direction"), ("asc", "desc"), "desc")
    since = parse_time(ctx.arg("since"), "since", _ISSUES_DOCS)
    labels = [x.strip() for x in (ctx.arg("labels") or "").split(",") if x.strip()]
    milestone = ctx.arg("milestone")
    assignee, creator = ctx.arg("assignee"), ctx.arg("creator")

    view = ctx.view_of(repo)
    key = ("issues", sort, direction)
    ordered = view.sorted_cache.get(key)
    if ordered is None:
        field_of = {"created": "created_at", "updated": "updated_at", "comments": "comments"}[sort]
        ordered = sorted(
            repo.items(),
            key=lambda i: (getattr(i, field_of), i.number),
            reverse=direction == "desc",
        )
        view.sorted_cache[key] = ordered

    def keep(item: Issue | PullRequest) -> bool:
        if state != "all" and item.state != state:
            return False
        if since is not None and item.updated_at < since:
            return False
        if labels:
            names = {label.name.lower() for label in item.labels}
            if not all(name.lower() in names for name in labels):
                return False
        if milestone is not None and milestone != "":
            m = item.milestone
            if milestone == "*" and m is None:
                return False
            if milestone == "none" and m is not None:
                return False
            if milestone not in ("*", "none") and (m is None or str(m.number) != milestone):
                return False
        if assignee is not None and assignee != "":
            logins = {u.login for u in item.assignees}
            if assignee == "none" and logins:
                return False
            if assignee == "*" and not logins:
                return False
            if assignee not in ("*", "none") and assignee not in logins:
                return False
        return not (creator and item.user.login != creator)

    items = [i for i in ordered if keep(i)]
    return _paged(
        ctx,
        items,
        f"/repositories/{repo.id}/issues",
        lambda i: ctx.render.issue(repo, i, view.milestone_counts),
    )


def get_issue(ctx: Ctx, repo: Repo, n: str) -> Reply:
    _issues_enabled(repo)
    number = _number(n)
    item: Issue | PullRequest | None = repo.issues.get(number) or repo.pulls.get(number)
    if item is None:
        raise not_found(f"{DOCS}/issues/issues#get-an-issue")
    view = ctx.view_of(repo)
    data = ctx.render.issue(repo, item, view.milestone_counts, detail=True)
    return Reply(data, last_modified=item.updated_at)


# -- pull requests ------------------------------------------------------------------------


def list_pulls(ctx: Ctx, repo: Repo) -> Reply:
    """``GET /repos/{o}/{r}/pulls``: there is no ``since`` (it is ignored, like any unknown
    parameter); incremental readers sort by ``updated`` and stop. ``direction`` defaults to
    ``desc`` when sorting by ``created`` (the default) and to ``asc`` otherwise."""
    state = _choice(ctx.arg("state"), ("open", "closed", "all"), "open")
    sort = _choice(ctx.arg("sort"), ("created", "updated", "popularity", "long-running"), "created")
    direction = _choice(
        ctx.arg("direction"), ("asc", "desc"), "desc" if sort == "created" else "asc"
    )
    head, base = ctx.arg("head"), ctx.arg("base")
    view = ctx.view_of(repo)
    key = ("pulls", sort, direction)
    ordered = view.sorted_cache.get(key)
    if ordered is None:
        sort_keys: dict[str, Callable[[PullRequest], Any]] = {
            "created": lambda p: (p.created_at, p.number),
            "updated": lambda p: (p.updated_at, p.number),
            "popularity": lambda p: (p.comments, p.number),
            # Age of the open pull request; GitHub also filters to recently updated ones.
            "long-running": lambda p: (-p.created_at, p.number),
        }
        ordered = sorted(repo.pulls.values(), key=sort_keys[sort], reverse=direction == "desc")
        view.sorted_cache[key] = ordered

    def keep(p: PullRequest) -> bool:
        if state != "all" and p.state != state:
            return False
        if head and f"{repo.owner.login}:{p.head_ref}" != head:
            return False
        return not (base and p.base_ref != base)

    items = [p for p in ordered if keep(p)]
    return _paged(
        ctx,
        items,
        f"/repositories/{repo.id}/pulls",
        lambda p: ctx.render.pull(repo, p, view.milestone_counts, view.open_issues),
    )


def _pull(repo: Repo, n: str) -> PullRequest:
    pull = repo.pulls.get(_number(n))
    if pull is None:
        raise not_found(f"{DOCS}/pulls/pulls#get-a-pull-request")
    return pull


def get_pull(ctx: Ctx, repo: Repo, n: str) -> Reply:
    pull = _pull(repo, n)
    view = ctx.view_of(repo)
    data = ctx.render.pull(repo, pull, view.milestone_counts, view.open_issues, full=True)
    return Reply(data, last_modified=pull.updated_at)


def list_reviews(ctx: Ctx, repo: Repo, n: str) -> Reply:
    """Reviews in chronological order (docs: "The list of reviews returns in chronological
    order")."""
    pull = _pull(repo, n)
    reviews = sorted(pull.reviews, key=lambda r: (r.submitted_at, r.id))
    return _paged(
        ctx,
        reviews,
        f"/repositories/{repo.id}/pulls/{pull.number}/reviews",
        lambda r: ctx.render.review(repo, pull, r),
    )


PR_COMMITS_CAP = 250


def list_pull_commits(ctx: Ctx, repo: Repo, n: str) -> Reply:
    """Oldest first, and at most 250 (docs: "Lists a maximum of 250 commits for a pull
    request"); the rest are only reachable through the commits endpoint."""
    pull = _pull(repo, n)
    commits = [repo.commits[sha] for sha in pull.commit_shas[:PR_COMMITS_CAP]]
    return _paged(
        ctx,
        commits,
        f"/repositories/{repo.id}/pulls/{pull.number}/commits",
        lambda c: ctx.render.commit(repo, c),
    )


# -- commits, branches, milestones --------------------------------------------------------

_COMMITS_DOCS = f"{DOCS}/commits/commits#list-commits"


def _resolve(repo: Repo, ref: str) -> str | None:
    """A branch name, a full sha or a unique sha prefix (at least 7 characters)."""
    branch = repo.branches.get(ref)
    if branch is not None:
        return branch.head
    if ref in repo.commits:
        return ref
    if len(ref) >= 7 and all(ch in "0123456789abcdef" for ch in ref.lower()):
        matches = [sha for sha in repo.commits if sha.startswith(ref.lower())]
        if len(matches) == 1:
            return matches[0]
    return None


def _not_empty(repo: Repo) -> None:
    """A repository without a first commit answers 409 Conflict to its commit endpoints,
    whatever the ref: ``{"message": "Git Repository is empty.", ...}``
    (github/rest-api-description#385, dogsheep/github-to-sqlite#22)."""
    if not repo.commits:
        raise ApiError(409, "Git Repository is empty.", _COMMITS_DOCS)


def list_commits(ctx: Ctx, repo: Repo) -> Reply:
    """``sha`` (branch or commit, default: the default branch), ``since``/``until`` on the
    *committer* date (as ``git log`` filters; see rundel/ghclass#139), ``author`` as a login
    or an email."""
    _not_empty(repo)
    ref = ctx.arg("sha") or repo.default_branch
    head = _resolve(repo, ref)
    if head is None:
        raise not_found(_COMMITS_DOCS)
    since = parse_time(ctx.arg("since"), "since", _COMMITS_DOCS)
    until = parse_time(ctx.arg("until"), "until", _COMMITS_DOCS)
    author = ctx.arg("author")
    commits: Sequence[Commit] = repo.log(head)
    if since is not None or until is not None or author:

        def keep(c: Commit) -> bool:
            if since is not None and c.committer_date < since:
                return False
            if until is not None and c.committer_date > until:
                return False
            if author:
                login = c.author_user.login if c.author_user else None
                return author in (login, c.author_email)
            return True

        commits = [c for c in commits if keep(c)]
    return _paged(
        ctx, commits, f"/repositories/{repo.id}/commits", lambda c: ctx.render.commit(repo, c)
    )


def get_commit(ctx: Ctx, repo: Repo, ref: str) -> Reply:
    _not_empty(repo)
    sha = _resolve(repo, ref)
    if sha is None:
        # Real answer for an unknown ref (e.g. yegor256/rultor#1344).
        raise ApiError(
            422, f"No commit found for SHA: {ref}", f"{DOCS}/commits/commits#get-a-commit"
        )
    commit = repo.commits[sha]
    return Reply(
        ctx.render.commit(repo, commit, full=True),
        last_modified=commit.committer_date,
        strong_etag=True,
    )


def list_branches(ctx: Ctx, repo: Repo) -> Reply:
    """Alphabetical, as GitHub lists them; ``protected=true`` keeps protected ones only."""
    branches = sorted(repo.branches.values(), key=lambda b: b.name)
    if ctx.arg("protected") in ("true", "1"):
        branches = [b for b in branches if b.protected]
    elif ctx.arg("protected") in ("false", "0"):
        branches = [b for b in branches if not b.protected]
    return _paged(
        ctx,
        branches,
        f"/repositories/{repo.id}/branches",
        lambda b: ctx.render.branch(repo, b.name, b.head, b.protected),
    )


def get_branch(ctx: Ctx, repo: Repo, branch: str) -> Reply:
    found = repo.branches.get(branch)
    if found is None:
        raise ApiError(404, "Branch not found", f"{DOCS}/branches/branches#get-a-branch")
    web = f"{ctx.render.urls.repo_web(repo)}/tree/{found.name}"
    api = f"{ctx.render.urls.repo_api(repo)}/branches/{found.name}"
    return Reply(
        {
            "name": found.name,
            "commit": ctx.render.commit(repo, repo.commits[found.head]),
            "_links": {"self": api, "html": web},
            "protected": found.protected,
            "protection": {
                "enabled": found.protected,
                "required_status_checks": {
                    "enforcement_level": "off",
                    "contexts": [],
                    "checks": [],
                },
            },
            "protection_url": f"{api}/protection",
        }
    )


def list_milestones(ctx: Ctx, repo: Repo) -> Reply:
    """``state`` open by default; ``sort`` ``due_on`` (default) or ``completeness``;
    ``direction`` ``asc`` by default. Milestones without a due date sort last."""
    state = _choice(ctx.arg("state"), ("open", "closed", "all"), "open")
    sort = _choice(ctx.arg("sort"), ("due_on", "completeness"), "due_on")
    direction = _choice(ctx.arg("direction"), ("asc", "desc"), "asc")
    view = ctx.view_of(repo)
    milestones = [m for m in repo.milestones.values() if state == "all" or m.state == state]

    def completeness(number: int) -> float:
        open_, closed = view.milestone_counts.get(number, (0, 0))
        return closed / (open_ + closed) if open_ + closed else 0.0

    if sort == "due_on":
        dated = sorted((m for m in milestones if m.due_on is not None),
                       key=lambda m: (m.due_on or 0, m.number), reverse=direction == "desc")  # fmt: skip
        milestones = dated + [m for m in milestones if m.due_on is None]
    else:
        milestones.sort(
            key=lambda m: (completeness(m.number), m.number), reverse=direction == "desc"
        )
    return _paged(
        ctx,
        milestones,
        f"/repositories/{repo.id}/milestones",
        lambda m: ctx.render.milestone(repo, m, view.milestone_counts),
    )


def get_milestone(ctx: Ctx, repo: Repo, n: str) -> Reply:
    milestone = repo.milestones.get(_number(n))
    if milestone is None:
        raise not_found(f"{DOCS}/issues/milestones#get-a-milestone")
    view = ctx.view_of(repo)
    return Reply(
        ctx.render.milestone(repo, milestone, view.milestone_counts),
        last_modified=milestone.updated_at,
    )


def list_labels(ctx: Ctx, repo: Repo) -> Reply:
    labels = list(repo.labels.values())
    return _paged(
        ctx, labels, f"/repositories/{repo.id}/labels", lambda label: ctx.render.label(repo, label)
    )
