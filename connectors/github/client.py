"""GitHub REST over PyGithub's requester, every request through the one retry policy.

PyGithub supplies authentication (``Auth.Token``; ``Auth.AppAuth`` for a GitHub App's JWT),
the API base URL (github.com or ``https://HOST/api/v3``) and the requester that sends.
Its own retries are off (``retry=None``) and so is its request spacing
(``seconds_between_requests=None``): ``HttpPolicy`` retries and ``RequestBudget`` paces.

PyGithub has no call for conditional list requests (``If-None-Match`` with a stored ETag,
answered ``304 Not Modified`` at no rate-limit cost when the request is authorized:
GitHub docs, "Best practices for using the REST API"), so lists are read as raw JSON through
``Requester.requestJson`` and paged by the ``Link`` header.

An ETag is tied to the token that asked for it: GitHub answers ``200`` (at full cost) to an
``If-None-Match`` whose ETag another token received (github/docs#34689; GitHub support's
reply quoted in eclipse-csi/otterdog#201). With a personal or fine-grained token an unchanged
list stays free for good; in GitHub App mode every installation token (one hour) starts with
ETags that no longer match, so the first cycle after each renewal pays one point per list,
and the cycles after it are free again until the next renewal.

GitHub App installation tokens are checked at the start of every attempt, not once per
request: a request can wait in the budget (a rate-limit reset is up to an hour away) or
between retries long enough for its token to expire. A ``401`` in App mode mints a new
token once before it counts as refused credentials (a token revoked or expired earlier than
its ``expires_at`` said, e.g. after a clock jump).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Collection, Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
import requests
from github import Auth, Github
from github.Requester import Requester
from requests.structures import CaseInsensitiveDict

from connectors.base import Runtime
from connectors.github.config import GitHubSourceConfig
from connectors.http import HttpPolicy, safe_url
from syncd.errors import (
    AuthError,
    ConfigError,
    FatalError,
    NotFound,
    StopRequested,
    TransientError,
)

log = logging.getLogger("syncd.github")

USER_AGENT = "syncd (+https://github.com/PyGithub/PyGithub)"
ACCEPT = "application/vnd.github+json"
# An installation token lives one hour; mint a new one this long before it expires.
TOKEN_RENEW_BEFORE_S = 300


@dataclass(frozen=True)
class Page:
    """One answer of a list (or object) endpoint."""

    status: int  # 200, or 304 when the ETag we sent still matches
    data: Any  # parsed JSON; None for 304
    etag: str | None  # the ETag of this answer (for 304: the one we sent)
    next_url: str | None  # rel="next" of the Link header
    url: str  # what was asked, without credentials or query: for messages

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _Empty(Exception):
    """An answer that a request was told to take as an empty list (see ``GitHubClient.get``)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _InstallationToken(Auth.Auth):
    """The current installation token of a GitHub App, minted by ``GitHubClient``.

    PyGithub's ``AppInstallationAuth`` would mint tokens through a requester of its own,
    outside the retry policy and the request budget; here minting is one more request
    through the budget. ``current`` is replaced as a whole, so a reader in another thread
    never sees a token with another token's expiry.
    """

    def __init__(self) -> None:
        self.current: tuple[str, float] | None = None  # (token, expires at, epoch seconds)

    def due(self, now: float) -> bool:
        """No token yet, or it expires within ``TOKEN_RENEW_BEFORE_S``."""
        current = self.current
        return current is None or current[1] - now <= TOKEN_RENEW_BEFORE_S

    def expire(self, token: str) -> None:
        """``token`` was refused: have the next attempt mint a new one (unless another
        thread already did)."""
        current = self.current
        if current is not None and current[0] == token:
            self.current = (token, 0.0)

    @property
    def value(self) -> str | None:
        current = self.current
        return current[0] if current else None

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        current = self.current
        if current is None:  # GitHubClient mints at the start of every attempt
            raise ConfigError("GitHub App installation token requested before it was minted")
        return current[0]

    @property
    def _masked_token(self) -> str:
        return "token (installation token removed)"


class GitHubClient:
    """Sends GitHub REST requests for one source; thread-safe, shared by its scopes."""

    def __init__(
        self,
        config: GitHubSourceConfig,
        runtime: Runtime,
        *,
        policy: HttpPolicy | None = None,
        clock: Any = time.time,
    ) -> None:
        self.config = config
        self.source = config.name
        self.policy = policy or HttpPolicy(runtime.budget)
        # Minting happens inside an attempt of the request that needs the token: one attempt
        # of its own, so a failure is retried by the request's one retry loop, not by a
        # second loop nested in it.
        self._mint_policy = HttpPolicy(
            self.policy.budget,
            dataclasses.replace(self.policy.settings, max_attempts=1),
            clock=self.policy.clock,
        )
        self.clock = clock
        self.base_url = config.url
        self._app_auth: Auth.AppAuth | None = None
        self._installation: _InstallationToken | None = None
        self._mint_lock = threading.Lock()
        # At most max_in_flight requests of this source on the wire (1: one after another).
        self._in_flight = threading.BoundedSemaphore(config.max_in_flight)
        self._mint_session: requests.Session | None = None
        auth: Auth.Auth
        if config.uses_app:
            assert config.app_id is not None
            self._app_auth = Auth.AppAuth(config.app_id, config.read_private_key())
            self._installation = _InstallationToken()
            auth = self._installation
        else:
            assert config.token is not None
            auth = Auth.Token(config.token.get_secret_value())
        self._github = Github(
            auth=auth,
            base_url=self.base_url,
            timeout=max(1, math.ceil(config.timeout_s)),
            user_agent=USER_AGENT,
            per_page=config.per_page,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self._requester: Requester = self._github.requester

    # -- requests ------------------------------------------------------------------------

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        etag: str | None = None,
        empty_on: Collection[int] = (),
    ) -> Page:
        """One GET of ``path`` (relative to the API root, or a Link URL) through the policy.

        With ``etag`` the request is conditional; a 304 comes back as a Page without data.
        ``empty_on``: statuses that mean "nothing here" for this request (410 for the issues
        of a repository with Issues disabled, 409 for the commits of an empty repository);
        they come back as a Page of that status with an empty list, not as an error.
        """
        headers = {"Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        url = self._absolute(path)
        reminted = False

        def send() -> requests.Response:
            nonlocal reminted
            token = self._token_for_attempt()
            status, response_headers, body = self._requester.requestJson(
                "GET", path, parameters=params, headers=dict(headers)
            )
            if status == 401 and token is not None and not reminted:
                reminted = True
                assert self._installation is not None
                self._installation.expire(token)
                self.policy.budget.observe(CaseInsensitiveDict(response_headers))
                raise TransientError(
                    f"source {self.source!r}: GitHub refused the installation token; "
                    "minting a new one"
                )
            if status in empty_on:
                self.policy.budget.observe(CaseInsensitiveDict(response_headers))
                self.policy.budget.answered()
                raise _Empty(status)
            if 300 <= status < 400 and status != 304:
                where = response_headers.get("location", "")
                raise FatalError(
                    f"source {self.source!r}: GET {safe_url(url)} answered {status} "
                    f"(redirect to {safe_url(where)}); check the source's url"
                )
            return _as_response("GET", url, status, response_headers, body)

        try:
            with self._in_flight:
                response = self.policy.call(send, json_body=True)
        except _Empty as empty:
            return Page(empty.status, [], None, None, safe_url(url))
        if response.status_code == 304:
            return Page(304, None, etag, None, safe_url(url))
        return Page(
            response.status_code,
            response.syncd_json,  # type: ignore[attr-defined]
            response.headers.get("ETag"),
            response.links.get("next", {}).get("url"),
            safe_url(url),
        )

    def pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        etag: str | None = None,
        empty_on: Collection[int] = (),
    ) -> Generator[Page, None, None]:
        """The pages of a list, first one conditional; stops after a 304 on the first page
        (and after a status of ``empty_on``, see ``get``)."""
        page = self.get(path, params, etag=etag, empty_on=empty_on)
        yield page
        seen_urls: set[str] = set()
        while page.next_url and not page.not_modified:
            if page.next_url in seen_urls:  # a server that repeats a page must not loop us
                raise FatalError(f"source {self.source!r}: {page.url} links to a page already read")
            seen_urls.add(page.next_url)
            page = self.get(page.next_url)
            yield page

    def _absolute(self, path: str) -> str:
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return f"{self.base_url}{path}"

    # -- GitHub App installation tokens --------------------------------------------------

    def _token_for_attempt(self) -> str | None:
        """App mode: the installation token this attempt sends, minted anew when it expires
        within ``TOKEN_RENEW_BEFORE_S``; None with a plain token.

        Runs inside an attempt, whose caller holds a request slot (``_in_flight``). Minting
        sends a request of its own and takes a slot for it, and the semaphore is not
        reentrant: the slot is given up while minting and taken back afterwards. Another
        request may have been answered "wait" meanwhile, so the attempt then waits out
        whatever window the budget was told about before it sends.
        """
        installation = self._installation
        if installation is None:
            return None
        if installation.due(self.clock()):
            self._in_flight.release()
            try:
                self._ensure_token()
            finally:
                self._in_flight.acquire()
            self._wait_out_blocks()
        return installation.token

    def _wait_out_blocks(self) -> None:
        budget = self.policy.budget
        while (delay := budget.blocked_until() - budget.clock()) > 0:
            if budget.stop.wait(min(delay, 5.0)):
                raise StopRequested(f"source {self.source}: stop requested")

    def _ensure_token(self) -> None:
        """Mint unless another thread did while this one waited for the lock. Never called
        while holding a request slot (minting takes one)."""
        assert self._installation is not None
        with self._mint_lock:
            if self._installation.due(self.clock()):
                self._mint_installation_token()

    def _mint_installation_token(self) -> None:
        """POST /app/installations/{id}/access_tokens with the App's JWT.

        Sent with a plain session rather than PyGithub's requester, whose debug log prints
        response bodies, and this body is the token.
        """
        assert self._app_auth is not None and self._installation is not None
        try:
            app_jwt = self._app_auth.create_jwt()
        except (ValueError, TypeError, jwt.PyJWTError):
            raise ConfigError(
                f"source {self.source!r}: the GitHub App private key cannot sign a token "
                "(is it the App's PEM key?)"
            ) from None
        url = f"{self.base_url}/app/installations/{self.config.installation_id}/access_tokens"
        if self._mint_session is None:
            self._mint_session = requests.Session()
            self._mint_session.trust_env = False  # no .netrc credentials leaking in
        session = self._mint_session

        def send() -> requests.Response:
            return session.post(
                url,
                headers={
                    "Accept": ACCEPT,
                    "Authorization": f"Bearer {app_jwt}",
                    "User-Agent": USER_AGENT,
                },
                data=b"{}",
                timeout=self.config.timeout_s,
                allow_redirects=False,
            )

        try:
            with self._in_flight:
                response = self._mint_policy.call(send, json_body=True)
        except NotFound:
            raise ConfigError(
                f"source {self.source!r}: GitHub App {self.config.app_id} has no installation "
                f"{self.config.installation_id}"
            ) from None
        except AuthError:
            raise AuthError(
                f"source {self.source!r}: GitHub refused the App's credentials (app_id "
                f"{self.config.app_id}); check app_id and the private key"
            ) from None
        body = response.syncd_json  # type: ignore[attr-defined]
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise FatalError(f"source {self.source!r}: GitHub answered no installation token")
        self._installation.current = (token, _parse_expiry(body.get("expires_at"), self.clock()))
        log.info("%s: minted a GitHub App installation token", self.source)

    # -- lifecycle -----------------------------------------------------------------------

    def rate_limit(self) -> dict[str, Any] | None:
        """``/rate_limit`` (free of charge), or None where rate limiting is disabled (GHES)."""
        try:
            page = self.get("/rate_limit")
        except NotFound:
            return None
        core = (page.data or {}).get("resources", {}).get("core")
        return core if isinstance(core, dict) else None

    def close(self) -> None:
        self._github.close()
        if self._mint_session is not None:
            self._mint_session.close()


def _parse_expiry(value: Any, now: float) -> float:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return now + 3600.0  # GitHub documents one hour


def _as_response(
    method: str, url: str, status: int, headers: dict[str, Any], body: str
) -> requests.Response:
    """The requester's (status, headers, text) as a ``requests.Response`` for the policy."""
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict(headers)
    response._content = body.encode("utf-8") if body else b""
    response.encoding = "utf-8"
    response.url = url
    request = requests.PreparedRequest()
    request.method = method
    request.url = url
    response.request = request
    return response
