"""The simulated GitHub over real HTTP, with raw ``requests``: every trap a client meets on
the real API (pagination, issues that are pull requests, no ``since`` on pulls, ETags,
rate limits, error shapes)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from syncd.sandbox.github.limits import RateLimitPolicy
from syncd.sandbox.github.service import GitHubService
from syncd.sandbox.http import SandboxServer
from syncd.sandbox.sizes import SIZES

NOW = 1_750_000_000
AUTH = {"Authorization": f"token {GitHubService.TOKEN}"}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(GitHubService(SIZES["small"], seed=5, now=NOW)) as srv:
        yield srv


@pytest.fixture
def api(server: SandboxServer) -> str:
    return server.url + "/api/v3"


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(AUTH)
        yield session


def service_of(server: SandboxServer) -> GitHubService:
    assert isinstance(server.service, GitHubService)
    return server.service


def follow(http: requests.Session, url: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paginated list, following Link rel="next" as given."""
    items: list[dict[str, Any]] = []
    pages = 0
    response = http.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        items += response.json()
        pages += 1
        nxt = response.links.get("next")
        if not nxt:
            return items, pages
        response = http.get(nxt["url"])


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


# -- pagination ---------------------------------------------------------------------------


def test_link_pagination_walks_every_commit(
    server: SandboxServer, api: str, http: requests.Session
) -> None:
    repo = service_of(server).data.repos["acme/api"]
    first = http.get(f"{api}/repos/acme/api/commits", params={"per_page": 50})
    links = first.links
    assert set(links) == {"next", "last"}
    # Absolute, same host and base path, repository by id (as GitHub writes them).
    nxt = urlsplit(links["next"]["url"])
    assert f"{nxt.scheme}://{nxt.netloc}" == server.url
    assert nxt.path == f"/api/v3/repositories/{repo.id}/commits"
    assert parse_qs(nxt.query) == {"per_page": ["50"], "page": ["2"]}
    expected = repo.branch_log()
    assert parse_qs(urlsplit(links["last"]["url"]).query)["page"] == [str(-(-len(expected) // 50))]
    items, pages = follow(http, f"{api}/repos/acme/api/commits", per_page=100)
    assert [c["sha"] for c in items] == [c.sha for c in expected]
    assert pages == -(-len(expected) // 100)
    # A middle page has prev, next, last and first.
    middle = http.get(links["next"]["url"])
    assert set(middle.links) == {"prev", "next", "last", "first"}


def test_per_page_is_capped_at_100_and_defaults_to_30(api: str, http: requests.Session) -> None:
    assert len(http.get(f"{api}/repos/acme/api/commits", params={"per_page": 500}).json()) == 100
    assert len(http.get(f"{api}/repos/acme/api/commits").json()) == 30
    beyond = http.get(f"{api}/repos/acme/api/commits", params={"page": 999})
    assert beyond.status_code == 200 and beyond.json() == []


def test_single_page_has_no_link_header(api: str, http: requests.Session) -> None:
    response = http.get(f"{api}/repos/acme/api/milestones", params={"state": "all"})
    assert response.status_code == 200 and response.json()
    assert "Link" not in response.headers


# -- issues and pull requests -------------------------------------------------------------


def test_issues_include_pull_requests(
    server: SandboxServer, api: str, http: requests.Session
) -> None:
    repo = service_of(server).data.repos["acme/api"]
    items, _ = follow(http, f"{api}/repos/acme/api/issues", state="all", per_page=100)
    assert len(items) == len(repo.issues) + len(repo.pulls)
    pulls = [i for i in items if "pull_request" in i]
    assert len(pulls) == len(repo.pulls)
    sample = pulls[0]
    truth = repo.pulls[sample["number"]]
    # The issue view of a pull request has the *issue* id, not the pull request's.
    assert sample["id"] == truth.issue_id != truth.id
    assert set(sample["pull_request"]) >= {"url", "html_url", "merged_at"}
    # Default: open only, newest first.
    default, _ = follow(http, f"{api}/repos/acme/api/issues", per_page=100)
    assert {i["state"] for i in default} == {"open"}
    created = [i["created_at"] for i in default]
    assert created == sorted(created, reverse=True)


def test_issues_since_filters_on_updated_at_inclusive(
    server: SandboxServer, api: str, http: requests.Session
) -> None:
    repo = service_of(server).data.repos["acme/web"]
    cutoff = sorted(i.updated_at for i in repo.items())[-10]
    since = datetime.fromtimestamp(cutoff, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    items, _ = follow(
        http, f"{api}/repos/acme/web/issues", state="all", since=since, sort="updated"
    )
    assert items and all(ts(i["updated_at"]) >= cutoff for i in items)
    assert len(items) == sum(1 for i in repo.items() if i.updated_at >= cutoff)
    bad = http.get(f"{api}/repos/acme/web/issues", params={"since": "yesterday"})
    assert bad.status_code == 422
    assert "ISO 8601" in bad.json()["message"]


def test_pulls_have_no_since_and_list_items_are_simple(
    server: SandboxServer, api: str, http: requests.Session
) -> None:
    repo = service_of(server).data.repos["acme/api"]
    everything, _ = follow(http, f"{api}/repos/acme/api/pulls", state="all", per_page=100)
    assert len(everything) == len(repo.pulls)
    # "since" is not a pulls parameter: it is ignored, not applied.
    ignored, _ = follow(
        http, f"{api}/repos/acme/api/pulls", state="all", per_page=100, since="2099-01-01T00:00:00Z"
    )
    assert len(ignored) == len(repo.pulls)
    item = everything[0]
    for detail_only in (
        "additions",
        "deletions",
        "changed_files",
        "merged",
        "commits",
        "mergeable",
    ):
        assert detail_only not in item
    assert item["state"] in ("open", "closed")  # never "merged"
    detail = http.get(item["url"], headers=AUTH).json()
    truth = repo.pulls[item["number"]]
    assert detail["merged"] == truth.merged
    assert detail["commits"] == len(truth.commit_shas)
    assert detail["additions"] == sum(repo.commits[s].additions for s in truth.commit_shas)


def test_pulls_sort_by_updated_defaults_to_ascending(api: str, http: requests.Session) -> None:
    asc = http.get(f"{api}/repos/acme/api/pulls", params={"state": "all", "sort": "updated"}).json()
    stamps = [p["updated_at"] for p in asc]
    assert stamps == sorted(stamps)
    desc = http.get(
        f"{api}/repos/acme/api/pulls",
        params={"state": "all", "sort": "updated", "direction": "desc"},
    ).json()
    assert [p["updated_at"] for p in desc] == sorted((p["updated_at"] for p in desc), reverse=True)


def test_reviews_and_pull_request_commits(
    server: SandboxServer, api: str, http: requests.Session
) -> None:
    repo = service_of(server).data.repos["acme/api"]
    pull = next(p for p in repo.pulls.values() if len(p.reviews) >= 2)
    reviews = http.get(f"{api}/repos/acme/api/pulls/{pull.number}/reviews").json()
    assert [r["id"] for r in reviews] == [r.id for r in pull.reviews]
    submitted = [r["submitted_at"] for r in reviews]
    assert submitted == sorted(submitted)  # chronological
    commits = http.get(f"{api}/repos/acme/api/pulls/{pull.number}/commits").json()
    assert [c["sha"] for c in commits] == pull.commit_shas  # oldest first


def test_commits_since_and_until_use_the_committer_date(
    server: SandboxServer, api: str, http: requests.Session
) -> None:
    repo = service_of(server).data.repos["acme/api"]
    log = repo.branch_log()
    rebased = next(c for c in log[5:] if c.committer_date - c.author_date > 3600)
    since = datetime.fromtimestamp(rebased.committer_date, UTC).isoformat()
    items, _ = follow(http, f"{api}/repos/acme/api/commits", since=since, per_page=100)
    shas = [c["sha"] for c in items]
    assert rebased.sha in shas  # authored before `since`, committed at it
    assert shas == [c.sha for c in log if c.committer_date >= rebased.committer_date]
    until = datetime.fromtimestamp(rebased.committer_date, UTC).isoformat()
    older, _ = follow(http, f"{api}/repos/acme/api/commits", until=until, per_page=100)
    assert older[0]["sha"] == rebased.sha
    # sha= a branch other than the default one.
    release = http.get(f"{api}/repos/acme/api/commits", params={"sha": "release/1.x"}).json()
    assert release[0]["sha"] == repo.branches["release/1.x"].head
    assert release[0]["sha"] not in {c.sha for c in log}


def test_single_commit_and_unknown_ref(
    server: SandboxServer, api: str, http: requests.Session
) -> None:
    repo = service_of(server).data.repos["acme/api"]
    commit = repo.branch_log()[3]
    body = http.get(f"{api}/repos/acme/api/commits/{commit.sha}").json()
    assert body["stats"]["additions"] == commit.additions
    assert body["commit"]["committer"]["date"].endswith("Z")
    missing = http.get(f"{api}/repos/acme/api/commits/deadbeef")
    assert missing.status_code == 422
    assert missing.json()["message"] == "No commit found for SHA: deadbeef"


def test_branches_and_users(server: SandboxServer, api: str, http: requests.Session) -> None:
    repo = service_of(server).data.repos["acme/api"]
    branches, _ = follow(http, f"{api}/repos/acme/api/branches", per_page=100)
    assert {b["name"] for b in branches} == set(repo.branches)
    slash = next(b for b in repo.branches if "/" in b)
    assert http.get(f"{api}/repos/acme/api/branches/{slash}").json()["name"] == slash
    bot = http.get(f"{api}/users/dependabot%5Bbot%5D").json()
    assert bot["type"] == "Bot"
    me = http.get(f"{api}/user").json()
    assert me["login"] == service_of(server).data.viewer.login


# -- conditional requests and rate-limit headers ------------------------------------------


def test_etag_304_costs_no_rate_limit(server: SandboxServer, api: str) -> None:
    url = f"{api}/repos/acme/api/pulls"
    first = requests.get(url, headers=AUTH)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    remaining = int(first.headers["X-RateLimit-Remaining"])
    server.log.reset()
    again = requests.get(url, headers={**AUTH, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert int(again.headers["X-RateLimit-Remaining"]) == remaining  # not charged
    # The strong form of the same tag matches too (If-None-Match compares weakly).
    strong = requests.get(url, headers={**AUTH, "If-None-Match": etag.removeprefix("W/")})
    assert strong.status_code == 304
    changed = requests.get(url, headers={**AUTH, "If-None-Match": 'W/"other"'})
    assert changed.status_code == 200
    assert int(changed.headers["X-RateLimit-Remaining"]) == remaining - 1
    assert server.log.rate_limit_cost == 1
    # A single commit never changes: strong ETag.
    sha = service_of(server).data.repos["acme/api"].branch_log()[0].sha
    assert (
        not requests.get(f"{api}/repos/acme/api/commits/{sha}", headers=AUTH)
        .headers["ETag"]
        .startswith("W/")
    )


def test_etag_changes_when_the_data_does(server: SandboxServer, api: str) -> None:
    url = f"{api}/repos/acme/web/issues"
    etag = requests.get(url, headers=AUTH, params={"state": "all"}).headers["ETag"]
    server.evolve(20)
    after = requests.get(url, headers={**AUTH, "If-None-Match": etag}, params={"state": "all"})
    assert after.status_code == 200


def test_rate_limit_headers_on_every_response(api: str, http: requests.Session) -> None:
    for path in ("/repos/acme/api", "/repos/acme/nope", "/rate_limit"):
        response = http.get(api + path)
        for header in ("Limit", "Remaining", "Used", "Reset", "Resource"):
            assert f"X-RateLimit-{header}" in response.headers, (path, header)
        assert response.headers["X-RateLimit-Resource"] == "core"
    before = http.get(f"{api}/rate_limit")
    after = http.get(f"{api}/rate_limit")
    core = after.json()["resources"]["core"]
    assert core["remaining"] == before.json()["resources"]["core"]["remaining"]  # free
    assert after.json()["rate"] == core
    assert int(after.headers["X-RateLimit-Reset"]) > time.time()


# -- errors -------------------------------------------------------------------------------


def test_auth_failures_are_401_in_github_shape(api: str) -> None:
    missing = requests.get(f"{api}/repos/acme/api")
    assert missing.status_code == 401
    assert missing.json()["message"] == "Requires authentication"
    for header in ("token nope", "Bearer nope", "Basic Zm9vOmJhcg=="):
        wrong = requests.get(f"{api}/repos/acme/api", headers={"Authorization": header})
        assert wrong.status_code == 401
        assert wrong.json() == {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        }
        assert wrong.headers["X-RateLimit-Limit"] == "60"
    for header in (f"Bearer {GitHubService.TOKEN}", f"TOKEN {GitHubService.TOKEN}"):
        assert requests.get(f"{api}/repos/acme/api", headers={"Authorization": header}).ok


def test_unknown_paths_are_404_in_github_shape(api: str, http: requests.Session) -> None:
    for path in ("/repos/acme/api/pulls/99999", "/nope", "/repos/other/repo", "/users/nobody"):
        response = http.get(api + path)
        assert response.status_code == 404, path
        body = response.json()
        assert body["message"] == "Not Found" and body["status"] == "404"
        assert body["documentation_url"].startswith("https://docs.github.com/")
    # Owner and repository names are case-insensitive.
    assert http.get(f"{api}/repos/ACME/Api").status_code == 200


# -- rate limits (enforced) ---------------------------------------------------------------


@pytest.fixture
def limited() -> Iterator[SandboxServer]:
    policy = RateLimitPolicy(limit=5, window_s=1.5, burst=1000)
    service = GitHubService(SIZES["small"], seed=5, now=NOW, limits=policy)
    with SandboxServer(service) as srv:
        srv.set_faults(rate_limit=True)
        yield srv


def test_primary_limit_exhausted(limited: SandboxServer) -> None:
    url = f"{limited.url}/api/v3/repos/acme/api"
    statuses = [requests.get(url, headers=AUTH) for _ in range(5)]
    assert all(r.status_code == 200 for r in statuses)
    assert statuses[-1].headers["X-RateLimit-Remaining"] == "0"
    refused = requests.get(url, headers=AUTH)
    assert refused.status_code == 403
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.json()["message"].startswith("API rate limit exceeded for user ID ")
    reset = int(refused.headers["X-RateLimit-Reset"])
    assert limited.log.violations == 0
    requests.get(url, headers=AUTH)  # sent before the reset: the request log sees it
    assert limited.log.violations == 1
    # /rate_limit still answers when exhausted, and costs nothing.
    status = requests.get(f"{limited.url}/api/v3/rate_limit", headers=AUTH)
    assert status.status_code == 200 and status.json()["resources"]["core"]["remaining"] == 0
    time.sleep(max(0.0, reset - time.time()) + 0.05)
    assert requests.get(url, headers=AUTH).status_code == 200


def test_secondary_limit_sends_retry_after() -> None:
    policy = RateLimitPolicy(limit=1000, burst=3, burst_window_s=5, burst_retry_after_s=1)
    service = GitHubService(SIZES["small"], seed=5, now=NOW, limits=policy)
    with SandboxServer(service) as srv:
        srv.set_faults(rate_limit=True)
        url = f"{srv.url}/api/v3/repos/acme/api"
        for _ in range(3):
            assert requests.get(url, headers=AUTH).status_code == 200
        refused = requests.get(url, headers=AUTH)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert int(refused.headers["X-RateLimit-Remaining"]) > 0
        assert refused.json()["message"].startswith("You have exceeded a secondary rate limit")
        again = requests.get(url, headers=AUTH)  # ignoring Retry-After
        assert again.status_code == 429
        assert srv.log.violations == 1


def test_relaxed_mode_never_refuses(server: SandboxServer, api: str) -> None:
    assert not server.faults.rate_limit
    for _ in range(50):
        assert requests.get(f"{api}/repos/acme/api", headers=AUTH).status_code == 200


def test_pull_request_commits_are_capped_at_250() -> None:
    """Docs: "Lists a maximum of 250 commits for a pull request"."""
    service = GitHubService(SIZES["medium"], seed=5, now=NOW)
    repo, pull = next(
        (r, p) for r in service.data.repos.values() for p in r.pulls.values()
        if len(p.commit_shas) > 250
    )  # fmt: skip
    with SandboxServer(service) as srv:
        url = f"{srv.url}/api/v3/repos/{repo.full_name}/pulls/{pull.number}/commits"
        with requests.Session() as session:
            session.headers.update(AUTH)
            items, pages = follow(session, url, per_page=100)
        assert len(items) == 250 and pages == 3
        detail = requests.get(url.removesuffix("/commits"), headers=AUTH).json()
        assert detail["commits"] == len(pull.commit_shas) > 250
