"""GitHub sync against the sandbox over real HTTP: the store equals the sandbox's data.

Full sync, incremental syncs after rounds of changes, a no-change cycle's cost in the
sandbox's own accounting, faults and enforced rate limits, and the links and people derived
with the Jira half of the sandbox.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import aliased

from syncd.config import Settings, settings_from_dict
from syncd.link import refresh
from syncd.link.queries import dangling_keys
from syncd.sandbox.app import Sandbox
from syncd.sandbox.http import Faults
from syncd.sandbox.people import PEOPLE
from syncd.store import models as m
from syncd.store.db import open_database, upgrade
from syncd.sync.engine import SyncEngine, SyncReport

pytestmark = pytest.mark.integration

SOURCE = "gh"


def _settings(
    sb: Sandbox, *, jira: bool = False, people: dict[str, Any] | None = None, **github: Any
) -> Settings:
    sources: list[dict[str, Any]] = [
        {
            "name": SOURCE,
            "kind": "github",
            "url": sb.github_url,
            "token": sb.github_token,
            "repos": list(sb.size.github_repos),
            "max_requests_per_second": 200,
            **github,
        }
    ]
    if jira:
        sources.append(
            {
                "name": "jira",
                "kind": "jira",
                "url": sb.jira_url,
                "email": sb.jira_email,
                "token": sb.jira_token,
                "projects": list(sb.size.jira_projects),
                "max_requests_per_second": 200,
            }
        )
    return settings_from_dict({"sources": sources, "people": people or {}}, env={})


def _sync(settings: Settings, db: Engine, source: str | None = SOURCE) -> SyncReport:
    report = SyncEngine(settings, db).sync(source)
    failed = [(r.scope, r.stream, r.error) for r in report.results if r.status != "success"]
    assert report.ok, (report.source_errors, failed)
    return report


def _ts(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


# -- what the sandbox holds -------------------------------------------------------------


class _Either:
    """Equal to anything: a value the test cannot predict to the second."""

    def __eq__(self, other: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "<either>"


EITHER = _Either()
SIZES_FOR = timedelta(days=30)  # the connector's default pull_request_sizes_for


def truth(
    sb: Sandbox,
    first_sync: datetime,
    branches: tuple[str, ...] = (),
    repos: tuple[str, ...] | None = None,
) -> dict[str, dict[Any, tuple]]:
    """What the store must hold. Pull request sizes are read for open pull requests and
    those updated within 30 days of the first sync (every later change is newer still)."""
    data = sb.github_service.data
    sizes_from = first_sync - SIZES_FOR
    out: dict[str, dict[Any, tuple]] = {k: {} for k in (
        "issues", "pulls", "reviews", "commits", "milestones", "accounts")}  # fmt: skip
    users: set[Any] = set()
    for name in repos or sb.size.github_repos:
        repo = data.repos[name]
        users.add(repo.owner)
        for issue in repo.issues.values():
            labels = tuple(label.name for label in issue.labels)
            kind = "bug" if "bug" in labels else "story" if "enhancement" in labels else "task"
            closed = issue.state == "closed"
            out["issues"][f"{name}#{issue.number}"] = (
                str(issue.id),
                issue.title,
                kind,
                "done" if closed else "todo",
                issue.state,
                labels,
                str(issue.assignees[0].id) if issue.assignees else None,
                str(issue.user.id),
                str(issue.milestone.id) if issue.milestone else None,
                _ts(issue.created_at),
                _ts(issue.updated_at),
                _ts(issue.closed_at) if closed else None,
            )
            users.update([issue.user, *issue.assignees])
        for pull in repo.pulls.values():
            commits = [repo.commits[sha] for sha in pull.commit_shas]
            state = "merged" if pull.merged_at else pull.state
            updated = _ts(pull.updated_at)
            assert updated is not None
            sizes: tuple[Any, ...] = (
                sum(c.additions for c in commits),
                sum(c.deletions for c in commits),
                min(3000, sum(c.files for c in commits)),
            )
            if abs((updated - sizes_from).total_seconds()) < 600 and pull.state != "open":
                sizes = (EITHER, EITHER, EITHER)  # at the window's edge, to the second
            elif pull.state != "open" and updated < sizes_from:
                sizes = (None, None, None)
            out["pulls"][(name, pull.number)] = (
                str(pull.id),
                pull.title,
                pull.body,
                state,
                pull.draft,
                str(pull.user.id),
                pull.head_ref,
                pull.base_ref,
                _ts(pull.created_at),
                _ts(pull.updated_at),
                _ts(pull.closed_at),
                _ts(pull.merged_at),
                *sizes,
                str(pull.milestone.id) if pull.milestone else None,
            )
            users.update([pull.user, *pull.assignees, *pull.requested_reviewers])
            if pull.merged_by:
                users.add(pull.merged_by)
            for review in pull.reviews:
                out["reviews"][str(review.id)] = (
                    name,
                    pull.number,
                    review.state,
                    _ts(review.submitted_at),
                    str(review.user.id),
                )
                users.add(review.user)
        for branch in (repo.default_branch, *branches):
            if branch not in repo.branches:
                continue
            for c in repo.branch_log(branch):
                out["commits"][(name, c.sha)] = (
                    c.message,
                    c.author_name,
                    c.author_email,
                    _ts(c.author_date),
                    _ts(c.committer_date),
                    str(c.author_user.id) if c.author_user else None,
                )
                if c.author_user:
                    users.add(c.author_user)
        for milestone in repo.milestones.values():
            due = _ts(milestone.due_on)
            out["milestones"][str(milestone.id)] = (
                name,
                milestone.title,
                due.date() if due else None,
                milestone.state == "closed",
            )
            users.add(milestone.creator)
    for user in users:
        out["accounts"][str(user.id)] = (user.login, user.name, user.public_email)
    return out


# -- what the store holds -----------------------------------------------------------------


def stored(db: Engine) -> dict[str, dict[Any, tuple]]:
    i, pr, rv, c = m.Issue, m.PullRequest, m.Review, m.Commit
    scope, rel, item = m.Scope, m.Release, m.ReleaseItem
    assignee, reporter, author = aliased(m.Account), aliased(m.Account), aliased(m.Account)
    out: dict[str, dict[Any, tuple]] = {}
    with db.connect() as conn:
        source_id = conn.execute(select(m.Source.id).where(m.Source.name == SOURCE)).scalar_one()
        issue_release = dict(
            conn.execute(
                select(item.issue_id, rel.external_id)
                .join(rel, rel.id == item.release_id)
                .where(item.issue_id.is_not(None), item.source_id == source_id)
            ).all()
        )
        pull_release = dict(
            conn.execute(
                select(item.pull_request_id, rel.external_id)
                .join(rel, rel.id == item.release_id)
                .where(item.pull_request_id.is_not(None), item.source_id == source_id)
            ).all()
        )
        out["issues"] = {
            row.key: (
                row.external_id,
                row.title,
                row.type,
                row.status,
                row.original_status,
                tuple(row.labels),
                row.assignee,
                row.reporter,
                issue_release.get(row.id),
                row.created_at,
                row.updated_at,
                row.resolved_at,
            )
            for row in conn.execute(
                select(
                    i.id,
                    i.key,
                    i.external_id,
                    i.title,
                    i.type,
                    i.status,
                    i.original_status,
                    i.labels,
                    assignee.external_id.label("assignee"),
                    reporter.external_id.label("reporter"),
                    i.created_at,
                    i.updated_at,
                    i.resolved_at,
                )
                .outerjoin(assignee, assignee.id == i.assignee_id)
                .outerjoin(reporter, reporter.id == i.reporter_id)
                .where(i.source_id == source_id)
            )
        }
        out["pulls"] = {
            (row.key, row.number): (
                row.external_id,
                row.title,
                row.body,
                row.state,
                row.is_draft,
                row.author,
                row.head_ref,
                row.base_ref,
                row.created_at,
                row.updated_at,
                row.closed_at,
                row.merged_at,
                row.additions,
                row.deletions,
                row.changed_files,
                pull_release.get(row.id),
            )
            for row in conn.execute(
                select(
                    pr.id,
                    scope.key,
                    pr.number,
                    pr.external_id,
                    pr.title,
                    pr.body,
                    pr.state,
                    pr.is_draft,
                    author.external_id.label("author"),
                    pr.head_ref,
                    pr.base_ref,
                    pr.created_at,
                    pr.updated_at,
                    pr.closed_at,
                    pr.merged_at,
                    pr.additions,
                    pr.deletions,
                    pr.changed_files,
                )
                .join(scope, scope.id == pr.scope_id)
                .outerjoin(author, author.id == pr.author_id)
                .where(pr.source_id == source_id)
            )
        }
        out["reviews"] = {
            row.external_id: (row.key, row.number, row.state, row.submitted_at, row.author)
            for row in conn.execute(
                select(
                    rv.external_id,
                    scope.key,
                    pr.number,
                    rv.state,
                    rv.submitted_at,
                    author.external_id.label("author"),
                )
                .join(pr, pr.id == rv.pull_request_id)
                .join(scope, scope.id == pr.scope_id)
                .outerjoin(author, author.id == rv.author_id)
                .where(rv.source_id == source_id)
            )
        }
        out["commits"] = {
            (row.key, row.sha): (
                row.message,
                row.author_name,
                row.author_email,
                row.authored_at,
                row.committed_at,
                row.author,
            )
            for row in conn.execute(
                select(
                    scope.key,
                    c.sha,
                    c.message,
                    c.author_name,
                    c.author_email,
                    c.authored_at,
                    c.committed_at,
                    author.external_id.label("author"),
                )
                .join(scope, scope.id == c.scope_id)
                .outerjoin(author, author.id == c.author_id)
                .where(c.source_id == source_id)
            )
        }
        out["milestones"] = {
            row.external_id: (row.key, row.name, row.due_date, row.released)
            for row in conn.execute(
                select(rel.external_id, scope.key, rel.name, rel.due_date, rel.released)
                .join(scope, scope.id == rel.scope_id)
                .where(rel.source_id == source_id)
            )
        }
        out["accounts"] = {
            row.external_id: (row.login, row.display_name, row.email)
            for row in conn.execute(
                select(
                    m.Account.external_id,
                    m.Account.login,
                    m.Account.display_name,
                    m.Account.email,
                ).where(m.Account.source_id == source_id)
            )
        }
    return out


def assert_store_equals_sandbox(
    db: Engine,
    sb: Sandbox,
    first_sync: datetime,
    branches: tuple[str, ...] = (),
    repos: tuple[str, ...] | None = None,
) -> None:
    expected, actual = truth(sb, first_sync, branches, repos), stored(db)
    for kind in expected:
        want, have = expected[kind], actual[kind]
        missing = sorted(set(want) - set(have), key=str)[:5]
        extra = sorted(set(have) - set(want), key=str)[:5]
        wrong = [
            (k, want[k], have[k]) for k in sorted(want, key=str) if k in have and want[k] != have[k]
        ][:3]
        assert not (missing or extra or wrong), (
            f"{kind}: {len(want)} in the sandbox, {len(have)} stored; missing {missing}, "
            f"extra {extra}, different (key, sandbox, store) {wrong}"
        )


def _requests(sb: Sandbox) -> dict[str, Any]:
    assert sb.github_server is not None
    return sb.github_server.log.summary()


def _reset_log(sb: Sandbox) -> None:
    assert sb.github_server is not None
    sb.github_server.log.reset()


def _evolve(sb: Sandbox, changes: int) -> dict[str, int]:
    assert sb.github_server is not None
    return sb.github_server.evolve(changes)


# -- the tests ------------------------------------------------------------------------------


def test_full_and_incremental_syncs_equal_the_sandbox(
    db: Engine, make_sandbox: Callable[..., Sandbox]
) -> None:
    sb = make_sandbox(size="small", seed=3)
    settings = _settings(sb)
    first = datetime.now(UTC)
    _sync(settings, db)
    assert_store_equals_sandbox(db, sb, first)

    for round_ in range(3):
        applied = _evolve(sb, 40)
        assert sum(applied.values()) == 40
        _reset_log(sb)
        report = _sync(settings, db)
        assert_store_equals_sandbox(db, sb, first)
        # What syncd counted is what the server saw.
        assert sum(r.requests for r in report.results) == _requests(sb)["total"], round_

        # Nothing changed since: every list answers 304, which costs no rate limit.
        _reset_log(sb)
        idle = _sync(settings, db)
        log = _requests(sb)
        assert log["rate_limit_cost"] == 0, log
        assert log["by_status"] == {"304": log["total"]}
        assert sum(r.records for r in idle.results) == sum(
            r.records for r in idle.results if r.stream == "users"
        )  # only accounts rewritten from the users cursor, no new data
        assert_store_equals_sandbox(db, sb, first)


def test_no_change_cycle_costs_zero_rate_limit_points(
    db: Engine, make_sandbox: Callable[..., Sandbox]
) -> None:
    sb = make_sandbox(size="small", seed=5)
    settings = _settings(sb)
    _sync(settings, db)
    _reset_log(sb)
    report = _sync(settings, db)
    log = _requests(sb)
    repos = len(sb.size.github_repos)
    # Per repository: repository, milestones, issues, pulls, default-branch commits.
    assert log["total"] == 5 * repos == sum(r.requests for r in report.results)
    assert log["rate_limit_cost"] == 0
    assert log["violations"] == 0


def test_repositories_with_issues_disabled_and_empty_ones_sync_and_cost_nothing_idle(
    db: Engine, make_sandbox: Callable[..., Sandbox]
) -> None:
    """Issues disabled: /issues answers 410, so the stream is skipped (the repository
    payload says has_issues false). Empty: /commits answers 409, so no commits, and no
    request for them while the repository payload is unchanged."""
    sb = make_sandbox(size="small", seed=6)
    sb.github_service.add_repo("acme/no-issues", has_issues=False)
    sb.github_service.add_repo("acme/empty", empty=True)
    repos = (*sb.size.github_repos, "acme/no-issues", "acme/empty")
    settings = _settings(sb, repos=list(repos))
    first = datetime.now(UTC)
    _reset_log(sb)
    _sync(settings, db)
    assert_store_equals_sandbox(db, sb, first, repos=repos)
    log = _requests(sb)
    assert log["by_status"].get("410") is None  # the issues of acme/no-issues: not asked
    assert log["by_status"]["409"] == 1  # the commits of acme/empty, once
    with db.connect() as conn:
        cursor = conn.execute(
            select(m.SyncCursor.cursor).where(
                m.SyncCursor.scope_key == "acme/empty", m.SyncCursor.stream == "commits"
            )
        ).scalar_one()
    assert cursor["branches"]["main"]["head"] is None

    _evolve(sb, 40)
    _sync(settings, db)
    assert_store_equals_sandbox(db, sb, first, repos=repos)

    _reset_log(sb)
    _sync(settings, db)
    log = _requests(sb)
    # 5 per repository of the size; 4 for each of the two others (no issues request for
    # one, no commits request for the other).
    assert log["total"] == 5 * len(sb.size.github_repos) + 4 + 4, log
    assert log["by_status"] == {"304": log["total"]}
    assert log["rate_limit_cost"] == 0


def test_a_public_email_hidden_later_is_forgotten(
    db: Engine, make_sandbox: Callable[..., Sandbox]
) -> None:
    sb = make_sandbox(size="small", seed=8)
    settings = _settings(sb, user_refresh="1s")
    _sync(settings, db)
    users = sb.github_service.data.users
    with db.connect() as conn:
        with_email = dict(
            conn.execute(
                select(m.Account.external_id, m.Account.email).where(m.Account.email.is_not(None))
            ).all()
        )
    user = next(u for u in users.values() if str(u.id) in with_email)
    user.public_email = None  # the user hides their address
    user.updated_at = int(time.time())
    time.sleep(1.1)  # user_refresh: profiles are read again
    _sync(settings, db)
    with db.connect() as conn:
        email, verified = conn.execute(
            select(m.Account.email, m.Account.email_verified).where(
                m.Account.external_id == str(user.id)
            )
        ).one()
    assert (email, verified) == (None, False)


def test_faults_and_enforced_rate_limits_leave_the_store_exact(
    tmp_path, make_sandbox: Callable[..., Sandbox]
) -> None:
    faults = Faults(error_rate=0.04, reset_rate=0.02, truncate_rate=0.02, rate_limit=True, seed=11)
    sb = make_sandbox(size="small", seed=7, faults=faults)
    db = open_database(f"sqlite:///{tmp_path / 'faults.db'}")
    upgrade(db)
    # A pace the enforced secondary limit (60 requests a second) refuses now and then; the
    # enforced primary limit (300 per 10 s) is paced from its headers.
    settings = _settings(sb, max_requests_per_second=300, concurrency=2)
    first = datetime.now(UTC)
    _sync(settings, db)
    assert_store_equals_sandbox(db, sb, first)
    _evolve(sb, 30)
    _sync(settings, db)
    assert_store_equals_sandbox(db, sb, first)
    log = _requests(sb)
    assert log["violations"] == 0, log
    refused = {k: v for k, v in log["by_status"].items() if k in ("403", "429")}
    injected = sum(log["faults"].values())
    assert refused and injected, log  # the limits and faults did happen
    db.dispose()


def test_extra_branches_are_followed(tmp_path, make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(size="small", seed=2)
    repo = sb.github_service.data.repos[sb.size.github_repos[0]]
    branch = next(
        b.name
        for b in sorted(repo.branches.values(), key=lambda b: b.name)
        if b.name != repo.default_branch
    )
    db = open_database(f"sqlite:///{tmp_path / 'branches.db'}")
    upgrade(db)
    settings = _settings(sb, branches=[branch])
    first = datetime.now(UTC)
    _sync(settings, db)
    assert_store_equals_sandbox(db, sb, first, branches=(branch,))
    db.dispose()


def test_links_and_people_are_derived(db: Engine, make_sandbox: Callable[..., Sandbox]) -> None:
    sb = make_sandbox(size="small", seed=1)
    github_users = sb.github_service.data.users
    jira_users = {u.email: u for u in sb.jira_service.data.users if u.email}
    # The [people] mapping a PM would write: for the people e-mail cannot match (no public
    # GitHub e-mail, or a Jira address hidden by its owner).
    mapping = {}
    for person in PEOPLE:
        if not (person.in_jira and person.in_github):
            continue
        gh = github_users.get(person.github_login)
        ju = jira_users.get(person.email)
        if gh is None or ju is None:
            continue
        if gh.public_email is None or not ju.email_visible:
            mapping[ju.account_id] = person.github_login
    assert mapping
    # The sync derives links and people itself, with the [people] section of the settings.
    report = _sync(_settings(sb, jira=True, people=mapping), db, source=None)
    assert report.link_error is None
    again = refresh(db, mapping)  # incremental: nothing left to do
    assert (again.links.added, again.links.removed, again.people.accounts_moved) == (0, 0, 0)

    expected_links: set[tuple] = set()
    for name in sb.size.github_repos:
        repo = sb.github_service.data.repos[name]
        for pull in repo.pulls.values():
            for via, keys in pull.keys.items():
                expected_links |= {(name, f"#{pull.number}", via, key) for key in keys}
        for commit in repo.branch_log():
            expected_links |= {(name, commit.sha, "commit_message", k) for k in commit.keys}
    link, pr, c, scope = m.Link, m.PullRequest, m.Commit, m.Scope
    with db.connect() as conn:
        rows = conn.execute(
            select(link.issue_key, link.via, link.issue_id, pr.number, c.sha, scope.key)
            .outerjoin(pr, pr.id == link.pull_request_id)
            .outerjoin(c, c.id == link.commit_id)
            .join(scope, scope.id == func.coalesce(pr.scope_id, c.scope_id))
        ).all()
        dangling = dangling_keys(conn, limit=1000)
    resolved = {
        (repo_key, f"#{number}" if number is not None else sha, via, key)
        for key, via, issue_id, number, sha, repo_key in rows
        if issue_id is not None
    }
    assert resolved == expected_links
    # Dangling keys are exactly the phantoms: tracked projects, numbers no issue has.
    count = sb.size.issues_per_project
    assert dangling and all(
        d.key.split("-")[0] in sb.size.jira_projects and int(d.key.split("-")[1]) > count
        for d in dangling
    )

    # One person per human in both tools, whether e-mail or the mapping matched them.
    account, source = m.Account, m.Source
    with db.connect() as conn:
        person_of = {
            (kind, external_id): person_id
            for kind, external_id, person_id in conn.execute(
                select(source.kind, account.external_id, account.person_id).join(
                    source, source.id == account.source_id
                )
            )
        }
    checked = 0
    ids_of_person: dict[str, set[int]] = {}
    for person in PEOPLE:
        gh = github_users.get(person.github_login)
        ju = jira_users.get(person.email)
        keys = [("github", str(gh.id)) if gh else None, ("jira", ju.account_id) if ju else None]
        present = [person_of[k] for k in keys if k in person_of]
        ids_of_person[person.email] = {p for p in present if p is not None}
        if len(present) == 2:
            assert present[0] is not None and present[0] == present[1], person.display_name
            checked += 1
    assert checked >= 10
    # ... and nobody was merged with somebody else.
    owners: dict[int, str] = {}
    for email, ids in ids_of_person.items():
        for person_id in ids:
            assert owners.setdefault(person_id, email) == email
