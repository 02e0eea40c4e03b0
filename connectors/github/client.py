"""GitHub REST over PyGithub's requester, every request through the one retry policy.

PyGithub supplies authentication (``Auth.Token``; ``Auth.AppAuth`` for a GitHub App's JWT),
the API base URL (github.com or ``https://HOST/api/v3``) and the requester that sends.
Its own retries are off (``retry=None``) and so is its request spacing
(``seconds_between_requests=None``): ``HttpPolicy`` retries and ``RequestBudget`` paces.

PyGithub has no call for conditional list requests (``If-None-Match`` with a stored ETag,
answered ``304 Not Modified`` at no rate-limit cost when the request is authorized:
GitHub docs, "Best practices for using the REST API"), so lists are read as raw JSON through
``Requester.requestJson`` and paged by the ``Link`` header.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Generator
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
from syncd.errors import AuthError, ConfigError, FatalError, NotFound

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


class _InstallationToken(Auth.Auth):
    """The current installation token of a GitHub App, minted by ``GitHubClient``.

    PyGithub's ``AppInstallationAuth`` would mint tokens through a requester of its own,
    outside the retry policy and the request budget; here minting is one more request
    through ``HttpPolicy``.
    """

    def __init__(self) -> None:
        self.value: str | None = None
        self.expires_at = 0.0

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        if self.value is None:  # GitHubClient mints before every request
            raise ConfigError("GitHub App installation token requested before it was minted")
        return self.value

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
        self, path: str, params: dict[str, Any] | None = None, *, etag: str | None = None
    ) -> Page:
        """One GET of ``path`` (relative to the API root, or a Link URL) through the policy.

        With ``etag`` the request is conditional; a 304 comes back as a Page without data.
        """
        self._ensure_token()
        headers = {"Accept": ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        url = self._absolute(path)

        def send() -> requests.Response:
            status, response_headers, body = self._requester.requestJson(
                "GET", path, parameters=params, headers=dict(headers)
            )
            if 300 <= status < 400 and status != 304:
                where = response_headers.get("location", "")
                raise FatalError(
                    f"source {self.source!r}: GET {safe_url(url)} answered {status} "
                    f"(redirect to {safe_url(where)}); check the source's url"
                )
            return _as_response("GET", url, status, response_headers, body)

        with self._in_flight:
            response = self.policy.call(send, json_body=True)
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
        self, path: str, params: dict[str, Any] | None = None, *, etag: str | None = None
    ) -> Generator[Page, None, None]:
        """The pages of a list, first one conditional; stops after a 304 on the first page."""
        page = self.get(path, params, etag=etag)
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

    def _ensure_token(self) -> None:
        if self._installation is None:
            return
        with self._mint_lock:
            if self._installation.value and self._installation.expires_at - self.clock() > (
                TOKEN_RENEW_BEFORE_S
            ):
                return
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
                response = self.policy.call(send, json_body=True)
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
        expires = _parse_expiry(body.get("expires_at"), self.clock())
        self._installation.value = token
        self._installation.expires_at = expires
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
