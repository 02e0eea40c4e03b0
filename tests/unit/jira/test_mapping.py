"""Mapping Jira payloads to records: pure, on recorded-shaped payloads."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from connectors.jira.mapping import (
    FieldIds,
    MappingError,
    discover_fields,
    embedded_changelog,
    issue_type,
    map_issue,
    map_release,
    map_sprint,
    merge_histories,
)
from syncd.records import Account, IssueLinkRef, Sprint
from tests.unit.jira import payloads as p

CLOUD_FIELDS = FieldIds(story_points=p.POINTS_FIELD, sprint=p.SPRINT_FIELD, epic_link=None)
DC_FIELDS = FieldIds(story_points=None, sprint=p.SPRINT_FIELD, epic_link=p.EPIC_LINK_FIELD)


def cloud(raw=None, **kw):
    return map_issue(
        raw or p.cloud_issue(), scope_key="PROJ", base_url=p.BASE, field_ids=CLOUD_FIELDS, **kw
    )


def test_cloud_v3_story_maps_every_planning_field():
    m = cloud()
    i = m.issue
    assert (i.external_id, i.key, i.scope_key) == ("10042", "PROJ-42", "PROJ")
    assert i.url == "https://acme.atlassian.net/browse/PROJ-42"
    assert i.title == "Ünïcödé résumé: 日本語の件名 🚀"
    assert (i.type, i.original_type) == ("story", "Story")
    assert (i.status, i.original_status) == ("in_progress", "In Review")
    assert i.priority == "High"
    assert i.assignee_id == p.CARLA["accountId"]
    assert i.reporter_id == p.ALICE["accountId"]
    # +0100 offsets become UTC
    assert i.created_at == datetime(2024, 2, 28, 7, 30, tzinfo=UTC)
    assert i.updated_at == datetime(2024, 3, 5, 13, 7, 31, 412000, tzinfo=UTC)
    assert i.resolved_at is None
    assert i.due_date == date(2024, 3, 15)
    assert i.story_points == 5.0
    assert (i.original_estimate_s, i.remaining_estimate_s, i.time_spent_s) == (28800, 14400, 14400)
    assert i.parent_key == "PROJ-1"
    assert i.epic_key == "PROJ-1"  # parent is an epic (hierarchy level 1)
    assert i.labels == ("backend", "größe")
    assert i.components == ("API",)
    assert i.release_ids == ("10200",)
    assert i.sprint_ids == ("6", "7")  # the closed sprint it was carried through, and the current


def test_links_keep_the_direction_seen_from_the_issue():
    links = cloud().issue.links
    assert links == (
        IssueLinkRef("20001", "blocks", "blocks", "10043", "PROJ-43"),
        IssueLinkRef("20002", "duplicated_by", "is duplicated by", "10007", "PROJ-7"),
    )


def test_sprint_field_objects_become_sprint_records():
    sprints = cloud().sprints
    assert sprints[1] == Sprint(
        external_id="7",
        name="PROJ Sprint 7",
        state="active",
        board_id="3",
        start_at=datetime(2024, 2, 26, 9, tzinfo=UTC),
        end_at=datetime(2024, 3, 11, 9, tzinfo=UTC),
        completed_at=None,
        goal="Ship checkout",
    )
    assert sprints[0].completed_at == datetime(2024, 2, 26, 10, 12, tzinfo=UTC)


def test_accounts_for_every_user_seen_email_only_when_visible():
    accounts = {a.external_id: a for a in cloud().accounts}
    assert accounts[p.ALICE["accountId"]] == Account(
        external_id=p.ALICE["accountId"],
        display_name="Alice Johnson",
        email="alice.johnson@acme.example",
        login=None,
        active=True,
        email_verified=True,
    )
    carla = accounts[p.CARLA["accountId"]]
    assert (carla.display_name, carla.email, carla.email_verified) == ("Carla Méndez", None, False)


def test_changelog_items_become_changes_with_stable_ids():
    changes = cloud().changes
    assert [(c.external_id, c.field, c.from_string, c.to_string) for c in changes] == [
        ("5001:0", "status", "Backlog", "In Review"),
        ("5001:1", "assignee", None, "Carla Méndez"),
        ("5002:0", "sprint", "", "PROJ Sprint 7"),
    ]
    assert changes[0].author_id == p.ALICE["accountId"]
    assert changes[0].changed_at == datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert changes[0].field_id == "status"
    assert changes[2].author_id is None  # automation rule, no author
    assert {c.issue_external_id for c in changes} == {"10042"}


def test_v2_shape_maps_like_v3():
    """The same issue read through REST v2 (plain-text description) maps identically."""
    v2 = p.cloud_issue()
    v2["fields"]["description"] = "Löschen → ✓"
    assert cloud(v2) == cloud()


def test_null_assignee_missing_custom_fields_and_no_parent():
    raw = p.cloud_issue()
    f = raw["fields"]
    f["assignee"] = None
    del f[p.POINTS_FIELD], f[p.SPRINT_FIELD], f["parent"]
    i = cloud(raw).issue
    assert (i.assignee_id, i.story_points, i.sprint_ids, i.parent_key, i.epic_key) == (
        None,
        None,
        (),
        None,
        None,
    )


def test_instance_without_the_custom_fields_at_all():
    m = map_issue(p.cloud_issue(), scope_key="PROJ", base_url=p.BASE, field_ids=FieldIds())
    assert (m.issue.story_points, m.issue.sprint_ids, m.sprints) == (None, (), [])


def test_data_center_subtask_with_legacy_sprint_string_and_epic_link():
    m = map_issue(p.dc_issue(), scope_key="OPS", base_url=p.DC_BASE, field_ids=DC_FIELDS)
    i = m.issue
    assert (i.type, i.original_type, i.status) == ("subtask", "Sub-task", "done")
    assert i.assignee_id == "JIRAUSER10104"  # the user key: stable when a login is renamed
    assert i.resolution == "Done"
    assert i.resolved_at == datetime(2024, 3, 4, 16, 45, 12, tzinfo=UTC)
    assert (i.parent_key, i.epic_key) == ("OPS-10", "OPS-2")
    assert m.sprints == [
        Sprint(
            external_id="12",
            name="Ops 12, hardening",  # a comma inside the name survives parsing
            state="closed",
            board_id="4",
            start_at=datetime(2024, 2, 1, 8, tzinfo=UTC),
            end_at=datetime(2024, 2, 15, 8, tzinfo=UTC),
            completed_at=datetime(2024, 2, 15, 10, tzinfo=UTC),
            goal=None,
        )
    ]
    bob = next(a for a in m.accounts if a.external_id == "JIRAUSER10100")
    assert (bob.login, bob.email) == ("bsmith", "bob.smith@acme.example")
    assert m.changes[0].from_value == "bsmith" and m.changes[0].field_id is None


@pytest.mark.parametrize(
    ("issuetype", "expected"),
    [
        ({"name": "Epic", "hierarchyLevel": 1}, "epic"),
        ({"name": "Initiative", "hierarchyLevel": 2}, "epic"),
        ({"name": "Epos", "hierarchyLevel": 1}, "epic"),  # localised name, level decides
        ({"name": "Teilaufgabe", "subtask": True, "hierarchyLevel": -1}, "subtask"),
        ({"name": "Bug", "hierarchyLevel": 0}, "bug"),
        ({"name": "Task"}, "task"),
        ({"name": "Story"}, "story"),
        ({"name": "Epic"}, "epic"),  # Data Center: no hierarchy level
        ({"name": "Improvement", "hierarchyLevel": 0}, "other"),
    ],
)
def test_issue_type_from_hierarchy_subtask_flag_then_name(issuetype, expected):
    assert issue_type(issuetype) == expected


@pytest.mark.parametrize(
    ("category", "expected"), [("new", "todo"), ("indeterminate", "in_progress"), ("done", "done")]
)
def test_status_from_status_category(category, expected):
    raw = p.cloud_issue()
    raw["fields"]["status"] = {"name": "Custom", "statusCategory": {"key": category}}
    i = cloud(raw).issue
    assert (i.status, i.original_status) == (expected, "Custom")


def test_more_than_a_hundred_changelog_entries_merge_without_loss_or_duplicates():
    histories = [
        p.history(
            9000 + n,
            f"2024-01-{1 + n // 24:02d}T{n % 24:02d}:00:00.000+0000",
            p.ALICE,
            p.item("labels", None, f"l{n}", None, f"l{n + 1}"),
        )
        for n in range(150)
    ]
    raw = p.cloud_issue(histories=histories[-40:], changelog_total=150)  # Cloud embeds a few
    embedded, complete = embedded_changelog(raw)
    assert (len(embedded), complete) == (40, False)
    fetched = histories[:100] + histories[100:]  # two pages from the changelog endpoint
    merged = merge_histories(embedded, fetched)
    changes = cloud(raw, histories=merged).changes
    assert len(changes) == 150
    assert len({c.external_id for c in changes}) == 150
    assert changes[0].external_id == "9000:0" and changes[-1].external_id == "9149:0"


def test_bulk_changelog_epoch_millisecond_timestamps():
    raw = p.cloud_issue(histories=[])
    hist = [p.history(1, 1709629651412, p.ALICE, p.item("status", "1", "A", "2", "B"))]
    assert cloud(raw, histories=hist).changes[0].changed_at == datetime(
        2024, 3, 5, 9, 7, 31, 412000, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda f: f.pop("status"), "field 'status' is missing"),
        (lambda f: f.update(summary=None), "field 'summary' is missing"),
        (lambda f: f.update(created="yesterday"), "created: 'yesterday' is not a timestamp"),
        (lambda f: f.update(labels="backend"), "labels: expected a list, got str"),
        (lambda f: f.update({p.POINTS_FIELD: "five"}), "story points: expected a number"),
        (lambda f: f.update(timespent="1h"), "timespent: expected a number of seconds"),
        (lambda f: f.update(duedate=20240315), "duedate: expected a date"),
    ],
)
def test_malformed_issues_raise_mapping_error_naming_the_problem(mutate, reason):
    raw = copy.deepcopy(p.cloud_issue())
    mutate(raw["fields"])
    with pytest.raises(MappingError) as info:
        cloud(raw)
    assert reason in str(info.value)


def test_string_story_points_are_accepted():
    raw = p.cloud_issue()
    raw["fields"][p.POINTS_FIELD] = "3.5"
    assert cloud(raw).issue.story_points == 3.5


def test_discover_fields_by_schema_and_name_overrides_win():
    # Cloud: the Jira Software estimate field, not the legacy (empty) "Story Points" number
    found = discover_fields(p.FIELDS_LISTING)
    assert found == FieldIds(
        story_points="customfield_10030", sprint=p.SPRINT_FIELD, epic_link=p.EPIC_LINK_FIELD
    )
    # Data Center: a number field named "Story Points"
    data_center = [f for f in p.FIELDS_LISTING if f["id"] != "customfield_10030"]
    assert discover_fields(data_center).story_points == p.POINTS_FIELD
    assert discover_fields(p.FIELDS_LISTING, sprint="customfield_99").sprint == "customfield_99"
    assert discover_fields([]) == FieldIds()


def test_release_dates_and_flags():
    rel = map_release(
        {
            "id": "10200",
            "name": "2024.03",
            "description": "March train",
            "archived": False,
            "released": True,
            "releaseDate": "2024-03-29",
            "startDate": "2024-03-01",
        },
        scope_key="PROJ",
        base_url=p.BASE,
    )
    assert (rel.due_date, rel.released, rel.released_at, rel.start_date) == (
        date(2024, 3, 29),
        True,
        date(2024, 3, 29),
        date(2024, 3, 1),
    )
    unreleased = map_release({"id": "1", "name": "next"}, scope_key="PROJ", base_url=p.BASE)
    assert (unreleased.due_date, unreleased.released_at, unreleased.released) == (None, None, False)


def test_agile_sprint_uses_origin_board():
    s = map_sprint(
        {"id": 37, "state": "future", "name": "Sprint 9", "originBoardId": 5, "goal": "ship"}
    )
    assert (s.external_id, s.state, s.board_id, s.start_at) == ("37", "future", "5", None)
