"""Deterministic generation of the simulated GitHub from a size and a seed.

Same (size, seed, now) -> the same data, byte for byte. Each repository draws from its own
random stream, so adding a repository to a size does not change the others.

The history is built the way git builds it, so that the commit graph, pull requests and
dates agree with each other:

1. pick when each pull request was opened and how it ended (merged, closed, still open),
   more of them open among the recent ones;
2. lay out the default branch in time order: direct pushes plus, for every merged pull
   request, a squash commit or a merge commit (the repository's merge style);
3. branch each pull request's commits off the default-branch commit just before its first
   commit, so committer dates only grow along ancestry;
4. reviews, labels, milestones and issues on top, all inside each item's lifetime.

Counts match ``sizes.py`` exactly: ``prs_per_repo`` pull requests and ``commits_per_repo``
commits per repository (default branch, release branch, and pull-request branches together).
"""

from __future__ import annotations

import bisect
import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from syncd.sandbox.people import Person, github_people
from syncd.sandbox.sizes import SandboxSize

from . import texts
from .model import (
    NO_KEYS,
    Branch,
    Commit,
    GitHubData,
    Issue,
    Label,
    Milestone,
    PullRequest,
    Repo,
    Review,
    User,
)

DAY = 86_400
HOUR = 3_600
HISTORY_DAYS = 540
_PACIFIC = ZoneInfo("America/Los_Angeles")

# Real ids of GitHub's special accounts, as the API shows them.
GHOST = ("ghost", 10137)  # stands in for deleted accounts
WEB_FLOW = ("web-flow", 19864447)  # committer of commits made in the web UI (merges)
DEPENDABOT = ("dependabot[bot]", 49699333)
ACTIONS_BOT = ("github-actions[bot]", 41898282)
VIEWER_LOGIN = "acme-sync-bot"

_LABELS = (
    ("bug", "d73a4a", "Something isn't working", True),
    ("enhancement", "a2eeef", "New feature or request", True),
    ("documentation", "0075ca", "Improvements or additions to documentation", True),
    ("good first issue", "7057ff", "Good for newcomers", True),
    ("dependencies", "0366d6", "Pull requests that update a dependency file", False),
    ("priority: high", "b60205", None, False),
    ("area/api", "c5def5", "", False),
    ("🔥 hotfix", "ff7619", "Needs to ship now", False),
    ("needs-review", "fbca04", None, False),
    ("wontfix", "ffffff", "This will not be worked on", True),
)
_DEFAULT_BRANCHES = ("main", "master", "main", "develop", "main")
_LANGUAGES = ("Python", "TypeScript", "Kotlin", "Python", "HCL")


def stable_id(text: str, low: int = 1_000_000, span: int = 150_000_000) -> int:
    """An id that depends on the name only, so a user keeps it across seeds and sizes."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return low + int.from_bytes(digest, "big") % span


def default_now() -> int:
    """Today's UTC midnight: data are identical for a (size, seed) all day long."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(today.timestamp())


def pacific_midnight(ts: int) -> int:
    """GitHub stores a milestone's due date as midnight US/Pacific, so ``due_on`` reads
    ``...T07:00:00Z`` or ``...T08:00:00Z`` depending on daylight saving time. Source:
    microsoft/PowerShellForGitHub#133 and wordpress-mobile/release-toolkit#419."""
    day = datetime.fromtimestamp(ts, _PACIFIC).date()
    return int(datetime(day.year, day.month, day.day, tzinfo=_PACIFIC).timestamp())


@dataclass(slots=True)
class Identity:
    """How a person appears in git: name, email, and the account GitHub matches it to."""

    name: str
    email: str
    user: User | None


class _People:
    """GitHub accounts of the sandbox, and the git identities people commit with."""

    def __init__(self, rng: random.Random, now: int) -> None:
        self.users: dict[str, User] = {}
        self.humans: list[User] = []
        self.git: dict[str, Identity] = {}  # by login: the identity most commits use
        self.personal: dict[str, Identity] = {}  # an unverified address GitHub can't match
        for person in github_people():
            user = self._human(rng, person, now)
            self.humans.append(user)
            style = rng.random()
            if style < 0.7:
                email = person.email
            elif style < 0.9:
                # GitHub's noreply form links the commit to the account without the email.
                email = f"{user.id}+{user.login}@users.noreply.github.com"
            else:
                email = f"{person.first}{person.last[0]}@gmail.example"
            matched = user if style < 0.9 else None
            self.git[user.login] = Identity(person.display_name, email, matched)
            self.personal[user.login] = Identity(
                person.display_name, f"{person.first}.{person.last}@home.example", None
            )
        self.ghost = self._special(GHOST, "User", "Deleted user", now)
        self.web_flow = self._special(WEB_FLOW, "User", "GitHub Web Flow", now)
        self.dependabot = self._special(DEPENDABOT, "Bot", None, now)
        self._special(ACTIONS_BOT, "Bot", None, now)
        self.viewer = self._special((VIEWER_LOGIN, stable_id(VIEWER_LOGIN)), "User", None, now)
        self.viewer.name = "Acme Sync Bot"
        self.web_flow_identity = Identity("GitHub", "noreply@github.com", self.web_flow)
        self.dependabot_identity = Identity(
            "dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com", self.dependabot
        )
        self.ci_identity = Identity("Release Bot", "ci@acme.example", None)

    def _human(self, rng: random.Random, person: Person, now: int) -> User:
        created = now - rng.randint(400, 4000) * DAY
        user = User(
            login=person.github_login,
            id=stable_id(person.github_login),
            name=person.display_name if rng.random() > 0.05 else None,
            # Most people keep their email private: /users/{login} then shows null.
            public_email=person.email if rng.random() < 0.55 else None,
            work_email=person.email,
            company="@acme" if rng.random() < 0.6 else None,
            location=person.time_zone.split("/")[-1].replace("_", " "),
            created_at=created,
            updated_at=now - rng.randint(1, 300) * DAY,
        )
        self.users[user.login] = user
        return user

    def _special(self, who: tuple[str, int], kind: str, name: str | None, now: int) -> User:
        login, uid = who
        user = User(login=login, id=uid, type=kind, name=name, created_at=now - 3000 * DAY)
        user.updated_at = user.created_at
        self.users[login] = user
        return user

    def org(self, login: str, now: int) -> User:
        if login not in self.users:
            self.users[login] = User(
                login=login,
                id=stable_id(f"org:{login}"),
                type="Organization",
                name=login.capitalize() + " Corp",
                created_at=now - 3000 * DAY,
                updated_at=now - 30 * DAY,
            )
        return self.users[login]

    def identity(self, rng: random.Random, user: User) -> Identity:
        if user is self.dependabot:
            return self.dependabot_identity
        if user.login not in self.git:  # ghost and other special accounts
            return Identity(user.name or user.login, f"{user.login}@deleted.example", None)
        return self.personal[user.login] if rng.random() < 0.08 else self.git[user.login]


def generate(size: SandboxSize, seed: int, now: int | None = None) -> GitHubData:
    """The whole simulated GitHub for ``size`` and ``seed``; history ends before ``now``."""
    return Generator(size, seed, now).data


class Generator:
    """Generates the data of ``size`` and ``seed``, and keeps what it needs to add
    repositories with options later (:meth:`add_repo`) without changing the others."""

    def __init__(self, size: SandboxSize, seed: int, now: int | None = None) -> None:
        self.size = size
        self.seed = seed
        anchor = default_now() if now is None else int(now)
        rng = random.Random(f"github:{size.name}:{seed}")
        self.people = _People(rng, anchor)
        self.data = GitHubData(
            users=self.people.users, repos={}, viewer=self.people.viewer, now=anchor
        )
        self.keys = texts.KeySource(size)
        for full_name in size.github_repos:
            self.data.repos[full_name] = self._build(full_name)

    def _build(self, full_name: str) -> Repo:
        owner, name = full_name.split("/", 1)
        size, seed = self.size, self.seed
        repo_rng = random.Random(f"github:{size.name}:{seed}:{full_name}")
        index = len(self.data.repos)
        builder = _RepoBuilder(repo_rng, self.data, self.people, self.keys, size, index, seed)
        return builder.build(self.people.org(owner, self.data.now), name)

    def add_repo(self, full_name: str, *, has_issues: bool = True, empty: bool = False) -> Repo:
        """One more repository, generated like the others (from its own random stream), or:

        - ``has_issues=False``: Issues disabled in its settings. Its pull requests and
          commits are generated as usual; ``/issues`` answers ``410 Issues are disabled for
          this repo`` and the repository payload says ``"has_issues": false``.
        - ``empty=True``: created without a first commit. ``/commits`` answers
          ``409 Git Repository is empty.``; lists of pull requests, issues, milestones and
          branches are empty.
        """
        if full_name in self.data.repos:
            raise ValueError(f"{full_name} exists already")
        owner_login, name = full_name.split("/", 1)
        if empty:
            owner = self.people.org(owner_login, self.data.now)
            created = self.data.now - 10 * DAY
            repo = Repo(
                id=stable_id(f"repo:{full_name}", 100_000_000, 800_000_000),
                owner=owner,
                name=name,
                description=None,
                default_branch="main",
                merge_style="squash",
                language="",
                topics=[],
                created_at=created,
                updated_at=created,
                pushed_at=created,
            )
        else:
            repo = self._build(full_name)
        if not has_issues:
            # Disabling Issues hides the existing ones; their numbers stay taken.
            repo.issues.clear()
            repo.has_issues = False
        self.data.repos[full_name] = repo
        return repo


@dataclass(slots=True)
class _PlannedPull:
    created: int
    outcome: str  # "merged" | "closed" | "open"
    ended: int | None  # merged_at / closed_at
    author: User
    commit_times: list[int]
    number: int = 0


class _RepoBuilder:
    def __init__(
        self,
        rng: random.Random,
        data: GitHubData,
        people: _People,
        keys: texts.KeySource,
        size: SandboxSize,
        index: int,
        seed: int,
    ) -> None:
        self.rng = rng
        self.data = data
        self.people = people
        self.keys = keys
        self.size = size
        self.index = index
        self.seed = seed
        self.now = data.now
        self.start = self.now - HISTORY_DAYS * DAY
        self.seq = 0

    # -- helpers --------------------------------------------------------------------------

    def _sha(self, repo: Repo) -> str:
        self.seq += 1
        text = f"{repo.full_name}:{self.seq}:{self.seed}"
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    def _contributor(self) -> User:
        # Activity is skewed: a few people do most of the work (weights fixed per repo).
        return self.rng.choices(self.contributors, weights=self.weights)[0]

    def _time(self, low: int, high: int) -> int:
        return low if high <= low else self.rng.randint(low, high)

    def _commit(
        self,
        repo: Repo,
        when: int,
        who: Identity,
        message: str,
        keys: tuple[str, ...],
        committer: Identity | None = None,
        rebased: bool = False,
    ) -> Commit:
        rng = self.rng
        additions = int(rng.lognormvariate(3.0, 1.3))
        authored = when - rng.randint(HOUR, 5 * DAY) if rebased else when
        committer = committer or who
        commit = Commit(
            sha=self._sha(repo),
            message=message,
            author_name=who.name,
            author_email=who.email,
            author_date=authored,
            committer_name=committer.name,
            committer_email=committer.email,
            committer_date=when,
            parents=(),
            author_user=who.user,
            committer_user=committer.user,
            additions=additions,
            deletions=int(additions * rng.random() * 0.8),
            files=1 + int(rng.expovariate(1 / 3)),
            keys=keys or NO_KEYS,
            seq=self.seq,
        )
        repo.commits[commit.sha] = commit
        return commit

    # -- the repository -------------------------------------------------------------------

    def build(self, owner: User, name: str) -> Repo:
        rng, size = self.rng, self.size
        humans = self.people.humans
        self.contributors = rng.sample(humans, k=min(len(humans), rng.randint(12, 22)))
        self.weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self.contributors))]
        repo = Repo(
            id=stable_id(f"repo:{owner.login}/{name}", 100_000_000, 800_000_000),
            owner=owner,
            name=name,
            description=rng.choice(
                (f"The {name} service", f"Acme {name} — core platform 🚀", None, "")
            ),
            default_branch=_DEFAULT_BRANCHES[self.index % len(_DEFAULT_BRANCHES)],
            merge_style="squash" if self.index % 2 == 0 else "merge",
            language=_LANGUAGES[self.index % len(_LANGUAGES)],
            topics=["acme", name],
            created_at=self.start - 30 * DAY,
            updated_at=0,
            pushed_at=0,
        )
        for label_name, color, description, default in _LABELS:
            label = Label(self.data.new_id("label"), label_name, color, description, default)
            repo.labels[label_name] = label
        # Labels people pick; "dependencies" is what the bot sets.
        self.human_labels = [
            label for label in repo.labels.values() if label.name != "dependencies"
        ]
        self._milestones(repo)
        pulls = self._plan_pulls()
        issues_planned = self._plan_issues()
        # Issues and pull requests share one number sequence, in creation order.
        events = sorted(
            [(p.created, 0, i) for i, p in enumerate(pulls)]
            + [(t, 1, i) for i, t in enumerate(issues_planned)]
        )
        numbers_for_issues: dict[int, int] = {}
        for number, (_, kind, i) in enumerate(events, start=1):
            if kind == 0:
                pulls[i].number = number
            else:
                numbers_for_issues[i] = number
        repo.next_number = len(events) + 1
        self._history(repo, pulls)
        for i, created in enumerate(issues_planned):
            self._issue(repo, numbers_for_issues[i], created)
        repo.pushed_at = max(c.committer_date for c in repo.commits.values())
        repo.updated_at = max(repo.pushed_at, *(x.updated_at for x in repo.items()))
        assert len(repo.commits) == size.commits_per_repo, (len(repo.commits), repo.full_name)
        assert len(repo.pulls) == size.prs_per_repo
        return repo

    def _milestones(self, repo: Repo) -> None:
        rng, now = self.rng, self.now
        count = max(4, self.size.prs_per_repo // 200)
        span = (self.now + 120 * DAY) - self.start
        for number in range(1, count + 1):
            due = self.start + span * number // count
            created = due - rng.randint(40, 120) * DAY
            title = f"v{1 + number // 4}.{number % 4}"
            if number % 5 == 3:
                title += rng.choice((" 🚀 Launch", " — Q3 «release»", " (hotfix train)"))
            # Closed when long past due, but a few stay open and overdue (slippage!).
            closed = due < now - 14 * DAY and rng.random() < 0.85
            milestone = Milestone(
                id=self.data.new_id("milestone"),
                number=number,
                title=title,
                description=rng.choice((None, "", f"Everything for {title}")),
                creator=self._contributor(),
                state="closed" if closed else "open",
                due_on=None if rng.random() < 0.12 else pacific_midnight(due),
                created_at=max(self.start - 20 * DAY, created),
                updated_at=0,
                closed_at=None,
            )
            if closed:
                milestone.closed_at = due + rng.randint(-3 * DAY, 10 * DAY)
            milestone.updated_at = milestone.closed_at or (created + rng.randint(0, 30 * DAY))
            milestone.updated_at = min(milestone.updated_at, now - HOUR)
            if milestone.closed_at:
                milestone.closed_at = min(milestone.closed_at, milestone.updated_at)
            repo.milestones[number] = milestone

    def _plan_pulls(self) -> list[_PlannedPull]:
        rng, now, start = self.rng, self.now, self.start
        span = now - start
        planned: list[_PlannedPull] = []
        for _ in range(self.size.prs_per_repo):
            # More activity lately (sqrt skews towards the end of the window).
            created = start + int(span * rng.random() ** 0.7) - HOUR
            recent = created > now - 21 * DAY
            r = rng.random()
            if recent:
                outcome = "open" if r < 0.55 else ("merged" if r < 0.95 else "closed")
            else:
                outcome = "merged" if r < 0.82 else ("closed" if r < 0.96 else "open")
            r = rng.random()
            author = (
                self.people.dependabot
                if r < 0.06
                else self.people.ghost
                if r < 0.07
                else self._contributor()
            )
            ended = None
            if outcome != "open":
                hours = rng.lognormvariate(3.0, 1.2)
                ended = min(created + int(hours * HOUR) + 60, now - 10 * 60)
            if author is self.people.dependabot:
                k = 1
            else:
                k = 1 + min(11, int(rng.expovariate(1 / 2.2)))
            first = created - rng.randint(HOUR // 2, 2 * DAY)
            last = (ended or min(now - 60, created + 5 * DAY)) - 30
            times = sorted(self._time(first, max(first, last)) for _ in range(k))
            planned.append(_PlannedPull(created, outcome, ended, author, times))
        # One long-running pull request with more commits than GitHub lists for a pull
        # request (250), where the sizes leave room for it.
        if self.size.commits_per_repo >= 5000 and planned:
            giant = max(planned, key=lambda p: len(p.commit_times))
            first, last = giant.commit_times[0], giant.commit_times[-1]
            giant.commit_times = sorted(self._time(first, last) for _ in range(260))
        return planned

    def _plan_issues(self) -> list[int]:
        count = max(20, self.size.prs_per_repo * 3 // 4)
        span = self.now - self.start
        return [self.start + int(span * self.rng.random() ** 0.8) for _ in range(count)]

    def _history(self, repo: Repo, planned: list[_PlannedPull]) -> None:
        """Default branch, release branch, pull-request branches and the pull requests."""
        rng, people = self.rng, self.people
        total = self.size.commits_per_repo
        merged = [p for p in planned if p.outcome == "merged"]
        pr_commits = sum(len(p.commit_times) for p in planned)
        hotfixes = 3 if total >= 100 else 0
        direct = total - pr_commits - len(merged) - hotfixes - 1  # -1: the initial commit
        while direct < 0:  # tiny custom sizes: drop pull-request commits until it fits
            longest = max(planned, key=lambda p: len(p.commit_times))
            if len(longest.commit_times) == 1:
                raise ValueError("commits_per_repo too small for prs_per_repo")
            longest.commit_times.pop()
            direct += 1

        # 1. The default branch, in time order: initial commit, direct pushes, and one
        #    squash or merge commit per merged pull request.
        main_events: list[tuple[int, int, _PlannedPull | None]] = [(self.start - DAY, 0, None)]
        main_events += [(self._time(self.start, self.now - HOUR), 1, None) for _ in range(direct)]
        main_events += [(p.ended or 0, 2, p) for p in merged]
        main_events.sort(key=lambda e: (e[0], e[1]))
        main: list[Commit] = []
        landing: dict[int, Commit] = {}  # id(planned pull) -> its squash/merge commit
        last_time = 0
        for when, kind, pull in main_events:
            when = max(when, last_time + 1)  # committer dates strictly grow along history
            last_time = when
            if kind == 0:
                commit = self._commit(
                    repo, when, people.git[self.contributors[0].login], "Initial commit", NO_KEYS
                )
            elif kind == 1:
                message, found = texts.commit_message(rng, self.keys)
                who = (
                    people.ci_identity
                    if rng.random() < 0.03
                    else people.identity(rng, self._contributor())
                )
                commit = self._commit(repo, when, who, message, found, rebased=rng.random() < 0.1)
            else:
                assert pull is not None
                commit = self._commit(repo, when, people.web_flow_identity, "", NO_KEYS)
                landing[id(pull)] = commit
            commit.parents = (main[-1].sha,) if main else ()
            main.append(commit)
        main_times = [c.committer_date for c in main]
        repo.branches[repo.default_branch] = Branch(repo.default_branch, main[-1].sha, True)

        # 2. A release branch cut mid-history, with hotfixes only it has.
        if hotfixes:
            cut = main[len(main) // 2]
            head = cut
            for i in range(hotfixes):
                when = head.committer_date + (i + 1) * HOUR
                message, found = texts.commit_message(rng, self.keys)
                commit = self._commit(
                    repo,
                    when,
                    people.identity(rng, self._contributor()),
                    f"hotfix: {message}",
                    found,
                )
                commit.parents = (head.sha,)
                head = commit
            repo.branches["release/1.x"] = Branch("release/1.x", head.sha, True)

        # 3. Pull requests: their commits branch off the default branch.
        for plan in sorted(planned, key=lambda p: p.number):
            self._pull(repo, plan, main, main_times, landing.get(id(plan)))

    def _pull(
        self,
        repo: Repo,
        plan: _PlannedPull,
        main: list[Commit],
        main_times: list[int],
        landed: Commit | None,
    ) -> None:
        rng, people = self.rng, self.people
        author = plan.author
        body: str | None
        if author is people.dependabot:
            title, branch, body = texts.dependency_pr(rng)
            found: dict[str, tuple[str, ...]] = {}
        else:
            title, branch, body, found = texts.pr_texts(rng, self.keys, author.login)
        while branch in repo.branches:
            branch += "-2"
        # Branch off the last default-branch commit before the first commit of the PR.
        at = max(0, bisect.bisect_left(main_times, plan.commit_times[0]) - 1)
        base = main[at]
        parent = base.sha
        shas: list[str] = []
        last_time = base.committer_date
        for when in plan.commit_times:
            when = max(when, last_time + 1)
            last_time = when
            message, mkeys = texts.commit_message(rng, self.keys)
            if author is people.dependabot:
                message, mkeys = title, NO_KEYS
            commit = self._commit(
                repo, when, people.identity(rng, author), message, mkeys, rebased=rng.random() < 0.2
            )
            commit.parents = (parent,)
            parent = commit.sha
            shas.append(commit.sha)
        head = repo.commits[shas[-1]]

        ended = plan.ended
        if ended is not None and ended <= head.committer_date:
            ended = head.committer_date + 60
        merged_by = None
        merge_sha: str | None = None
        if plan.outcome == "merged":
            assert landed is not None
            merged_by = author if rng.random() < 0.3 else self._contributor()
            if author is people.dependabot or author is people.ghost:
                merged_by = self._contributor()
            ended = landed.committer_date
            self._land(repo, landed, plan.number, title, branch, found, shas, author, merged_by)
            merge_sha = landed.sha
        elif plan.outcome == "open":
            # GitHub reports the sha of a test merge commit for open pull requests: it is
            # in no branch and /commits/{sha} does not list it in any history.
            merge_sha = hashlib.sha1(f"test-merge:{head.sha}".encode()).hexdigest()

        milestone = None
        if repo.milestones and rng.random() < 0.3:
            milestone = rng.choice(list(repo.milestones.values()))
        labels = (
            [repo.labels["dependencies"]]
            if author is people.dependabot
            else [rng.choice(self.human_labels) for _ in range(rng.choice((0, 0, 1, 2)))]
        )
        pull = PullRequest(
            id=self.data.new_id("pull"),
            issue_id=self.data.new_id("issue"),
            number=plan.number,
            title=title,
            body=body,
            user=author,
            labels=list(dict.fromkeys(labels)),
            state="open" if plan.outcome == "open" else "closed",
            draft=plan.outcome == "open" and rng.random() < 0.3,
            created_at=plan.created,
            updated_at=0,
            closed_at=ended,
            merged_at=ended if plan.outcome == "merged" else None,
            merged_by=merged_by,
            merge_commit_sha=merge_sha,
            head_ref=branch,
            base_ref=repo.default_branch,
            base_sha=base.sha,
            commit_shas=shas,
            milestone=milestone,
            assignees=[author] if author in self.contributors and rng.random() < 0.5 else [],
            requested_reviewers=[],
            comments=int(rng.expovariate(1 / 2.5)),
            review_comments=int(rng.expovariate(1 / 4)),
            keys=found,
        )
        if plan.outcome == "open" and "release/1.x" in repo.branches and rng.random() < 0.05:
            pull.base_ref = "release/1.x"
            pull.base_sha = repo.branches["release/1.x"].head
        self._reviews(repo, pull)
        last = max(
            [pull.created_at, head.committer_date, pull.closed_at or 0]
            + [r.submitted_at for r in pull.reviews]
        )
        pull.updated_at = min(self.now - 60, last + rng.randint(0, 6 * HOUR))
        if pull.closed_at:
            pull.updated_at = max(pull.updated_at, pull.closed_at)
        # The head branch survives while open, and sometimes after closing or merging.
        keep = {"open": 1.0, "closed": 0.4, "merged": 0.15}[plan.outcome]
        if rng.random() < keep:
            repo.branches[branch] = Branch(branch, head.sha)
        repo.pulls[pull.number] = pull

    def _land(
        self,
        repo: Repo,
        commit: Commit,
        number: int,
        title: str,
        branch: str,
        found: dict[str, tuple[str, ...]],
        shas: list[str],
        author: User,
        merged_by: User,
    ) -> None:
        """Fill in the default-branch commit a merged pull request became."""
        people = self.people
        pr_commits = [repo.commits[s] for s in shas]
        if repo.merge_style == "squash":
            # GitHub's default squash message: title (#n), then each commit as a bullet.
            bullets = "\n\n".join(f"* {c.message}" for c in pr_commits)
            commit.message = f"{title} (#{number})\n\n{bullets}"
            who = people.identity(self.rng, author)
            keys = (*found.get("title", ()), *(k for c in pr_commits for k in c.keys))
        else:
            commit.message = (
                f"Merge pull request #{number} from {repo.owner.login}/{branch}\n\n{title}"
            )
            who = people.identity(self.rng, merged_by)
            # The branch name is prose inside a message: only its upper-case keys count.
            branch_keys = (k for k in found.get("branch", ()) if k in branch)
            keys = (*branch_keys, *found.get("title", ()))
            commit.parents = (*commit.parents, shas[-1])
        commit.author_name, commit.author_email, commit.author_user = who.name, who.email, who.user
        commit.author_date = commit.committer_date
        commit.keys = tuple(dict.fromkeys(keys)) or NO_KEYS
        commit.additions = sum(c.additions for c in pr_commits)
        commit.deletions = sum(c.deletions for c in pr_commits)
        commit.files = min(300, sum(c.files for c in pr_commits))

    def _reviews(self, repo: Repo, pull: PullRequest) -> None:
        rng = self.rng
        if pull.user is self.people.dependabot:
            chance = 0.7
        elif pull.draft:
            chance = 0.1
        else:
            chance = 0.82
        end = pull.closed_at or (self.now - 120)
        others = [u for u in self.contributors if u is not pull.user]
        if rng.random() < chance and others:
            states: list[str] = []
            if rng.random() < 0.3:
                states.append("COMMENTED")
            if rng.random() < 0.25:
                states.append("CHANGES_REQUESTED")
            if rng.random() < 0.08:
                states.append("DISMISSED")  # an approval dismissed after new commits
            if pull.merged or (pull.state == "open" and rng.random() < 0.4):
                states.append("APPROVED")
            if not states:
                states.append("COMMENTED")
            times = sorted(self._time(pull.created_at + 60, end - 1) for _ in states)
            for state, when in zip(states, times, strict=True):
                reviewer = self.people.ghost if rng.random() < 0.01 else rng.choice(others)
                commit_id = pull.commit_shas[0]
                for sha in pull.commit_shas:
                    if repo.commits[sha].committer_date <= when:
                        commit_id = sha
                pull.reviews.append(
                    Review(
                        id=self.data.new_id("review"),
                        user=reviewer,
                        state=state,
                        body=texts.review_body(rng, state),
                        submitted_at=when,
                        commit_id=commit_id,
                    )
                )
        if pull.state == "open" and others:
            reviewed = {r.user.login for r in pull.reviews}
            pool = [u for u in others if u.login not in reviewed]
            pull.requested_reviewers = rng.sample(pool, k=min(len(pool), rng.choice((0, 1, 2))))

    def _issue(self, repo: Repo, number: int, created: int) -> None:
        rng, now = self.rng, self.now
        title, body, found = texts.issue_texts(rng, self.keys)
        recent = created > now - 30 * DAY
        open_ = rng.random() < (0.7 if recent else 0.3)
        author = self._contributor() if rng.random() < 0.9 else rng.choice(self.people.humans)
        assignees = rng.sample(self.contributors, k=rng.choice((0, 1, 1, 2)))
        milestone = None
        if repo.milestones and rng.random() < 0.35:
            milestone = rng.choice(list(repo.milestones.values()))
        issue = Issue(
            id=self.data.new_id("issue"),
            number=number,
            title=title,
            body=body,
            user=author,
            labels=list(
                dict.fromkeys(rng.choice(self.human_labels) for _ in range(rng.randint(0, 3)))
            ),
            state="open" if open_ else "closed",
            state_reason=None,
            assignees=assignees,
            milestone=milestone,
            comments=int(rng.expovariate(1 / 3)),
            created_at=created,
            updated_at=created,
            locked=rng.random() < 0.01,
            keys=found,
        )
        if not open_:
            closed = min(created + int(rng.lognormvariate(1.5, 1.4) * DAY), now - 600)
            issue.closed_at = max(closed, created + 60)
            issue.state_reason = "completed" if rng.random() < 0.85 else "not_planned"
            issue.closed_by = assignees[0] if assignees else self._contributor()
        elif rng.random() < 0.05:
            issue.state_reason = "reopened"
        last = issue.closed_at or created
        issue.updated_at = min(now - 60, last + rng.randint(0, 3 * DAY))
        repo.issues[number] = issue
