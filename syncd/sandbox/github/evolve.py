"""Changes over time: what a busy organisation does to its repositories between two syncs.

Each change happens *now* (the service clock) and moves ``updated_at`` the way GitHub does:
a review, a push to the head branch, a merge or a close updates the pull request (and so
the issue that is the pull request); a label change or a close updates the issue; a due
date change updates the milestone. Pushed commits carry committer dates of now; their
author dates may be older (a rebased branch), which is what ``since`` on commits filters
*not* on.

Deterministic for a given (size, seed) and sequence of ``apply`` calls; the timestamps are
the clock's.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable

from syncd.sandbox.sizes import SandboxSize

from . import texts
from .generate import DAY, HOUR, pacific_midnight
from .model import Branch, Commit, GitHubData, Issue, Milestone, PullRequest, Repo, Review, User

KINDS: dict[str, int] = {  # kind -> weight
    "pr_opened": 12,
    "pr_reviewed": 14,
    "pr_merged": 10,
    "pr_closed": 3,
    "commits_pushed": 20,
    "issue_opened": 10,
    "issue_closed": 8,
    "issue_reopened": 2,
    "issue_relabelled": 8,
    "milestone_changed": 3,
    "commented": 15,  # most updated_at changes on GitHub are just a new comment
}


class Evolver:
    def __init__(
        self, data: GitHubData, size: SandboxSize, seed: int, clock: Callable[[], float]
    ) -> None:
        self.data = data
        self.seed = seed
        self.clock = clock
        self.rng = random.Random(f"github-evolve:{size.name}:{seed}")
        self.keys = texts.KeySource(size)
        self.humans = [u for u in data.users.values() if u.work_email]
        self.counter = 0

    def apply(self, changes: int) -> dict[str, int]:
        done: Counter[str] = Counter()
        kinds, weights = list(KINDS), list(KINDS.values())
        # An empty repository has no branch to push to or open a pull request against.
        repos = [r for r in self.data.repos.values() if r.commits]
        if not repos:
            return {}
        for _ in range(changes):
            repo = self.rng.choice(repos)
            kind = self.rng.choices(kinds, weights=weights)[0]
            applied = getattr(self, kind)(repo, int(self.clock()))
            if not applied:  # nothing to act on (no open pull request, ...): open one
                kind = "pr_opened"
                self.pr_opened(repo, int(self.clock()))
            done[kind] += 1
            repo.touch()
        return dict(done)

    # -- helpers --------------------------------------------------------------------------

    def _human(self, avoid: User | None = None) -> User:
        pool = [u for u in self.humans if u is not avoid]
        return self.rng.choice(pool)

    def _commit(
        self, repo: Repo, parent: str, now: int, author: User, message: str, keys: tuple[str, ...]
    ) -> Commit:
        self.counter += 1
        text = f"{repo.full_name}:evolve:{self.seed}:{self.counter}"
        sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
        parent_date = repo.commits[parent].committer_date
        # Same-second commits are normal in git; only never older than the parent.
        when = max(now, parent_date)
        name = author.name or author.login
        email = author.work_email or f"{author.id}+{author.login}@users.noreply.github.com"
        additions = int(self.rng.lognormvariate(3.0, 1.3))
        rebased = self.rng.random() < 0.2
        commit = Commit(
            sha=sha,
            message=message,
            author_name=name,
            author_email=email,
            author_date=when - self.rng.randint(HOUR, 3 * DAY) if rebased else when,
            committer_name=name,
            committer_email=email,
            committer_date=when,
            parents=(parent,),
            author_user=author,
            committer_user=author,
            additions=additions,
            deletions=int(additions * self.rng.random() * 0.8),
            files=1 + int(self.rng.expovariate(1 / 3)),
            keys=keys,
            seq=len(repo.commits) + 1,
        )
        repo.commits[sha] = commit
        repo.pushed_at = max(repo.pushed_at, when)
        return commit

    def _open_pulls(self, repo: Repo, ready_only: bool = False) -> list[PullRequest]:
        return [
            p for p in repo.pulls.values() if p.state == "open" and not (ready_only and p.draft)
        ]

    def _bump(self, repo: Repo, item: Issue | PullRequest, now: int) -> None:
        item.updated_at = max(item.updated_at, now)
        repo.updated_at = max(repo.updated_at, now)

    # -- pull requests --------------------------------------------------------------------

    def pr_opened(self, repo: Repo, now: int) -> bool:
        author = self._human()
        title, branch, body, found = texts.pr_texts(self.rng, self.keys, author.login)
        while branch in repo.branches:
            branch += "-2"
        base = repo.branches[repo.default_branch].head
        parent = base
        shas = []
        for _ in range(self.rng.randint(1, 3)):
            message, keys = texts.commit_message(self.rng, self.keys)
            parent = self._commit(repo, parent, now, author, message, keys).sha
            shas.append(parent)
        repo.branches[branch] = Branch(branch, parent)
        number = repo.next_number
        repo.next_number += 1
        pull = PullRequest(
            id=self.data.new_id("pull"),
            issue_id=self.data.new_id("issue"),
            number=number,
            title=title,
            body=body,
            user=author,
            labels=[],
            state="open",
            draft=self.rng.random() < 0.25,
            created_at=now,
            updated_at=now,
            closed_at=None,
            merged_at=None,
            merged_by=None,
            merge_commit_sha=hashlib.sha1(f"test-merge:{parent}".encode()).hexdigest(),
            head_ref=branch,
            base_ref=repo.default_branch,
            base_sha=base,
            commit_shas=shas,
            milestone=None,
            assignees=[author],
            requested_reviewers=[self._human(avoid=author)],
            keys=found,
        )
        repo.pulls[number] = pull
        repo.updated_at = max(repo.updated_at, now)
        return True

    def pr_reviewed(self, repo: Repo, now: int) -> bool:
        candidates = self._open_pulls(repo, ready_only=True)
        if not candidates:
            return False
        pull = self.rng.choice(candidates)
        reviewer = self._human(avoid=pull.user)
        state = self.rng.choice(("APPROVED", "APPROVED", "CHANGES_REQUESTED", "COMMENTED"))
        pull.reviews.append(
            Review(
                id=self.data.new_id("review"),
                user=reviewer,
                state=state,
                body=texts.review_body(self.rng, state),
                submitted_at=now,
                commit_id=pull.head_sha,
            )
        )
        pull.requested_reviewers = [u for u in pull.requested_reviewers if u is not reviewer]
        self._bump(repo, pull, now)
        return True

    def pr_merged(self, repo: Repo, now: int) -> bool:
        candidates = self._open_pulls(repo, ready_only=True)
        if not candidates:
            return False
        pull = self.rng.choice(candidates)
        target = repo.branches.get(pull.base_ref) or repo.branches[repo.default_branch]
        merger = self._human()
        if repo.merge_style == "squash":
            bullets = "\n\n".join(f"* {repo.commits[s].message}" for s in pull.commit_shas)
            message = f"{pull.title} (#{pull.number})\n\n{bullets}"
            keys = (*pull.keys.get("title", ()), *(k for s in pull.commit_shas
                                                   for k in repo.commits[s].keys))  # fmt: skip
            commit = self._commit(
                repo, target.head, now, pull.user, message, tuple(dict.fromkeys(keys))
            )
        else:
            message = (
                f"Merge pull request #{pull.number} from {repo.owner.login}/{pull.head_ref}"
                f"\n\n{pull.title}"
            )
            # The branch name is prose inside a message: only its upper-case keys count.
            branch_keys = (k for k in pull.keys.get("branch", ()) if k in pull.head_ref)
            keys = (*branch_keys, *pull.keys.get("title", ()))
            commit = self._commit(
                repo, target.head, now, merger, message, tuple(dict.fromkeys(keys))
            )
            commit.parents = (target.head, pull.head_sha)
            commit.committer_date = max(
                commit.committer_date, repo.commits[pull.head_sha].committer_date
            )
        commit.author_date = commit.committer_date
        web_flow = self.data.users.get("web-flow")
        commit.committer_name, commit.committer_email = "GitHub", "noreply@github.com"
        commit.committer_user = web_flow
        target.head = commit.sha
        pull.state = "closed"
        pull.merged_at = pull.closed_at = commit.committer_date
        pull.merged_by = merger
        pull.merge_commit_sha = commit.sha
        pull.requested_reviewers = []
        self._bump(repo, pull, commit.committer_date)
        if self.rng.random() < 0.85:  # "Delete branch" after merging
            repo.branches.pop(pull.head_ref, None)
        return True

    def pr_closed(self, repo: Repo, now: int) -> bool:
        candidates = self._open_pulls(repo)
        if not candidates:
            return False
        pull = self.rng.choice(candidates)
        pull.state = "closed"
        pull.closed_at = now
        pull.requested_reviewers = []
        self._bump(repo, pull, now)
        return True

    def commits_pushed(self, repo: Repo, now: int) -> bool:
        open_pulls = self._open_pulls(repo)
        count = self.rng.randint(1, 3)
        if open_pulls and self.rng.random() < 0.4:
            pull = self.rng.choice(open_pulls)
            branch = repo.branches.get(pull.head_ref)
            parent = pull.head_sha
            for _ in range(count):
                message, keys = texts.commit_message(self.rng, self.keys)
                parent = self._commit(repo, parent, now, pull.user, message, keys).sha
                pull.commit_shas.append(parent)
            if branch is not None:
                branch.head = parent
            self._bump(repo, pull, now)
            return True
        branch = repo.branches[repo.default_branch]
        for _ in range(count):
            message, keys = texts.commit_message(self.rng, self.keys)
            branch.head = self._commit(repo, branch.head, now, self._human(), message, keys).sha
        repo.updated_at = max(repo.updated_at, now)
        return True

    def commented(self, repo: Repo, now: int) -> bool:
        items = list(repo.items())
        if not items:
            return False
        item = self.rng.choice(items)
        item.comments += 1
        self._bump(repo, item, now)
        return True

    # -- issues and milestones ------------------------------------------------------------

    def issue_opened(self, repo: Repo, now: int) -> bool:
        if not repo.has_issues:
            return False
        title, body, found = texts.issue_texts(self.rng, self.keys)
        number = repo.next_number
        repo.next_number += 1
        repo.issues[number] = Issue(
            id=self.data.new_id("issue"),
            number=number,
            title=title,
            body=body,
            user=self._human(),
            labels=[],
            state="open",
            state_reason=None,
            assignees=[],
            milestone=None,
            comments=0,
            created_at=now,
            updated_at=now,
            keys=found,
        )
        repo.updated_at = max(repo.updated_at, now)
        return True

    def issue_closed(self, repo: Repo, now: int) -> bool:
        candidates = [i for i in repo.issues.values() if i.state == "open"]
        if not candidates:
            return False
        issue = self.rng.choice(candidates)
        issue.state = "closed"
        issue.state_reason = "completed" if self.rng.random() < 0.85 else "not_planned"
        issue.closed_at = now
        issue.closed_by = issue.assignees[0] if issue.assignees else self._human()
        self._bump(repo, issue, now)
        return True

    def issue_reopened(self, repo: Repo, now: int) -> bool:
        candidates = [i for i in repo.issues.values() if i.state == "closed"]
        if not candidates:
            return False
        issue = self.rng.choice(candidates)
        issue.state, issue.state_reason = "open", "reopened"
        issue.closed_at = None
        issue.closed_by = None
        self._bump(repo, issue, now)
        return True

    def issue_relabelled(self, repo: Repo, now: int) -> bool:
        if not repo.issues or not repo.labels:
            return False
        issue = self.rng.choice(list(repo.issues.values()))
        label = self.rng.choice([x for x in repo.labels.values() if x.name != "dependencies"])
        if label in issue.labels:
            issue.labels.remove(label)
        else:
            issue.labels.append(label)
        self._bump(repo, issue, now)
        return True

    def milestone_changed(self, repo: Repo, now: int) -> bool:
        open_ones = [m for m in repo.milestones.values() if m.state == "open"]
        if not open_ones:
            number = max(repo.milestones, default=0) + 1
            repo.milestones[number] = Milestone(
                id=self.data.new_id("milestone"),
                number=number,
                title=f"v{1 + number // 4}.{number % 4}",
                description=None,
                creator=self._human(),
                state="open",
                due_on=pacific_midnight(now + 30 * DAY),
                created_at=now,
                updated_at=now,
            )
            return True
        milestone = self.rng.choice(open_ones)
        if milestone.due_on is not None and self.rng.random() < 0.3:
            milestone.state = "closed"
            milestone.closed_at = now
        else:
            # The target date slips: the forecasting rules watch exactly this.
            due = milestone.due_on or now
            milestone.due_on = pacific_midnight(due + self.rng.randint(7, 28) * DAY + 12 * HOUR)
        milestone.updated_at = now
        return True
