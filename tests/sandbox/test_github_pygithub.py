"""The unmodified PyGithub client against the simulated GitHub: it connects, pages through
everything, and what it reads matches the service's own data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from github import Auth, Github, GithubException, RateLimitExceededException

from syncd.sandbox.github.limits import RateLimitPolicy
from syncd.sandbox.github.service import GitHubService
from syncd.sandbox.http import SandboxServer
from syncd.sandbox.sizes import SIZES

NOW = 1_750_000_000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[SandboxServer, GitHubService]]:
    service = GitHubService(SIZES["small"], seed=11, now=NOW)
    with SandboxServer(service) as server:
        yield server, service


def client(server: SandboxServer, token: str = GitHubService.TOKEN) -> Github:
    # retry=None: a test must see errors, not PyGithub's own back-off; PyGithub also
    # sleeps 0.25 s between requests by default (politeness towards github.com).
    return Github(
        auth=Auth.Token(token),
        base_url=f"{server.url}/api/v3",
        per_page=100,
        retry=None,
        seconds_between_requests=0,
    )


def test_connect_and_read_the_viewer(sandbox: tuple[SandboxServer, GitHubService]) -> None:
    server, service = sandbox
    gh = client(server)
    assert gh.get_user().login == service.data.viewer.login
    rate = gh.get_rate_limit()
    assert rate.resources.core.limit > 0
    person = gh.get_user("alicej")
    assert person.name == service.data.users["alicej"].name
    assert person.email == service.data.users["alicej"].public_email


def test_page_through_everything(sandbox: tuple[SandboxServer, GitHubService]) -> None:
    server, service = sandbox
    gh = client(server)
    repos = list(gh.get_organization("acme").get_repos())
    assert sorted(r.full_name for r in repos) == sorted(service.data.repos)
    for full_name, truth in service.data.repos.items():
        repo = gh.get_repo(full_name)
        assert repo.default_branch == truth.default_branch
        issues = list(repo.get_issues(state="all"))
        assert len(issues) == len(truth.issues) + len(truth.pulls)
        assert sum(1 for i in issues if i.pull_request is not None) == len(truth.pulls)
        pulls = list(repo.get_pulls(state="all", sort="updated", direction="desc"))
        assert sorted(p.number for p in pulls) == sorted(truth.pulls)
        merged = {p.number for p in pulls if p.merged_at is not None}
        assert merged == {n for n, p in truth.pulls.items() if p.merged}
        commits = list(repo.get_commits())
        assert [c.sha for c in commits] == [c.sha for c in truth.branch_log()]
        assert repo.get_commits().totalCount == len(truth.branch_log())
        branches = {b.name for b in repo.get_branches()}
        assert branches == set(truth.branches)
        milestones = list(repo.get_milestones(state="all"))
        assert len(milestones) == len(truth.milestones)


def test_reviews_and_pull_request_detail(sandbox: tuple[SandboxServer, GitHubService]) -> None:
    server, service = sandbox
    gh = client(server)
    truth = service.data.repos["acme/web"]
    repo = gh.get_repo("acme/web")
    checked = 0
    for number, pull_truth in list(truth.pulls.items())[:15]:
        pull = repo.get_pull(number)
        assert pull.merged == pull_truth.merged
        assert pull.draft == pull_truth.draft
        assert pull.head.ref == pull_truth.head_ref
        reviews = list(pull.get_reviews())
        assert [(r.id, r.state) for r in reviews] == [(r.id, r.state) for r in pull_truth.reviews]
        assert [c.sha for c in pull.get_commits()] == pull_truth.commit_shas
        checked += 1
    assert checked == 15


def test_incremental_issues_with_since_after_evolve(
    sandbox: tuple[SandboxServer, GitHubService],
) -> None:
    server, service = sandbox
    gh = client(server)
    repo = gh.get_repo("acme/api")
    mark = datetime.now(UTC).replace(microsecond=0)
    applied = server.evolve(40)
    assert sum(applied.values()) == 40
    truth = service.data.repos["acme/api"]
    changed = {i.number for i in truth.items() if i.updated_at >= mark.timestamp()}
    seen = {i.number for i in repo.get_issues(state="all", since=mark)}
    assert seen == changed


def test_bad_token_and_missing_repo_raise(sandbox: tuple[SandboxServer, GitHubService]) -> None:
    server, _ = sandbox
    with pytest.raises(GithubException) as bad:
        client(server, token="wrong").get_user().login  # noqa: B018
    assert bad.value.status == 401
    with pytest.raises(GithubException) as missing:
        client(server).get_repo("acme/nope")
    assert missing.value.status == 404


def test_pygithub_recognises_the_primary_rate_limit() -> None:
    policy = RateLimitPolicy(limit=3, window_s=60)
    service = GitHubService(SIZES["small"], seed=11, now=NOW, limits=policy)
    with SandboxServer(service) as server:
        server.set_faults(rate_limit=True)
        gh = client(server)
        for _ in range(3):
            gh.get_repo("acme/api")
        with pytest.raises(RateLimitExceededException):
            gh.get_repo("acme/api")
