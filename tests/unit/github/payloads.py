"""GitHub REST payloads shaped like recorded answers (field names and nesting as GitHub sends
them, trimmed of the URL fields nobody reads)."""

from __future__ import annotations

import copy
from typing import Any

API = "https://api.github.com"


def user(login: str, uid: int, **extra: Any) -> dict[str, Any]:
    return {
        "login": login,
        "id": uid,
        "node_id": f"U_kgDO{uid:08X}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "url": f"{API}/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": "User",
        "site_admin": False,
        **extra,
    }


ALICE = user("alicej", 1001)
BOB = user("bsmith-dev", 1002)
NOAH = user("zz-top-dev", 1014)

MILESTONE = {
    "url": f"{API}/repos/acme/api/milestones/3",
    "html_url": "https://github.com/acme/api/milestone/3",
    "id": 9003,
    "node_id": "MI_kwDOA",
    "number": 3,
    "title": "v1.4",
    "description": "Spring release",
    "creator": ALICE,
    "open_issues": 4,
    "closed_issues": 8,
    "state": "open",
    "created_at": "2024-01-10T09:00:00Z",
    "updated_at": "2024-03-01T10:00:00Z",
    "due_on": "2024-04-30T07:00:00Z",
    "closed_at": None,
}

REPOSITORY = {
    "id": 500,
    "node_id": "R_kgDOA",
    "name": "api",
    "full_name": "acme/api",
    "private": True,
    "owner": user("acme", 77, type="Organization"),
    "html_url": "https://github.com/acme/api",
    "description": "The API",
    "default_branch": "main",
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2024-03-01T00:00:00Z",
    "pushed_at": "2024-03-02T00:00:00Z",
}

ISSUE = {
    "url": f"{API}/repos/acme/api/issues/7",
    "html_url": "https://github.com/acme/api/issues/7",
    "id": 70007,
    "node_id": "I_kwDOA",
    "number": 7,
    "title": "Rate limiter is broken when CSV import is empty",
    "user": BOB,
    "labels": [
        {"id": 1, "name": "bug", "color": "d73a4a", "default": True, "description": None},
        {"id": 2, "name": "priority: high", "color": "b60205", "default": False},
    ],
    "state": "open",
    "locked": False,
    "assignee": ALICE,
    "assignees": [ALICE],
    "milestone": MILESTONE,
    "comments": 2,
    "created_at": "2024-02-01T08:00:00Z",
    "updated_at": "2024-03-01T12:00:00Z",
    "closed_at": None,
    "author_association": "MEMBER",
    "body": "**Steps to reproduce**\n\nTracked in PROJ-12.",
    "state_reason": None,
}

CLOSED_ISSUE = {
    **ISSUE,
    "id": 70008,
    "number": 8,
    "title": "Feature request: dark mode",
    "labels": [{"id": 3, "name": "enhancement", "color": "a2eeef"}],
    "state": "closed",
    "state_reason": "completed",
    "assignee": None,
    "assignees": [],
    "milestone": None,
    "closed_at": "2024-02-20T10:00:00Z",
    "updated_at": "2024-02-20T10:00:00Z",
}

PR_AS_ISSUE = {
    **ISSUE,
    "id": 70009,
    "number": 9,
    "title": "[PROJ-12] Fix rate limiter",
    "pull_request": {
        "url": f"{API}/repos/acme/api/pulls/9",
        "html_url": "https://github.com/acme/api/pull/9",
        "merged_at": None,
    },
}

PULL = {
    "url": f"{API}/repos/acme/api/pulls/9",
    "id": 90009,
    "node_id": "PR_kwDOA",
    "html_url": "https://github.com/acme/api/pull/9",
    "number": 9,
    "state": "closed",
    "locked": False,
    "title": "[PROJ-12] Fix rate limiter",
    "user": ALICE,
    "body": "Fixes PROJ-12",
    "labels": [],
    "milestone": MILESTONE,
    "created_at": "2024-02-10T09:00:00Z",
    "updated_at": "2024-03-01T11:00:00Z",
    "closed_at": "2024-03-01T11:00:00Z",
    "merged_at": "2024-03-01T11:00:00Z",
    "merge_commit_sha": "c" * 40,
    "assignee": None,
    "assignees": [],
    "requested_reviewers": [NOAH],
    "requested_teams": [],
    "head": {
        "label": "acme:feature/proj-12-rate-limiter",
        "ref": "feature/proj-12-rate-limiter",
        "sha": "a" * 40,
    },
    "base": {"label": "acme:main", "ref": "main", "sha": "b" * 40},
    "author_association": "MEMBER",
    "auto_merge": None,
    "draft": False,
}

PULL_DETAILS = {
    **PULL,
    "merged": True,
    "mergeable": None,
    "merged_by": BOB,
    "comments": 1,
    "review_comments": 3,
    "commits": 2,
    "additions": 120,
    "deletions": 30,
    "changed_files": 4,
}

OPEN_DRAFT = {
    **PULL,
    "id": 90010,
    "number": 10,
    "title": "WIP: dark mode",
    "state": "open",
    "draft": True,
    "milestone": None,
    "closed_at": None,
    "merged_at": None,
    "updated_at": "2024-03-01T12:30:00Z",
    "head": {"ref": "feature/dark-mode", "sha": "d" * 40},
}

REVIEWS = [
    {
        "id": 80001,
        "node_id": "PRR_kwDOA",
        "user": NOAH,
        "body": "Please add tests.",
        "state": "CHANGES_REQUESTED",
        "html_url": "https://github.com/acme/api/pull/9#pullrequestreview-80001",
        "submitted_at": "2024-02-11T10:00:00Z",
        "commit_id": "a" * 40,
        "author_association": "MEMBER",
    },
    {
        "id": 80002,
        "node_id": "PRR_kwDOB",
        "user": NOAH,
        "body": "LGTM",
        "state": "APPROVED",
        "html_url": "https://github.com/acme/api/pull/9#pullrequestreview-80002",
        "submitted_at": "2024-02-12T10:00:00Z",
        "commit_id": "a" * 40,
        "author_association": "MEMBER",
    },
]


def commit(sha: str, parents: list[str], date: str, message: str, author: Any = ALICE) -> dict:
    git_author = {"name": "Alice Johnson", "email": "alice.johnson@acme.example", "date": date}
    return {
        "sha": sha,
        "node_id": "C_kwDOA",
        "commit": {
            "author": git_author,
            "committer": {**git_author, "name": "GitHub", "email": "noreply@github.com"},
            "message": message,
            "tree": {"sha": "f" * 40, "url": f"{API}/repos/acme/api/git/trees/{'f' * 40}"},
            "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned"},
        },
        "url": f"{API}/repos/acme/api/commits/{sha}",
        "html_url": f"https://github.com/acme/api/commit/{sha}",
        "author": author,
        "committer": user("web-flow", 19864447),
        "parents": [{"sha": p, "url": f"{API}/repos/acme/api/commits/{p}"} for p in parents],
    }


def profile(login: str, uid: int, name: str | None, email: str | None) -> dict[str, Any]:
    return {**user(login, uid), "name": name, "email": email, "company": "Acme", "bio": None}


def copy_of(payload: Any) -> Any:
    return copy.deepcopy(payload)
