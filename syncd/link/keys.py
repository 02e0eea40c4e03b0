"""Jira issue keys in free text: pure functions, no store.

A key is a project key (a letter, then letters or digits), a hyphen and a number not
starting with 0, found only where it stands apart from the words around it: the characters
right before and after it are not letters or digits, so ``[PROJ-12]``, ``(PROJ-12)``,
``PROJ-12:``, ``feature/PROJ-12-login``, ``PROJ-12_OPS-3`` and ``.../browse/PROJ-12`` all
count, while ``XPROJ-12`` and ``PROJ-12a`` do not. One text may mention several keys.

Letter case, after the convention Atlassian documents for GitHub for Jira ("Reference issues
in your development work": an issue key in the default Jira format, upper-case letters, in the
commit message, branch name or pull request title):

- in titles, bodies and commit messages a key counts only as written, in upper case. Prose is
  full of lower-case ``word-number`` tokens, and with a short project key ("ui", "app",
  "go") "ui-2 layout", "fixes app-3 crash" or "go-1 compat" would all link;
- in branch names any case counts (``feature/proj-12-login`` is PROJ-12): tools and
  conventions lower-case branch names, and a branch name is an identifier, not prose.

(The GitHub for Jira app's own parser, ``jiraIssueKeyParser``, matches any case everywhere;
syncd keeps that leniency to branch names.)

Case-insensitive matching in branches also finds tokens such as ``utf-8`` or ``sha-256``:
callers pass the tracked project keys, and only keys of those projects are returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

VIA_TITLE = "title"
VIA_BRANCH = "branch"
VIA_BODY = "body"
VIA_COMMIT_MESSAGE = "commit_message"

_BEFORE = r"(?<![A-Za-z0-9])"
_NUMBER = r"-([1-9][0-9]{0,17})(?![A-Za-z0-9])"
_ANY_PROJECT = re.compile(_BEFORE + r"([A-Za-z][A-Za-z0-9]+)" + _NUMBER)


_ANY_PROJECT_UPPER = re.compile(_BEFORE + r"([A-Z][A-Z0-9]+)" + _NUMBER)


@lru_cache(maxsize=128)
def _pattern(projects: frozenset[str], any_case: bool) -> re.Pattern[str]:
    # Longest first, so "MOBILE" wins over "MOB" at the same position.
    names = sorted(projects, key=lambda p: (-len(p), p))
    alternatives = "|".join(re.escape(p) for p in names)
    return re.compile(
        _BEFORE + f"({alternatives})" + _NUMBER, re.IGNORECASE if any_case else re.NOFLAG
    )


def normalize_projects(projects: Iterable[str]) -> frozenset[str]:
    return frozenset(p.strip().upper() for p in projects if p and p.strip())


def find_keys(
    text: str | None, projects: Iterable[str] | None = None, *, any_case: bool = False
) -> list[str]:
    """Issue keys mentioned in ``text``, upper case, in order of first mention, each once.

    With ``projects`` only keys of those projects; without, every key-shaped token (which
    includes ``UTF-8``: fine for display, not for linking). ``any_case`` for branch names:
    ``proj-12`` counts too (see the module docstring).
    """
    if not text:
        return []
    if projects is None:
        pattern = _ANY_PROJECT if any_case else _ANY_PROJECT_UPPER
    else:
        tracked = normalize_projects(projects)
        if not tracked:
            return []
        pattern = _pattern(tracked, any_case)
    found: dict[str, None] = {}
    for match in pattern.finditer(text):
        found[f"{match.group(1).upper()}-{match.group(2)}"] = None
    return list(found)


def project_of(key: str) -> str:
    return key.rsplit("-", 1)[0]


def pull_request_keys(
    title: str | None,
    head_ref: str | None,
    body: str | None,
    projects: Iterable[str],
) -> list[tuple[str, str]]:
    """(key, via) for every key a pull request mentions, once per place it appears."""
    tracked = normalize_projects(projects)
    out: list[tuple[str, str]] = []
    for via, text in ((VIA_TITLE, title), (VIA_BRANCH, head_ref), (VIA_BODY, body)):
        out.extend((key, via) for key in find_keys(text, tracked, any_case=via == VIA_BRANCH))
    return out


def commit_keys(message: str | None, projects: Iterable[str]) -> list[tuple[str, str]]:
    return [(key, VIA_COMMIT_MESSAGE) for key in find_keys(message, normalize_projects(projects))]
