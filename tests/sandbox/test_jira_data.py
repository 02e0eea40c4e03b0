"""The simulated Jira's data: deterministic, internally consistent, awkward where real data is."""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from datetime import UTC, datetime

from syncd.sandbox.jira import JiraService
from syncd.sandbox.jira.data import F_SPRINT, JiraData, user_token
from syncd.sandbox.jira.generate import generate
from syncd.sandbox.jira.model import STATUSES
from syncd.sandbox.jira.texts import LONG_SUMMARY
from syncd.sandbox.sizes import SIZES
from tests.sandbox.jira_support import ANCHOR_MS


def digest(data: JiraData) -> str:
    h = hashlib.sha256()
    for issue in data.issues.values():
        h.update(
            repr(
                (
                    issue.key,
                    issue.summary,
                    issue.status,
                    issue.assignee,
                    issue.updated,
                    issue.sprints,
                    issue.due,
                    issue.history,
                )
            ).encode()
        )
    return h.hexdigest()


def test_same_seed_same_site_other_seed_other_site() -> None:
    a = generate(SIZES["small"], 1, ANCHOR_MS)
    b = generate(SIZES["small"], 1, ANCHOR_MS)
    c = generate(SIZES["small"], 2, ANCHOR_MS)
    assert digest(a) == digest(b) != digest(c)


def assert_consistent(data: JiraData) -> None:
    """Fields agree with the changelog, and the changelog with the timestamps."""
    last_id_by_time: list[tuple[int, int]] = []
    for issue in data.issues.values():
        times = [h.created for h in issue.history]
        assert times == sorted(times), issue.key
        assert all(issue.created < t <= data.anchor_ms or t > data.anchor_ms for t in times)
        assert issue.updated == (times[-1] if times else issue.created), issue.key
        last_id_by_time += [(h.created, h.id) for h in issue.history]
        status_changes = [i for h in issue.history for i in h.items if i.field == "status"]
        if status_changes:
            assert status_changes[-1].to_string == issue.status, issue.key
            for before, after in itertools.pairwise(status_changes):
                assert before.to_string == after.from_string, issue.key
        sprint_changes = [i for h in issue.history for i in h.items if i.field_id == F_SPRINT]
        if sprint_changes:
            assert sprint_changes[-1].to == ", ".join(str(s) for s in issue.sprints), issue.key
        assignee_changes = [i for h in issue.history for i in h.items if i.field == "assignee"]
        if assignee_changes:
            expected = user_token(issue.assignee) if issue.assignee is not None else None
            assert assignee_changes[-1].to == expected, issue.key
        done = STATUSES[issue.status].category.key == "done"
        assert (issue.resolution is not None) == done, issue.key
        assert (issue.resolved is not None) == done, issue.key
    # Changelog ids grow with time across the whole site.
    ordered = [i for _, i in sorted(last_id_by_time)]
    assert ordered == sorted(ordered)


def test_generated_data_is_consistent_and_realistic() -> None:
    data = generate(SIZES["small"], 1, ANCHOR_MS)
    assert_consistent(data)
    issues = list(data.issues.values())
    assert len(issues) == 300
    assert {i.key for i in issues} == {f"{p}-{n}" for p in ("PROJ", "OPS") for n in range(1, 151)}
    # ids follow creation order, as Jira's do
    assert [i.id for i in sorted(issues, key=lambda i: i.created)] == sorted(i.id for i in issues)
    statuses = Counter(STATUSES[i.status].category.key for i in issues)
    assert statuses["new"] > 10 and statuses["indeterminate"] > 10 and statuses["done"] > 100
    assert sum(1 for i in issues if i.assignee is None) > 10
    assert sum(1 for i in issues if len(i.history) > 100) >= 2
    assert sum(1 for i in issues if i.due) > 50
    assert sum(1 for i in issues if len(i.sprints) > 1) > 5  # carried over
    assert sum(1 for i in issues if i.story_points is not None) > 100
    assert sum(1 for i in issues if i.time_spent) > 50
    assert sum(1 for i in issues if i.fix_versions) > 50
    assert any(i.type == "Epic" for i in issues)
    assert any(i.type == "Sub-task" and i.parent for i in issues)
    assert any(i.epic for i in issues)
    assert Counter(link.type for link in data.links.values())["Blocks"] > 10
    summaries = [i.summary for i in issues]
    assert any("<script>" in s for s in summaries)
    assert any(any(ord(c) > 0xFFFF for c in s) for s in summaries)  # emoji
    assert any(len(s) == 255 and s.startswith(LONG_SUMMARY[:20]) for s in summaries)
    # Users have emails; some hide them on Cloud; one is deactivated; the API user has a DST zone.
    humans = [u for u in data.users if u.account_type == "atlassian"]
    assert all(u.email.endswith("@acme.example") for u in humans)
    assert any(not u.email_visible for u in humans) and any(not u.active for u in humans)
    assert data.users[data.api_user].time_zone == "America/Los_Angeles"
    # Same minute: an edit shortly after a transition.
    assert any(
        h1.created // 60_000 == h2.created // 60_000
        for i in issues
        for h1, h2 in itertools.pairwise(i.history)
    )


def test_evolve_applies_every_kind_consistently_in_one_minute() -> None:
    now = datetime(2026, 11, 2, 15, 30, 5, tzinfo=UTC)
    service = JiraService("small", 4, anchor_ms=ANCHOR_MS, clock=lambda: now.timestamp())
    before_ids = set(service.data.issues)
    applied = service.evolve(8)
    assert applied == dict.fromkeys(
        ("transition", "reassign", "due_push", "sprint_change", "edit", "create", "delete", "move"),
        1,
    )
    changed = [i for i in service.data.issues.values() if i.updated >= now.timestamp() * 1000]
    assert len(changed) == 7  # all but the deleted one
    assert len({i.updated // 60_000 for i in changed}) == 1
    assert len(service.data.deleted) == 1 and not set(service.data.deleted) & set(
        service.data.issues
    )
    assert len(set(service.data.issues) - before_ids) == 1
    assert_consistent(service.data)
    more = service.evolve(200)
    assert sum(more.values()) == 200
    assert_consistent(service.data)
    counts = service.counts()
    assert counts["issues"] == len(service.data.issues)
    assert counts["deleted_issues"] == len(service.data.deleted)


def test_evolve_is_deterministic() -> None:
    clock = lambda: datetime(2026, 11, 2, tzinfo=UTC).timestamp()  # noqa: E731
    a = JiraService("small", 4, anchor_ms=ANCHOR_MS, clock=clock)
    b = JiraService("small", 4, anchor_ms=ANCHOR_MS, clock=clock)
    assert a.evolve(50) == b.evolve(50)
    assert digest(a.data) == digest(b.data)
