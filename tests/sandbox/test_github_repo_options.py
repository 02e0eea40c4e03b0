"""Repositories added with options: Issues disabled (410 on /issues) and empty (409 on
/commits), as GitHub answers them; the size's own repositories stay exactly as they were."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from syncd.sandbox.github.service import GitHubService
from syncd.sandbox.http import SandboxServer
from syncd.sandbox.sizes import SIZES

NOW = 1_750_000_000
AUTH = {"Authorization": f"token {GitHubService.TOKEN}"}


def _fingerprint(service: GitHubService) -> dict[str, object]:
    data = service.data
    return {
        name: (
            repo.id,
            sorted(repo.commits),
            sorted((p.number, p.id, p.updated_at) for p in repo.pulls.values()),
            sorted((i.number, i.id, i.updated_at) for i in repo.issues.values()),
            sorted((m.id, m.title) for m in repo.milestones.values()),
        )
        for name, repo in data.repos.items()
    } | {"users": sorted((u.login, u.id) for u in data.users.values())}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    service = GitHubService(SIZES["small"], seed=4, now=NOW)
    service.add_repo("acme/no-issues", has_issues=False)
    service.add_repo("acme/empty", empty=True)
    with SandboxServer(service) as srv:
        yield srv


@pytest.fixture
def api(server: SandboxServer) -> str:
    return server.url + "/api/v3"


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(AUTH)
        yield session


def test_added_repositories_leave_the_default_data_unchanged(server: SandboxServer) -> None:
    plain = GitHubService(SIZES["small"], seed=4, now=NOW)
    with_options = server.service
    assert isinstance(with_options, GitHubService)
    before = _fingerprint(plain)
    after = _fingerprint(with_options)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {"acme/no-issues", "acme/empty"}


def test_issues_disabled_answers_410_and_the_repository_says_so(
    server: SandboxServer, api: str, http: requests.Session
) -> None:
    repo = http.get(f"{api}/repos/acme/no-issues")
    assert repo.status_code == 200 and repo.json()["has_issues"] is False
    assert http.get(f"{api}/repos/acme/api").json()["has_issues"] is True
    gone = http.get(f"{api}/repos/acme/no-issues/issues", params={"state": "all"})
    assert gone.status_code == 410
    assert gone.json()["message"] == "Issues are disabled for this repo"
    assert http.get(f"{api}/repos/acme/no-issues/issues/1").status_code == 410
    # Pull requests and commits are there as usual.
    pulls = http.get(f"{api}/repos/acme/no-issues/pulls", params={"state": "all"})
    assert pulls.status_code == 200 and pulls.json()
    assert http.get(f"{api}/repos/acme/no-issues/commits").json()


def test_empty_repository_answers_409_to_commits_and_empty_lists_elsewhere(
    api: str, http: requests.Session
) -> None:
    repo = http.get(f"{api}/repos/acme/empty").json()
    assert repo["default_branch"] == "main" and repo["size"] == 0
    for params in ({}, {"sha": "main"}, {"sha": "develop"}):
        conflict = http.get(f"{api}/repos/acme/empty/commits", params=params)
        assert conflict.status_code == 409
        assert conflict.json()["message"] == "Git Repository is empty."
    for path in ("issues", "pulls", "milestones", "branches"):
        listed = http.get(f"{api}/repos/acme/empty/{path}", params={"state": "all"})
        assert listed.status_code == 200 and listed.json() == [], path


def test_evolving_leaves_the_option_repositories_as_they_are() -> None:
    service = GitHubService(SIZES["small"], seed=4, now=NOW)
    service.add_repo("acme/no-issues", has_issues=False)
    service.add_repo("acme/empty", empty=True)
    assert sum(service.evolve(200).values()) == 200
    assert not service.data.repos["acme/empty"].commits
    assert not service.data.repos["acme/no-issues"].issues
