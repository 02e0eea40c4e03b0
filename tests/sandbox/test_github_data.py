"""The simulated GitHub's data: deterministic, sized as sizes.py says, and realistic enough
to exercise syncd's mapping and linking (the traps real repositories have)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from syncd.sandbox.github.generate import generate, pacific_midnight
from syncd.sandbox.github.model import GitHubData, PullRequest
from syncd.sandbox.people import EMAIL_DOMAIN, PEOPLE
from syncd.sandbox.sizes import SIZES

NOW = 1_750_000_000  # 2025-06-15T15:06:40Z
SMALL = SIZES["small"]
KEY = re.compile(r"\b([A-Za-z][A-Za-z0-9]+-\d+)")


@pytest.fixture(scope="module")
def data() -> GitHubData:
    return generate(SMALL, seed=7, now=NOW)


def test_same_size_and_seed_give_identical_data(data: GitHubData) -> None:
    again = generate(SMALL, seed=7, now=NOW)
    for name, repo in data.repos.items():
        other = again.repos[name]
        assert list(repo.commits) == list(other.commits)
        assert [(p.number, p.title, p.updated_at) for p in repo.pulls.values()] == [
            (p.number, p.title, p.updated_at) for p in other.pulls.values()
        ]
    different = generate(SMALL, seed=8, now=NOW)
    assert list(different.repos["acme/api"].commits) != list(data.repos["acme/api"].commits)


def test_counts_follow_the_size(data: GitHubData) -> None:
    assert list(data.repos) == list(SMALL.github_repos)
    for repo in data.repos.values():
        assert len(repo.pulls) == SMALL.prs_per_repo
        assert len(repo.commits) == SMALL.commits_per_repo
        assert len(repo.issues) == 60  # ~3/4 of the pull requests
        # Issues and pull requests share one number sequence without gaps.
        numbers = sorted([*repo.issues, *repo.pulls])
        assert numbers == list(range(1, len(numbers) + 1))


def test_people_share_emails_with_jira(data: GitHubData) -> None:
    assert len(PEOPLE) >= 40
    emails = {u.work_email for u in data.users.values() if u.work_email}
    assert all(e.endswith("@" + EMAIL_DOMAIN) for e in emails)
    github_people = {p.email for p in PEOPLE if p.in_github}
    assert emails == github_people
    # Most people hide their email: /users/{login} shows null for them.
    public = [u for u in data.users.values() if u.work_email and u.public_email]
    assert 0 < len(public) < len(emails)


def test_pull_requests_have_every_state_and_review_kind(data: GitHubData) -> None:
    pulls = [p for r in data.repos.values() for p in r.pulls.values()]
    states = Counter(("merged" if p.merged else p.state) for p in pulls)
    assert set(states) == {"open", "closed", "merged"}
    assert any(p.draft for p in pulls)
    review_states = Counter(r.state for p in pulls for r in p.reviews)
    assert set(review_states) >= {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"}
    assert any(not p.reviews for p in pulls)
    # A pull request is also an issue, with a different id.
    assert all(p.issue_id != p.id for p in pulls)
    assert all(p.issue_id > 2**31 for p in pulls)  # real GitHub ids outgrew int32


def test_timestamps_are_consistent(data: GitHubData) -> None:
    for repo in data.repos.values():
        for pull in repo.pulls.values():
            assert pull.created_at <= pull.updated_at < NOW
            if pull.merged_at is not None:
                assert pull.closed_at == pull.merged_at
                assert pull.merge_commit_sha in repo.commits
            for review in pull.reviews:
                assert pull.created_at < review.submitted_at <= pull.updated_at
        for commit in repo.commits.values():
            assert commit.author_date <= commit.committer_date < NOW
            for parent in commit.parents:
                assert repo.commits[parent].committer_date < commit.committer_date


def test_commits_on_and_off_the_default_branch(data: GitHubData) -> None:
    repo = data.repos["acme/api"]
    main = repo.branch_log()
    assert main[0].sha == repo.branches[repo.default_branch].head
    dates = [c.committer_date for c in main]
    assert dates == sorted(dates, reverse=True)
    off_main = set(repo.commits) - {c.sha for c in main}
    assert off_main  # pull-request branches, the release branch's hotfixes
    assert "release/1.x" in repo.branches
    # Rebased work: authored well before it was committed.
    assert any(c.committer_date - c.author_date > 3600 for c in main)
    # Commits GitHub cannot attribute to an account (unknown email) exist.
    assert any(c.author_user is None for c in repo.commits.values())
    # The two repositories use different default branches and merge styles.
    web = data.repos["acme/web"]
    assert (repo.default_branch, repo.merge_style) != (web.default_branch, web.merge_style)
    merges = [c for c in web.commits.values() if len(c.parents) == 2]
    assert merges and all(c.message.startswith("Merge pull request #") for c in merges)


def _texts(pull: PullRequest) -> str:
    return f"{pull.title}\n{pull.head_ref}\n{pull.body or ''}"


def test_jira_keys_appear_in_real_forms(data: GitHubData) -> None:
    pulls = [p for r in data.repos.values() for p in r.pulls.values()]
    linked = [p for p in pulls if p.keys]
    assert 0.5 < len(linked) / len(pulls) < 0.95
    titles = " ".join(p.title for p in pulls)
    branches = " ".join(p.head_ref for p in pulls)
    assert re.search(r"\[[A-Z]+-\d+\]", titles)  # [PROJ-12]
    assert any(re.match(r"[A-Z]+-\d+: ", p.title) for p in pulls)  # PROJ-12: ...
    assert re.search(r"feature/[a-z]+-\d+-", branches)  # lower case in branch names
    assert any(len(p.keys.get("title", ())) == 2 for p in pulls)  # two keys in one title
    # Every key the truth lists is really in the text and exists: as written (upper case)
    # in titles and bodies, in any case in branch names.
    texts = {"title": lambda p: p.title, "body": lambda p: p.body or ""}
    for pull in linked:
        for where, keys in pull.keys.items():
            text = pull.head_ref.upper() if where == "branch" else texts[where](pull)
            for key in keys:
                assert key in text, (where, key, pull.title)
                project, number = key.split("-")
                assert project in SMALL.jira_projects
                assert 1 <= int(number) <= SMALL.issues_per_project
    # Lower-case keys typed in titles and commit messages are there, and are no truth.
    lowered = [p for p in pulls if re.match(r"[a-z]+-\d+ ", p.title)]
    assert lowered and not any(p.keys.get("title") for p in lowered)
    commits = [c for r in data.repos.values() for c in r.commits.values()]
    assert all(k in c.message for c in commits for k in c.keys)
    assert any(re.match(r"[a-z]+-\d+ ", c.message) and not c.keys for c in commits)


def test_texts_carry_phantom_keys_and_lookalikes(data: GitHubData) -> None:
    everything = []
    for repo in data.repos.values():
        everything += [_texts(p) for p in repo.pulls.values()]
        everything += [c.message for c in repo.commits.values()]
    mentioned = {m.upper() for text in everything for m in KEY.findall(text)}
    real = {
        k for r in data.repos.values() for p in r.pulls.values() for v in p.keys.values() for k in v
    }
    real |= {k for r in data.repos.values() for c in r.commits.values() for k in c.keys}
    phantoms = mentioned - real
    assert any(k.split("-")[0] in SMALL.jira_projects for k in phantoms)  # number out of range
    assert any(k.split("-")[0] not in SMALL.jira_projects for k in phantoms)  # unknown project
    assert {"UTF-8", "ISO-8601"} & phantoms or {"SHA-256", "COVID-19"} & phantoms


def test_titles_include_unicode_emoji_html_and_null_bodies() -> None:
    data = generate(SIZES["medium"], seed=3, now=NOW)
    pulls = [p for r in data.repos.values() for p in r.pulls.values()]
    titles = [p.title for p in pulls]
    assert any("<script>" in t for t in titles)
    assert any(any(ord(ch) > 0x1F000 for ch in t) for t in titles)  # emoji
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in titles)  # CJK
    assert any(p.body is None for p in pulls)
    assert max(len(p.body or "") for p in pulls) > 20_000
    assert max(len(t) for t in titles) <= 256
    # The medium size has a pull request over GitHub's 250-commit listing cap.
    assert max(len(p.commit_shas) for p in pulls) > 250


def test_milestones_are_due_at_pacific_midnight(data: GitHubData) -> None:
    milestones = [m for r in data.repos.values() for m in r.milestones.values()]
    dues = [m.due_on for m in milestones if m.due_on is not None]
    assert dues
    assert all(d % 86400 in (7 * 3600, 8 * 3600) for d in dues)
    assert pacific_midnight(1_750_000_000) == 1_749_970_800  # 2025-06-15T07:00:00Z (PDT)
    assert {m.state for m in milestones} == {"open", "closed"}
