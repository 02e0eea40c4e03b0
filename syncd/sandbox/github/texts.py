"""Titles, bodies, branch names and commit messages, with Jira keys in them.

What real repositories look like, and what syncd's linker must survive:

- keys in many forms: ``PROJ-12: ...``, ``[PROJ-12] ...``, ``... (PROJ-12)``, several keys in
  one text, lower case in branch names (``feature/proj-12-login``), Jira browse URLs;
- key-shaped strings that are not issues: numbers above the project's range, projects that
  do not exist, and everyday tokens such as ``UTF-8``, ``ISO-8601``, ``SHA-256``;
- unicode, emoji, right-to-left text, HTML in titles, very long bodies, ``null`` bodies.

Every generator returns the text and the *existing* keys it deliberately mentions (the
truth a linker should find); phantom keys and look-alikes are never part of that truth.
"""

from __future__ import annotations

import random

from syncd.sandbox.sizes import SandboxSize

_VERBS = (
    "Add", "Fix", "Refactor", "Remove", "Update", "Improve", "Handle", "Support",
    "Migrate", "Speed up", "Document", "Test", "Rework", "Harden", "Simplify",
)  # fmt: skip
_NOUNS = (
    "login page", "rate limiter", "billing export", "search index", "webhook retries",
    "user avatars", "CSV import", "dark mode", "audit log", "session timeout", "payment flow",
    "onboarding wizard", "API pagination", "cache invalidation", "email templates",
    "feature flags", "SSO callback", "notification settings", "error pages", "database pool",
    "invoice PDF", "password reset", "mobile push", "report scheduler", "access tokens",
)  # fmt: skip
_SCOPES = ("api", "ui", "auth", "db", "ci", "deps", "billing", "search", "infra")
_CC_TYPES = ("fix", "feat", "chore", "refactor", "perf", "test", "docs")
_FILLER_MESSAGES = (
    "WIP", "fix typo", "Update README.md", "address review comments", "lint", "fix tests",
    "bump version", "Apply suggestions from code review", "oops", "cleanup", "rename variable",
)  # fmt: skip
# Tokens that match the usual Jira key pattern ``[A-Z][A-Z0-9]+-\d+`` but are not issues.
LOOKALIKES = ("UTF-8", "ISO-8601", "SHA-256", "COVID-19", "RFC-7231", "ES-2015", "AES-256")
_UNKNOWN_PROJECTS = ("ABC", "JIRA", "TEAM", "CORE", "WEB")
_DEPENDENCIES = (
    ("lodash", "4.17.20", "4.17.21"), ("requests", "2.31.0", "2.32.3"),
    ("django", "4.2.11", "4.2.16"), ("axios", "1.6.7", "1.7.4"), ("urllib3", "1.26.18", "2.2.2"),
    ("express", "4.18.2", "4.19.2"), ("pyyaml", "6.0.1", "6.0.2"), ("webpack", "5.90.0", "5.94.0"),
)  # fmt: skip
_SPECIAL_TITLES = (
    "🚀 {t}",
    "{t} 🎉🎉",
    "修复{t}中的错误",
    "إصلاح {t}",
    "{t} — naïve façade für Überprüfung",
    "<script>alert('xss')</script> {t}",
    'Fix <b>bold</b> & <i>italic</i> in "{t}"',
    "{t} 👩\u200d💻 with zero\u200bwidth",
    "Support UTF-8 in {t}",
    "Use ISO-8601 dates in {t}",
)


class KeySource:
    """Jira keys of the sandbox: existing ones (PROJ-1..PROJ-N at generation time) and
    phantoms that look like keys but name no issue."""

    def __init__(self, size: SandboxSize) -> None:
        self.projects = size.jira_projects
        self.count = size.issues_per_project

    def real(self, rng: random.Random) -> str:
        return f"{rng.choice(self.projects)}-{rng.randint(1, self.count)}"

    def phantom(self, rng: random.Random) -> str:
        if rng.random() < 0.6:
            # Far above the range, so issues the Jira sandbox creates later don't match.
            number = self.count + rng.randint(5_000, 90_000)
            return f"{rng.choice(self.projects)}-{number}"
        return f"{rng.choice(_UNKNOWN_PROJECTS)}-{rng.randint(1, 999)}"


def topic(rng: random.Random) -> tuple[str, str]:
    """A (title-case phrase, slug) pair: ("Fix rate limiter", "rate-limiter")."""
    noun = rng.choice(_NOUNS)
    return f"{rng.choice(_VERBS)} {noun}", noun.lower().replace(" ", "-")


def _long_text(rng: random.Random, chars: int) -> str:
    words = [*(n.split()[0] for n in _NOUNS), "the", "and", "of", "in", "should", "ünïcödé"]
    out: list[str] = []
    total = 0
    while total < chars:
        line = " ".join(rng.choice(words) for _ in range(14))
        out.append(line)
        total += len(line) + 1
    return "\n".join(out)[:chars]


def pr_texts(
    rng: random.Random, keys: KeySource, login: str
) -> tuple[str, str, str | None, dict[str, tuple[str, ...]]]:
    """(title, head branch, body, keys by where they appear) for a human's pull request."""
    phrase, slug = topic(rng)
    key = keys.real(rng)
    second = keys.real(rng)
    found: dict[str, tuple[str, ...]] = {}

    # Title: ~70% carry a key, in the forms people actually type.
    r = rng.random()
    if r < 0.28:
        title, found["title"] = f"{key}: {phrase}", (key,)
    elif r < 0.46:
        title, found["title"] = f"[{key}] {phrase}", (key,)
    elif r < 0.56:
        title, found["title"] = f"{phrase} ({key})", (key,)
    elif r < 0.63:
        title, found["title"] = f"{key} {second}: {phrase}", (key, second)
    elif r < 0.67:
        # Typed in lower case: in prose that is not a key (syncd's linking, after GitHub for
        # Jira's documented form: upper case in titles, bodies and messages; any case only
        # in branch names). A trap, so no truth.
        title = f"{key.lower()} {phrase.lower()}"
    elif r < 0.70:
        title = f"{keys.phantom(rng)}: {phrase}"  # a key that does not exist
    else:
        title = phrase
    if rng.random() < 0.04:
        title = rng.choice(_SPECIAL_TITLES).format(t=title)
    elif rng.random() < 0.005:
        title = (title + " " + _long_text(rng, 400)).replace("\n", " ")[:256]  # GitHub's cap

    # Head branch.
    r = rng.random()
    if r < 0.30:
        branch, found["branch"] = f"feature/{key}-{slug}", (key,)
    elif r < 0.50:
        branch, found["branch"] = f"feature/{key.lower()}-{slug}", (key,)
    elif r < 0.58:
        branch, found["branch"] = f"bugfix/{key}", (key,)
    elif r < 0.64:
        branch, found["branch"] = f"{login}/{key.lower()}-{slug}", (key,)
    elif r < 0.67:
        branch, found["branch"] = f"{key}_{second}-{slug}", (key, second)
    else:
        branch = f"{rng.choice(('feature', 'fix', 'chore', login))}/{slug}"
    branch = f"{branch}-{rng.randint(1, 99999)}"  # unique-ish: many PRs share a topic

    # Body.
    r = rng.random()
    body: str | None
    if r < 0.12:
        body = None
    elif r < 0.16:
        body = ""
    else:
        parts = [f"This PR will {phrase.lower()}."]
        s = rng.random()
        if s < 0.25:
            parts.append(f"\nFixes {key}")
            found["body"] = (key,)
        elif s < 0.40:
            parts.append(f"\nJira: https://acme.atlassian.net/browse/{key}")
            found["body"] = (key,)
        elif s < 0.50:
            parts.append(f"\nRelates to {key}, {second} and {keys.phantom(rng)}.")
            found["body"] = (key, second)
        elif s < 0.55:
            parts.append(f"\nEncode everything as {rng.choice(LOOKALIKES)}.")
        if rng.random() < 0.3:
            parts.append("\n## Checklist\n- [x] tests\n- [ ] docs\n- [ ] changelog")
        if rng.random() < 0.05:
            parts.append("\n<details><summary>Logs</summary>\n\n<pre>&lt;err&gt;</pre></details>")
        if rng.random() < 0.01:
            parts.append("\n" + _long_text(rng, rng.randint(20_000, 60_000)))
        body = "\n".join(parts)
    return title, branch, body, {k: tuple(dict.fromkeys(v)) for k, v in found.items()}


def dependency_pr(rng: random.Random) -> tuple[str, str, str]:
    """(title, branch, body) of a bot's dependency bump: never a Jira key."""
    name, old, new = rng.choice(_DEPENDENCIES)
    ecosystem = "pip" if name in {"requests", "django", "urllib3", "pyyaml"} else "npm_and_yarn"
    title = f"Bump {name} from {old} to {new}"
    body = (
        f"Bumps [{name}](https://github.com/example/{name}) from {old} to {new}.\n\n"
        "Dependabot will resolve any conflicts with this PR as long as you don't alter it "
        "yourself."
    )
    return title, f"dependabot/{ecosystem}/{name}-{new}-{rng.randint(1, 9999)}", body


def commit_message(rng: random.Random, keys: KeySource) -> tuple[str, tuple[str, ...]]:
    """A commit message and the existing keys it mentions (~40% mention one)."""
    phrase, _ = topic(rng)
    key = keys.real(rng)
    r = rng.random()
    if r < 0.16:
        return f"{key} {phrase}", (key,)
    if r < 0.26:
        scope = rng.choice(_SCOPES)
        return f"{rng.choice(_CC_TYPES)}({scope}): {phrase.lower()} [{key}]", (key,)
    if r < 0.32:
        second = keys.real(rng)
        body = f"{phrase}\n\nLonger explanation of the change.\n\nRefs: {key}, {second}"
        return body, tuple(dict.fromkeys((key, second)))
    if r < 0.36:
        return f"{key}: {phrase}\n\n{rng.choice(LOOKALIKES)} handling included.", (key,)
    if r < 0.40:
        return f"{key.lower()} {phrase.lower()}", ()  # lower case in prose: not a key
    if r < 0.43:
        return f"{keys.phantom(rng)} {phrase}", ()
    if r < 0.46:
        return f"{phrase} for {rng.choice(LOOKALIKES)} input", ()
    if r < 0.62:
        return rng.choice(_FILLER_MESSAGES), ()
    if r < 0.64:
        return f"{phrase} ✨\n\n{_long_text(rng, 600)}", ()
    scope = rng.choice(_SCOPES)
    return f"{rng.choice(_CC_TYPES)}({scope}): {phrase.lower()}", ()


def issue_texts(rng: random.Random, keys: KeySource) -> tuple[str, str | None, tuple[str, ...]]:
    """(title, body, existing keys) of a GitHub issue: bug reports and requests, some of
    them tracked in Jira."""
    phrase, _ = topic(rng)
    kind = rng.random()
    if kind < 0.4:
        title = f"{rng.choice(_NOUNS).capitalize()} is broken when {rng.choice(_NOUNS)} is empty"
    elif kind < 0.7:
        title = f"Feature request: {phrase.lower()}"
    else:
        title = phrase
    if rng.random() < 0.05:
        title = rng.choice(_SPECIAL_TITLES).format(t=title)
    found: tuple[str, ...] = ()
    r = rng.random()
    body: str | None
    if r < 0.15:
        body = None
    else:
        body = "**Steps to reproduce**\n1. open the app\n2. click\n\n**Expected** it works"
        if r < 0.40:
            key = keys.real(rng)
            body += f"\n\nTracked in {key}."
            found = (key,)
        elif r < 0.45:
            body += f"\n\nSee {keys.phantom(rng)}."
    return title, body, found


def review_body(rng: random.Random, state: str) -> str:
    if state == "APPROVED":
        return rng.choice(("", "LGTM", "Looks good 👍", "Ship it! 🚢"))
    if state == "CHANGES_REQUESTED":
        return rng.choice(("Please add tests.", "This breaks the API contract.", "See comments"))
    return rng.choice(("", "A few nits inline.", "Question about the retry logic", "🤔"))
