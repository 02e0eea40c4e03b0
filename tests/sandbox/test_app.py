"""The combined sandbox (Jira + GitHub) and the foreground ``serve()``."""

from __future__ import annotations

import io
import threading
import time

import requests
from github import Auth, Github
from jira import JIRA

from syncd.sandbox.app import Sandbox
from syncd.sandbox.cli import serve
from syncd.sandbox.http import Faults


def test_session_sandbox_serves_both_services(sandbox: Sandbox) -> None:
    jira = JIRA(
        sandbox.jira_url, basic_auth=(sandbox.jira_email, sandbox.jira_token), max_retries=0
    )
    assert jira.myself()["emailAddress"] == sandbox.jira_email
    assert sandbox.github_service is not None
    gh = Github(base_url=sandbox.github_url, auth=Auth.Token(sandbox.github_token), retry=None)
    assert gh.get_repo("acme/api").full_name == "acme/api"
    text = sandbox.describe()
    for needle in (sandbox.jira_url, sandbox.jira_token, sandbox.github_url, sandbox.github_token):
        assert needle in text


def test_datacenter_sandbox_and_shared_faults(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    sb = make_sandbox(jira_deployment="datacenter", faults=Faults(latency_ms=1, seed=3))
    jira = JIRA(sb.jira_url, token_auth=sb.jira_token, max_retries=0)
    assert jira.deploymentType == "Server"
    assert sb.jira_server.faults.latency_ms == 1
    assert sb.github_server is not None and sb.github_server.faults.latency_ms == 1
    # Each server has its own copy of the faults.
    sb.jira_server.set_faults(error_rate=1.0)
    assert sb.github_server.faults.error_rate == 0
    assert "Personal access token" in sb.describe() or "personal access token" in sb.describe()


def test_background_evolution(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    sb = make_sandbox(evolve_rate=240)  # 4 changes a second per service
    before = sb.jira_service.data.revision
    deadline = time.monotonic() + 5
    while sb.jira_service.data.revision == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sb.jira_service.data.revision > before
    assert sum(sb.evolved["jira"].values()) >= 4


def test_control_endpoint_evolves_through_http(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    sb = make_sandbox()
    r = requests.post(f"{sb.jira_url}/_sandbox/evolve", json={"changes": 8}, timeout=10)
    assert sum(r.json()["applied"].values()) == 8
    assert requests.get(f"{sb.jira_url}/_sandbox/counts", timeout=10).json()["deleted_issues"] == 1


def test_serve_prints_urls_and_credentials_and_stops() -> None:
    out = io.StringIO()
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(
            serve("small", 2, 0, 0, None, "latency_ms=0,seed=2", "cloud", out=out, stop=stop)
        )
    )
    thread.start()
    deadline = time.monotonic() + 10
    while "Serving" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    url = next(
        line.split(": ", 1)[1]
        for line in out.getvalue().splitlines()
        if line.startswith("Jira Cloud:")
    )
    assert requests.get(f"{url}/rest/api/2/serverInfo", timeout=10).status_code == 200
    stop.set()
    thread.join(timeout=10)
    assert result == [0]
    assert "API token:" in out.getvalue()
