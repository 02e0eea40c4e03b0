"""Payloads shaped like what Jira Cloud (REST v3) and Data Center (REST v2) send.

Shapes follow recorded responses: Cloud users carry ``accountId`` (email may be hidden),
Data Center users ``name`` + ``key``; Cloud v3 descriptions are ADF documents; Data Center's
Sprint field may hold legacy ``Sprint@hash[...]`` strings; changelog ``created`` values are
``2024-01-15T10:23:45.123+0000``.
"""

from __future__ import annotations

import copy
from typing import Any

BASE = "https://acme.atlassian.net"
DC_BASE = "https://jira.acme.example"

SPRINT_FIELD = "customfield_10020"
POINTS_FIELD = "customfield_10016"
EPIC_LINK_FIELD = "customfield_10014"


def cloud_user(account_id: str, name: str, email: str | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {
        "self": f"{BASE}/rest/api/3/user?accountId={account_id}",
        "accountId": account_id,
        "displayName": name,
        "active": True,
        "timeZone": "Europe/Berlin",
        "accountType": "atlassian",
        "avatarUrls": {"48x48": "https://avatar.example/48.png"},
    }
    if email:
        user["emailAddress"] = email
    return user


def dc_user(name: str, key: str, display: str, email: str) -> dict[str, Any]:
    return {
        "self": f"{DC_BASE}/rest/api/2/user?username={name}",
        "name": name,
        "key": key,
        "emailAddress": email,
        "displayName": display,
        "active": True,
        "timeZone": "Europe/Madrid",
    }


ALICE = cloud_user("5b10a2844c20165700ede21g", "Alice Johnson", "alice.johnson@acme.example")
CARLA = cloud_user("5b10ac8d82e05b22cc7d4ef5", "Carla Méndez")  # email hidden by her profile

ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Löschen → ✓"}]}],
}

STATUS_IN_PROGRESS = {
    "self": f"{BASE}/rest/api/3/status/3",
    "name": "In Review",
    "id": "10001",
    "statusCategory": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
}
STATUS_DONE = {
    "name": "Closed",
    "id": "6",
    "statusCategory": {"id": 3, "key": "done", "name": "Done"},
}
STATUS_TODO = {
    "name": "Backlog",
    "id": "10000",
    "statusCategory": {"id": 2, "key": "new", "name": "To Do"},
}


def history(hid: int, created: str, author: dict[str, Any] | None, *items: dict) -> dict:
    h: dict[str, Any] = {"id": str(hid), "created": created, "items": list(items)}
    if author is not None:
        h["author"] = author
    return h


def item(
    field: str,
    frm: str | None,
    frm_s: str | None,
    to: str | None,
    to_s: str | None,
    field_id: str | None = None,
) -> dict:
    out = {
        "field": field,
        "fieldtype": "jira",
        "from": frm,
        "fromString": frm_s,
        "to": to,
        "toString": to_s,
    }
    if field_id:
        out["fieldId"] = field_id
    return out


def cloud_issue(
    issue_id: str = "10042",
    key: str = "PROJ-42",
    *,
    updated: str = "2024-03-05T14:07:31.412+0100",
    histories: list[dict] | None = None,
    changelog_total: int | None = None,
) -> dict[str, Any]:
    """A Cloud v3 search/jql result for a story with everything a TPM plans with."""
    histories = (
        histories
        if histories is not None
        else [
            history(
                5001,
                "2024-03-01T09:00:00.000+0100",
                ALICE,
                item("status", "10000", "Backlog", "10001", "In Review", "status"),
                item("assignee", None, None, CARLA["accountId"], "Carla Méndez", "assignee"),
            ),
            history(
                5002,
                "2024-03-05T14:07:31.412+0100",
                None,  # automation: no author
                item("Sprint", "", "", "7", "PROJ Sprint 7", SPRINT_FIELD),
            ),
        ]
    )
    return {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": issue_id,
        "self": f"{BASE}/rest/api/3/issue/{issue_id}",
        "key": key,
        "changelog": {
            "startAt": 0,
            "maxResults": len(histories),
            "total": changelog_total if changelog_total is not None else len(histories),
            "histories": histories,
        },
        "fields": {
            "summary": "Ünïcödé résumé: 日本語の件名 🚀",
            "description": copy.deepcopy(ADF),
            "issuetype": {
                "id": "10001",
                "name": "Story",
                "subtask": False,
                "hierarchyLevel": 0,
            },
            "status": STATUS_IN_PROGRESS,
            "priority": {"id": "2", "name": "High"},
            "assignee": CARLA,
            "reporter": ALICE,
            "creator": ALICE,
            "created": "2024-02-28T08:30:00.000+0100",
            "updated": updated,
            "resolutiondate": None,
            "resolution": None,
            "duedate": "2024-03-15",
            "labels": ["backend", "größe"],
            "components": [{"id": "10100", "name": "API"}],
            "fixVersions": [
                {"id": "10200", "name": "2024.03", "released": False, "releaseDate": "2024-03-29"}
            ],
            "issuelinks": [
                {
                    "id": "20001",
                    "type": {
                        "id": "10000",
                        "name": "Blocks",
                        "inward": "is blocked by",
                        "outward": "blocks",
                    },
                    "outwardIssue": {"id": "10043", "key": "PROJ-43"},
                },
                {
                    "id": "20002",
                    "type": {
                        "id": "10002",
                        "name": "Duplicate",
                        "inward": "is duplicated by",
                        "outward": "duplicates",
                    },
                    "inwardIssue": {"id": "10007", "key": "PROJ-7"},
                },
            ],
            "parent": {
                "id": "10001",
                "key": "PROJ-1",
                "fields": {
                    "summary": "Checkout revamp",
                    "issuetype": {
                        "id": "10000",
                        "name": "Epic",
                        "subtask": False,
                        "hierarchyLevel": 1,
                    },
                },
            },
            "project": {"id": "10000", "key": "PROJ", "name": "Project"},
            "timeoriginalestimate": 28800,
            "timeestimate": 14400,
            "timespent": 14400,
            POINTS_FIELD: 5.0,
            SPRINT_FIELD: [
                {
                    "id": 6,
                    "name": "PROJ Sprint 6",
                    "state": "closed",
                    "boardId": 3,
                    "goal": "",
                    "startDate": "2024-02-12T09:00:00.000Z",
                    "endDate": "2024-02-26T09:00:00.000Z",
                    "completeDate": "2024-02-26T10:12:00.000Z",
                },
                {
                    "id": 7,
                    "name": "PROJ Sprint 7",
                    "state": "active",
                    "boardId": 3,
                    "goal": "Ship checkout",
                    "startDate": "2024-02-26T09:00:00.000Z",
                    "endDate": "2024-03-11T09:00:00.000Z",
                },
            ],
        },
    }


DC_BOB = dc_user("bsmith", "JIRAUSER10100", "Bob Smith", "bob.smith@acme.example")
DC_EMMA = dc_user("eschulz", "JIRAUSER10104", "Emma Schulz", "emma.schulz@acme.example")


def dc_issue(issue_id: str = "30011", key: str = "OPS-11") -> dict[str, Any]:
    """A Data Center v2 search result: plain-text description, name/key users, legacy sprint
    strings, Epic Link custom field, sub-task."""
    return {
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": issue_id,
        "self": f"{DC_BASE}/rest/api/2/issue/{issue_id}",
        "key": key,
        "changelog": {
            "startAt": 0,
            "maxResults": 1,
            "total": 1,
            "histories": [
                history(
                    7001,
                    "2024-03-04T17:45:12.000+0100",
                    DC_BOB,
                    item("assignee", "bsmith", "Bob Smith", "eschulz", "Emma Schulz"),
                )
            ],
        },
        "fields": {
            "summary": "Rotate certificates",
            "description": "Plain *wiki* text",
            "issuetype": {"id": "5", "name": "Sub-task", "subtask": True},
            "status": STATUS_DONE,
            "priority": {"name": "Medium"},
            "assignee": DC_EMMA,
            "reporter": DC_BOB,
            "created": "2024-03-01T10:00:00.000+0100",
            "updated": "2024-03-04T17:45:12.000+0100",
            "resolutiondate": "2024-03-04T17:45:12.000+0100",
            "resolution": {"name": "Done"},
            "duedate": None,
            "labels": [],
            "components": [],
            "fixVersions": [],
            "issuelinks": [],
            "parent": {
                "id": "30010",
                "key": "OPS-10",
                "fields": {"issuetype": {"name": "Task", "subtask": False}},
            },
            "project": {"id": "10100", "key": "OPS"},
            "timeoriginalestimate": None,
            "timeestimate": None,
            "timespent": None,
            EPIC_LINK_FIELD: "OPS-2",
            SPRINT_FIELD: [
                "com.atlassian.greenhopper.service.sprint.Sprint@5f1c[id=12,rapidViewId=4,"
                "state=CLOSED,name=Ops 12, hardening,goal=<null>,startDate=2024-02-01T09:00:00.000+01:00,"
                "endDate=2024-02-15T09:00:00.000+01:00,completeDate=2024-02-15T11:00:00.000+01:00,"
                "activatedDate=2024-02-01T09:05:00.000+01:00,sequence=12]",
            ],
        },
    }


FIELDS_LISTING = [
    {
        "id": "summary",
        "name": "Summary",
        "custom": False,
        "schema": {"type": "string", "system": "summary"},
    },
    {
        "id": SPRINT_FIELD,
        "name": "Sprint",
        "custom": True,
        "schema": {
            "type": "array",
            "items": "json",
            "custom": "com.pyxis.greenhopper.jira:gh-sprint",
            "customId": 10020,
        },
    },
    {
        "id": EPIC_LINK_FIELD,
        "name": "Epic Link",
        "custom": True,
        "schema": {
            "type": "any",
            "custom": "com.pyxis.greenhopper.jira:gh-epic-link",
            "customId": 10014,
        },
    },
    {
        "id": "customfield_10030",
        "name": "Story point estimate",
        "custom": True,
        "schema": {"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points"},
    },
    {
        "id": POINTS_FIELD,
        "name": "Story Points",
        "custom": True,
        "schema": {
            "type": "number",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
        },
    },
]
