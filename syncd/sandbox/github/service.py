"""The simulated GitHub REST API, as a :class:`syncd.sandbox.http.Service`.

Serves the endpoints syncd reads under ``/api/v3`` (GitHub Enterprise Server's layout, the
form ``PyGithub(base_url=".../api/v3")`` uses). This module owns what every endpoint shares:
authentication, rate limits, conditional requests and the response headers; ``handlers``
does the endpoints, ``render`` the JSON, ``generate`` and ``evolve`` the data.

Reading the truth (for tests that compare a synced store with what the service holds)::

    service = GitHubService(SIZES["small"], seed=1)
    service.data.repos["acme/api"].pulls[12]          # model.PullRequest
    service.data.repos["acme/api"].issues              # GitHub issues, pull requests excluded
    service.data.repos["acme/api"].branch_log()        # default-branch commits, newest first
    service.data.users["alicej"].work_email            # the person behind a login
    pull.keys  # {"title": ("PROJ-12",), "branch": (...), "body": (...)}: existing Jira keys

Credentials: ``Authorization: token <t>``, ``Bearer <t>`` or HTTP Basic with the token as
the password; the sandbox token is :attr:`GitHubService.TOKEN` unless another is given.
A missing header answers 401 "Requires authentication", a wrong one 401 "Bad credentials"
(the real service answers 404 for a private repository to an anonymous caller; the sandbox
treats every path as private to the token, which is what syncd's ``doctor`` needs to tell).

GitHub App auth: :meth:`GitHubService.app_credentials` gives the App id, installation id and
private key (PEM); the App's JWT buys installation tokens (``ghs_...``, one hour) at
``POST /app/installations/{id}/access_tokens``. Installation tokens have their own rate-limit
budget and cannot read ``/user``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from syncd.sandbox.http import Request, Response
from syncd.sandbox.sizes import SandboxSize

from . import handlers
from .app_auth import APP_ID, AppAuthority, AppCredentials
from .errors import ApiError, not_found
from .evolve import Evolver
from .generate import Generator, stable_id
from .handlers import Ctx, Reply, RepoView
from .limits import DOCS_PRIMARY, DOCS_SECONDARY, RateLimiter, RateLimitPolicy
from .model import GitHubData, Repo, User
from .paging import link_header
from .render import API_PREFIX, Renderer, Urls
from .routes import Route, canonical_path, match

_BASE_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "private, max-age=60, s-maxage=60",
    "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding, X-Requested-With",
    "X-GitHub-Media-Type": "github.v3; format=json",
    "X-GitHub-Api-Version-Selected": "2022-11-28",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class Principal:
    """Who a request acts as; ``key`` names its rate-limit bucket."""

    key: str
    user: User
    installation_id: int | None = None


class GitHubService:
    name = "github"
    TOKEN = "sandbox-github-token"

    def __init__(
        self,
        size: SandboxSize,
        seed: int = 0,
        *,
        token: str = TOKEN,
        now: int | None = None,
        limits: RateLimitPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.size = size
        self.seed = seed
        self.token = token
        self.clock = clock
        self._generator = Generator(size, seed, now)
        self.data: GitHubData = self._generator.data
        self.limiter = RateLimiter(limits or RateLimitPolicy(), clock)
        self._evolver = Evolver(self.data, size, seed, clock)
        self.app = AppAuthority(clock, seed)
        # What installation tokens and the App's JWT act as.
        self._app_user = User(login="syncd-sandbox[bot]", id=stable_id("app-bot"), type="Bot")
        self._views: dict[int, RepoView] = {}
        self._requests = 0
        self._members = {u.login for u in self.data.users.values() if u.work_email}

    def add_repo(self, full_name: str, *, has_issues: bool = True, empty: bool = False) -> Repo:
        """A repository besides the size's own (which stay as they are): generated like them,
        or with Issues disabled (``has_issues=False``: ``/issues`` answers 410), or
        ``empty`` (no commit yet: ``/commits`` answers 409). See ``Generator.add_repo``."""
        return self._generator.add_repo(full_name, has_issues=has_issues, empty=empty)

    def app_credentials(self) -> AppCredentials:
        """The sandbox GitHub App's ids and private key (PEM), for App auth."""
        return self.app.credentials()

    # -- Service protocol -----------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return self.data.counts()

    def evolve(self, changes: int) -> dict[str, int]:
        return self._evolver.apply(changes)

    def handle(self, request: Request) -> Response:
        self._requests += 1
        request_id = f"{0xC0DE:04X}:{self.seed & 0xFFFF:04X}:{self._requests:08X}"
        try:
            return self._handle(request, request_id)
        except ApiError as error:  # before a principal is known: auth and unknown prefixes
            return self._error(error, request_id, self.limiter.unauthenticated_headers())

    # -- the pipeline ---------------------------------------------------------------------

    def _handle(self, request: Request, request_id: str) -> Response:
        if not request.path.startswith(API_PREFIX + "/") and request.path != API_PREFIX:
            raise not_found()
        api_path = request.path[len(API_PREFIX) :].rstrip("/") or "/"
        found = match(request.method, canonical_path(self.data, api_path))
        route = found[0] if found else None
        endpoint = f"{request.method} {route.template}" if route else ""
        try:
            principal = self._authenticate(request.headers.get("Authorization"), route)
        except ApiError as error:
            response = self._error(error, request_id, self.limiter.unauthenticated_headers())
            response.endpoint = endpoint
            return response
        enforced = request.faults.rate_limit
        key = principal.key

        refusal = self.limiter.check(key, enforced)
        if refusal is not None and not (
            refusal.kind == "primary" and route is not None and not route.rate_limited
        ):
            response = self._refuse(refusal, principal, request_id, enforced)
            response.endpoint = endpoint
            return response

        try:
            if found is None:
                raise not_found()
            route, params = found
            ctx = Ctx(
                data=self.data,
                query=request.query,
                render=Renderer(Urls(request.base_url), self._members),
                viewer=principal.user,
                view_of=self._view,
                rate_status=lambda: self.limiter.status(key, enforced),
                app=self.app,
                installation_id=principal.installation_id,
            )
            if route.repo_scoped:
                repo = handlers.find_repo(self.data, params.pop("o"), params.pop("r"))
                reply = route.handler(ctx, repo, **params)
            else:
                reply = route.handler(ctx, **params)
        except ApiError as error:
            self.limiter.charge(key, enforced, 1)
            response = self._error(error, request_id, self.limiter.headers(key, enforced))
            response.endpoint = endpoint
            return response

        cost = 1 if route.rate_limited else 0
        response = self._reply(request, reply, request_id)
        if response.status == 304:
            # "Making a conditional request does not count against your primary rate limit
            # if a 304 response is returned" (docs: best practices for the REST API).
            cost = 0
        self.limiter.charge(key, enforced, cost)
        response.headers.update(self.limiter.headers(key, enforced))
        response.endpoint = endpoint
        response.rate_limit_cost = cost
        return response

    def _authenticate(self, header: str | None, route: Route | None) -> Principal:
        if not header:
            raise ApiError(401, "Requires authentication")
        scheme, _, credential = header.strip().partition(" ")
        scheme = scheme.lower()
        credential = credential.strip()
        if route is not None and route.auth == "app":
            # App endpoints take the App's JWT, and nothing else.
            if scheme != "bearer":
                raise ApiError(401, "A JSON web token could not be decoded")
            self.app.verify(credential)
            return Principal(key=f"app:{APP_ID}", user=self._app_user)
        if scheme == "basic":
            try:
                decoded = base64.b64decode(credential).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                decoded = ""
            credential = decoded.partition(":")[2]
        elif scheme not in ("token", "bearer"):
            raise ApiError(401, "Bad credentials")
        if credential and credential == self.token:
            viewer = self.data.viewer
            return Principal(key=f"user:{viewer.id}", user=viewer)
        installation = self.app.installation_of(credential)
        if installation is not None:
            return Principal(
                key=f"installation:{installation}",
                user=self._app_user,
                installation_id=installation,
            )
        raise ApiError(401, "Bad credentials")

    def _view(self, repo: Repo) -> RepoView:
        view = self._views.get(repo.id)
        if view is None or view.version != repo.version:
            view = handlers.build_view(repo)
            self._views[repo.id] = view
        return view

    # -- responses ------------------------------------------------------------------------

    def _reply(self, request: Request, reply: Reply, request_id: str) -> Response:
        body = json.dumps(reply.data, ensure_ascii=False, separators=(",", ":")).encode()
        digest = hashlib.md5(body, usedforsecurity=False).hexdigest()
        # GitHub sends weak ETags on JSON today (W/"..."); a single commit never changes,
        # so it gets a strong one. Clients see both forms; we compare weakly (RFC 9110
        # section 13.1.2: If-None-Match uses the weak comparison).
        etag = f'"{digest}"' if reply.strong_etag else f'W/"{digest}"'
        headers = dict(_BASE_HEADERS)
        headers["ETag"] = etag
        headers["X-GitHub-Request-Id"] = request_id
        headers["X-OAuth-Scopes"] = "repo, read:org, read:user"
        headers["X-Accepted-OAuth-Scopes"] = "repo"
        if reply.last_modified is not None:
            headers["Last-Modified"] = _http_date(reply.last_modified)
        if reply.page is not None and reply.total is not None and reply.link_path:
            base = f"{request.base_url}{API_PREFIX}{reply.link_path}"
            link = link_header(base, request.query, reply.page, reply.total)
            if link:
                headers["Link"] = link
        headers.update(reply.headers)

        if _not_modified(request, digest, reply.last_modified):
            kept = ("ETag", "Last-Modified", "Cache-Control", "Vary", "X-GitHub-Request-Id",
                    "X-GitHub-Media-Type")  # fmt: skip
            return Response(status=304, headers={k: headers[k] for k in kept if k in headers})
        return Response(status=reply.status, body=body, headers=headers)

    def _error(self, error: ApiError, request_id: str, rate_headers: dict[str, str]) -> Response:
        headers = dict(_BASE_HEADERS)
        headers["X-GitHub-Request-Id"] = request_id
        headers.update(rate_headers)
        body = json.dumps(error.body(), separators=(",", ":")).encode()
        return Response(status=error.status, body=body, headers=headers)

    def _refuse(
        self, refusal: Any, principal: Principal, request_id: str, enforced: bool
    ) -> Response:
        headers = dict(_BASE_HEADERS)
        headers["X-GitHub-Request-Id"] = request_id
        headers.update(self.limiter.headers(principal.key, enforced))
        if refusal.kind == "primary":
            who = (
                f"installation ID {principal.installation_id}"
                if principal.installation_id is not None
                else f"user ID {principal.user.id}"
            )
            body = {
                "message": f"API rate limit exceeded for {who}. If you reach out to GitHub "
                f"Support for help, please include the request ID {request_id}.",
                "documentation_url": DOCS_PRIMARY,
            }
            headers["X-RateLimit-Remaining"] = "0"
        else:
            body = {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                "before you try again. If you reach out to GitHub Support for help, please "
                f"include the request ID {request_id}.",
                "documentation_url": DOCS_SECONDARY,
            }
            headers["Retry-After"] = str(refusal.retry_after)
        return Response(
            status=refusal.status,
            body=json.dumps(body, separators=(",", ":")).encode(),
            headers=headers,
            endpoint="",
            rate_limit_cost=0,
            wait_until=refusal.wait_until,
        )


def _http_date(ts: int) -> str:
    return format_datetime(datetime.fromtimestamp(ts, UTC), usegmt=True)


def _not_modified(request: Request, digest: str, last_modified: int | None) -> bool:
    """``If-None-Match`` (weak comparison, lists of tags, ``*``) wins over
    ``If-Modified-Since``, as RFC 9110 section 13.2.2 orders them."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        return any(t == "*" or t.removeprefix("W/").strip('"') == digest for t in tags)
    since = request.headers.get("If-Modified-Since")
    if since and last_modified is not None:
        try:
            return last_modified <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False
