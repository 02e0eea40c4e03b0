"""Streams over a strict HTTP mock: what each run asks Jira for and what it hands the store."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
import responses
from responses import matchers

from connectors.base import Runtime, StreamContext
from connectors.http import HttpPolicy, RequestBudget, RequestMeter, RetrySettings
from connectors.jira.config import JiraSourceConfig
from connectors.jira.connector import JiraConnector
from syncd.errors import StopRequested
from syncd.records import Issue, IssueChange, IssueDeletions, ItemError, Release, Scope
from tests.unit.jira import payloads as p

SEARCH = f"{p.BASE}/rest/api/3/search/jql"
T_RUN = datetime(2024, 3, 5, 13, 30, tzinfo=UTC)
FIELD_ENV = {
    "deployment": "cloud",
    "fields": {"story_points": p.POINTS_FIELD, "sprint": p.SPRINT_FIELD, "epic_link": None},
    "read_at": "2024-03-05T13:20:00+00:00",
}


def connector(**cfg) -> JiraConnector:
    cfg.setdefault("deployment", "cloud")
    cfg.setdefault("projects", ["PROJ"])
    config = JiraSourceConfig(
        name="acme-jira",
        kind="jira",
        url=p.BASE,
        email="pm@acme.example",
        token="secret-token",
        **cfg,
    )
    conn = JiraConnector(config, Runtime("acme-jira", RequestBudget("acme-jira")))
    # a request the mock does not expect fails at once instead of being retried for minutes
    conn.client.policy = HttpPolicy(conn.runtime.budget, RetrySettings(max_attempts=1))
    return conn


def stream(conn: JiraConnector, name: str):
    return next(s for s in conn.streams("PROJ") if s.name == name)


def ctx(full=False, at=T_RUN) -> StreamContext:
    return StreamContext(scope_key="PROJ", run_started_at=at, full=full)


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def run(s, cursor, c):
    with RequestMeter() as meter:
        batches = list(s.read(cursor, c))
    return batches, meter.requests


def records_of(batches, kind):
    return [r for b in batches for r in b.records if isinstance(r, kind)]


def test_full_sync_reads_everything_with_histories_and_versions(http):
    long = [
        p.history(
            8000 + n,
            f"2024-02-{1 + n // 10:02d}T0{n % 10}:00:00.000+0000",
            p.ALICE,
            p.item("labels", None, str(n), None, str(n + 1)),
        )
        for n in range(120)
    ]
    first = p.cloud_issue(
        "10041",
        "PROJ-41",
        updated="2024-03-04T10:00:00.000+0000",
        histories=long[-40:],
        changelog_total=120,
    )
    second = p.cloud_issue("10042", "PROJ-42")
    http.get(f"{p.BASE}/rest/api/2/field", json=p.FIELDS_LISTING)
    http.post(
        SEARCH,
        json={"issues": [first], "nextPageToken": "n1", "isLast": False},
        match=[
            matchers.json_params_matcher(
                {
                    "jql": 'project = "PROJ" ORDER BY updated ASC, key ASC',
                    "expand": "changelog",
                    "maxResults": 100,
                },
                strict_match=False,
            )
        ],
    )
    http.post(
        f"{p.BASE}/rest/api/3/changelog/bulkfetch",
        json={"issueChangeLogs": [{"issueId": "10041", "changeHistories": long}]},
        match=[matchers.json_params_matcher({"issueIdsOrKeys": ["10041"]}, strict_match=False)],
    )
    http.get(
        f"{p.BASE}/rest/api/2/project/PROJ/versions",
        json=[
            {
                "id": "10200",
                "name": "2024.03",
                "released": False,
                "releaseDate": "2024-03-29",
                "startDate": "2024-03-01",
                "description": "March",
            }
        ],
    )
    # the next page is a fresh query from the minute of the newest issue so far (keyset)
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "Europe/Berlin"})
    http.post(
        SEARCH,
        json={"issues": [first, second], "isLast": True},
        match=[
            matchers.json_params_matcher(
                {
                    "jql": 'project = "PROJ" AND updated >= "2024-03-04 11:00" ORDER BY updated ASC, key ASC'
                },
                strict_match=False,
            )
        ],
    )

    batches, requests = run(stream(connector(), "issues"), None, ctx(full=True))

    assert requests == 6  # fields, 2 search pages, 1 bulk changelog, versions once, time zone
    assert [i.key for i in records_of(batches, Issue)] == ["PROJ-41", "PROJ-42"]
    changes = [c for c in records_of(batches, IssueChange) if c.issue_external_id == "10041"]
    assert len({c.external_id for c in changes}) == 120  # every history entry, none lost
    # the complete history comes in bulk after the pages; until it is stored, the cursor
    # says it is owed, so an interrupted run reads it first next time
    assert batches[0].cursor["owed"] == {"10041": "PROJ-41"}
    assert batches[-1].cursor["owed"] == {}
    assert {c.issue_external_id for c in records_of(batches[-1:], IssueChange)} == {"10041"}
    (release,) = records_of(batches, Release)
    assert (release.external_id, release.name, str(release.start_date)) == (
        "10200",
        "2024.03",
        "2024-03-01",
    )
    # each batch's cursor is what is true once that batch is stored
    assert batches[0].cursor["watermark"] == "2024-03-04T10:00:00+00:00"
    assert batches[1].cursor["watermark"] == "2024-03-05T13:07:31.412000+00:00"


def _incremental_cursor(**extra):
    cursor = {
        "watermark": "2024-03-05T13:07:31.412000+00:00",
        "seen": {"10042": "2024-03-05T13:07:31.412000+00:00"},
        "versions": ["10200"],
        "retry": {},
        "env": FIELD_ENV,
    }
    cursor.update(extra)
    return cursor


def _recheck(http, since: str, before: str, ids: list[str]) -> None:
    """The ids-only listing of the minutes a page token stepped through."""
    http.post(
        SEARCH,
        json={"issues": [{"id": i} for i in ids], "isLast": True},
        match=[
            matchers.json_params_matcher(
                {
                    "jql": f'project = "PROJ" AND updated >= "{since}" AND updated < "{before}"'
                    " ORDER BY updated ASC, key ASC",
                    "fields": ["id"],
                },
                strict_match=False,
            )
        ],
    )


def test_no_change_incremental_run_is_one_search_and_stores_nothing(http):
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "Europe/Berlin"})
    http.post(
        SEARCH,
        # watermark 13:07:31Z - 5m overlap = 13:02:31Z = 14:02 in Berlin (UTC+1 in March)
        json={"issues": [p.cloud_issue()], "isLast": True},  # the boundary issue, unchanged
        match=[
            matchers.json_params_matcher(
                {
                    "jql": 'project = "PROJ" AND updated >= "2024-03-05 14:02" ORDER BY updated ASC, key ASC'
                },
                strict_match=False,
            )
        ],
    )
    cursor = _incremental_cursor()
    batches, requests = run(stream(connector(), "issues"), cursor, ctx())
    assert requests == 2  # the user's time zone (once per source per minute) + one search
    assert [b.records for b in batches] == [[]]
    assert batches[-1].cursor["watermark"] == cursor["watermark"]


def test_same_minute_update_is_read_and_watermark_stops_at_run_start(http):
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    boundary_again = p.cloud_issue()  # unchanged: dropped
    same_minute = p.cloud_issue("10050", "PROJ-50", updated="2024-03-05T13:07:59.000+0000")
    during_run = p.cloud_issue("10051", "PROJ-51", updated="2024-03-05T13:31:10.000+0000")
    http.post(SEARCH, json={"issues": [boundary_again, same_minute, during_run], "isLast": True})

    batches, _ = run(stream(connector(), "issues"), _incremental_cursor(), ctx())

    assert [i.key for i in records_of(batches, Issue)] == ["PROJ-50", "PROJ-51"]
    cursor = batches[-1].cursor
    assert cursor["watermark"] == T_RUN.isoformat()  # never past the run's start
    assert cursor["seen"]["10051"] == "2024-03-05T13:31:10+00:00"  # so next run drops it...


def test_boundary_issue_changed_again_is_not_dropped(http):
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    changed = p.cloud_issue(updated="2024-03-05T13:07:31.999+0000")
    http.post(SEARCH, json={"issues": [changed], "isLast": True})
    batches, _ = run(stream(connector(), "issues"), _incremental_cursor(), ctx())
    assert [i.key for i in records_of(batches, Issue)] == ["PROJ-42"]


def test_moved_issue_keeps_its_id_and_gets_its_new_key(http):
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    moved = p.cloud_issue("10042", "OPS-7", updated="2024-03-05T13:20:00.000+0000")
    moved["fields"]["project"] = {"id": "10100", "key": "OPS"}
    http.post(SEARCH, json={"issues": [moved], "isLast": True})
    s = next(x for x in connector(projects=["PROJ", "OPS"]).streams("OPS") if x.name == "issues")
    batches, _ = run(s, _incremental_cursor(), ctx())
    (issue,) = records_of(batches, Issue)
    assert (issue.external_id, issue.key, issue.scope_key) == ("10042", "OPS-7", "OPS")


def test_malformed_issue_is_reported_skipped_and_read_again_next_run(http):
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    broken = p.cloud_issue("10060", "PROJ-60", updated="2024-03-05T13:10:00.000+0000")
    del broken["fields"]["status"]
    good = p.cloud_issue("10061", "PROJ-61", updated="2024-03-05T13:11:00.000+0000")
    http.post(SEARCH, json={"issues": [broken, good], "isLast": True})

    conn = connector()
    batches, _ = run(stream(conn, "issues"), _incremental_cursor(), ctx())
    assert [i.key for i in records_of(batches, Issue)] == ["PROJ-61"]
    assert batches[0].errors == [ItemError(item="PROJ-60", reason="field 'status' is missing")]
    cursor = batches[-1].cursor
    assert cursor["retry"] == {"10060": "PROJ-60"}

    # next run: the failed issue is fetched on its own first, then the usual search
    fixed = p.cloud_issue("10060", "PROJ-60", updated="2024-03-05T13:10:00.000+0000")
    http.get(f"{p.BASE}/rest/api/3/issue/10060", json=fixed)
    http.post(SEARCH, json={"issues": [good], "isLast": True})
    later = ctx(at=T_RUN + timedelta(minutes=5))
    batches, _ = run(stream(conn, "issues"), cursor, later)
    assert [i.key for i in records_of(batches, Issue)] == ["PROJ-60"]
    assert batches[-1].cursor["retry"] == {}


def test_unknown_fix_version_makes_the_issue_stream_list_versions_once(http):
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    issue = p.cloud_issue(updated="2024-03-05T13:20:00.000+0000")
    issue["fields"]["fixVersions"] = [{"id": "10300", "name": "2024.04"}]
    http.post(SEARCH, json={"issues": [issue], "isLast": True})
    http.get(
        f"{p.BASE}/rest/api/2/project/PROJ/versions", json=[{"id": "10300", "name": "2024.04"}]
    )
    batches, _ = run(stream(connector(), "issues"), _incremental_cursor(), ctx())
    assert [r.external_id for r in records_of(batches, Release)] == ["10300"]
    assert batches[-1].cursor["versions"] == ["10200", "10300"]


def test_stale_field_ids_are_read_again(http):
    env = dict(FIELD_ENV, read_at="2024-03-05T10:00:00+00:00")  # older than refresh_every
    http.get(f"{p.BASE}/rest/api/2/field", json=p.FIELDS_LISTING)
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    http.post(SEARCH, json={"issues": [], "isLast": True})
    batches, _ = run(stream(connector(), "issues"), _incremental_cursor(env=env), ctx())
    assert batches[-1].cursor["env"]["fields"]["epic_link"] == p.EPIC_LINK_FIELD


def test_stop_request_ends_the_stream_between_pages(http):
    conn = connector()
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    http.post(
        SEARCH,
        json={
            "issues": [p.cloud_issue("1", "PROJ-1", updated="2024-03-05T13:20:00.000+0000")],
            "nextPageToken": "x",
            "isLast": False,
        },
    )
    reader = stream(conn, "issues").read(_incremental_cursor(), ctx())
    first = next(reader)
    assert first.cursor["watermark"] == "2024-03-05T13:20:00+00:00"
    conn.runtime.stop.set()
    with pytest.raises(StopRequested):
        next(reader)


@pytest.mark.parametrize("name", ["project", "sprints", "reconcile"])
def test_periodic_streams_cost_nothing_until_due(http, name):
    cursor = {
        "refreshed_at": (T_RUN - timedelta(minutes=10)).isoformat(),
        "reconciled_at": (T_RUN - timedelta(hours=1)).isoformat(),
    }
    batches, requests = run(stream(connector(), name), cursor, ctx())
    assert (batches, requests) == ([], 0)


def test_project_refresh_reads_project_and_versions_in_one_request(http):
    http.get(
        f"{p.BASE}/rest/api/2/project/PROJ",
        json={
            "id": "10000",
            "key": "PROJ",
            "name": "Payments ✓",
            "versions": [
                {"id": "10200", "name": "2024.03", "released": True, "releaseDate": "2024-03-29"}
            ],
        },
    )
    cursor = {"refreshed_at": (T_RUN - timedelta(minutes=31)).isoformat()}
    batches, requests = run(stream(connector(), "project"), cursor, ctx())
    scope, release = batches[0].records
    assert scope == Scope("jira_project", "PROJ", "10000", "Payments ✓", f"{p.BASE}/browse/PROJ")
    assert (release.external_id, release.released, str(release.released_at)) == (
        "10200",
        True,
        "2024-03-29",
    )
    assert batches[0].cursor == {"refreshed_at": T_RUN.isoformat()}
    assert requests == 1


def test_project_without_embedded_versions_lists_them(http):
    http.get(f"{p.BASE}/rest/api/2/project/PROJ", json={"id": "10000", "key": "PROJ"})
    http.get(f"{p.BASE}/rest/api/2/project/PROJ/versions", json=[{"id": "7", "name": "v7"}])
    batches, _ = run(stream(connector(), "project"), None, ctx())
    assert [type(r).__name__ for r in batches[0].records] == ["Scope", "Release"]


def test_sprints_of_scrum_boards_only(http):
    http.get(
        f"{p.BASE}/rest/agile/1.0/board",
        json={"isLast": True, "values": [{"id": 3, "type": "scrum"}, {"id": 4, "type": "kanban"}]},
    )
    http.get(
        f"{p.BASE}/rest/agile/1.0/board/3/sprint",
        json={
            "isLast": True,
            "values": [
                {
                    "id": 6,
                    "name": "S6",
                    "state": "closed",
                    "originBoardId": 3,
                    "startDate": "2024-02-12T09:00:00.000Z",
                    "completeDate": "2024-02-26T10:00:00.000Z",
                },
                {"id": 7, "name": "S7", "state": "active", "originBoardId": 3},
            ],
        },
    )
    batches, requests = run(stream(connector(), "sprints"), None, ctx())
    assert [s.external_id for s in batches[0].records] == ["6", "7"]
    assert requests == 2


def test_reconciliation_lists_ids_and_reports_what_exists(http):
    http.post(
        SEARCH,
        json={"issues": [{"id": "1"}, {"id": "2"}], "nextPageToken": "k", "isLast": False},
        match=[
            matchers.json_params_matcher(
                {
                    "jql": 'project = "PROJ" ORDER BY created ASC, key ASC',
                    "fields": ["id"],
                    "maxResults": 1000,
                }
            )
        ],
    )
    http.post(SEARCH, json={"issues": [{"id": "5"}], "isLast": True})
    # a listing over several pages is taken twice (page tokens are offsets): issue 3 was
    # stepped over the first time because issue 1 was deleted meanwhile
    http.post(
        SEARCH, json={"issues": [{"id": "2"}, {"id": "3"}], "nextPageToken": "k", "isLast": False}
    )
    http.post(SEARCH, json={"issues": [{"id": "5"}], "isLast": True})
    cursor = {"reconciled_at": (T_RUN - timedelta(hours=7)).isoformat()}
    batches, requests = run(stream(connector(), "reconcile"), cursor, ctx())
    (deletions,) = batches[0].records
    assert deletions == IssueDeletions("PROJ", frozenset({"1", "2", "3", "5"}), observed_at=T_RUN)
    assert batches[0].cursor == {"reconciled_at": T_RUN.isoformat()}
    assert requests == 4


def test_full_sync_reconciles_even_if_not_due(http):
    http.post(SEARCH, json={"issues": [], "isLast": True})
    cursor = {"reconciled_at": (T_RUN - timedelta(minutes=1)).isoformat()}
    batches, _ = run(stream(connector(), "reconcile"), cursor, ctx(full=True))
    assert batches[0].records[0].present_external_ids == frozenset()


def test_check_reports_site_user_and_fields(http):
    http.get(
        f"{p.BASE}/rest/api/2/serverInfo",
        json={"version": "1001.0.0-SNAPSHOT", "deploymentType": "Cloud"},
    )
    http.get(
        f"{p.BASE}/rest/api/2/myself",
        json={"accountId": "me", "displayName": "Pat PM", "timeZone": "Europe/Berlin"},
    )
    http.get(f"{p.BASE}/rest/api/2/project/PROJ", json={"id": "1", "key": "PROJ"})
    http.get(
        f"{p.BASE}/rest/api/2/field",
        json=[f for f in p.FIELDS_LISTING if f["id"] != p.SPRINT_FIELD],
    )
    result = connector(deployment="auto").check()
    assert result.ok
    assert result.detail.startswith(
        "Jira Cloud 1001.0.0-SNAPSHOT, authenticated as Pat PM (Europe/Berlin)"
    )
    assert "no sprint field found" in result.detail


def test_unchanged_cursor_does_not_grow(http):
    """The boundary set only keeps what the next window can return."""
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    old = copy.deepcopy(_incremental_cursor())
    old["seen"]["999"] = "2024-03-01T00:00:00+00:00"
    http.post(
        SEARCH,
        json={
            "issues": [p.cloud_issue("1", "PROJ-1", updated="2024-03-05T13:25:00.000+0000")],
            "isLast": True,
        },
    )
    batches, _ = run(stream(connector(), "issues"), old, ctx())
    assert "999" not in batches[-1].cursor["seen"]


def test_an_issue_deleted_while_paging_cannot_make_another_one_skipped(http):
    """Page tokens are offsets in disguise: deleting an issue already read shifts the rest
    one place forward, and the issue at the page boundary would never be read. Each next
    page is therefore a fresh query from the minute of the newest issue read."""
    a = p.cloud_issue("1", "PROJ-1", updated="2024-03-05T13:10:00.000+0000")
    b = p.cloud_issue("2", "PROJ-2", updated="2024-03-05T13:11:00.000+0000")
    c = p.cloud_issue("3", "PROJ-3", updated="2024-03-05T13:12:00.000+0000")
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    http.post(
        SEARCH,
        json={"issues": [a, b], "nextPageToken": "o2", "isLast": False},
        match=[matchers.json_params_matcher({"maxResults": 2}, strict_match=False)],
    )
    # a was deleted meanwhile: offset 2 would now start after c. The keyset query finds c.
    http.post(
        SEARCH,
        json={"issues": [b, c], "isLast": True},
        match=[
            matchers.json_params_matcher(
                {
                    "jql": 'project = "PROJ" AND updated >= "2024-03-05 13:11" ORDER BY updated ASC, key ASC'
                },
                strict_match=False,
            )
        ],
    )
    batches, requests = run(stream(connector(page_size=2), "issues"), _incremental_cursor(), ctx())
    assert [i.key for i in records_of(batches, Issue)] == ["PROJ-1", "PROJ-2", "PROJ-3"]
    assert requests == 3


def test_a_page_all_in_one_minute_is_followed_by_its_own_next_page(http):
    same = [
        p.cloud_issue(str(n), f"PROJ-{n}", updated=f"2024-03-05T13:10:{n:02d}.000+0000")
        for n in range(1, 5)
    ]
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    http.post(
        SEARCH,
        json={"issues": same[:2], "nextPageToken": "o2", "isLast": False},
        match=[
            matchers.json_params_matcher(
                {
                    "jql": 'project = "PROJ" AND updated >= "2024-03-05 13:02" ORDER BY updated ASC, key ASC'
                },
                strict_match=False,
            )
        ],
    )
    # 13:10 > 13:02: a keyset jump to 13:10 re-reads 1 and 2 and pages on by token within it
    http.post(
        SEARCH,
        json={"issues": same[:2], "nextPageToken": "p2", "isLast": False},
        match=[
            matchers.json_params_matcher(
                {
                    "jql": 'project = "PROJ" AND updated >= "2024-03-05 13:10" ORDER BY updated ASC, key ASC'
                },
                strict_match=False,
            )
        ],
    )
    http.post(
        SEARCH,
        json={"issues": same[2:], "isLast": True},
        match=[matchers.json_params_matcher({"nextPageToken": "p2"}, strict_match=False)],
    )
    _recheck(http, "2024-03-05 13:10", "2024-03-05 13:12", ["1", "2", "3", "4"])
    batches, _ = run(stream(connector(page_size=2), "issues"), _incremental_cursor(), ctx())
    assert [i.key for i in records_of(batches, Issue)] == ["PROJ-1", "PROJ-2", "PROJ-3", "PROJ-4"]


def test_histories_owed_by_an_interrupted_run_are_read_first(http):
    owed = p.cloud_issue("10041", "PROJ-41", updated="2024-03-05T13:00:00.000+0000")
    http.post(
        f"{p.BASE}/rest/api/3/changelog/bulkfetch",
        json={
            "issueChangeLogs": [
                {"issueId": "10041", "changeHistories": owed["changelog"]["histories"]}
            ]
        },
        match=[matchers.json_params_matcher({"issueIdsOrKeys": ["10041"]}, strict_match=False)],
    )
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    http.post(SEARCH, json={"issues": [], "isLast": True})
    cursor = _incremental_cursor(owed={"10041": "PROJ-41"})
    batches, _ = run(stream(connector(), "issues"), cursor, ctx())
    assert {c.external_id for c in batches[0].records if isinstance(c, IssueChange)} == {
        "5001:0",
        "5001:1",
        "5002:0",
    }
    assert batches[0].cursor["owed"] == {}


def test_a_full_read_is_the_reconciliation_listing_of_the_same_run(http):
    conn = connector()
    http.get(f"{p.BASE}/rest/api/2/field", json=p.FIELDS_LISTING)
    http.post(
        SEARCH,
        json={
            "issues": [p.cloud_issue("1", "PROJ-1"), p.cloud_issue("2", "PROJ-2")],
            "isLast": True,
        },
    )
    http.get(f"{p.BASE}/rest/api/2/project/PROJ/versions", json=[{"id": "10200", "name": "x"}])
    run(stream(conn, "issues"), None, ctx(full=True))
    batches, requests = run(stream(conn, "reconcile"), None, ctx(full=True))
    assert requests == 0
    assert batches[0].records == [IssueDeletions("PROJ", frozenset({"1", "2"}), observed_at=T_RUN)]


def test_a_bulk_edit_at_a_page_boundary_is_paged_by_token_not_reread(http):
    """Re-querying from the newest minute would read most of a bulk-edited page twice."""
    bulk = [
        p.cloud_issue(
            str(n), f"PROJ-{n}", updated=f"2024-03-05T13:{9 + n // 3:02d}:{n:02d}.000+0000"
        )
        for n in range(1, 7)
    ]
    # page 1: issues 1..3, of which 3 is the only one in 13:10 -> keyset; page 2: 4..6 all 13:10/13:11
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    http.post(
        SEARCH,
        json={"issues": bulk[:3], "nextPageToken": "t1", "isLast": False},
        match=[
            matchers.json_params_matcher(
                {
                    "jql": 'project = "PROJ" AND updated >= "2024-03-05 13:02" ORDER BY updated ASC, key ASC'
                },
                strict_match=False,
            )
        ],
    )
    http.post(
        SEARCH,
        json={"issues": bulk[2:5], "nextPageToken": "t2", "isLast": False},
        match=[
            matchers.json_params_matcher(
                {
                    "jql": 'project = "PROJ" AND updated >= "2024-03-05 13:10" ORDER BY updated ASC, key ASC'
                },
                strict_match=False,
            )
        ],
    )
    http.post(
        SEARCH,
        json={"issues": bulk[5:], "isLast": True},
        match=[matchers.json_params_matcher({"nextPageToken": "t2"}, strict_match=False)],
    )
    _recheck(http, "2024-03-05 13:10", "2024-03-05 13:13", [str(n) for n in range(1, 7)])
    batches, requests = run(stream(connector(page_size=3), "issues"), _incremental_cursor(), ctx())
    assert [i.key for i in records_of(batches, Issue)] == [f"PROJ-{n}" for n in range(1, 7)]
    assert requests == 5  # + the listing of the minutes the page token stepped through


def test_a_full_read_whose_token_steps_were_checked_is_the_listing(http):
    """Following a Cloud page token could have stepped over an issue deleted meanwhile;
    once the minutes it stepped through are listed again, the read is complete."""
    conn = connector(page_size=3)
    same = [
        p.cloud_issue(str(n), f"PROJ-{n}", updated=f"2024-03-05T13:10:0{n}.000+0000")
        for n in (1, 2, 3, 4)
    ]
    http.get(f"{p.BASE}/rest/api/2/field", json=p.FIELDS_LISTING)
    http.post(SEARCH, json={"issues": same[:3], "nextPageToken": "t", "isLast": False})
    http.get(f"{p.BASE}/rest/api/2/project/PROJ/versions", json=[{"id": "10200", "name": "x"}])
    http.post(
        SEARCH,
        json={"issues": same[3:], "isLast": True},
        match=[matchers.json_params_matcher({"nextPageToken": "t"}, strict_match=False)],
    )
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    _recheck(http, "2024-03-05 13:10", "2024-03-05 13:12", ["1", "2", "3", "4"])
    run(stream(conn, "issues"), None, ctx(full=True))
    batches, requests = run(stream(conn, "reconcile"), None, ctx(full=True))
    assert requests == 0
    assert batches[0].records[0].present_external_ids == frozenset({"1", "2", "3", "4"})


def test_an_issue_a_page_token_stepped_over_is_read_on_its_own(http):
    """Inside a bulk edit the query's own page token is followed; an issue deleted meanwhile
    moved issue 4 from the second page onto the first one we already had. The listing of
    those minutes shows it, and it is read by id."""
    same = [
        p.cloud_issue(str(n), f"PROJ-{n}", updated=f"2024-03-05T13:10:0{n}.000+0000")
        for n in (1, 2, 3, 4, 5)
    ]
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    http.post(SEARCH, json={"issues": same[:3], "nextPageToken": "t", "isLast": False})
    http.post(
        SEARCH,
        json={"issues": same[4:], "isLast": True},  # 4 was stepped over
        match=[matchers.json_params_matcher({"nextPageToken": "t"}, strict_match=False)],
    )
    _recheck(http, "2024-03-05 13:10", "2024-03-05 13:12", ["2", "3", "4", "5"])
    http.get(f"{p.BASE}/rest/api/3/issue/4", json=same[3])
    batches, _ = run(stream(connector(page_size=3), "issues"), _incremental_cursor(), ctx())
    assert sorted(i.key for i in records_of(batches, Issue)) == [f"PROJ-{n}" for n in range(1, 6)]


def test_an_issue_read_by_id_after_it_moved_is_left_to_its_new_project(http):
    moved = p.cloud_issue("10060", "OPS-9", updated="2024-03-05T13:10:00.000+0000")
    moved["fields"]["project"] = {"id": "10100", "key": "OPS"}
    http.get(f"{p.BASE}/rest/api/3/issue/10060", json=moved)
    http.get(f"{p.BASE}/rest/api/2/myself", json={"accountId": "me", "timeZone": "UTC"})
    http.post(SEARCH, json={"issues": [], "isLast": True})
    cursor = _incremental_cursor(retry={"10060": "PROJ-60"})
    batches, _ = run(stream(connector(), "issues"), cursor, ctx())
    assert records_of(batches, Issue) == []
    assert batches[-1].cursor["retry"] == {}
