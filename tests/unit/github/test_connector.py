"""The connector as the engine and ``syncd doctor`` see it."""

from __future__ import annotations

import responses

from connectors.base import Runtime, discover
from connectors.github.connector import GitHubConnector
from connectors.http import RequestBudget
from tests.unit.github.conftest import TOKEN, make_config

API = "https://api.github.com:443"


def _connector(**overrides: object) -> GitHubConnector:
    config = make_config(repos=["acme/api", "acme/web"], **overrides)
    return GitHubConnector(config, Runtime("gh", RequestBudget("gh")))


def test_found_through_its_entry_point() -> None:
    assert discover()["github"] is GitHubConnector
    assert GitHubConnector.scope_kind == "github_repo"


def test_streams_run_repository_first_and_users_last() -> None:
    connector = _connector()
    assert connector.scopes() == ["acme/api", "acme/web"]
    assert [s.name for s in connector.streams("acme/web")] == [
        "repository",
        "milestones",
        "issues",
        "pull_requests",
        "commits",
        "users",
    ]


def test_check_reports_budget_and_missing_repositories(
    mocked: responses.RequestsMock,
) -> None:
    core = {"limit": 5000, "remaining": 4999, "reset": 1, "used": 1}
    for _ in range(2):
        mocked.get(f"{API}/rate_limit", json={"resources": {"core": core}, "rate": core})
        mocked.get(f"{API}/repos/acme/api", json={"id": 1})
    mocked.get(f"{API}/repos/acme/web", json={"id": 2})
    mocked.get(f"{API}/repos/acme/web", status=404, json={"message": "Not Found"})

    ok = _connector().check()
    assert ok.ok and "rate limit 4999/5000" in ok.detail and "2 repositories" in ok.detail
    bad = _connector().check()
    assert not bad.ok and "acme/web" in bad.detail
    assert TOKEN not in ok.detail + bad.detail
