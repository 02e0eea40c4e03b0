"""Jira keys in PR titles, branches, bodies and commit messages (GitHub for Jira rules)."""

from __future__ import annotations

import pytest

from syncd.link.keys import (
    VIA_BODY,
    VIA_BRANCH,
    VIA_COMMIT_MESSAGE,
    VIA_TITLE,
    commit_keys,
    find_keys,
    pull_request_keys,
)

TRACKED = ("PROJ", "OPS", "MOB", "MOBILE", "UI", "GO")

# Titles, bodies and commit messages: a key counts as written, in upper case.
PROSE = [
    # (text, keys expected with the tracked projects)
    ("PROJ-12: Add login page", ["PROJ-12"]),
    ("[PROJ-12] Add login page", ["PROJ-12"]),
    ("Add login page (PROJ-12)", ["PROJ-12"]),
    ("PROJ-12 OPS-7: Fix rate limiter", ["PROJ-12", "OPS-7"]),
    ("#PROJ-12 hash prefix", ["PROJ-12"]),
    ("Jira: https://acme.atlassian.net/browse/PROJ-140", ["PROJ-140"]),
    ("Relates to PROJ-1, OPS-2 and PROJ-99999.", ["PROJ-1", "OPS-2", "PROJ-99999"]),
    ("fix(api): harden session timeout [MOB-44]", ["MOB-44"]),
    ("Refs: PROJ-1, PROJ-1 again", ["PROJ-1"]),  # once per text
    ("MOBILE-3 and MOB-4", ["MOBILE-3", "MOB-4"]),  # longest project wins
    ("Merge pull request #12 from acme/feature/PROJ-12-login", ["PROJ-12"]),
    ("修复PROJ-12中的错误", ["PROJ-12"]),  # non-Latin letters around a key separate it
    ("🚀 PROJ-5 launch 🎉", ["PROJ-5"]),
    # lower or mixed case in prose: not a key (short project keys make prose false positives)
    ("proj-12 fix rate limiter", []),
    ("Proj-12 mixed case", []),
    ("ui-2 layout tweaks; go-1 compat shim", []),
    ("Merge pull request #12 from acme/feature/proj-12-login", []),
    # not keys in any case
    ("Support UTF-8 in CSV import", []),
    ("Use ISO-8601 dates; SHA-256 digests; COVID-19", []),
    ("ABC-12 and JIRA-7 are other tools' projects", []),
    ("XPROJ-12 is another project", []),
    ("PROJ-12a is not a key", []),
    ("PROJ-0 and PROJ-012 do not start with 0", []),
    ("PROJ 12 has no hyphen", []),
    ("PROJ-", []),
    ("", []),
    (None, []),
]

# Branch names: any case counts.
BRANCHES = [
    ("feature/PROJ-12-login-page-4242", ["PROJ-12"]),
    ("feature/proj-12-login-page-77", ["PROJ-12"]),
    ("bugfix/PROJ-3-991", ["PROJ-3"]),
    ("alicej/ops-5-rate-limiter-12", ["OPS-5"]),
    ("PROJ-12_OPS-5-search-index-3", ["PROJ-12", "OPS-5"]),
    ("Proj-12-mixed-case", ["PROJ-12"]),
    ("ui-2-layout", ["UI-2"]),
    ("feature/utf-8-csv-import", []),
    ("xproj-12-other", []),
    ("main", []),
    (None, []),
]


@pytest.mark.parametrize(("text", "expected"), PROSE)
def test_keys_in_prose_are_upper_case(text: str | None, expected: list[str]) -> None:
    assert find_keys(text, TRACKED) == expected
    assert commit_keys(text, TRACKED) == [(k, VIA_COMMIT_MESSAGE) for k in expected]
    found = pull_request_keys(text, None, text, TRACKED)
    assert found == [(k, VIA_TITLE) for k in expected] + [(k, VIA_BODY) for k in expected]


@pytest.mark.parametrize(("branch", "expected"), BRANCHES)
def test_keys_in_branch_names_are_any_case(branch: str | None, expected: list[str]) -> None:
    assert find_keys(branch, TRACKED, any_case=True) == expected
    assert pull_request_keys(None, branch, None, TRACKED) == [(k, VIA_BRANCH) for k in expected]


def test_without_projects_every_key_shaped_token_is_found() -> None:
    assert find_keys("UTF-8 and proj-3 and X1-2") == ["UTF-8", "X1-2"]
    assert find_keys("UTF-8 and proj-3 and X1-2", any_case=True) == ["UTF-8", "PROJ-3", "X1-2"]


def test_no_tracked_projects_means_no_keys() -> None:
    assert find_keys("PROJ-1", []) == []


def test_pull_request_keys_say_where_each_key_was_found() -> None:
    found = pull_request_keys(
        "[PROJ-1] Add audit log",
        "feature/proj-1-audit-log-12",
        "Fixes PROJ-1\nRelates to OPS-9 and ABC-4",
        TRACKED,
    )
    assert found == [
        ("PROJ-1", VIA_TITLE),
        ("PROJ-1", VIA_BRANCH),
        ("PROJ-1", VIA_BODY),
        ("OPS-9", VIA_BODY),
    ]


def test_null_body_and_branch_are_fine() -> None:
    assert pull_request_keys("Bump lodash from 4.17.20 to 4.17.21", None, None, TRACKED) == []


def test_commit_keys() -> None:
    message = "Add dark mode\n\nLonger explanation of the change.\n\nRefs: PROJ-12, OPS-3"
    assert commit_keys(message, TRACKED) == [
        ("PROJ-12", VIA_COMMIT_MESSAGE),
        ("OPS-3", VIA_COMMIT_MESSAGE),
    ]
