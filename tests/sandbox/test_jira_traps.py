"""Raw-HTTP checks that the simulated Jira keeps the real API's traps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from syncd.sandbox.http import SandboxServer
from syncd.sandbox.jira import JiraService
from tests.sandbox.jira_support import ANCHOR_MS, basic, get, post, search_all

LA = ZoneInfo("America/Los_Angeles")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, at: datetime) -> None:
        self.now = at.timestamp()


@pytest.fixture(scope="module")
def cloud() -> Iterator[SandboxServer]:
    with SandboxServer(JiraService("small", 3, anchor_ms=ANCHOR_MS)) as server:
        yield server


@pytest.fixture(scope="module")
def datacenter() -> Iterator[SandboxServer]:
    service = JiraService("small", 3, deployment="datacenter", anchor_ms=ANCHOR_MS)
    with SandboxServer(service) as server:
        yield server


def data_of(server: SandboxServer):  # type: ignore[no-untyped-def]
    service = server.service
    assert isinstance(service, JiraService)
    return service.data


# --- dates: user time zone, minute granularity, DST --------------------------------------


def changed_between(server: SandboxServer, start: str, end: str) -> set[str]:
    jql = f'project in (PROJ, OPS) AND updated >= "{start}" AND updated < "{end}"'
    return {i["key"] for i in search_all(server, jql, fields="key")}


@pytest.mark.parametrize(
    ("utc_moment", "local_minute", "next_minute", "utc_minute"),
    [
        # Summer: Los Angeles is UTC-7 (PDT).
        (
            datetime(2026, 7, 1, 19, 0, 30, tzinfo=UTC),
            "2026-07-01 12:00",
            "2026-07-01 12:01",
            "2026-07-01 19:00",
        ),
        # Winter: UTC-8 (PST); the other accepted format.
        (
            datetime(2026, 12, 1, 20, 0, 30, tzinfo=UTC),
            "2026/12/01 12:00",
            "2026/12/01 12:01",
            "2026/12/01 20:00",
        ),
    ],
)
def test_dates_are_read_in_the_user_time_zone_to_the_minute(
    utc_moment: datetime, local_minute: str, next_minute: str, utc_minute: str
) -> None:
    clock = Clock(utc_moment)
    service = JiraService("small", 3, anchor_ms=ANCHOR_MS, clock=clock)
    with SandboxServer(service) as server:
        service.evolve(8)  # one of each kind, all at utc_moment (+ a few ms)
        truth = {
            i.key
            for i in service.data.issues.values()
            if abs(i.updated - utc_moment.timestamp() * 1000) < 1000
        }
        assert len(truth) >= 6
        # The local wall-clock minute finds them, and only them.
        assert changed_between(server, local_minute, next_minute) == truth
        # "updated > 12:00" still matches 12:00:30: comparison is against the exact instant.
        later = search_all(
            server, f'updated > "{local_minute}" AND project in (PROJ, OPS)', fields="key"
        )
        assert truth <= {i["key"] for i in later}
        # The same wall time written in UTC is hours off in the user's zone: nothing.
        assert changed_between(server, utc_minute, utc_minute[:-5] + "23:59") & truth == set()


def test_seconds_are_not_accepted_in_a_jql_date(cloud: SandboxServer) -> None:
    r = get(
        cloud, "/rest/api/3/search/jql", jql='project = PROJ AND updated >= "2026-01-01 10:05:30"'
    )
    assert r.status_code == 400
    assert r.json() == {
        "errorMessages": [
            "Date value '2026-01-01 10:05:30' for field 'updated' is invalid. Valid formats "
            "include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a "
            "period format e.g. '-5d', '4w 2d'."
        ],
        "errors": {},
    }


def test_relative_periods_are_understood(cloud: SandboxServer) -> None:
    r = get(
        cloud, "/rest/api/3/search/jql", jql="project = PROJ AND updated >= -5000w", maxResults=5
    )
    assert r.status_code == 200 and len(r.json()["issues"]) == 5


# --- 400s in Jira's error shape -------------------------------------------------------------


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("key = PROJ-99999", "An issue with key 'PROJ-99999' does not exist for field 'key'."),
        ("key in (nonsense)", "The issue key 'nonsense' for field 'key' is invalid."),
        (
            "bogusfield = 1",
            "Field 'bogusfield' does not exist or you do not have permission to view it.",
        ),
        (
            "ORDER BY updated DESC",
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        ),
        (
            "",
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        ),
    ],
)
def test_bad_jql_is_a_400_with_jira_error_shape(
    cloud: SandboxServer, jql: str, message: str
) -> None:
    r = get(cloud, "/rest/api/3/search/jql", jql=jql)
    assert r.status_code == 400
    assert r.json() == {"errorMessages": [message], "errors": {}}


@pytest.mark.parametrize(
    "jql",
    [
        "project = PROJ OR project = OPS",
        "status = Done",
        "project = PROJ AND assignee = currentUser()",
        "(project = PROJ)",
    ],
)
def test_jql_outside_the_subset_is_refused_not_guessed(cloud: SandboxServer, jql: str) -> None:
    r = get(cloud, "/rest/api/3/search/jql", jql=jql)
    assert r.status_code == 400
    body = r.json()
    assert body["errors"] == {} and len(body["errorMessages"]) == 1
    assert "does not support" in body["errorMessages"][0]


def test_post_search_with_a_broken_body_is_a_400(cloud: SandboxServer) -> None:
    service = cloud.service
    assert isinstance(service, JiraService)
    r = requests.post(
        f"{cloud.url}/rest/api/3/search/jql",
        data=b"{not json",
        headers={**basic(service), "Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 400 and "errorMessages" in r.json()


# --- legacy search ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2", "3", "latest"])
def test_cloud_legacy_search_is_gone(cloud: SandboxServer, version: str) -> None:
    r = get(cloud, f"/rest/api/{version}/search", jql="project = PROJ")
    assert r.status_code == 410
    assert "/rest/api/3/search/jql" in r.json()["errorMessages"][0]
    assert post(cloud, f"/rest/api/{version}/search", {"jql": "project = PROJ"}).status_code == 410


def test_datacenter_legacy_search_pages_with_total(datacenter: SandboxServer) -> None:
    r = get(
        datacenter,
        "/rest/api/2/search",
        jql="project = PROJ ORDER BY key ASC",
        startAt=140,
        maxResults=50,
    )
    body = r.json()
    assert (body["startAt"], body["maxResults"], body["total"]) == (140, 50, 150)
    assert [i["key"] for i in body["issues"]] == [f"PROJ-{n}" for n in range(141, 151)]
    capped = get(datacenter, "/rest/api/2/search", jql="project = PROJ", maxResults=5000).json()
    assert capped["maxResults"] == 1000
    # Data Center has neither search/jql nor API v3.
    assert get(datacenter, "/rest/api/2/search/jql", jql="project = PROJ").status_code == 404
    assert get(datacenter, "/rest/api/3/myself").status_code == 404


# --- search/jql paging ------------------------------------------------------------------------


def test_search_jql_returns_only_ids_by_default(cloud: SandboxServer) -> None:
    body = get(cloud, "/rest/api/3/search/jql", jql="project = PROJ").json()
    assert len(body["issues"]) == 50
    assert all(set(i) == {"id"} for i in body["issues"])
    assert "total" not in body and body["isLast"] is False and body["nextPageToken"]


def test_search_jql_caps_max_results_silently(cloud: SandboxServer) -> None:
    full = get(
        cloud,
        "/rest/api/3/search/jql",
        jql="project in (PROJ, OPS)",
        fields="*all",
        maxResults=1000,
    )
    assert len(full.json()["issues"]) == 100
    ids = get(
        cloud, "/rest/api/3/search/jql", jql="project in (PROJ, OPS)", fields="id", maxResults=1000
    )
    assert len(ids.json()["issues"]) == 300 and ids.json()["isLast"] is True


def test_search_jql_tokens_page_through_everything_in_order(cloud: SandboxServer) -> None:
    data = data_of(cloud)
    issues = search_all(
        cloud, "project = OPS ORDER BY updated ASC, key ASC", fields="updated", maxResults=37
    )
    assert len(issues) == 150
    truth = sorted(
        (i for i in data.issues.values() if i.project == "OPS"), key=lambda i: (i.updated, i.number)
    )
    assert [i["key"] for i in issues] == [i.key for i in truth]


def test_search_jql_rejects_a_foreign_or_broken_token(cloud: SandboxServer) -> None:
    token = get(cloud, "/rest/api/3/search/jql", jql="project = PROJ").json()["nextPageToken"]
    other = get(cloud, "/rest/api/3/search/jql", jql="project = OPS", nextPageToken=token)
    assert other.status_code == 400
    broken = get(cloud, "/rest/api/3/search/jql", jql="project = PROJ", nextPageToken="garbage!")
    assert broken.status_code == 400 and "errorMessages" in broken.json()


def test_search_jql_embeds_at_most_40_histories(cloud: SandboxServer) -> None:
    data = data_of(cloud)
    big = next(i for i in data.issues.values() if len(i.history) > 100)
    body = get(
        cloud,
        "/rest/api/3/search/jql",
        jql=f"key = {big.key}",
        expand="changelog",
        fields="summary",
    ).json()
    changelog = body["issues"][0]["changelog"]
    assert changelog["total"] == len(big.history)
    assert len(changelog["histories"]) == 40
    assert [h["id"] for h in changelog["histories"]] == [str(h.id) for h in big.history[::-1][:40]]


def test_v3_descriptions_are_adf_and_v2_wiki_text(cloud: SandboxServer) -> None:
    data = data_of(cloud)
    key = next(
        i.key
        for i in data.issues.values()
        if get(cloud, f"/rest/api/2/issue/{i.key}", fields="description").json()["fields"][
            "description"
        ]
    )
    v2 = get(cloud, f"/rest/api/2/issue/{key}", fields="description").json()["fields"][
        "description"
    ]
    v3 = get(cloud, f"/rest/api/3/issue/{key}", fields="description").json()["fields"][
        "description"
    ]
    assert isinstance(v2, str)
    assert v3["type"] == "doc" and v3["version"] == 1 and v3["content"]


def test_bulkfetch_returns_every_history_sorted_and_paged(cloud: SandboxServer) -> None:
    data = data_of(cloud)
    issues = list(data.issues.values())[:20]
    body: dict = {"issueIdsOrKeys": [i.key for i in issues], "maxResults": 50}
    seen: list[tuple[str, str]] = []
    for _ in range(100):
        page = post(cloud, "/rest/api/3/changelog/bulkfetch", body)
        assert page.status_code == 200, page.text
        for log in page.json()["issueChangeLogs"]:
            seen += [(log["issueId"], h["id"]) for h in log["changeHistories"]]
        token = page.json().get("nextPageToken")
        if not token:
            break
        body["nextPageToken"] = token
    truth = sorted((h.created, i.id, h.id) for i in issues for h in i.history)
    assert seen == [(str(issue_id), str(h)) for _, issue_id, h in truth]
    filtered = post(
        cloud,
        "/rest/api/3/changelog/bulkfetch",
        {"issueIdsOrKeys": [issues[0].key], "fieldIds": ["status"]},
    )
    items = [
        i
        for log in filtered.json()["issueChangeLogs"]
        for h in log["changeHistories"]
        for i in h["items"]
    ]
    assert items and {i["fieldId"] for i in items} == {"status"}
    too_many = post(cloud, "/rest/api/3/changelog/bulkfetch", {"issueIdsOrKeys": ["X-1"] * 1001})
    assert too_many.status_code == 400


# --- auth -------------------------------------------------------------------------------------


def test_cloud_401_shapes(cloud: SandboxServer) -> None:
    missing = requests.get(f"{cloud.url}/rest/api/3/myself", timeout=10)
    assert missing.status_code == 401
    assert missing.text == "Client must be authenticated to access this resource."
    assert missing.headers["WWW-Authenticate"].startswith("OAuth realm=")
    wrong = requests.get(
        f"{cloud.url}/rest/api/3/myself", auth=("syncd-bot@acme.example", "nope"), timeout=10
    )
    assert wrong.status_code == 401
    assert wrong.text.startswith("Basic authentication with passwords is deprecated")
    assert wrong.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    # serverInfo is anonymous, but wrong credentials are refused everywhere.
    assert requests.get(f"{cloud.url}/rest/api/2/serverInfo", timeout=10).status_code == 200
    assert (
        requests.get(f"{cloud.url}/rest/api/2/serverInfo", auth=("a", "b"), timeout=10).status_code
        == 401
    )


def test_datacenter_401_shape(datacenter: SandboxServer) -> None:
    wrong = requests.get(
        f"{datacenter.url}/rest/api/2/myself", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert wrong.status_code == 401
    assert wrong.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert "Unauthorized (401)" in wrong.text and wrong.headers["Content-Type"].startswith(
        "text/html"
    )


def test_unknown_resources(cloud: SandboxServer) -> None:
    r = get(cloud, "/rest/api/2/nothing-here")
    assert r.status_code == 404 and r.json()["message"].startswith("null for uri:")
    missing = get(cloud, "/rest/api/2/issue/PROJ-99999")
    assert missing.status_code == 404
    assert missing.json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {},
    }


# --- moved and deleted issues -------------------------------------------------------------------


def test_moved_issue_keeps_its_id_and_its_old_key_resolves() -> None:
    service = JiraService("small", 5, anchor_ms=ANCHOR_MS)
    with SandboxServer(service) as server:
        before = dict(service.data.keys)
        applied = service.evolve(8)
        assert applied.get("move") == 1
        moved = [
            (k, v)
            for k, v in before.items()
            if v in service.data.issues and service.data.issues[v].key != k
        ]
        assert len(moved) == 1
        old_key, issue_id = moved[0]
        new_key = service.data.issues[issue_id].key
        body = get(
            server, f"/rest/api/3/issue/{old_key}", fields="project", expand="changelog"
        ).json()
        assert (body["id"], body["key"]) == (str(issue_id), new_key)
        items = body["changelog"]["histories"][0]["items"]
        key_item = next(i for i in items if i["field"] == "Key")
        assert (key_item["fromString"], key_item["toString"]) == (old_key, new_key)
        project_item = next(i for i in items if i["field"] == "project")
        assert project_item["fromString"] != project_item["toString"]
        found = search_all(server, f"key = {old_key}", fields="key")
        assert [i["key"] for i in found] == [new_key]


def test_deleted_issue_leaves_no_trace() -> None:
    service = JiraService("small", 5, anchor_ms=ANCHOR_MS)
    with SandboxServer(service) as server:
        service.evolve(8)
        assert len(service.data.deleted) == 1
        deleted_id, key = next(iter(service.data.deleted.items()))
        assert get(server, f"/rest/api/3/issue/{key}").status_code == 404
        assert get(server, f"/rest/api/3/issue/{deleted_id}").status_code == 404
        assert get(server, "/rest/api/3/search/jql", jql=f"key = {key}").status_code == 400
        everything = search_all(server, "project in (PROJ, OPS)", fields="id", maxResults=5000)
        assert str(deleted_id) not in {i["id"] for i in everything}
        assert len(everything) == len(service.data.issues)
