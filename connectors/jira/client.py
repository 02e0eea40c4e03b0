"""HTTP access to one Jira site: the ``jira`` library's authenticated session, raw calls.

The ``jira`` library sets up authentication (Basic email + API token on Cloud, Bearer
personal access token on Data Center) and the session; its own retry loop is switched off
(``max_retries=0``) and it is never asked to fetch server info on its own. Every request goes
through ``HttpPolicy.call`` — the one retry policy — with the body parsed inside the attempt,
so a truncated page is retried like a dropped connection.

The library has no calls for what a sync needs most (``search/jql`` token paging, changelog
paging, bulk changelogs), so those are raw requests on its session.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
import urllib3
from jira import JIRA
from requests.adapters import HTTPAdapter

from connectors.http import HttpPolicy, RequestBudget, retry_after_seconds, safe_url
from connectors.jira.config import JiraSourceConfig
from connectors.jira.mapping import FieldIds, discover_fields
from syncd.errors import ConfigError, FatalError, NotFound, StopRequested, TransientError

log = logging.getLogger("syncd.connectors.jira")

Deployment = Literal["cloud", "datacenter"]

CLOUD_PAGE_MAX = 100  # search/jql: at most 100 issues a page when fields are asked for
DATACENTER_PAGE_MAX = 1000  # search: jira.search.views.default.max, 1000 unless changed
BULK_CHANGELOG_ISSUES = 1000  # Cloud's limit of issues per bulkfetch request
BULK_CHANGELOG_PAGE = 1000
AGILE_PAGE = 50  # the agile API's maximum page size
MAX_RESTARTS = 5  # offset paging restarted this often in one run: give up until next run
MYSELF_TTL_S = 60.0


@dataclass(frozen=True)
class SearchPage:
    issues: list[dict[str, Any]]
    last: bool  # no page follows in this query


@dataclass(frozen=True)
class ServerInfo:
    deployment: Deployment
    version: str
    title: str | None = None


def _deployment(info: dict[str, Any]) -> Deployment:
    # serverInfo.deploymentType is "Cloud", "Server" or "DataCenter".
    return "cloud" if str(info.get("deploymentType", "")).lower() == "cloud" else "datacenter"


class _Flight:
    """One request in flight at a time while the site's rate limit may be close.

    Scopes of a source send concurrently. When Jira answers one of them 429, another's
    request may already be on its way: sent after Jira told us to wait. So while the site
    signals little room (Cloud: ``X-RateLimit-NearLimit``; Data Center: ``X-RateLimit-
    Remaining`` under a fifth of ``X-RateLimit-Limit``; either: a 429) — and at the start,
    before any answer has shown the room there is — a request waits until no other one is
    in flight, then until the budget's ``Retry-After`` window has passed, and only then goes.
    A 429 closes the window before its request leaves the flight, so the next one sees it.
    """

    def __init__(self, budget: RequestBudget, clock: Callable[[], float] = time.time) -> None:
        self.budget = budget
        self.clock = clock
        self._cond = threading.Condition()
        self._inflight = 0
        self._cautious = True

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            if self._cautious:
                while self._inflight > 0:
                    self._cond.wait(1.0)
                    if self.budget.stop.is_set():
                        raise StopRequested(f"source {self.budget.source_name}: stop requested")
            self._inflight += 1
        try:
            while True:  # alone in flight now (when cautious): sit out any Retry-After
                delay = self.budget.blocked_until() - self.clock()
                if delay <= 0 or not self._cautious:
                    break
                if self.budget.stop.wait(min(delay, 5.0)):
                    raise StopRequested(f"source {self.budget.source_name}: stop requested")
            yield
        finally:
            with self._cond:
                self._inflight -= 1
                self._cond.notify_all()

    def observe(self, response: requests.Response) -> None:
        """Called inside the slot, before the next request may go."""
        headers = response.headers
        limited = response.status_code == 429
        near = limited or headers.get("X-RateLimit-NearLimit") == "true"
        remaining, limit = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Limit")
        if not near and remaining and limit:
            try:
                near = float(remaining) < 0.2 * float(limit)
            except ValueError:
                near = False
        if limited:
            wait = retry_after_seconds(headers, self.clock)
            self.budget.block_for(wait if wait is not None else 60.0, "429 Too Many Requests")
        if near:
            self._cautious = True
        elif response.status_code < 400:
            self._cautious = False


class JiraClient:
    """Calls one Jira site. Thread-safe: scopes of one source share it."""

    def __init__(
        self,
        config: JiraSourceConfig,
        budget: RequestBudget,
        *,
        policy: HttpPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if config.token is None:
            raise ConfigError(
                f"source {config.name!r}: no Jira token configured (set token or token_env)"
            )
        self.config = config
        self.source = config.name
        self.base_url = config.url
        self.policy = policy or HttpPolicy(budget)
        self._clock = clock
        secret = config.token.get_secret_value()
        common: dict[str, Any] = {
            "server": config.url,
            "options": {"check_update": False},
            "max_retries": 0,  # HttpPolicy is the only retry loop
            "get_server_info": False,
            "timeout": config.timeout_s,
        }
        if config.email:
            self._jira = JIRA(basic_auth=(config.email, secret), **common)
        else:
            self._jira = JIRA(token_auth=secret, **common)
        self.session: requests.Session = self._jira._session
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(10, config.concurrency * 2))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._lock = threading.RLock()
        self._flight = _Flight(self.policy.budget)
        self._server_info: ServerInfo | None = None
        self._deployment_hint: Deployment | None = None
        self._myself: dict[str, Any] | None = None
        self._myself_at = 0.0
        self._field_ids: FieldIds | None = None
        self._field_ids_at: datetime | None = None
        self._field_ids_fetched = False
        self._bulk_changelog = True

    # -- plumbing ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """One logical request through the retry policy; returns the parsed JSON body."""
        url = self.base_url + path
        data = json.dumps(body) if body is not None else None

        def send() -> requests.Response:
            with self._flight.slot():
                # requests.Session.request on the library's session (its auth, headers, TLS
                # settings), not ResilientSession.request: that one is a retry loop (off
                # anyway) that turns error answers into JIRAError — whose text carries the
                # request headers, Authorization included — after reading their bodies.
                response = requests.Session.request(
                    self.session,
                    method,
                    url,
                    params=params,
                    data=data,
                    timeout=self.config.timeout_s,
                    stream=True,
                )
                try:
                    _read_body(response)
                except requests.RequestException:
                    if response.status_code < 400:
                        response.close()
                        raise  # a cut-off page: HttpPolicy retries it
                    # A cut-off error answer still says what it is: a 429's status and
                    # Retry-After matter, its body does not.
                    response._content = b""
                self._flight.observe(response)
            if response.status_code == 410 and path == "/rest/api/2/search":
                raise ConfigError(
                    f"source {self.source!r}: {safe_url(url)} answered 410 Gone: Jira Cloud "
                    'removed that search; this site is Cloud: set deployment = "cloud" '
                    '(or "auto") and authenticate with email + API token'
                )
            return response

        response = self.policy.call(send, json_body=True)
        return response.syncd_json  # type: ignore[attr-defined]

    def close(self) -> None:
        self._jira.close()

    # -- site facts ----------------------------------------------------------------------

    def server_info(self) -> ServerInfo:
        with self._lock:
            if self._server_info is None:
                info = self.request("GET", "/rest/api/2/serverInfo")
                if not isinstance(info, dict):
                    raise FatalError(f"{self.source}: serverInfo is not an object")
                self._server_info = ServerInfo(
                    deployment=_deployment(info),
                    version=str(info.get("version", "?")),
                    title=info.get("serverTitle"),
                )
            return self._server_info

    def hint_deployment(self, deployment: str | None) -> None:
        """A deployment detected in an earlier run (from a cursor): saves a request."""
        if deployment in ("cloud", "datacenter"):
            self._deployment_hint = deployment  # type: ignore[assignment]

    def deployment(self) -> Deployment:
        """Cloud or Data Center: configured, else known from an earlier run, else told by
        the user resource (which a sync reads anyway for its time zone): only Cloud users
        have an ``accountId``."""
        if self.config.deployment != "auto":
            return self.config.deployment
        if self._server_info is not None:
            return self._server_info.deployment
        if self._deployment_hint is None:
            self._deployment_hint = "cloud" if "accountId" in self.myself() else "datacenter"
        return self._deployment_hint

    def page_size(self) -> int:
        """Issues per search page: configured, else the deployment's maximum."""
        if self.config.page_size:
            return self.config.page_size
        return CLOUD_PAGE_MAX if self.deployment() == "cloud" else DATACENTER_PAGE_MAX

    @property
    def api(self) -> str:
        """REST API version: 3 on Cloud (where v2 search is gone too), 2 on Data Center."""
        return "3" if self.deployment() == "cloud" else "2"

    def myself(self, *, fresh: bool = False) -> dict[str, Any]:
        """The authenticated user; re-read after a minute, since its time zone can change
        and every JQL window depends on it."""
        with self._lock:
            now = self._clock()
            if fresh or self._myself is None or now - self._myself_at > MYSELF_TTL_S:
                # REST v2: the one version both deployments serve.
                me = self.request("GET", "/rest/api/2/myself")
                if not isinstance(me, dict):
                    raise FatalError(f"{self.source}: /myself is not an object")
                self._myself, self._myself_at = me, now
            return self._myself

    def time_zone(self) -> ZoneInfo:
        """The zone JQL dates are read in: the configured one, else the user's profile."""
        name = self.config.time_zone or self.myself().get("timeZone")
        if not name:
            raise ConfigError(
                f"source {self.source!r}: the Jira account has no time zone; set time_zone "
                "in the source configuration"
            )
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"source {self.source!r}: Jira reports time zone {name!r}, which is not an "
                "IANA zone; set time_zone in the source configuration"
            ) from None

    def hint_field_ids(self, ids: FieldIds, read_at: datetime) -> None:
        """Field ids read in an earlier run (from a cursor): saves a request."""
        with self._lock:
            if self._field_ids_at is None or read_at > self._field_ids_at:
                self._field_ids, self._field_ids_at = ids, read_at

    def field_ids(
        self, *, read_since: datetime | None = None, fetched: bool = False
    ) -> tuple[FieldIds, datetime]:
        """Story points / sprint / epic link field ids (configured, else discovered) and when
        they were read; re-read when that was before ``read_since``, or, with ``fetched``,
        when they only came from a hint."""
        c = self.config
        with self._lock:
            stale = read_since is not None and (
                self._field_ids_at is None or self._field_ids_at < read_since
            )
            if fetched and not self._field_ids_fetched:
                stale = True
            if self._field_ids is None or stale:
                if c.story_points_field and c.sprint_field and c.epic_link_field:
                    listing: list[Any] = []
                else:
                    listing = self.request("GET", "/rest/api/2/field")
                    if not isinstance(listing, list):
                        raise FatalError(f"{self.source}: /rest/api/2/field is not a list")
                self._field_ids = discover_fields(
                    listing,
                    story_points=c.story_points_field,
                    sprint=c.sprint_field,
                    epic_link=c.epic_link_field,
                )
                self._field_ids_at = datetime.now(UTC)
                self._field_ids_fetched = True
            assert self._field_ids_at is not None
            return self._field_ids, self._field_ids_at

    # -- projects, versions, agile -------------------------------------------------------

    def project(self, key: str) -> dict[str, Any]:
        try:
            data = self.request("GET", f"/rest/api/2/project/{quote(key)}")
        except NotFound:
            raise ConfigError(
                f"source {self.source!r}: project {key} does not exist or this account cannot "
                "browse it"
            ) from None
        if not isinstance(data, dict):
            raise FatalError(f"{self.source}: project {key} is not an object")
        return data

    def versions(self, key: str) -> list[dict[str, Any]]:
        data = self.request("GET", f"/rest/api/2/project/{quote(key)}/versions")
        if not isinstance(data, list):
            raise FatalError(f"{self.source}: versions of {key} are not a list")
        return data

    def _agile_pages(self, path: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        start = 0
        while True:
            data = self.request(
                "GET", path, params={**params, "startAt": start, "maxResults": AGILE_PAGE}
            )
            values = data.get("values") if isinstance(data, dict) else None
            if not isinstance(values, list):
                raise FatalError(f"{self.source}: {path} returned no values list")
            yield values
            start += len(values)
            total = data.get("total")
            if (
                not values
                or data.get("isLast") is True
                or (isinstance(total, int) and start >= total)
            ):
                return

    def boards(self, project_key: str) -> Iterator[dict[str, Any]]:
        for page in self._agile_pages("/rest/agile/1.0/board", {"projectKeyOrId": project_key}):
            yield from page

    def sprints(self, board_id: str) -> Iterator[dict[str, Any]]:
        for page in self._agile_pages(f"/rest/agile/1.0/board/{quote(board_id)}/sprint", {}):
            yield from page

    # -- search --------------------------------------------------------------------------

    def search(
        self,
        jql: str,
        *,
        fields: list[str],
        changelog: bool,
        page_size: int,
    ) -> Iterator[SearchPage]:
        """Pages of issues matching ``jql``, in its order. An issue may come twice (after a
        restart, or when it was updated while paging); the caller de-duplicates."""
        if self.deployment() == "cloud":
            return self._search_cloud(jql, fields, changelog, page_size)
        return self._search_datacenter(jql, fields, changelog, page_size)

    def _search_cloud(
        self, jql: str, fields: list[str], changelog: bool, page_size: int
    ) -> Iterator[SearchPage]:
        # Cloud: POST search/jql pages with nextPageToken until isLast (the offset-based
        # /search answers 410 Gone there since 2025).
        body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
        if changelog:
            body["expand"] = "changelog"  # a comma-separated string on this endpoint
        used: set[str] = set()
        while True:
            data = self.request("POST", "/rest/api/3/search/jql", body=body)
            issues = _issues(data, self.source)
            token = data.get("nextPageToken")
            last = data.get("isLast") is True or not token
            yield SearchPage(issues, last)
            if last:
                return
            if token in used:
                raise FatalError(
                    f"{self.source}: search/jql repeated a page token; stopping instead of looping"
                )
            used.add(token)
            body = {**body, "nextPageToken": token}

    def _search_datacenter(
        self, jql: str, fields: list[str], changelog: bool, page_size: int
    ) -> Iterator[SearchPage]:
        """Data Center: offset paging, checked. An issue updated while we page moves to the
        end of an ``updated ASC`` order and the ones behind it move forward, so a plain
        ``startAt += n`` can step over one. Each page therefore starts at the last issue of
        the previous one (the anchor). If the anchor is not there, the listing moved: one
        page further back is read, and paging goes on after the last issue of the previous
        page found there (every issue not read yet comes after any issue still in place).
        Only if none is found does the query start over; the caller drops repeats."""
        body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
        if changelog:
            body["expand"] = ["changelog"]
        start, restarts = 0, 0
        anchor: str | None = None  # the issue a page must start with
        previous: set[str] = set()  # ids of the previous page
        while True:
            data = self.request("POST", "/rest/api/2/search", body={**body, "startAt": start})
            rows = _issues(data, self.source)
            size = data.get("maxResults") if isinstance(data.get("maxResults"), int) else page_size
            skip = 0  # rows already yielded at the head of this page
            if anchor is not None:
                if rows and _id(rows[0]) == anchor:
                    skip = 1
                else:
                    start = max(0, start - size + 1)
                    data = self.request(
                        "POST", "/rest/api/2/search", body={**body, "startAt": start}
                    )
                    rows = _issues(data, self.source)
                    found = [n for n, issue in enumerate(rows) if _id(issue) in previous]
                    if not found:
                        restarts += 1
                        if restarts > MAX_RESTARTS:
                            # What was read is stored with a true cursor; the rest waits.
                            raise TransientError(
                                f"{self.source}: search results kept moving while paging "
                                f"({MAX_RESTARTS} restarts); the next run continues from here"
                            )
                        log.info("%s: search results moved while paging; rereading", self.source)
                        start, anchor, previous = 0, None, set()
                        continue
                    skip = found[-1] + 1
            total = data.get("total")
            end = start + len(rows)
            last = not rows or (isinstance(total, int) and end >= total) or len(rows) < size
            yield SearchPage(rows[skip:], last)
            if last:
                return
            previous = {_id(issue) for issue in rows}
            if len(rows) >= 2:
                start, anchor = end - 1, _id(rows[-1])
            else:
                start, anchor = end, None

    def issue(self, issue_id: str, *, fields: list[str]) -> dict[str, Any] | None:
        """One issue with its changelog, as search returns it; None when it is gone."""
        try:
            data = self.request(
                "GET",
                f"/rest/api/{self.api}/issue/{quote(issue_id)}",
                params={"fields": ",".join(fields), "expand": "changelog"},
            )
        except NotFound:
            return None
        if not isinstance(data, dict):
            raise FatalError(f"{self.source}: issue {issue_id} is not an object")
        return data

    # -- changelogs ----------------------------------------------------------------------

    def changelogs(self, issue_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The complete history of each issue, for issues whose search result embedded only
        part of it. Cloud: bulkfetch (1000 issues a request); per issue otherwise."""
        if not issue_ids:
            return {}
        if self.deployment() == "cloud":
            if self._bulk_changelog:
                try:
                    return self._bulk_changelogs(issue_ids)
                except NotFound:
                    log.info(
                        "%s: no changelog/bulkfetch; reading changelogs per issue", self.source
                    )
                    self._bulk_changelog = False
            return {i: self._issue_changelog(i) for i in issue_ids}
        return {i: self._issue_changelog_datacenter(i) for i in issue_ids}

    def _bulk_changelogs(self, issue_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in issue_ids}
        for n in range(0, len(issue_ids), BULK_CHANGELOG_ISSUES):
            body: dict[str, Any] = {
                "issueIdsOrKeys": issue_ids[n : n + BULK_CHANGELOG_ISSUES],
                "maxResults": BULK_CHANGELOG_PAGE,
            }
            used: set[str] = set()
            while True:
                data = self.request("POST", "/rest/api/3/changelog/bulkfetch", body=body)
                logs = data.get("issueChangeLogs") if isinstance(data, dict) else None
                if not isinstance(logs, list):
                    raise FatalError(f"{self.source}: bulkfetch returned no issueChangeLogs")
                for entry in logs:
                    histories = entry.get("changeHistories") if isinstance(entry, dict) else None
                    issue = str(entry.get("issueId")) if isinstance(entry, dict) else None
                    if issue in out and isinstance(histories, list):
                        out[issue].extend(histories)
                token = data.get("nextPageToken")
                if not token:
                    break
                if token in used:
                    raise FatalError(f"{self.source}: bulkfetch repeated a page token")
                used.add(token)
                body = {**body, "nextPageToken": token}
        return out

    def _issue_changelog(self, issue_id: str) -> list[dict[str, Any]]:
        """Cloud: GET issue/{id}/changelog, oldest first, startAt paging."""
        histories: list[dict[str, Any]] = []
        start = 0
        while True:
            data = self.request(
                "GET",
                f"/rest/api/{self.api}/issue/{quote(issue_id)}/changelog",
                params={"startAt": start, "maxResults": self.config.changelog_page_size},
            )
            values = data.get("values") if isinstance(data, dict) else None
            if not isinstance(values, list):
                raise FatalError(f"{self.source}: changelog of issue {issue_id} has no values")
            histories.extend(values)
            start += len(values)
            total = data.get("total")
            if (
                not values
                or data.get("isLast") is True
                or (isinstance(total, int) and start >= total)
            ):
                return histories

    def _issue_changelog_datacenter(self, issue_id: str) -> list[dict[str, Any]]:
        """Data Center has no changelog endpoint; the issue resource embeds it whole."""
        data = self.request(
            "GET",
            f"/rest/api/2/issue/{quote(issue_id)}",
            params={"fields": "updated", "expand": "changelog"},
        )
        changelog = data.get("changelog") if isinstance(data, dict) else None
        histories = changelog.get("histories") if isinstance(changelog, dict) else None
        if not isinstance(histories, list):
            raise FatalError(f"{self.source}: issue {issue_id} came without its changelog")
        return histories


def _read_body(response: requests.Response) -> None:
    """Read the whole body in one call instead of requests' 10 kB chunks.

    A search page with changelogs is about a megabyte. Read chunk by chunk, each chunk
    gives the GIL back and waits up to the interpreter's switch interval (5 ms) to get it
    again while the other threads map and store pages: hundreds of milliseconds a page.
    Failures are raised as requests raises them, so HttpPolicy's table applies.
    """
    try:
        body = response.raw.read(decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc, request=response.request) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except OSError as exc:
        raise requests.exceptions.ConnectionError(exc, request=response.request) from None
    response._content = body or b""
    response._content_consumed = True  # type: ignore[attr-defined]


def _id(issue: Any) -> str:
    return str(issue.get("id")) if isinstance(issue, dict) else ""


def _issues(data: Any, source: str) -> list[dict[str, Any]]:
    issues = data.get("issues") if isinstance(data, dict) else None
    if not isinstance(issues, list):
        raise FatalError(f"{source}: search returned no issues list")
    return issues
