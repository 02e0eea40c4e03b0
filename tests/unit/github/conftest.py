"""A GitHub client over a strict HTTP mock, with a clock that only moves when told to wait."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import responses

from connectors.base import Runtime
from connectors.github.client import GitHubClient
from connectors.github.config import GitHubSourceConfig
from connectors.http import HttpPolicy, RequestBudget, RetrySettings

TOKEN = "ghp_unit0test0token0never0printed00000"


@dataclass
class FakeTime:
    """Virtual seconds: waiting advances them, nothing sleeps."""

    now: float = 1_700_000_000.0
    waits: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    # threading.Event's surface, as RequestBudget and HttpPolicy use it
    def wait(self, seconds: float | None = None) -> bool:
        self.waits.append(seconds or 0.0)
        self.now += seconds or 0.0
        return False

    def is_set(self) -> bool:
        return False

    def set(self) -> None:  # pragma: no cover - never stopped in unit tests
        raise AssertionError("unexpected stop")


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def make_config(**overrides: Any) -> GitHubSourceConfig:
    data: dict[str, Any] = {
        "name": "gh",
        "kind": "github",
        "repos": ["acme/api"],
        "token": TOKEN,
        "overlap": "5m",
    }
    data.update(overrides)
    return GitHubSourceConfig.model_validate(data)


def make_client(
    fake_time: FakeTime, config: GitHubSourceConfig | None = None
) -> tuple[GitHubClient, Runtime]:
    config = config or make_config()
    budget = RequestBudget(
        config.name,
        max_per_second=None,
        stop=fake_time,  # type: ignore[arg-type]
        clock=fake_time.time,
    )
    budget.record_sends = True
    runtime = Runtime(source_name=config.name, budget=budget)
    policy = HttpPolicy(
        budget, RetrySettings(max_attempts=4, backoff_base_s=0.1), clock=fake_time.time
    )
    return GitHubClient(config, runtime, policy=policy, clock=fake_time.time), runtime


@pytest.fixture
def client_and_runtime(fake_time: FakeTime) -> tuple[GitHubClient, Runtime]:
    return make_client(fake_time)
