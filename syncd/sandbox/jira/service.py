"""``JiraService``: the simulated Jira Cloud (or Data Center) behind a ``SandboxServer``.

Usage::

    service = JiraService(SIZES["small"], seed=1)               # Cloud
    dc = JiraService(SIZES["small"], seed=1, deployment="datacenter")
    with SandboxServer(service) as server:
        JIRA(server.url, basic_auth=(service.email, service.api_token))

The current truth is ``service.data`` (a :class:`~syncd.sandbox.jira.data.JiraData`): live
issues with their complete changelogs, deleted issue ids, old keys of moved issues,
projects, versions, boards, sprints and users. Tests compare a synced store with it.

Deployments differ the way the real ones do: Cloud serves API v2 and v3, ``search/jql``,
the paged issue changelog and ``changelog/bulkfetch``, answers the legacy ``search`` with
410, and takes Basic email:API-token; Data Center serves v2 only, the legacy ``search``
(``startAt``/``total``), no ``search/jql`` and no changelog endpoints, and takes a Bearer
personal access token. ``serverInfo`` reports ``deploymentType`` "Cloud" or "Server".
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from syncd.sandbox.http import Request, Response
from syncd.sandbox.jira import handlers as h
from syncd.sandbox.jira.auth import Credentials, check, unauthorized
from syncd.sandbox.jira.data import JiraData
from syncd.sandbox.jira.evolve import Evolver
from syncd.sandbox.jira.generate import API_USER_EMAIL, generate
from syncd.sandbox.jira.ratelimit import RateLimiter
from syncd.sandbox.jira.render import Renderer
from syncd.sandbox.sizes import SIZES, SandboxSize

Deployment = Literal["cloud", "datacenter"]
Handler = Callable[[h.Context, re.Match[str]], Response]

API = r"/rest/api/(?P<v>2|3|latest)"
AGILE = r"/rest/agile/1\.0"


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    handler: Handler
    endpoint: str  # template for the request log
    cloud: bool = True  # served on Cloud
    datacenter: bool = True  # served on Data Center
    anonymous: bool = False  # answered without credentials (wrong ones are still refused)


def _route(
    methods: str,
    path: str,
    handler: Handler,
    endpoint: str,
    *,
    cloud: bool = True,
    datacenter: bool = True,
    anonymous: bool = False,
) -> Route:
    return Route(
        tuple(methods.split(",")),
        re.compile(path + "/?$"),
        handler,
        endpoint,
        cloud,
        datacenter,
        anonymous,
    )


ROUTES: tuple[Route, ...] = (
    _route("GET", API + "/serverInfo", h.server_info, "/rest/api/{v}/serverInfo", anonymous=True),
    _route("GET", API + "/myself", h.myself, "/rest/api/{v}/myself"),
    _route("GET", API + "/user", h.user, "/rest/api/{v}/user"),
    _route("GET", API + "/field", h.fields, "/rest/api/{v}/field"),
    _route("GET", API + "/status", h.statuses, "/rest/api/{v}/status"),
    _route("GET", API + "/statuscategory", h.status_categories, "/rest/api/{v}/statuscategory"),
    _route("GET", API + "/priority", h.priorities, "/rest/api/{v}/priority"),
    _route("GET", API + "/issuetype", h.issue_types, "/rest/api/{v}/issuetype"),
    _route("GET", API + "/resolution", h.resolutions, "/rest/api/{v}/resolution"),
    _route("GET", API + "/issueLinkType", h.link_types, "/rest/api/{v}/issueLinkType"),
    _route("GET", API + "/project", h.projects, "/rest/api/{v}/project"),
    _route(
        "GET",
        API + "/project/search",
        h.project_search,
        "/rest/api/{v}/project/search",
        datacenter=False,
    ),
    _route("GET", API + r"/project/(?P<p>[^/]+)", h.project, "/rest/api/{v}/project/{key}"),
    _route(
        "GET",
        API + r"/project/(?P<p>[^/]+)/versions",
        h.project_versions,
        "/rest/api/{v}/project/{key}/versions",
    ),
    _route(
        "GET",
        API + r"/project/(?P<p>[^/]+)/version",
        h.project_versions_paged,
        "/rest/api/{v}/project/{key}/version",
    ),
    _route(
        "GET,POST", API + "/search/jql", h.search_jql, "/rest/api/{v}/search/jql", datacenter=False
    ),
    _route(
        "POST",
        API + "/search/approximate-count",
        h.approximate_count,
        "/rest/api/{v}/search/approximate-count",
        datacenter=False,
    ),
    _route("GET,POST", API + "/search", h.search_removed, "/rest/api/{v}/search", datacenter=False),
    _route("GET,POST", API + "/search", h.search_legacy, "/rest/api/{v}/search", cloud=False),
    _route("GET", API + r"/issue/(?P<k>[^/]+)", h.issue, "/rest/api/{v}/issue/{key}"),
    _route(
        "GET",
        API + r"/issue/(?P<k>[^/]+)/changelog",
        h.issue_changelog,
        "/rest/api/{v}/issue/{key}/changelog",
        datacenter=False,
    ),
    _route(
        "POST",
        API + "/changelog/bulkfetch",
        h.changelog_bulkfetch,
        "/rest/api/{v}/changelog/bulkfetch",
        datacenter=False,
    ),
    _route("GET", AGILE + "/board", h.boards, "/rest/agile/1.0/board"),
    _route("GET", AGILE + r"/board/(?P<b>\d+)", h.board, "/rest/agile/1.0/board/{id}"),
    _route(
        "GET",
        AGILE + r"/board/(?P<b>\d+)/sprint",
        h.board_sprints,
        "/rest/agile/1.0/board/{id}/sprint",
    ),
    _route("GET", AGILE + r"/sprint/(?P<s>\d+)", h.sprint, "/rest/agile/1.0/sprint/{id}"),
)


def credentials_for(seed: int) -> Credentials:
    """Deterministic credentials, shaped like the real ones (an Atlassian API token starts
    with ``ATATT``; a Data Center PAT is 44 base64 characters)."""
    digest = hashlib.sha256(f"syncd-sandbox-jira:{seed}".encode()).hexdigest()
    return Credentials(
        email=API_USER_EMAIL,
        api_token=f"ATATT3xFfGF0{digest[:52].upper()}",
        personal_access_token=f"MDk{digest[10:51]}",
    )


class JiraService:
    """A simulated Jira site. See the module docstring."""

    name = "jira"

    def __init__(
        self,
        size: SandboxSize | str = "small",
        seed: int = 1,
        deployment: Deployment = "cloud",
        anchor_ms: int | None = None,
        clock: Callable[[], float] = time.time,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        if deployment not in ("cloud", "datacenter"):
            raise ValueError(f"unknown Jira deployment {deployment!r} (cloud or datacenter)")
        self.size = SIZES[size] if isinstance(size, str) else size
        self.seed = seed
        self.deployment: Deployment = deployment
        self.cloud = deployment == "cloud"
        self.clock = clock
        self.data: JiraData = generate(self.size, seed, anchor_ms)
        self.credentials = credentials_for(seed)
        self.rate_limiter = rate_limiter or RateLimiter()
        self.evolver = Evolver(self.data, seed, clock)
        self._search_cache: OrderedDict[tuple[str, int, int], list[int]] = OrderedDict()
        self._request_ids = itertools.count(1)

    # -- credentials -----------------------------------------------------------------------

    @property
    def email(self) -> str:
        return self.credentials.email

    @property
    def api_token(self) -> str:
        return self.credentials.api_token

    @property
    def personal_access_token(self) -> str:
        return self.credentials.personal_access_token

    # -- Service protocol ------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        route, match, endpoint = self._match(request)
        if route is None or match is None:
            return self._not_found(request, endpoint)
        version = match.groupdict().get("v") or "2"
        endpoint = f"{request.method} {route.endpoint.replace('{v}', version)}"
        auth = check(request, self.cloud, self.credentials)
        if auth == "wrong" or (auth == "missing" and not route.anonymous):
            response = unauthorized(self.cloud, auth, request.base_url)
            response.endpoint = endpoint
            return response
        now = self.clock()
        limit_headers: dict[str, str] = {}
        if request.faults.rate_limit:
            client = request.headers.get("Authorization", "anonymous")
            allowed, left, wait = self.rate_limiter.take(client, now)
            limit_headers = self.rate_limiter.headers(self.cloud, allowed, left, wait, now)
            if not allowed:
                # The body of a 429 is not documented; the status and headers are the contract.
                response = h.error(429, "Rate limit exceeded.")
                response.headers.update(limit_headers)
                response.endpoint = endpoint
                return response
        ctx = h.Context(
            request=request,
            data=self.data,
            render=Renderer(self.data, self.cloud, request.base_url, version),
            cloud=self.cloud,
            now_ms=int(now * 1000),
            search_cache=self._search_cache,
        )
        try:
            response = route.handler(ctx, match)
        except h.HandlerError as exc:
            response = exc.response
        response.endpoint = endpoint
        response.headers.update(limit_headers)
        response.headers.setdefault("X-AREQUESTID", f"{next(self._request_ids)}x{self.seed}x1")
        if not self.cloud:
            response.headers.setdefault("X-AUSERNAME", self.data.users[self.data.api_user].name)
            response.headers.setdefault("X-Seraph-LoginReason", "OK")
        return response

    def evolve(self, changes: int) -> dict[str, int]:
        return self.evolver.apply(changes)

    def counts(self) -> dict[str, int]:
        d = self.data
        return {
            "projects": len(d.projects),
            "issues": len(d.issues),
            "deleted_issues": len(d.deleted),
            "changelog_entries": d.history_count(),
            "issue_links": len(d.links),
            "versions": len(d.versions),
            "boards": len(d.boards),
            "sprints": len(d.sprints),
            "users": len(d.users),
        }

    # -- routing ---------------------------------------------------------------------------

    def _match(self, request: Request) -> tuple[Route | None, re.Match[str] | None, str]:
        wrong_method = ""
        for route in ROUTES:
            if not (route.cloud if self.cloud else route.datacenter):
                continue
            match = route.pattern.match(request.path)
            if match is None:
                continue
            if not self.cloud and match.groupdict().get("v") == "3":
                continue  # Data Center has no REST API v3
            if request.method not in route.methods:
                wrong_method = route.endpoint
                continue
            return route, match, route.endpoint
        return None, None, wrong_method

    def _not_found(self, request: Request, wrong_method_of: str) -> Response:
        if wrong_method_of:
            return Response(
                status=405,
                headers={"Allow": "GET"},
                endpoint=f"{request.method} {wrong_method_of}",
            )
        if request.path.startswith("/rest/"):
            # Jersey's answer for a resource that does not exist (both deployments).
            return Response.json(
                {"message": f"null for uri: {request.base_url}{request.path}", "status-code": 404},
                status=404,
                endpoint="(unknown)",
            )
        return Response(
            status=404,
            body=b"<html><body><h1>Oops, you've found a dead link.</h1></body></html>",
            headers={"Content-Type": "text/html;charset=UTF-8"},
            endpoint="(unknown)",
        )
