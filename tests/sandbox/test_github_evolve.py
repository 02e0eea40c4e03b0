"""The simulated GitHub over time: changes happen now, move ``updated_at`` as GitHub does, and
are found by the incremental reads syncd relies on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from syncd.sandbox.github.service import GitHubService
from syncd.sandbox.http import Faults, Headers, Request
from syncd.sandbox.sizes import SIZES

NOW = 1_750_000_000
LATER = NOW + 3 * 86400 + 123  # the service clock when changes happen


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make() -> GitHubService:
    return GitHubService(SIZES["small"], seed=3, now=NOW, clock=Clock(LATER))


def get(service: GitHubService, path: str, **query: str) -> list[dict[str, Any]]:
    request = Request(
        "GET",
        f"/api/v3{path}",
        {k: [v] for k, v in query.items()},
        Headers({"Authorization": f"token {GitHubService.TOKEN}"}),
        b"",
        "http://127.0.0.1:1",
        Faults(),
    )
    response = service.handle(request)
    assert response.status == 200, response.body
    return json.loads(response.body)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def snapshot(service: GitHubService) -> dict[str, tuple[Any, ...]]:
    return {
        name: (
            list(repo.commits),
            [(p.number, p.state, p.updated_at, len(p.reviews)) for p in repo.pulls.values()],
            [(i.number, i.state, i.updated_at, len(i.labels)) for i in repo.issues.values()],
            [(m.number, m.due_on, m.state) for m in repo.milestones.values()],
        )
        for name, repo in service.data.repos.items()
    }


def test_evolve_is_deterministic_and_reports_kinds() -> None:
    one, two = make(), make()
    applied = one.evolve(200)
    assert applied == two.evolve(200)
    assert sum(applied.values()) == 200
    assert {"pr_opened", "pr_merged", "pr_reviewed", "commits_pushed", "issue_closed"} <= set(
        applied
    )
    assert snapshot(one) == snapshot(two)
    before = one.counts()
    one.evolve(50)
    assert one.counts()["commits"] > before["commits"]


def test_changed_items_carry_the_time_of_change() -> None:
    service = make()
    before = snapshot(service)
    service.evolve(150)
    for name, repo in service.data.repos.items():
        old_pulls = {n: (state, upd, reviews) for n, state, upd, reviews in before[name][1]}
        for pull in repo.pulls.values():
            if pull.number not in old_pulls:
                assert pull.created_at == pull.updated_at == LATER  # opened now
                continue
            state, updated, reviews = old_pulls[pull.number]
            if (pull.state, len(pull.reviews)) != (state, reviews):
                assert pull.updated_at >= LATER > updated
            if pull.merged and pull.merged_at and pull.merged_at >= LATER:
                landed = repo.commits[pull.merge_commit_sha or ""]
                assert landed.committer_date == pull.merged_at
                assert landed.sha in {c.sha for c in repo.branch_log(pull.base_ref)}
        for commit in repo.commits.values():
            if commit.sha not in before[name][0]:
                assert commit.committer_date >= LATER


def test_incremental_reads_find_every_change() -> None:
    service = make()
    service.evolve(120)
    for name, repo in service.data.repos.items():
        # Issues (and pull requests) with since.
        changed = {i.number for i in repo.items() if i.updated_at >= LATER}
        issues = get(
            service, f"/repos/{name}/issues", state="all", since=iso(LATER), per_page="100"
        )
        seen = {i["number"] for i in issues}
        assert seen == changed and changed
        # Pull requests have no since: newest-updated first, stop at the watermark.
        pulls = get(
            service,
            f"/repos/{name}/pulls",
            state="all",
            sort="updated",
            direction="desc",
            per_page="100",
        )
        fresh = []
        for pull in pulls:
            if pull["updated_at"] < iso(LATER):
                break
            fresh.append(pull["number"])
        assert set(fresh) == {p.number for p in repo.pulls.values() if p.updated_at >= LATER}
        # Commits pushed to the default branch, by committer date.
        pushed = get(service, f"/repos/{name}/commits", since=iso(LATER), per_page="100")
        expected = [c.sha for c in repo.branch_log() if c.committer_date >= LATER]
        assert [c["sha"] for c in pushed] == expected and expected


def test_new_items_continue_the_shared_number_sequence() -> None:
    service = make()
    repo = service.data.repos["acme/api"]
    top = repo.next_number - 1
    service.evolve(60)
    new = sorted(n for n in [*repo.issues, *repo.pulls] if n > top)
    assert new == list(range(top + 1, repo.next_number))
    assert new


def test_milestone_due_dates_slip() -> None:
    service = make()
    repo = service.data.repos["acme/api"]
    before = {m.number: (m.due_on, m.state) for m in repo.milestones.values()}
    for _ in range(6):
        service._evolver.milestone_changed(repo, int(LATER))
    changed = [m for m in repo.milestones.values() if before.get(m.number) != (m.due_on, m.state)]
    assert changed and all(m.updated_at == LATER for m in changed)
    for m in changed:
        if m.state == "open" and m.number in before:
            assert (m.due_on or 0) > (before[m.number][0] or 0)  # pushed later, never earlier


def test_commit_logs_stay_exact_while_pushes_extend_them() -> None:
    service = make()
    for _ in range(10):
        for repo in service.data.repos.values():
            repo.branch_log()  # cached, then extended by the next pushes
        service.evolve(30)
    for repo in service.data.repos.values():
        for branch in repo.branches.values():
            incremental = [c.sha for c in repo.log(branch.head)]
            repo._log_cache.clear()
            assert incremental == [c.sha for c in repo.log(branch.head)], branch.name
