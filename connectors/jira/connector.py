"""The Jira connector: Jira Cloud and Data Center projects into the normalized store."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.base import CheckResult, Connector, Runtime, SourceConfig, Stream
from connectors.jira.client import JiraClient
from connectors.jira.config import JiraSourceConfig
from connectors.jira.streams import (
    IssuesStream,
    ProjectStream,
    ReconcileStream,
    RunShared,
    SprintsStream,
)
from syncd.errors import ConfigError

STREAMS: tuple[type[Stream], ...] = (
    ProjectStream,
    SprintsStream,
    IssuesStream,
    ReconcileStream,
)


class JiraConnector(Connector):
    kind: ClassVar[str] = "jira"
    config_model: ClassVar[type[SourceConfig]] = JiraSourceConfig
    scope_kind: ClassVar[str] = "jira_project"

    def __init__(self, config: Any, runtime: Runtime) -> None:
        if not isinstance(config, JiraSourceConfig):
            raise ConfigError(
                f"a Jira source needs a JiraSourceConfig, not {type(config).__name__}"
            )
        super().__init__(config, runtime)
        self.config: JiraSourceConfig = config
        self.client = JiraClient(config, runtime.budget)
        self.shared = RunShared()

    def check(self) -> CheckResult:
        """Reachability, credentials, the projects, and what field discovery found."""
        info = self.client.server_info()
        me = self.client.myself(fresh=True)
        zone = self.client.time_zone()
        for key in self.config.projects:
            self.client.project(key)
        ids, _ = self.client.field_ids()
        kind = "Cloud" if self.client.deployment() == "cloud" else "Data Center"
        who = me.get("displayName") or me.get("name") or me.get("accountId") or "?"
        missing = [
            name
            for name, value in (
                ("story points", ids.story_points),
                ("sprint", ids.sprint),
            )
            if value is None
        ]
        detail = (
            f"Jira {kind} {info.version}, authenticated as {who} ({zone.key}); "
            f"projects {', '.join(self.config.projects)}"
        )
        if missing:
            detail += f"; no {' or '.join(missing)} field found (set it in the configuration)"
        return CheckResult(ok=True, detail=detail)

    def scopes(self) -> list[str]:
        return list(self.config.projects)

    def streams(self, scope_key: str) -> list[Stream]:
        return [
            cls(self.client, self.config, self.runtime, scope_key, self.shared)  # type: ignore[call-arg]
            for cls in STREAMS
        ]

    def close(self) -> None:
        self.client.close()
