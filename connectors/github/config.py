"""Configuration of one GitHub source (github.com, GitHub Enterprise Cloud with data
residency on ``*.ghe.com``, or GitHub Enterprise Server)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.base import SourceConfig
from syncd.durations import Duration
from syncd.errors import ConfigError

_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_BRANCH_FORBIDDEN = re.compile(r"(^/|/$|\.\.|[\s~^:?*\[\\]|@\{|//|\.lock$|^-)")

GITHUB_COM_API = "https://api.github.com"


def api_base_url(url: str) -> str:
    """The REST API root for what a user wrote as ``url``.

    - github.com (or api.github.com) is ``https://api.github.com``;
    - GitHub Enterprise Cloud with data residency, ``SUBDOMAIN.ghe.com``, serves its API at
      ``https://api.SUBDOMAIN.ghe.com``, an API host with no ``/api/v3`` path (GitHub docs,
      "About GitHub Enterprise Cloud with data residency"; the GraphQL guide gives
      ``https://api.SUBDOMAIN.ghe.com/graphql`` next to ``https://HOST/api/graphql`` for
      Enterprise Server): the web URL, the API URL, or either with a path, all lead there;
    - any other host is a GitHub Enterprise Server whose REST API lives under ``/api/v3``
      (GitHub docs, "Getting started with the REST API": ``http(s)://HOSTNAME/api/v3``). A URL
      that already has a path is taken as given, so a proxy or the sandbox can sit anywhere.
    """
    parts = urlsplit(url.rstrip("/"))
    host = (parts.hostname or "").lower()
    if host in ("github.com", "www.github.com", "api.github.com"):
        return GITHUB_COM_API
    if host.endswith(".ghe.com"):
        tenant = host.removesuffix(".ghe.com").removeprefix("api.")
        if tenant and "." not in tenant:
            return f"https://api.{tenant}.ghe.com"
    if parts.path in ("", "/"):
        return f"{url.rstrip('/')}/api/v3"
    return url.rstrip("/")


class GitHubSourceConfig(SourceConfig):
    """GitHub repositories to sync, and how to authenticate.

    Authentication is either a token (personal access token, fine-grained token or an
    installation token managed elsewhere) or a GitHub App: ``app_id`` + ``private_key``
    (inline PEM) or ``private_key_file`` + ``installation_id``; syncd then mints
    installation tokens itself and renews them before they expire.
    """

    kind: Literal["github"] = "github"
    url: str = GITHUB_COM_API
    repos: list[str] = Field(min_length=1)
    # Branches followed for commits besides each repository's default branch. A branch
    # missing from a repository is skipped for that repository.
    branches: list[str] = Field(default_factory=list)

    app_id: int | None = Field(default=None, gt=0)
    private_key: SecretStr | None = None
    private_key_file: Path | None = None
    installation_id: int | None = Field(default=None, gt=0)

    # GitHub's secondary limits allow at most 900 points per minute for REST (a GET is one
    # point; docs "Rate limits for the REST API"); 12/s stays below that with room for the
    # other clients of the same token. The primary limit is paced from X-RateLimit-* headers.
    max_requests_per_second: float | None = Field(default=12.0, gt=0)
    # Scopes (repositories) synced at once. GitHub asks integrators to prefer serial
    # requests to avoid secondary limits; two keeps a sync of many repositories moving.
    concurrency: int = Field(default=2, ge=1, le=32)

    # Look-back subtracted from the stored watermark: covers GitHub's one-second timestamps,
    # clock skew, and writes that land while a page is being read.
    overlap: Duration = Field(default="5m", validate_default=True)
    # The ``since`` of a list is kept stable between runs (so its ETag stays valid and an
    # unchanged list costs nothing) and moved up to the watermark at most this often.
    since_refresh: Duration = Field(default="1d", validate_default=True)
    # How often a user's profile (name, public e-mail) is re-read.
    user_refresh: Duration = Field(default="7d", validate_default=True)
    # Pull request sizes (additions, deletions, changed files) cost one request per pull
    # request. They are read for open pull requests and those updated this recently (so
    # for every pull request that changes once syncd runs); "all" reads them for every
    # pull request on a first sync too, doubling its requests.
    pull_request_sizes_for: Duration | Literal["all"] = Field(default="30d", validate_default=True)
    # Requests of this source in flight at once. GitHub asks integrators to "make requests
    # serially instead of concurrently" (docs, best practices): with more than one in
    # flight, a request sent just before another is answered "wait" arrives while the
    # source is told to wait. Raise it for a server without rate limits (GHES default).
    max_in_flight: int = Field(default=1, ge=1, le=32)
    # Threads per repository for the per-pull-request requests (review list, sizes); only
    # useful with max_in_flight above 1.
    pull_request_workers: int = Field(default=1, ge=1, le=16)
    per_page: int = Field(default=100, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return api_base_url(value)

    @field_validator("repos")
    @classmethod
    def _repos(cls, value: list[str]) -> list[str]:
        repos: list[str] = []
        for raw in value:
            repo = raw.strip().strip("/")
            if repo.endswith(".git"):
                repo = repo[:-4]
            if not _REPO.match(repo):
                raise ValueError(f"{raw!r} is not a repository; write it as owner/name")
            if repo.lower() not in (r.lower() for r in repos):
                repos.append(repo)
        return repos

    @field_validator("branches")
    @classmethod
    def _branches(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or _BRANCH_FORBIDDEN.search(name):
                raise ValueError(f"{name!r} is not a valid branch name")
        return list(dict.fromkeys(value))

    @field_validator("overlap")
    @classmethod
    def _overlap(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s: GitHub timestamps have second granularity")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> GitHubSourceConfig:
        app_fields = {
            "app_id": self.app_id,
            "installation_id": self.installation_id,
            "private_key or private_key_file": self.private_key or self.private_key_file,
        }
        has_token = self.token is not None or self.token_env is not None
        given = [name for name, v in app_fields.items() if v]
        if self.private_key and self.private_key_file:
            raise ValueError("give private_key or private_key_file, not both")
        if given and has_token:
            raise ValueError("give either token (token_env) or GitHub App credentials, not both")
        if given and len(given) < len(app_fields):
            missing = [name for name in app_fields if name not in given]
            raise ValueError(f"GitHub App authentication also needs {', '.join(missing)}")
        if not given and not has_token:
            raise ValueError(
                "a GitHub source needs token (or token_env), or GitHub App credentials "
                "(app_id, private_key or private_key_file, installation_id)"
            )
        return self

    @property
    def uses_app(self) -> bool:
        return self.app_id is not None

    def read_private_key(self) -> str:
        """The App's PEM key; read here (not at validation) so a rotated file is picked up."""
        if self.private_key is not None:
            return self.private_key.get_secret_value()
        assert self.private_key_file is not None
        try:
            return self.private_key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"source {self.name!r}: private_key_file {str(self.private_key_file)!r} "
                f"cannot be read: {exc.strerror}"
            ) from None
