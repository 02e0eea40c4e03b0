"""Shared helpers for the simulated-Jira tests (not fixtures: each test module owns its
servers, because several tests change data or faults)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import requests

from syncd.sandbox.http import SandboxServer
from syncd.sandbox.jira import JiraService

# A fixed generation anchor keeps data identical from day to day.
ANCHOR_MS = int(datetime(2026, 6, 15, tzinfo=UTC).timestamp() * 1000)


def basic(service: JiraService) -> dict[str, str]:
    raw = f"{service.email}:{service.api_token}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def bearer(service: JiraService) -> dict[str, str]:
    return {"Authorization": f"Bearer {service.personal_access_token}"}


def get(server: SandboxServer, path: str, **params: object) -> requests.Response:
    service = server.service
    assert isinstance(service, JiraService)
    auth = basic(service) if service.cloud else bearer(service)
    return requests.get(f"{server.url}{path}", params=params, headers=auth, timeout=10)  # type: ignore[arg-type]


def post(server: SandboxServer, path: str, body: object) -> requests.Response:
    service = server.service
    assert isinstance(service, JiraService)
    auth = basic(service) if service.cloud else bearer(service)
    return requests.post(f"{server.url}{path}", json=body, headers=auth, timeout=10)


def search_all(server: SandboxServer, jql: str, **params: object) -> list[dict]:
    """Every issue search/jql returns for ``jql``, following nextPageToken."""
    issues: list[dict] = []
    token = None
    for _ in range(1000):
        page = get(server, "/rest/api/3/search/jql", jql=jql, nextPageToken=token, **params)
        assert page.status_code == 200, page.text
        body = page.json()
        issues += body["issues"]
        token = body.get("nextPageToken")
        if body["isLast"]:
            assert token is None
            return issues
    raise AssertionError("search/jql never said isLast")
