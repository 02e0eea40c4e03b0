"""Faults and rate limiting as a client of the simulated Jira meets them."""

from __future__ import annotations

import time

import pytest
import requests
from jira import JIRA

from syncd.sandbox.http import Faults, SandboxServer
from syncd.sandbox.jira import JiraService
from syncd.sandbox.jira.ratelimit import RateLimiter
from tests.sandbox.jira_support import ANCHOR_MS, basic, bearer


def limited(deployment: str = "cloud") -> SandboxServer:
    service = JiraService(
        "small",
        2,
        deployment=deployment,  # type: ignore[arg-type]
        anchor_ms=ANCHOR_MS,
        rate_limiter=RateLimiter(capacity=3, refill_per_second=2.0),
    )
    return SandboxServer(service, faults=Faults(rate_limit=True))


def test_cloud_429_carries_retry_after_and_punishes_impatience() -> None:
    with limited() as server:
        service = server.service
        assert isinstance(service, JiraService)
        url = f"{server.url}/rest/api/3/myself"
        with requests.Session() as s:
            codes = [s.get(url, headers=basic(service)).status_code for _ in range(3)]
            assert codes == [200, 200, 200]
            refused = s.get(url, headers=basic(service))
            assert refused.status_code == 429
            assert refused.headers["Retry-After"] == "1"
            assert refused.headers["RateLimit-Reason"] == "jira-burst-based"
            assert refused.headers["X-RateLimit-Remaining"] == "0"
            assert refused.headers["X-RateLimit-Reset"].endswith("Z")
            assert refused.json()["errorMessages"]
            assert server.log.violations == 0
            # Asking again at once is a violation, and the wait grows.
            again = s.get(url, headers=basic(service))
            assert again.status_code == 429
            assert int(again.headers["Retry-After"]) >= 2
            assert server.log.violations == 1
            time.sleep(int(again.headers["Retry-After"]) + 0.1)
            assert s.get(url, headers=basic(service)).status_code == 200
            assert server.log.violations == 1


def test_datacenter_429_headers() -> None:
    with limited("datacenter") as server:
        service = server.service
        assert isinstance(service, JiraService)
        url = f"{server.url}/rest/api/2/myself"
        responses = [requests.get(url, headers=bearer(service), timeout=10) for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        refused = responses[-1]
        assert refused.headers["Retry-After"] == "1"
        assert {"X-RateLimit-Limit", "X-RateLimit-FillRate", "X-RateLimit-Interval-Seconds"} <= set(
            refused.headers
        )


def test_the_jira_client_waits_as_told_and_gets_everything() -> None:
    with limited() as server:
        service = server.service
        assert isinstance(service, JiraService)
        client = JIRA(server.url, basic_auth=(service.email, service.api_token), max_retries=5)
        issues = client.enhanced_search_issues("project = PROJ", maxResults=False, fields="key")
        for _ in range(3):
            client.myself()
        assert len(issues) == 150
        summary = server.log.summary()
        assert summary["by_status"].get("429", 0) >= 1
        assert summary["violations"] == 0


def test_error_share_is_close_to_the_rate_and_repeatable() -> None:
    service = JiraService("small", 2, anchor_ms=ANCHOR_MS)
    with SandboxServer(service, faults=Faults(error_rate=0.25, seed=11)) as server:
        url = f"{server.url}/rest/api/3/serverInfo"

        def run() -> list[int]:
            with requests.Session() as s:
                return [s.get(url).status_code for _ in range(200)]

        first = run()
        server.set_faults(seed=11)
        assert run() == first
        errors = [c for c in first if c >= 500]
        assert 30 <= len(errors) <= 70
        assert set(errors) <= {500, 502, 503}


def test_reset_truncation_and_latency() -> None:
    service = JiraService("small", 2, anchor_ms=ANCHOR_MS)
    with SandboxServer(service) as server:
        url = f"{server.url}/rest/api/3/field"
        server.set_faults(reset_rate=1.0)
        with pytest.raises(requests.ConnectionError):
            requests.get(url, headers=basic(service), timeout=10)
        server.set_faults(reset_rate=0, truncate_rate=1.0)
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            requests.get(url, headers=basic(service), timeout=10)
        server.set_faults(truncate_rate=0, latency_ms=200)
        started = time.monotonic()
        assert requests.get(url, headers=basic(service), timeout=10).status_code == 200
        assert time.monotonic() - started >= 0.2
        assert server.log.summary()["faults"] == {"reset": 1, "truncate": 1}
