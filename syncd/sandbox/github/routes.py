"""The route table: method and path template -> handler, and how the caller must
authenticate (a token, or the App's JWT)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from . import apps, handlers
from .handlers import Reply
from .model import GitHubData

Handler = Callable[..., Reply]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # as the request log shows it, e.g. "/repos/{o}/{r}/pulls/{n}"
    pattern: re.Pattern[str]
    handler: Handler
    repo_scoped: bool  # the handler takes the Repo instead of {o} and {r}
    auth: str = "token"  # "token" | "app" (the App's JWT)
    rate_limited: bool = True


def _route(
    method: str,
    template: str,
    handler: Handler,
    *,
    auth: str = "token",
    rate_limited: bool = True,
    repo_scoped: bool | None = None,
) -> Route:
    regex = re.escape(template)
    for name in re.findall(r"\{(\w+)\}", template):
        # A branch or ref may contain slashes ("feature/x"): it is always the last part.
        part = f"(?P<{name}>.+)" if name in ("branch", "ref") else f"(?P<{name}>[^/]+)"
        regex = regex.replace(re.escape("{" + name + "}"), part)
    if repo_scoped is None:
        repo_scoped = template.startswith("/repos/{o}/{r}")
    return Route(
        method, template, re.compile(f"^{regex}$"), handler, repo_scoped, auth, rate_limited
    )


h = handlers
ROUTES: tuple[Route, ...] = (
    _route("GET", "/rate_limit", h.rate_limit, rate_limited=False),
    _route("GET", "/user", h.authenticated_user),
    _route("GET", "/user/repos", h.user_repos),
    _route("GET", "/installation/repositories", h.installation_repos),
    _route("GET", "/users/{login}", h.get_user),
    _route("GET", "/orgs/{org}", h.get_org),
    _route("GET", "/orgs/{org}/repos", h.org_repos),
    _route("GET", "/repos/{o}/{r}", h.get_repo),
    _route("GET", "/repos/{o}/{r}/issues", h.list_issues),
    _route("GET", "/repos/{o}/{r}/issues/{n}", h.get_issue),
    _route("GET", "/repos/{o}/{r}/pulls", h.list_pulls),
    _route("GET", "/repos/{o}/{r}/pulls/{n}", h.get_pull),
    _route("GET", "/repos/{o}/{r}/pulls/{n}/reviews", h.list_reviews),
    _route("GET", "/repos/{o}/{r}/pulls/{n}/commits", h.list_pull_commits),
    _route("GET", "/repos/{o}/{r}/commits", h.list_commits),
    _route("GET", "/repos/{o}/{r}/commits/{ref}", h.get_commit),
    _route("GET", "/repos/{o}/{r}/branches", h.list_branches),
    _route("GET", "/repos/{o}/{r}/branches/{branch}", h.get_branch),
    _route("GET", "/repos/{o}/{r}/milestones", h.list_milestones),
    _route("GET", "/repos/{o}/{r}/milestones/{n}", h.get_milestone),
    _route("GET", "/repos/{o}/{r}/labels", h.list_labels),
    # GitHub App endpoints, authenticated with the App's JWT.
    _route("GET", "/app", apps.get_app, auth="app"),
    _route("GET", "/app/installations", apps.list_installations, auth="app"),
    _route("GET", "/app/installations/{installation_id}", apps.get_installation, auth="app"),
    _route(
        "POST",
        "/app/installations/{installation_id}/access_tokens",
        apps.create_access_token,
        auth="app",
    ),
    _route(
        "GET", "/repos/{o}/{r}/installation", apps.repo_installation, auth="app", repo_scoped=False
    ),
    _route("GET", "/orgs/{org}/installation", apps.org_installation, auth="app"),
)

_BY_ID = re.compile(r"^/(repositories|organizations)/(\d+)(/.*)?$")


def canonical_path(data: GitHubData, path: str) -> str:
    """``/repositories/{id}/...`` and ``/organizations/{id}/...`` (the forms GitHub writes
    in Link headers) as the ``/repos/{o}/{r}/...`` and ``/orgs/{org}/...`` they stand for."""
    match = _BY_ID.match(path)
    if not match:
        return path
    kind, ident, rest = match.group(1), int(match.group(2)), match.group(3) or ""
    if kind == "repositories":
        repo = data.repo_by_id(ident)
        return f"/repos/{repo.full_name}{rest}" if repo else path
    org = next((u for u in data.users.values() if u.type == "Organization" and u.id == ident), None)
    return f"/orgs/{org.login}{rest}" if org else path


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for ``path`` (API prefix removed), and its decoded parameters."""
    method = "GET" if method == "HEAD" else method
    for route in ROUTES:
        found = route.pattern.match(path)
        if found and route.method == method:
            return route, {k: unquote(v) for k, v in found.groupdict().items()}
    return None
