"""The connector protocol: what a source plugin provides and what the engine gives it.

A connector is found through the entry-point group ``syncd.connectors``. It declares its
``kind``, a pydantic ``config_model`` (secrets as ``SecretStr``), ``check()`` and, per scope,
its streams. A stream turns a stored cursor into batches of normalized records; it keeps no
state between runs. Connectors never import the store.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from syncd.durations import Duration
from syncd.errors import ConfigError, StopRequested
from syncd.records import Batch

if TYPE_CHECKING:
    from connectors.http import RequestBudget

ENTRY_POINT_GROUP = "syncd.connectors"


class SourceConfig(BaseModel):
    """Fields every source has; a connector's ``config_model`` extends it.

    ``token_env`` is resolved by the settings loader (which alone reads the environment):
    by the time a connector sees its config, ``token`` holds the secret.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: str
    url: str
    token: SecretStr | None = None
    token_env: str | None = None
    interval: Duration = Field(default="5m", validate_default=True)
    max_requests_per_second: float | None = Field(default=None, gt=0)
    concurrency: int = Field(default=4, ge=1, le=32)
    timeout_s: float = Field(default=30.0, gt=0)

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s (a shorter interval would hammer the source)")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://acme.atlassian.net")
        if "@" in value.split("/")[2]:
            raise ValueError("must not contain credentials; use token / token_env")
        return value.rstrip("/")


@dataclass
class Runtime:
    """What the engine hands a connector: a shared request budget and a stop signal."""

    source_name: str
    budget: RequestBudget
    stop: threading.Event = field(default_factory=threading.Event)

    def check_stop(self) -> None:
        if self.stop.is_set():
            raise StopRequested(f"source {self.source_name}: stop requested")


@dataclass(frozen=True)
class StreamContext:
    """Per-run facts a stream needs: where it runs and when the run started.

    ``run_started_at`` bounds every watermark: a cursor never claims data newer than the
    moment the run began, so updates made while the run is going are read next time.
    ``full`` asks for a full refresh (ignore the stored cursor's watermark).
    """

    scope_key: str
    run_started_at: datetime
    full: bool = False


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str  # e.g. "Jira Cloud 1001.0, authenticated as Pat PM (Europe/Berlin)"


class Stream(ABC):
    """One kind of data from one scope, read incrementally from a stored cursor."""

    name: ClassVar[str]

    @abstractmethod
    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[Batch]:
        """Yield batches; each batch's ``cursor`` must be true once that batch is stored."""


class Connector(ABC):
    """A source plugin. One instance per configured source, shared by its scopes' threads."""

    kind: ClassVar[str]
    config_model: ClassVar[type[SourceConfig]]
    # What a scope of this source is ("jira_project", "github_repo"): the engine registers
    # each configured scope under this kind before its streams run.
    scope_kind: ClassVar[str] = "scope"

    def __init__(self, config: Any, runtime: Runtime) -> None:
        self.config = config
        self.runtime = runtime

    @abstractmethod
    def check(self) -> CheckResult:
        """Credentials and reachability, for ``syncd doctor``. Raises ConfigError/AuthError."""

    @abstractmethod
    def scopes(self) -> list[str]:
        """The scope keys this source syncs ("PROJ", "owner/repo")."""

    @abstractmethod
    def streams(self, scope_key: str) -> list[Stream]:
        """The streams of one scope, in the order they should run."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sessions and sockets."""


class ConnectorRegistry(Mapping[str, type[Connector]]):
    """Connector classes by kind, from the ``syncd.connectors`` entry points.

    Loaded on first use of a kind, so one broken plugin only affects the sources of its
    kind, and its failure is a ConfigError that names it.
    """

    def __init__(self) -> None:
        self._entry_points = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        self._loaded: dict[str, type[Connector]] = {}

    def __getitem__(self, kind: str) -> type[Connector]:
        if kind not in self._loaded:
            ep = self._entry_points[kind]
            try:
                cls = ep.load()
            except Exception as exc:  # an import error inside a plugin, whatever it is
                raise ConfigError(
                    f"connector {kind!r} ({ep.value}) cannot be loaded: {type(exc).__name__}: {exc}"
                ) from None
            if not (isinstance(cls, type) and issubclass(cls, Connector)):
                raise ConfigError(f"connector {kind!r} ({ep.value}) is not a Connector class")
            self._loaded[kind] = cls
        return self._loaded[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entry_points)

    def __len__(self) -> int:
        return len(self._entry_points)


def discover() -> ConnectorRegistry:
    return ConnectorRegistry()
