"""The command line as a user runs it: a separate process, real signals, exit codes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syncd.sandbox.http import Faults

pytestmark = pytest.mark.e2e

SYNCD = [sys.executable, "-m", "syncd"]


def write_config(path: Path, sandbox, *, jira_token_env: str = "E2E_JIRA_TOKEN") -> Path:  # type: ignore[no-untyped-def]
    path.write_text(
        f"""
[database]
url = "sqlite:///{path.parent / "syncd.db"}"

[[sources]]
name = "e2e-jira"
kind = "jira"
url = "{sandbox.jira_url}"
email = "{sandbox.jira_email}"
token_env = "{jira_token_env}"
projects = ["PROJ", "OPS"]

[[sources]]
name = "e2e-github"
kind = "github"
url = "{sandbox.github_url}"
token_env = "E2E_GITHUB_TOKEN"
repos = ["acme/api", "acme/web"]
max_requests_per_second = 500
""",
        encoding="utf-8",
    )
    return path


def env_for(sandbox, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = env_without_syncd_settings()
    env |= {"E2E_JIRA_TOKEN": sandbox.jira_token, "E2E_GITHUB_TOKEN": sandbox.github_token}
    return env | extra


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def env_without_syncd_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}


def test_demo_runs_on_its_own_and_leaves_a_populated_database(tmp_path: Path) -> None:
    result = subprocess.run(
        [*SYNCD, "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env_without_syncd_settings(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    db = tmp_path / "demo" / "syncd.db"
    assert str(db) in result.stdout
    assert count(db, "issues") > 300 and count(db, "pull_requests") > 100
    assert count(db, "commits") > 300 and count(db, "issue_changes") > 1000
    assert "full sync" in result.stdout and "incremental sync" in result.stdout


def test_sync_stops_cleanly_on_sigterm_and_the_next_run_completes(
    tmp_path: Path, make_sandbox
) -> None:  # type: ignore[no-untyped-def]
    sandbox = make_sandbox(size="small", seed=3, faults=Faults(latency_ms=40))
    config = write_config(tmp_path / "syncd.toml", sandbox)
    env = env_for(sandbox)
    proc = subprocess.Popen(
        [*SYNCD, "--log-format", "json", "sync", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    db = tmp_path / "syncd.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the first batches are stored
        time.sleep(0.2)
        try:
            if count(db, "issues") > 0:
                break
        except sqlite3.Error:
            continue
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-3000:]
    assert "stopped before finishing" in stderr
    assert sandbox.jira_token not in stdout + stderr and sandbox.github_token not in stdout + stderr

    rerun = subprocess.run(
        [*SYNCD, "sync", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    with sqlite3.connect(db) as conn:
        jira_issues = conn.execute(
            "SELECT count(*) FROM issues i JOIN sources s ON s.id = i.source_id "
            "WHERE s.name = 'e2e-jira' AND i.deleted_at IS NULL"
        ).fetchone()[0]
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT external_id FROM issues GROUP BY source_id, external_id "
            "HAVING count(*) > 1)"
        ).fetchone()[0]
    assert duplicates == 0
    assert jira_issues == len(sandbox.jira_service.data.issues)  # every live issue, once

    status = subprocess.run(
        [*SYNCD, "status", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert status.returncode == 0
    assert "e2e-jira" in status.stdout and "e2e-github" in status.stdout


def test_refused_credentials_name_the_source_and_never_show_the_token(
    tmp_path: Path, sandbox
) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "syncd.toml", sandbox)
    env = env_for(sandbox, E2E_JIRA_TOKEN="wrong-token-value-123")
    for command in (["doctor"], ["sync", "--source", "e2e-jira"]):
        result = subprocess.run(
            [*SYNCD, *command, "--config", str(config)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 1, output[-3000:]
        assert "e2e-jira" in output and "credentials" in output
        assert "wrong-token-value-123" not in output
        assert "Traceback" not in output
