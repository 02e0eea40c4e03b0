"""GitHub streams over a strict HTTP mock: what is asked, what is stored, what the cursor says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from responses import matchers

from connectors.base import StreamContext
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
from syncd import records as r
from syncd.errors import ConfigError
from tests.unit.github import payloads as p
from tests.unit.github.conftest import FakeTime, make_client, make_config

API = "https://api.github.com:443"  # PyGithub's connection names the port
REPO = "acme/api"
STARTED = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)


def _stream(cls: type, fake_time: FakeTime, context: RepoContext | None = None, **config: Any):
    cfg = make_config(**config)
    client, runtime = make_client(fake_time, cfg)
    return cls(client, cfg, runtime, context or RepoContext(REPO))


def _read(stream: Any, cursor: dict | None, started: datetime = STARTED, full: bool = False):
    return list(stream.read(cursor, StreamContext(REPO, started, full)))


def _of(batches: list[r.Batch], kind: type) -> list[Any]:
    return [rec for b in batches for rec in b.records if isinstance(rec, kind)]


def _issue(number: int, updated: str, **extra: Any) -> dict[str, Any]:
    return {**p.ISSUE, "id": 70000 + number, "number": number, "updated_at": updated, **extra}


ISSUE_PARAMS = {"state": "all", "sort": "updated", "direction": "desc", "per_page": "100"}


# -- issues --------------------------------------------------------------------------------


def test_first_read_lists_everything_newest_first_and_skips_pull_requests(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    page2 = f"{API}/repositories/500/issues?page=2"
    mocked.get(
        f"{API}/repos/acme/api/issues",
        json=[{**p.PR_AS_ISSUE, "updated_at": "2024-03-01T13:00:00Z"}, p.ISSUE],
        headers={"ETag": 'W/"i1"', "Link": f'<{page2}>; rel="next"'},
        match=[matchers.query_param_matcher(ISSUE_PARAMS)],
    )
    mocked.get(page2, json=[p.CLOSED_ISSUE], headers={"ETag": 'W/"i2"'})
    batches = _read(_stream(IssuesStream, fake_time), None)

    assert [[i.key for i in _of([b], r.Issue)] for b in batches] == [["acme/api#7"], ["acme/api#8"]]
    # not true before the last page is stored: no watermark yet
    assert batches[0].cursor["watermark"] is None
    final = batches[-1].cursor
    assert final["watermark"] == "2024-03-01T13:00:00Z"  # the PR item counts for the order
    assert final["etag"] == 'W/"i1"' and final["since"] is None
    assert final["seen"] == {}  # both are older than watermark - overlap: never listed again
    assert {a.login for a in _of(batches, r.Account)} == {"alicej", "bsmith-dev"}
    assert [rel.external_id for rel in _of(batches, r.Release)] == ["9003"]


def test_unchanged_issues_cost_one_free_conditional_request(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    cursor = {
        "v": 1,
        "watermark": "2024-03-01T13:00:00Z",
        "since": None,
        "etag": 'W/"i1"',
        "seen": {},
    }
    mocked.get(
        f"{API}/repos/acme/api/issues",
        status=304,
        headers={"ETag": 'W/"i1"'},
        match=[
            matchers.query_param_matcher(ISSUE_PARAMS),
            matchers.header_matcher({"If-None-Match": 'W/"i1"'}),
        ],
    )
    assert _read(_stream(IssuesStream, fake_time), cursor) == []


def test_incremental_read_stops_at_the_watermark_minus_overlap_and_skips_seen_items(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    cursor = {
        "v": 1,
        "watermark": "2024-03-01T12:00:00Z",
        "since": "2024-03-01T11:00:00Z",
        "etag": 'W/"old"',
        "seen": {"7": "2024-03-01T12:00:00Z"},
    }
    mocked.get(
        f"{API}/repos/acme/api/issues",
        json=[
            _issue(11, "2024-03-02T09:00:00Z"),  # changed since
            _issue(7, "2024-03-01T12:00:00Z"),  # stored last time, unchanged
            _issue(8, "2024-03-01T11:57:00Z"),  # inside the overlap, not seen: read
            _issue(5, "2024-03-01T11:00:00Z"),  # older than watermark - overlap: stop here
        ],
        # a next page exists, but nothing on it can be newer: it must not be asked for
        headers={"ETag": 'W/"new"', "Link": f'<{API}/repositories/500/issues?page=2>; rel="next"'},
        match=[
            matchers.query_param_matcher({**ISSUE_PARAMS, "since": "2024-03-01T11:00:00Z"}),
            matchers.header_matcher({"If-None-Match": 'W/"old"'}),
        ],
    )
    batches = _read(_stream(IssuesStream, fake_time), cursor)
    assert [i.key for i in _of(batches, r.Issue)] == ["acme/api#11", "acme/api#8"]
    final = batches[-1].cursor
    assert final["watermark"] == "2024-03-02T09:00:00Z"
    assert final["since"] == "2024-03-01T11:00:00Z"  # stable: the ETag stays usable
    assert final["etag"] == 'W/"new"'
    assert final["seen"] == {"11": "2024-03-02T09:00:00Z"}  # older ones fell below the floor


def test_since_moves_up_by_reading_the_list_under_its_new_url(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    cursor = {
        "v": 1,
        "watermark": "2024-03-04T12:00:00Z",
        "since": "2024-03-01T00:00:00Z",  # more than a day behind the watermark
        "etag": 'W/"old"',
        "seen": {},
    }
    url = f"{API}/repos/acme/api/issues"
    mocked.get(
        url,
        json=[_issue(11, "2024-03-04T13:00:00Z"), _issue(3, "2024-03-02T00:00:00Z")],
        headers={"ETag": 'W/"stale-url"'},
        match=[matchers.query_param_matcher({**ISSUE_PARAMS, "since": "2024-03-01T00:00:00Z"})],
    )
    mocked.get(
        url,
        json=[_issue(11, "2024-03-04T13:00:00Z")],
        headers={"ETag": 'W/"new-url"'},
        match=[matchers.query_param_matcher({**ISSUE_PARAMS, "since": "2024-03-04T11:55:00Z"})],
    )
    batches = _read(_stream(IssuesStream, fake_time), cursor)
    assert [i.key for i in _of(batches, r.Issue)] == ["acme/api#11"]
    final = batches[-1].cursor
    assert (final["since"], final["etag"]) == ("2024-03-04T11:55:00Z", 'W/"new-url"')
    assert "If-None-Match" not in mocked.calls[1].request.headers


def test_watermark_never_passes_the_start_of_the_run(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    mocked.get(
        f"{API}/repos/acme/api/issues",
        json=[_issue(11, "2024-03-05T12:00:30Z")],  # updated after the run started
        headers={"ETag": 'W/"x"'},
    )
    batches = _read(_stream(IssuesStream, fake_time), None)
    assert batches[-1].cursor["watermark"] == "2024-03-05T12:00:00Z"
    assert batches[-1].cursor["seen"] == {}  # too fresh to trust as seen


def test_a_malformed_issue_is_reported_and_the_rest_stored(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    broken = _issue(13, "2024-03-01T10:00:00Z", state="sideways")
    mocked.get(
        f"{API}/repos/acme/api/issues",
        json=[broken, _issue(12, "2024-03-01T09:00:00Z")],
        headers={"ETag": 'W/"x"'},
    )
    batches = _read(_stream(IssuesStream, fake_time), None)
    assert [i.key for i in _of(batches, r.Issue)] == ["acme/api#12"]
    errors = [e for b in batches for e in b.errors]
    assert [(e.item, e.reason) for e in errors] == [
        ("acme/api#13", "state 'sideways' is neither open nor closed")
    ]
    # Not stored, so not "seen": read again while it is inside the overlap.
    assert batches[-1].cursor["seen"] == {}


# -- pull requests -------------------------------------------------------------------------

PULL_PARAMS = ISSUE_PARAMS


def _register_pull(mocked: responses.RequestsMock, pull: dict, reviews: list) -> None:
    n = pull["number"]
    mocked.get(
        f"{API}/repos/acme/api/pulls/{n}",
        json={**pull, "additions": 10 * n, "deletions": n, "changed_files": 2},
    )
    mocked.get(
        f"{API}/repos/acme/api/pulls/{n}/reviews",
        json=reviews,
        match=[matchers.query_param_matcher({"per_page": "100"})],
    )


def test_pull_requests_get_details_and_reviews_only_when_they_changed(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    url = f"{API}/repos/acme/api/pulls"
    mocked.get(
        url,
        json=[p.OPEN_DRAFT, p.PULL],
        headers={"ETag": 'W/"p1"'},
        match=[matchers.query_param_matcher(PULL_PARAMS)],
    )
    _register_pull(mocked, p.OPEN_DRAFT, [])
    _register_pull(mocked, p.PULL, p.REVIEWS)
    stream = _stream(PullRequestsStream, fake_time)
    first = _read(stream, None)
    pulls = {pr.number: pr for pr in _of(first, r.PullRequest)}
    assert (pulls[9].state, pulls[9].additions, pulls[10].is_draft) == ("merged", 90, True)
    assert [(v.external_id, v.pull_request_external_id) for v in _of(first, r.Review)] == [
        ("80001", "90009"),
        ("80002", "90009"),
    ]
    cursor = first[-1].cursor
    assert cursor["watermark"] == "2024-03-01T12:30:00Z"

    # Next run: one more pull request changed; the two known ones are listed again (overlap)
    # but cost no detail or review requests.
    changed = {**p.OPEN_DRAFT, "id": 90011, "number": 11, "updated_at": "2024-03-05T09:00:00Z"}
    mocked.get(
        url,
        json=[changed, p.OPEN_DRAFT, p.PULL],
        headers={"ETag": 'W/"p2"'},
        match=[
            matchers.query_param_matcher(PULL_PARAMS),
            matchers.header_matcher({"If-None-Match": 'W/"p1"'}),
        ],
    )
    _register_pull(mocked, changed, [])
    second = _read(stream, cursor, started=datetime(2024, 3, 5, 12, tzinfo=UTC))
    assert [pr.number for pr in _of(second, r.PullRequest)] == [11]
    assert second[-1].cursor["etag"] == 'W/"p2"'


def test_sizes_only_for_open_and_recently_updated_pull_requests(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    old_closed = {**p.PULL, "id": 90001, "number": 1, "updated_at": "2023-01-01T00:00:00Z"}
    old_open = {**p.OPEN_DRAFT, "id": 90002, "number": 2, "updated_at": "2023-01-01T00:00:00Z"}
    mocked.get(
        f"{API}/repos/acme/api/pulls", json=[p.PULL, old_open, old_closed], headers={"ETag": '"e"'}
    )
    _register_pull(mocked, p.PULL, [])  # closed, but updated within 30 days: sizes
    _register_pull(mocked, old_open, [])  # open: sizes
    mocked.get(f"{API}/repos/acme/api/pulls/1/reviews", json=p.REVIEWS)  # reviews only
    batches = _read(_stream(PullRequestsStream, fake_time, pull_request_workers=3), None)
    sizes = {pr.number: pr.additions for pr in _of(batches, r.PullRequest)}
    assert sizes == {9: 90, 2: 20, 1: None}
    assert len(_of(batches, r.Review)) == 2


def test_a_malformed_pull_request_is_reported_and_the_rest_stored(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    broken = {**p.OPEN_DRAFT, "id": 90012, "number": 12, "state": "weird"}
    mocked.get(f"{API}/repos/acme/api/pulls", json=[broken, p.PULL], headers={"ETag": '"e"'})
    _register_pull(mocked, p.PULL, [])
    _register_pull(mocked, broken, [])
    batches = _read(_stream(PullRequestsStream, fake_time), None)
    assert [pr.number for pr in _of(batches, r.PullRequest)] == [9]
    assert [e.item for b in batches for e in b.errors] == ["acme/api#12"]


# -- commits ---------------------------------------------------------------------------------


def _c(sha: str, parents: list[str], day: int, hour: int = 0, msg: str = "x") -> dict:
    return p.commit(
        sha * 40, [q * 40 for q in parents], f"2024-03-{day:02d}T{hour:02d}:00:00Z", msg
    )


def test_commits_of_a_merge_are_found_though_older_than_the_old_head(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    """main: 1 <- 2 <- 3; a pull request branched at 2 (commits 4, 5) is merged by 6. Its
    commits are dated before 3, the old head: a since-window would miss them."""
    context = RepoContext(REPO, default_branch="main")
    stream = _stream(CommitsStream, fake_time, context, per_page=2)
    url = f"{API}/repos/acme/api/commits"
    params = {"sha": "main", "per_page": "2"}
    mocked.get(
        url,
        json=[_c("3", ["2"], 3), _c("2", ["1"], 2)],
        headers={"ETag": '"c1"', "Link": f'<{url}?sha=main&per_page=2&page=2>; rel="next"'},
        match=[matchers.query_param_matcher(params)],
    )
    mocked.get(
        url,
        json=[_c("1", [], 1)],
        match=[matchers.query_param_matcher({**params, "page": "2"})],
    )
    first = _read(stream, None)
    assert [c.sha[0] for c in _of(first, r.Commit)] == ["3", "2", "1"]
    cursor = first[-1].cursor
    assert cursor["branches"]["main"] == {"head": "3" * 40, "etag": '"c1"'}
    assert cursor["default_branch"] == "main"

    page = {**params}
    mocked.get(
        url,
        json=[_c("6", ["3", "5"], 4), _c("3", ["2"], 3)],
        headers={"ETag": '"c2"', "Link": f'<{url}?sha=main&per_page=2&page=2>; rel="next"'},
        match=[
            matchers.query_param_matcher(page),
            matchers.header_matcher({"If-None-Match": '"c1"'}),
        ],
    )
    mocked.get(
        url,
        json=[_c("5", ["4"], 2, 12), _c("4", ["2"], 2, 6)],
        headers={"Link": f'<{url}?sha=main&per_page=2&page=3>; rel="next"'},
        match=[matchers.query_param_matcher({**params, "page": "2"})],
    )
    # page 3 (commits 2 and 1) is not asked for: 4's parent 2 is reachable from the old head
    second = _read(stream, cursor)
    assert [c.sha[0] for c in _of(second, r.Commit)] == ["6", "5", "4"]
    assert second[-1].cursor["branches"]["main"]["head"] == "6" * 40


def test_unchanged_branch_costs_one_free_request_and_missing_branches_are_skipped(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    context = RepoContext(REPO, default_branch="main")
    stream = _stream(CommitsStream, fake_time, context, branches=["release/1.x"])
    cursor = {
        "v": 1,
        "default_branch": "main",
        "branches": {"main": {"head": "3" * 40, "etag": '"c1"'}},
    }
    url = f"{API}/repos/acme/api/commits"
    mocked.get(
        url, status=304, match=[matchers.query_param_matcher({"sha": "main", "per_page": "100"})]
    )
    mocked.get(
        url,
        status=404,
        json={"message": "No commit found for SHA: release/1.x"},
        match=[matchers.query_param_matcher({"sha": "release/1.x", "per_page": "100"})],
    )
    assert _read(stream, cursor) == []


# -- repository, milestones, users ---------------------------------------------------------


def test_repository_unchanged_keeps_its_default_branch(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    context = RepoContext(REPO)
    stream = _stream(RepositoryStream, fake_time, context)
    mocked.get(f"{API}/repos/acme/api", json=p.REPOSITORY, headers={"ETag": '"r"'})
    first = _read(stream, None)
    assert [s.key for s in _of(first, r.Scope)] == ["acme/api"]
    mocked.get(f"{API}/repos/acme/api", status=304)
    context.default_branch = None
    assert _read(stream, first[-1].cursor) == []
    assert context.default_branch == "main"


def test_missing_repository_is_a_config_error(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    mocked.get(f"{API}/repos/acme/api", status=404, json={"message": "Not Found"})
    with pytest.raises(ConfigError, match="acme/api does not exist or is not visible"):
        _read(_stream(RepositoryStream, fake_time), None)


def test_milestones_are_reread_page_by_page_conditionally(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    stream = _stream(MilestonesStream, fake_time, per_page=1)
    url = f"{API}/repos/acme/api/milestones"
    closed = {**p.MILESTONE, "id": 9004, "number": 4, "state": "closed"}
    mocked.get(
        url, json=[p.MILESTONE], headers={"ETag": '"m1"', "Link": f'<{url}?page=2>; rel="next"'}
    )
    mocked.get(url, json=[closed], headers={"ETag": '"m2"'})
    first = _read(stream, None)
    assert [(m.name, m.released) for m in _of(first, r.Release)] == [
        ("v1.4", False),
        ("v1.4", True),
    ]
    assert first[-1].cursor["etags"] == ['"m1"', '"m2"']
    mocked.get(url, status=304, match=[matchers.header_matcher({"If-None-Match": '"m1"'})])
    mocked.get(url, status=304, match=[matchers.header_matcher({"If-None-Match": '"m2"'})])
    assert _read(stream, first[-1].cursor) == []


def test_users_are_read_once_with_their_verified_public_email(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    context = RepoContext(REPO)
    context.users.update({"1001": "alicej"})
    stream = _stream(UsersStream, fake_time, context)
    mocked.get(
        f"{API}/users/alicej",
        json=p.profile("alicej", 1001, "Alice Johnson", "alice.johnson@acme.example"),
        headers={"ETag": '"u"'},
    )
    first = _read(stream, None)
    (account,) = _of(first, r.Account)
    assert (account.login, account.email, account.email_verified) == (
        "alicej",
        "alice.johnson@acme.example",
        True,
    )
    # Seen again in the next run, fresh enough: written again from the cursor (a list
    # payload, which has no e-mail, must not leave it less known), with no request.
    again = _read(stream, first[-1].cursor)
    assert _of(again, r.Account) == [account]
    # Not seen in a run: nothing to do at all.
    context.users.clear()
    assert _read(stream, first[-1].cursor) == []


def test_a_user_seen_in_two_repositories_is_read_once(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    profiles = ProfileCache()
    streams = []
    for repo in ("acme/api", "acme/web"):
        context = RepoContext(repo)
        context.users.update({"1001": "alicej"})
        cfg = make_config(repos=["acme/api", "acme/web"])
        client, runtime = make_client(fake_time, cfg)
        streams.append(UsersStream(client, cfg, runtime, context, profiles=profiles))
    mocked.get(
        f"{API}/users/alicej",
        json=p.profile("alicej", 1001, "Alice Johnson", None),
        headers={"ETag": '"u"'},
    )
    accounts = [_of(_read(s, None), r.Account) for s in streams]
    assert accounts[0] == accounts[1] and accounts[0][0].display_name == "Alice Johnson"


# -- repositories with Issues disabled, empty repositories -------------------------------


def test_issues_disabled_in_the_repository_skip_the_issues_stream(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    context = RepoContext(REPO)
    repository = _stream(RepositoryStream, fake_time, context)
    mocked.get(
        f"{API}/repos/acme/api", json={**p.REPOSITORY, "has_issues": False}, headers={"ETag": '"r"'}
    )
    first = _read(repository, None)
    assert context.has_issues is False and first[-1].cursor["has_issues"] is False
    # No request at all: the strict mock refuses any /issues call.
    assert _read(_stream(IssuesStream, fake_time, context), None) == []

    # Unchanged repository (304): still known from the cursor.
    mocked.get(f"{API}/repos/acme/api", status=304)
    context = RepoContext(REPO)
    assert _read(_stream(RepositoryStream, fake_time, context), first[-1].cursor) == []
    assert context.has_issues is False and context.repository_unchanged
    assert _read(_stream(IssuesStream, fake_time, context), None) == []


def test_issues_answering_410_are_an_empty_list(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    """Issues disabled after the repository payload was read (or a cursor from before
    has_issues was kept): 410 Gone is "no issues", not a failed run."""
    mocked.get(
        f"{API}/repos/acme/api/issues",
        status=410,
        json={
            "message": "Issues are disabled for this repo",
            "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues",
        },
    )
    cursor = {"v": 1, "watermark": "2024-03-01T12:00:00Z", "since": None, "etag": '"i"', "seen": {}}
    assert _read(_stream(IssuesStream, fake_time, RepoContext(REPO, has_issues=True)), cursor) == []


def test_an_empty_repository_has_no_commits_and_costs_nothing_while_unchanged(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    url = f"{API}/repos/acme/api/commits"
    empty = {
        "message": "Git Repository is empty.",
        "documentation_url": "https://docs.github.com/rest/commits/commits#list-commits",
    }
    mocked.get(url, status=409, json=empty)
    context = RepoContext(REPO, default_branch="main")
    first = _read(_stream(CommitsStream, fake_time, context), None)
    assert _of(first, r.Commit) == []
    cursor = first[-1].cursor
    assert cursor["branches"]["main"]["head"] is None

    # The repository payload answered 304: nothing pushed since, so no commits request.
    unchanged = RepoContext(REPO, default_branch="main", repository_unchanged=True)
    assert _read(_stream(CommitsStream, fake_time, unchanged), cursor) == []

    # The repository changed (e.g. its first push): asked again.
    mocked.get(url, json=[_c("1", [], 1)], headers={"ETag": '"c1"'})
    changed = _read(
        _stream(CommitsStream, fake_time, RepoContext(REPO, default_branch="main")), cursor
    )
    assert [c.sha for c in _of(changed, r.Commit)] == ["1" * 40]
    assert changed[-1].cursor["branches"]["main"] == {"head": "1" * 40, "etag": '"c1"'}


# -- items that could not be stored are read again ------------------------------------------


def test_a_malformed_issue_is_read_again_next_run_though_the_list_is_unchanged(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    url = f"{API}/repos/acme/api/issues"
    broken = _issue(13, "2024-03-01T10:00:00Z", state="sideways")
    mocked.get(url, json=[broken, _issue(12, "2024-03-01T09:00:00Z")], headers={"ETag": '"i1"'})
    first = _read(_stream(IssuesStream, fake_time), None)
    cursor = first[-1].cursor
    # The watermark moved past #13 (it is the newest): only the retry set remembers it.
    assert (cursor["watermark"], cursor["retry"]) == ("2024-03-01T10:00:00Z", ["13"])

    # Next run: #13 is read on its own (fixed meanwhile), although the list answers 304.
    mocked.get(f"{url}/13", json=_issue(13, "2024-03-01T10:00:00Z"))
    mocked.get(url, status=304, match=[matchers.header_matcher({"If-None-Match": '"i1"'})])
    second = _read(_stream(IssuesStream, fake_time), cursor)
    assert [i.key for i in _of(second, r.Issue)] == ["acme/api#13"]
    assert second[-1].cursor["retry"] == []
    assert [e for b in second for e in b.errors] == []


def test_an_issue_still_broken_stays_owed_and_a_deleted_one_is_reported_and_dropped(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    url = f"{API}/repos/acme/api/issues"
    cursor = {"v": 1, "watermark": "2024-03-01T13:00:00Z", "etag": '"i1"', "retry": ["7", "13"]}
    mocked.get(f"{url}/7", status=410, json={"message": "This issue was deleted"})
    mocked.get(f"{url}/13", json=_issue(13, "2024-03-01T10:00:00Z", state="sideways"))
    mocked.get(url, status=304)
    batches = _read(_stream(IssuesStream, fake_time), cursor)
    assert batches[-1].cursor["retry"] == ["13"]
    errors = {e.item: e.reason for b in batches for e in b.errors}
    assert errors["acme/api#13"] == "state 'sideways' is neither open nor closed"
    assert "deleted" in errors["acme/api#7"]


def test_a_pull_request_whose_reviews_failed_is_read_again_next_run(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    url = f"{API}/repos/acme/api/pulls"
    mocked.get(url, json=[p.OPEN_DRAFT, p.PULL], headers={"ETag": '"p1"'})
    _register_pull(mocked, p.OPEN_DRAFT, [])
    mocked.get(f"{url}/9", json={**p.PULL, "additions": 90, "deletions": 9, "changed_files": 2})
    mocked.get(f"{url}/9/reviews", status=422, json={"message": "Unprocessable"})
    first = _read(_stream(PullRequestsStream, fake_time), None)
    assert [pr.number for pr in _of(first, r.PullRequest)] == [10]
    assert first[-1].cursor["retry"] == ["9"]

    mocked.get(f"{url}/9", json={**p.PULL, "additions": 90, "deletions": 9, "changed_files": 2})
    mocked.get(f"{url}/9/reviews", json=p.REVIEWS)
    mocked.get(url, status=304, match=[matchers.header_matcher({"If-None-Match": '"p1"'})])
    second = _read(_stream(PullRequestsStream, fake_time), first[-1].cursor)
    (pull,) = _of(second, r.PullRequest)
    assert (pull.number, pull.state, pull.additions) == (9, "merged", 90)
    assert len(_of(second, r.Review)) == 2
    assert second[-1].cursor["retry"] == []


def test_a_pull_request_deleted_between_list_and_details_is_reported_not_dropped_silently(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    url = f"{API}/repos/acme/api/pulls"
    mocked.get(url, json=[p.OPEN_DRAFT, p.PULL], headers={"ETag": '"p1"'})
    mocked.get(f"{url}/10", status=404, json={"message": "Not Found"})
    _register_pull(mocked, p.PULL, [])
    batches = _read(_stream(PullRequestsStream, fake_time), None)
    assert [pr.number for pr in _of(batches, r.PullRequest)] == [9]
    (error,) = [e for b in batches for e in b.errors]
    assert error.item == "acme/api#10" and "deleted" in error.reason
    assert batches[-1].cursor["retry"] == []  # gone: nothing to read again


# -- long first reads: a cursor of constant size -----------------------------------------------


def _pull_item(number: int, updated: str) -> dict[str, Any]:
    return {**p.PULL, "id": 90000 + number, "number": number, "updated_at": updated}


def test_a_long_first_read_keeps_its_cursor_small_and_a_restart_skips_what_was_stored(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    url = f"{API}/repos/acme/api/pulls"
    page2, page3 = f"{API}/repositories/500/pulls?page=2", f"{API}/repositories/500/pulls?page=3"
    # Six closed pull requests, two per page, the newest two minutes apart, then days apart.
    items = [
        _pull_item(6, "2024-03-01T12:00:00Z"),
        _pull_item(5, "2024-03-01T11:58:00Z"),
        _pull_item(4, "2024-02-20T00:00:00Z"),
        _pull_item(3, "2024-02-19T00:00:00Z"),
        _pull_item(2, "2024-02-18T00:00:00Z"),
        _pull_item(1, "2024-02-17T00:00:00Z"),
    ]
    mocked.get(url, json=items[:2], headers={"ETag": '"p"', "Link": f'<{page2}>; rel="next"'})
    mocked.get(page2, json=items[2:4], headers={"Link": f'<{page3}>; rel="next"'})
    mocked.get(page3, json=items[4:])  # read ahead with the second batch
    for item in items[:4]:
        mocked.get(f"{url}/{item['number']}/reviews", json=[])
    stream = _stream(PullRequestsStream, fake_time, pull_request_sizes_for="1d")
    read = stream.read(None, StreamContext(REPO, STARTED, False))
    first, second = next(read), next(read)
    read.close()  # the process stops after storing two batches
    for batch in (first, second):
        # Only items within the overlap of the newest (the final floor) are listed as seen.
        assert batch.cursor["seen"] == {"6": "2024-03-01T12:00:00Z", "5": "2024-03-01T11:58:00Z"}
    assert second.cursor["stored_range"] == ["2024-02-19T00:00:00Z", "2024-03-01T12:00:00Z"]
    assert second.cursor["watermark"] is None

    # The restart lists from the top again; what the range covers costs no review request.
    mocked.get(url, json=items[:2], headers={"ETag": '"p"', "Link": f'<{page2}>; rel="next"'})
    mocked.get(page2, json=items[2:4], headers={"Link": f'<{page3}>; rel="next"'})
    mocked.get(page3, json=items[4:])
    for item in (items[3], *items[4:]):  # #3 sits on the range's open lower bound
        mocked.get(f"{url}/{item['number']}/reviews", json=[])
    rest = _read(stream, second.cursor)
    assert [pr.number for pr in _of(rest, r.PullRequest)] == [3, 2, 1]
    final = rest[-1].cursor
    assert final["stored_range"] is None and final["watermark"] == "2024-03-01T12:00:00Z"
    assert final["seen"] == {"6": "2024-03-01T12:00:00Z", "5": "2024-03-01T11:58:00Z"}


def test_a_profile_read_again_after_its_email_was_hidden_says_there_is_none(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    context = RepoContext(REPO)
    context.users.update({"1001": "alicej"})
    stream = _stream(UsersStream, fake_time, context, user_refresh="1d")
    url = f"{API}/users/alicej"
    mocked.get(url, json=p.profile("alicej", 1001, "Alice", "alice@acme.example"))
    first = _read(stream, None)
    mocked.get(url, json=p.profile("alicej", 1001, "Alice", None))
    later = datetime(2024, 3, 7, 12, 0, tzinfo=UTC)  # past user_refresh: read again
    second = _read(stream, first[-1].cursor, started=later)
    (account,) = _of(second, r.Account)
    assert (account.email, account.email_verified) == (None, False)
    # A profile record is the whole profile: the store clears the address instead of
    # keeping the one it knew.
    assert account.complete
    # ... and so is the copy written from the cursor while the profile is fresh.
    (copy,) = _of(_read(stream, second[-1].cursor, started=later), r.Account)
    assert copy == account
