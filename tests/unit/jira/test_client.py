"""The Jira client over a strict HTTP mock: auth, paging, changelogs, errors."""

from __future__ import annotations

import base64
import time

import pytest
import responses
from responses import matchers

from connectors.http import HttpPolicy, RequestBudget, RetrySettings
from connectors.jira.client import JiraClient
from connectors.jira.config import JiraSourceConfig
from syncd.errors import AuthError, ConfigError, FatalError, TransientError

BASE = "https://acme.atlassian.net"
DC = "https://jira.acme.example"
TOKEN = "ATATT3xFfGF0-very-secret"


def make_client(
    *, url=BASE, email="pm@acme.example", deployment="cloud", attempts=3, budget=None, **cfg
):
    config = JiraSourceConfig(
        name="acme-jira",
        kind="jira",
        url=url,
        email=email,
        token=TOKEN,
        projects=["PROJ"],
        deployment=deployment,
        **cfg,
    )
    budget = budget or RequestBudget("acme-jira")
    policy = HttpPolicy(budget, RetrySettings(max_attempts=attempts, backoff_base_s=0.001))
    return JiraClient(config, budget, policy=policy)


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_cloud_authenticates_with_basic_email_and_token(http):
    expected = "Basic " + base64.b64encode(f"pm@acme.example:{TOKEN}".encode()).decode()
    http.get(
        f"{BASE}/rest/api/2/myself",
        json={"accountId": "a1", "timeZone": "Europe/Berlin"},
        match=[matchers.header_matcher({"Authorization": expected})],
    )
    assert make_client().time_zone().key == "Europe/Berlin"


def test_data_center_authenticates_with_bearer_personal_access_token(http):
    http.get(f"{DC}/rest/api/2/myself", json={"name": "svc", "timeZone": "Asia/Kolkata"})
    client = make_client(url=DC, email=None, deployment="datacenter")
    assert client.time_zone().key == "Asia/Kolkata"
    assert http.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_deployment_is_told_by_the_user_resource_read_for_the_time_zone(http):
    http.get(f"{DC}/rest/api/2/myself", json={"name": "svc", "key": "JIRAUSER1", "timeZone": "UTC"})
    client = make_client(url=DC, email=None, deployment="auto")
    assert client.deployment() == "datacenter"
    assert client.api == "2"
    assert client.time_zone().key == "UTC"  # one request for all three


def test_cloud_users_have_an_account_id(http):
    http.get(f"{BASE}/rest/api/2/myself", json={"accountId": "5b10", "timeZone": "UTC"})
    assert make_client(deployment="auto").deployment() == "cloud"


def test_server_info_says_which_deployment_for_doctor(http):
    http.get(
        f"{DC}/rest/api/2/serverInfo",
        json={"version": "9.12.7", "versionNumbers": [9, 12, 7], "deploymentType": "Server"},
    )
    client = make_client(url=DC, email=None, deployment="auto")
    assert client.server_info().deployment == "datacenter"
    assert client.deployment() == "datacenter"


def test_only_the_retry_policy_retries(http):
    http.get(f"{BASE}/rest/api/2/myself", status=503, body="<html>busy</html>")
    with pytest.raises(TransientError):
        make_client(attempts=1).myself()
    assert len(http.calls) == 1  # one attempt allowed: one request, no library retry

    http.get(f"{BASE}/rest/api/2/myself", status=502, body="bad gateway")
    http.get(f"{BASE}/rest/api/2/myself", json={"accountId": "a1", "timeZone": "UTC"})
    assert make_client(attempts=3).myself()["accountId"] == "a1"


def test_401_names_the_source_and_never_the_token(http):
    http.get(f"{BASE}/rest/api/2/myself", status=401, json={"errorMessages": ["no"]})
    with pytest.raises(AuthError) as info:
        make_client().myself()
    text = str(info.value)
    assert "acme-jira" in text and "check the token" in text
    assert TOKEN not in text and "Basic" not in text and TOKEN not in repr(info.value.__cause__)


def test_429_retry_after_is_honoured_before_the_next_send(http):
    budget = RequestBudget("acme-jira")
    budget.record_sends = True
    http.get(f"{BASE}/rest/api/2/myself", status=429, headers={"Retry-After": "0.3"})
    http.get(f"{BASE}/rest/api/2/myself", json={"accountId": "a1", "timeZone": "UTC"})
    make_client(budget=budget).myself()
    first, second = budget.send_times
    assert second - first >= 0.3


def test_truncated_json_page_is_retried(http):
    http.get(f"{BASE}/rest/api/2/myself", body='{"accountId": "a1", "time')
    http.get(f"{BASE}/rest/api/2/myself", json={"accountId": "a1", "timeZone": "UTC"})
    assert make_client().myself()["timeZone"] == "UTC"


def test_missing_time_zone_asks_for_configuration(http):
    http.get(f"{BASE}/rest/api/2/myself", json={"accountId": "a1"})
    with pytest.raises(ConfigError, match="set time_zone"):
        make_client().time_zone()


def test_configured_time_zone_needs_no_request(http):
    assert make_client(time_zone="Asia/Tokyo").time_zone().key == "Asia/Tokyo"


def test_myself_is_reread_after_a_minute():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as http:
        now = [100.0]
        client = make_client()
        client._clock = lambda: now[0]
        http.get(f"{BASE}/rest/api/2/myself", json={"accountId": "a", "timeZone": "UTC"})
        http.get(f"{BASE}/rest/api/2/myself", json={"accountId": "a", "timeZone": "Asia/Tokyo"})
        assert client.time_zone().key == "UTC"
        now[0] += 30
        assert client.time_zone().key == "UTC"  # cached
        now[0] += 31
        assert client.time_zone().key == "Asia/Tokyo"
        assert len(http.calls) == 2


def _issue(n: int) -> dict:
    return {"id": str(n), "key": f"PROJ-{n}"}


def test_cloud_search_follows_next_page_token_until_is_last(http):
    url = f"{BASE}/rest/api/3/search/jql"
    base = {"jql": "project = PROJ", "fields": ["summary"], "maxResults": 2, "expand": "changelog"}
    http.post(
        url,
        json={"issues": [_issue(1), _issue(2)], "nextPageToken": "t1", "isLast": False},
        match=[matchers.json_params_matcher(base)],
    )
    http.post(
        url,
        json={"issues": [_issue(3), _issue(4)], "nextPageToken": "t2", "isLast": False},
        match=[matchers.json_params_matcher({**base, "nextPageToken": "t1"})],
    )
    http.post(
        url,
        json={"issues": [_issue(5)], "isLast": True},
        match=[matchers.json_params_matcher({**base, "nextPageToken": "t2"})],
    )
    pages = list(
        make_client().search("project = PROJ", fields=["summary"], changelog=True, page_size=2)
    )
    assert [[i["id"] for i in page.issues] for page in pages] == [["1", "2"], ["3", "4"], ["5"]]
    assert [page.last for page in pages] == [False, False, True]


def test_cloud_search_refuses_to_loop_on_a_repeated_token(http):
    url = f"{BASE}/rest/api/3/search/jql"
    http.post(url, json={"issues": [_issue(1)], "nextPageToken": "same", "isLast": False})
    http.post(url, json={"issues": [_issue(2)], "nextPageToken": "same", "isLast": False})
    with pytest.raises(FatalError, match="repeated a page token"):
        list(make_client().search("x", fields=["id"], changelog=False, page_size=1))


def _dc_search(http, start: int, ids: list[int], total: int, size: int = 3):
    http.post(
        f"{DC}/rest/api/2/search",
        json={
            "startAt": start,
            "maxResults": size,
            "total": total,
            "issues": [_issue(n) for n in ids],
        },
        match=[matchers.json_params_matcher({"startAt": start}, strict_match=False)],
    )


def test_data_center_pages_by_offset_rereading_one_issue_to_check_nothing_moved(http):
    _dc_search(http, 0, [1, 2, 3], total=7)
    _dc_search(http, 2, [3, 4, 5], total=7)
    _dc_search(http, 4, [5, 6, 7], total=7)
    client = make_client(url=DC, email=None, deployment="datacenter")
    pages = list(client.search("project = OPS", fields=["id"], changelog=False, page_size=3))
    assert [[i["id"] for i in page.issues] for page in pages] == [
        ["1", "2", "3"],
        ["4", "5"],
        ["6", "7"],
    ]
    assert pages[-1].last


def test_data_center_paging_finds_its_place_again_when_an_update_shifts_the_results(http):
    """Issue 2 is updated between the pages and moves to the end: a plain offset would
    step over issue 4. The anchor (3) is not where it was, so the page before is read and
    paging goes on after the last issue of the previous page found there."""
    _dc_search(http, 0, [1, 2, 3], total=5)
    _dc_search(http, 2, [4, 5, 2], total=5)  # 1, 3, 4, 5, 2 now: 3 moved up one place
    _dc_search(http, 0, [1, 3, 4], total=5)  # one page back: 3 found, 4 comes after it
    _dc_search(http, 2, [4, 5, 2], total=5)  # anchored at 4 again
    client = make_client(url=DC, email=None, deployment="datacenter")
    pages = list(client.search("q", fields=["id"], changelog=False, page_size=3))
    assert [[i["id"] for i in page.issues] for page in pages] == [
        ["1", "2", "3"],
        ["4"],
        ["5", "2"],
    ]


def test_data_center_paging_starts_over_when_its_place_is_lost(http):
    _dc_search(http, 0, [1, 2, 3], total=4)
    _dc_search(http, 2, [7, 8, 9], total=4)  # nothing of the previous page anywhere near
    _dc_search(http, 0, [7, 8, 9], total=4)
    _dc_search(http, 0, [1, 2, 4], total=3)  # read again from the start
    client = make_client(url=DC, email=None, deployment="datacenter")
    seen = [
        i["id"]
        for p in client.search("q", fields=["id"], changelog=False, page_size=3)
        for i in p.issues
    ]
    assert seen == ["1", "2", "3", "1", "2", "4"]


def test_cloud_changelogs_come_from_bulkfetch_across_pages(http):
    url = f"{BASE}/rest/api/3/changelog/bulkfetch"
    http.post(
        url,
        json={
            "issueChangeLogs": [
                {"issueId": "10", "changeHistories": [{"id": "1"}]},
                {"issueId": "11", "changeHistories": [{"id": "2"}]},
            ],
            "nextPageToken": "p2",
        },
        match=[matchers.json_params_matcher({"issueIdsOrKeys": ["10", "11"], "maxResults": 1000})],
    )
    http.post(
        url,
        json={"issueChangeLogs": [{"issueId": "10", "changeHistories": [{"id": "3"}]}]},
        match=[matchers.json_params_matcher({"nextPageToken": "p2"}, strict_match=False)],
    )
    got = make_client().changelogs(["10", "11"])
    assert got == {"10": [{"id": "1"}, {"id": "3"}], "11": [{"id": "2"}]}


def test_without_bulkfetch_cloud_pages_each_issue_changelog(http):
    http.post(f"{BASE}/rest/api/3/changelog/bulkfetch", status=404, json={"errorMessages": []})
    url = f"{BASE}/rest/api/3/issue/10/changelog"
    http.get(
        url,
        json={
            "startAt": 0,
            "maxResults": 2,
            "total": 3,
            "isLast": False,
            "values": [{"id": "1"}, {"id": "2"}],
        },
        match=[matchers.query_param_matcher({"startAt": "0", "maxResults": "100"})],
    )
    http.get(
        url,
        json={"startAt": 2, "maxResults": 2, "total": 3, "isLast": True, "values": [{"id": "3"}]},
        match=[matchers.query_param_matcher({"startAt": "2", "maxResults": "100"})],
    )
    client = make_client()
    assert client.changelogs(["10"]) == {"10": [{"id": "1"}, {"id": "2"}, {"id": "3"}]}


def test_data_center_changelog_comes_whole_with_the_issue(http):
    http.get(
        f"{DC}/rest/api/2/issue/30011",
        json={
            "id": "30011",
            "changelog": {"startAt": 0, "total": 2, "histories": [{"id": "1"}, {"id": "2"}]},
        },
        match=[matchers.query_param_matcher({"fields": "updated", "expand": "changelog"})],
    )
    client = make_client(url=DC, email=None, deployment="datacenter")
    assert client.changelogs(["30011"]) == {"30011": [{"id": "1"}, {"id": "2"}]}


def test_unknown_project_is_a_configuration_error(http):
    http.get(f"{BASE}/rest/api/2/project/NOPE", status=404, json={"errorMessages": ["No project"]})
    with pytest.raises(ConfigError, match="project NOPE does not exist"):
        make_client().project("NOPE")


def test_agile_boards_are_paged(http):
    url = f"{BASE}/rest/agile/1.0/board"
    http.get(
        url,
        json={
            "startAt": 0,
            "maxResults": 50,
            "isLast": False,
            "values": [{"id": n} for n in range(50)],
        },
        match=[
            matchers.query_param_matcher(
                {"projectKeyOrId": "PROJ", "startAt": "0", "maxResults": "50"}
            )
        ],
    )
    http.get(
        url,
        json={"startAt": 50, "maxResults": 50, "isLast": True, "values": [{"id": 50}]},
        match=[
            matchers.query_param_matcher(
                {"projectKeyOrId": "PROJ", "startAt": "50", "maxResults": "50"}
            )
        ],
    )
    assert len(list(make_client().boards("PROJ"))) == 51


def test_no_request_is_made_while_building_the_client(http):
    started = time.monotonic()
    make_client()
    assert len(http.calls) == 0 and time.monotonic() - started < 1


def test_data_center_paging_gives_up_loudly_when_results_never_settle(http):
    _dc_search(http, 0, [1, 2, 3], total=9)
    for restart in range(6):
        _dc_search(http, 2, [9, 8, 7], total=9)  # the anchor (3) is gone...
        _dc_search(http, 0, [6, 5, 4], total=9)  # ...and so is the rest of its page
        if restart < 5:
            _dc_search(http, 0, [1, 2, 3], total=9)
    client = make_client(url=DC, email=None, deployment="datacenter")
    with pytest.raises(TransientError, match="kept moving"):
        list(client.search("q", fields=["id"], changelog=False, page_size=3))


def test_a_cloud_site_configured_as_data_center_says_so(http):
    http.post(
        f"{BASE}/rest/api/2/search",
        status=410,
        json={"errorMessages": ["The requested API has been removed. Please migrate."]},
    )
    client = make_client(deployment="datacenter")
    with pytest.raises(ConfigError, match='set deployment = "cloud"'):
        list(client.search("project = PROJ", fields=["id"], changelog=False, page_size=10))
