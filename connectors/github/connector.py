"""The GitHub connector: repositories of github.com or a GitHub Enterprise Server."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from connectors.base import CheckResult, Connector, Runtime, Stream
from connectors.github.client import GitHubClient
from connectors.github.config import GitHubSourceConfig
from connectors.github.streams import (
    CommitsStream,
    IssuesStream,
    MilestonesStream,
    ProfileCache,
    PullRequestsStream,
    RepoContext,
    RepositoryStream,
    UsersStream,
)
from syncd.errors import ConfigError, NotFound

STREAMS: tuple[type[Stream], ...] = (
    RepositoryStream,
    MilestonesStream,
    IssuesStream,
    PullRequestsStream,
    CommitsStream,
    UsersStream,
)


class GitHubConnector(Connector):
    kind: ClassVar[str] = "github"
    config_model: ClassVar[type[GitHubSourceConfig]] = GitHubSourceConfig
    scope_kind: ClassVar[str] = "github_repo"

    def __init__(self, config: Any, runtime: Runtime) -> None:
        if not isinstance(config, GitHubSourceConfig):
            raise ConfigError(f"source {getattr(config, 'name', '?')!r}: not a GitHub config")
        super().__init__(config, runtime)
        self.config: GitHubSourceConfig = config
        self._client: GitHubClient | None = None
        self._lock = threading.Lock()
        self._profiles = ProfileCache()  # users read once per run, whatever the repository

    @property
    def client(self) -> GitHubClient:
        with self._lock:
            if self._client is None:
                self._client = GitHubClient(self.config, self.runtime)
            return self._client

    def check(self) -> CheckResult:
        """Authenticate (``/rate_limit`` is free and answers 401 to a bad token) and see
        every configured repository."""
        limit = self.client.rate_limit()
        missing: list[str] = []
        for repo in self.config.repos:
            try:
                self.client.get(f"/repos/{repo}")
            except NotFound:
                missing.append(repo)
        auth = (
            f"GitHub App {self.config.app_id} (installation {self.config.installation_id})"
            if self.config.uses_app
            else "token"
        )
        if limit is None:
            budget = "rate limiting disabled on this server"
        else:
            budget = f"rate limit {limit.get('remaining')}/{limit.get('limit')}"
        where = self.config.url
        if missing:
            return CheckResult(
                False,
                f"{where} ({auth}): not found or not visible: {', '.join(missing)}",
            )
        return CheckResult(
            True, f"{where} ({auth}), {budget}, {len(self.config.repos)} repositories reachable"
        )

    def scopes(self) -> list[str]:
        return list(self.config.repos)

    def streams(self, scope_key: str) -> list[Stream]:
        if scope_key not in self.config.repos:
            raise ConfigError(f"source {self.config.name!r}: {scope_key} is not configured")
        context = RepoContext(repo=scope_key)
        streams: list[Stream] = []
        for cls in STREAMS:
            if cls is UsersStream:
                streams.append(
                    UsersStream(
                        self.client, self.config, self.runtime, context, profiles=self._profiles
                    )
                )
            else:
                streams.append(cls(self.client, self.config, self.runtime, context))  # type: ignore[call-arg]
        return streams

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
