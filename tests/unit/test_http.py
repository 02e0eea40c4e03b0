"""The one retry policy: what is retried, what waits, what fails fast, and what never leaks."""

from __future__ import annotations

import threading
import time

import pytest
import requests
import responses

from connectors.http import (
    HttpPolicy,
    RequestBudget,
    RequestMeter,
    RetrySettings,
    retry_after_seconds,
    safe_url,
)
from syncd.errors import AuthError, FatalError, NotFound, StopRequested, TransientError

URL = "https://jira.example/rest/api/3/search/jql"
FAST = RetrySettings(max_attempts=4, backoff_base_s=0.01, backoff_max_s=0.02)


def policy(**budget_kwargs) -> HttpPolicy:  # type: ignore[no-untyped-def]
    budget = RequestBudget("acme-jira", **budget_kwargs)
    budget.record_sends = True
    return HttpPolicy(budget, FAST)


def get(session: requests.Session, url: str = URL):  # type: ignore[no-untyped-def]
    return lambda: session.get(url, params={"access_token": "tok-SECRET"}, timeout=5)


@responses.activate(assert_all_requests_are_fired=True)
def test_5xx_and_resets_are_retried_and_every_attempt_is_counted() -> None:
    responses.get(URL, status=503)
    responses.get(URL, body=requests.ConnectionError("connection reset by peer"))
    responses.get(URL, json={"issues": []})
    p = policy()
    with RequestMeter() as meter:
        response = p.call(get(requests.Session()), json_body=True)
    assert response.syncd_json == {"issues": []}  # type: ignore[attr-defined]
    assert meter.requests == 3 and p.budget.requests == 3


@responses.activate(assert_all_requests_are_fired=True)
def test_a_truncated_json_body_is_retried_like_a_dropped_connection() -> None:
    responses.get(URL, body='{"issues": [{"id": "1"', content_type="application/json")
    responses.get(URL, json={"issues": [{"id": "1"}]})
    response = policy().call(get(requests.Session()), json_body=True)
    assert response.syncd_json == {"issues": [{"id": "1"}]}  # type: ignore[attr-defined]


@responses.activate(assert_all_requests_are_fired=True)
def test_nothing_is_sent_while_retry_after_is_in_force() -> None:
    responses.get(URL, status=429, headers={"Retry-After": "1"})
    responses.get(URL, json={})
    p = policy()
    p.call(get(requests.Session()))
    first, second = p.budget.send_times
    assert second - first >= 1.0


@responses.activate(assert_all_requests_are_fired=True)
def test_a_spent_primary_limit_waits_for_its_reset() -> None:
    reset = int(time.time()) + 2
    responses.get(
        URL,
        status=403,
        json={"message": "API rate limit exceeded for user ID 1."},
        headers={
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Reset": str(reset),
        },
    )
    responses.get(URL, json={})
    p = policy()
    p.call(get(requests.Session()))
    assert p.budget.send_times[1] >= reset - 1  # waited (reset has second granularity)


@responses.activate(assert_all_requests_are_fired=True)
def test_refused_credentials_fail_fast_naming_the_source_not_the_secret() -> None:
    responses.get(URL, status=401, body="Client must be authenticated to access this resource.")
    with pytest.raises(AuthError) as info:
        policy().call(get(requests.Session()))
    message = str(info.value)
    assert "acme-jira" in message and "credentials" in message
    assert "SECRET" not in message and "access_token" not in message
    assert len(responses.calls) == 1


@responses.activate(assert_all_requests_are_fired=True)
def test_403_without_rate_limit_signs_is_a_permission_problem() -> None:
    responses.get(URL, status=403, json={"message": "Resource not accessible by integration"})
    with pytest.raises(AuthError, match="permissions"):
        policy().call(get(requests.Session()))


@responses.activate(assert_all_requests_are_fired=True)
def test_404_and_other_4xx_are_not_retried() -> None:
    responses.get(URL, status=404)
    with pytest.raises(NotFound):
        policy().call(get(requests.Session()))
    responses.get(URL, status=400, json={"errorMessages": ["Error in the JQL Query"]})
    with pytest.raises(FatalError, match="Error in the JQL Query"):
        policy().call(get(requests.Session()))
    assert len(responses.calls) == 2


@responses.activate
def test_retries_end_with_the_last_error() -> None:
    responses.get(URL, status=502)
    with pytest.raises(TransientError, match="502"):
        policy().call(get(requests.Session()))
    assert len(responses.calls) == FAST.max_attempts


def test_a_nearly_spent_budget_blocks_until_its_reset() -> None:
    now = [1000.0]
    budget = RequestBudget("gh", reserve=20, clock=lambda: now[0])
    budget.observe(
        {"X-RateLimit-Remaining": "15", "X-RateLimit-Limit": "5000", "X-RateLimit-Reset": "1300"}
    )
    assert budget.blocked_until() == pytest.approx(1301.0)
    budget.observe(
        {"X-RateLimit-Remaining": "900", "X-RateLimit-Limit": "5000", "X-RateLimit-Reset": "1900"}
    )
    assert budget._paced_interval == pytest.approx(900 / 880)  # spread over the window


def test_a_stop_request_interrupts_a_wait() -> None:
    stop = threading.Event()
    budget = RequestBudget("gh", stop=stop)
    budget.block_for(60, "test")
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    with pytest.raises(StopRequested):
        budget.acquire()
    assert time.monotonic() - started < 5


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds({"Retry-After": "7"}) == 7
    assert (
        retry_after_seconds(
            {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, clock=lambda: 1445412470
        )
        == 10
    )
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"Retry-After": "0"}) == 0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert (
        retry_after_seconds(
            {"Retry-After": "Wed, 21 Oct 2015 07:28:00 -0000"}, clock=lambda: 1445412470
        )
        == 10
    )


def test_safe_url_drops_credentials_and_query() -> None:
    assert (
        safe_url("https://u:p@host.example:8443/a/b?token=x#f") == "https://host.example:8443/a/b"
    )


def test_the_engine_keeps_a_sources_budget_across_runs() -> None:
    from syncd.config import settings_from_dict
    from syncd.sync.engine import SyncEngine
    from tests.support.memory_connector import MemoryConnector

    settings = settings_from_dict(
        {"sources": [{"name": "m", "kind": "memory", "url": "https://m.example", "token": "t"}]},
        env={},
        connectors={"memory": MemoryConnector},
    )
    engine = SyncEngine(settings, None, connectors={"memory": MemoryConnector})  # type: ignore[arg-type]
    first = engine.make_connector(settings.sources[0])
    first.runtime.budget.block_for(3600, "told to wait an hour")
    second = engine.make_connector(settings.sources[0])
    assert second.runtime.budget.blocked_until() == first.runtime.budget.blocked_until()
