"""GitHub payloads -> normalized records."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connectors.github.mapping import (
    MappingError,
    has_details,
    is_pull_request_item,
    map_commit,
    map_issue,
    map_milestone,
    map_pull_request,
    map_repository,
    map_review,
    map_user,
)
from tests.unit.github import payloads as p

REPO = "acme/api"


def test_repository_keeps_the_configured_key() -> None:
    scope = map_repository(p.REPOSITORY, key="Acme/API")
    assert (scope.kind, scope.key, scope.external_id, scope.name) == (
        "github_repo",
        "Acme/API",
        "500",
        "api",
    )


def test_open_issue() -> None:
    issue, accounts, releases = map_issue(p.ISSUE, REPO)
    assert issue.key == "acme/api#7"
    assert issue.external_id == "70007"
    assert (issue.type, issue.original_type) == ("bug", "issue")
    assert (issue.status, issue.original_status) == ("todo", "open")
    assert issue.priority == "high"
    assert issue.labels == ("bug", "priority: high")
    assert issue.assignee_id == "1001" and issue.reporter_id == "1002"
    assert issue.updated_at == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert issue.resolved_at is None
    assert issue.release_ids == ("9003",)
    assert [r.name for r in releases] == ["v1.4"]
    assert {a.login for a in accounts} == {"alicej", "bsmith-dev"}


def test_a_bug_labelled_enhancement_too_is_a_bug() -> None:
    labels = [{"name": "enhancement"}, {"name": "bug"}]
    assert map_issue({**p.ISSUE, "labels": labels}, REPO)[0].type == "bug"


def test_closed_issue_is_done_with_its_close_time() -> None:
    issue, _, releases = map_issue(p.CLOSED_ISSUE, REPO)
    assert (issue.status, issue.type, issue.resolution) == ("done", "story", "completed")
    assert issue.resolved_at == datetime(2024, 2, 20, 10, tzinfo=UTC)
    assert releases == [] and issue.release_ids == ()


def test_pull_requests_listed_by_the_issues_endpoint_are_not_issues() -> None:
    assert is_pull_request_item(p.PR_AS_ISSUE)
    with pytest.raises(MappingError, match="pull request"):
        map_issue(p.PR_AS_ISSUE, REPO)


def test_issue_with_a_broken_timestamp_says_which_field() -> None:
    broken = {**p.ISSUE, "updated_at": "yesterday"}
    with pytest.raises(MappingError, match="updated_at 'yesterday'"):
        map_issue(broken, REPO)


def test_merged_pull_request_from_list_item_and_details() -> None:
    assert not has_details(p.PULL) and has_details(p.PULL_DETAILS)
    pull, accounts, releases = map_pull_request(p.PULL, REPO, p.PULL_DETAILS)
    assert (pull.external_id, pull.number, pull.state) == ("90009", 9, "merged")
    assert (pull.additions, pull.deletions, pull.changed_files) == (120, 30, 4)
    assert (pull.head_ref, pull.base_ref) == ("feature/proj-12-rate-limiter", "main")
    assert pull.merged_at == datetime(2024, 3, 1, 11, tzinfo=UTC)
    assert pull.author_id == "1001" and pull.release_ids == ("9003",)
    assert pull.body == "Fixes PROJ-12"
    assert {a.login for a in accounts} == {"alicej", "zz-top-dev", "bsmith-dev"}
    assert releases[0].due_date == date(2024, 4, 30)


def test_open_draft_without_details_has_no_sizes() -> None:
    pull, _, _ = map_pull_request(p.OPEN_DRAFT, REPO)
    assert (pull.state, pull.is_draft) == ("open", True)
    assert pull.additions is None and pull.closed_at is None


def test_closed_unmerged_pull_request() -> None:
    closed = {**p.PULL, "merged_at": None}
    assert map_pull_request(closed, REPO)[0].state == "closed"


def test_review_pending_has_no_submission_time() -> None:
    review, accounts = map_review(p.REVIEWS[1], "90009")
    assert (review.state, review.author_id) == ("APPROVED", "1014")
    assert review.submitted_at == datetime(2024, 2, 12, 10, tzinfo=UTC)
    pending = {**p.REVIEWS[0], "state": "PENDING", "submitted_at": None}
    assert map_review(pending, "90009")[0].submitted_at is None
    assert [a.login for a in accounts] == ["zz-top-dev"]


def test_review_of_a_deleted_user() -> None:
    review, accounts = map_review({**p.REVIEWS[0], "user": None}, "90009")
    assert review.author_id is None and accounts == []


def test_commit_git_author_and_github_account_are_separate() -> None:
    payload = p.commit("1" * 40, ["0" * 40], "2024-03-01T09:00:00Z", "PROJ-12 Add audit log")
    commit, accounts = map_commit(payload, REPO, "main")
    assert commit.author_id == "1001" and [a.login for a in accounts] == ["alicej"]
    assert (commit.author_name, commit.author_email) == (
        "Alice Johnson",
        "alice.johnson@acme.example",
    )
    assert commit.branches == ("main",)
    unmatched = map_commit({**payload, "author": None}, REPO, "main")
    assert unmatched[0].author_id is None and unmatched[1] == []


def test_commit_without_message_is_an_error() -> None:
    payload = p.commit("1" * 40, [], "2024-03-01T09:00:00Z", "x")
    del payload["commit"]["message"]
    with pytest.raises(MappingError, match="message"):
        map_commit(payload, REPO, "main")


def test_milestone_closed_is_released() -> None:
    closed = {**p.MILESTONE, "state": "closed", "closed_at": "2024-05-02T16:00:00Z"}
    release = map_milestone(closed, REPO)
    assert (release.kind, release.released, release.released_at) == (
        "github_milestone",
        True,
        date(2024, 5, 2),
    )


def test_only_a_profile_email_counts_as_verified() -> None:
    listed = map_user(p.user("alicej", 1001, email="alice.johnson@acme.example"))
    assert listed.email is None and not listed.email_verified
    account = map_user(
        p.profile("alicej", 1001, "Alice Johnson", "Alice.Johnson@acme.example"), profile=True
    )
    assert (account.display_name, account.email, account.email_verified) == (
        "Alice Johnson",
        "Alice.Johnson@acme.example",
        True,
    )
    relay = map_user(p.profile("x", 5, None, "5+x@users.noreply.github.com"), profile=True)
    assert relay.email is None and not relay.email_verified
