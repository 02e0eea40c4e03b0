"""``syncd demo``: the whole product on one machine, with nothing to configure.

Starts the sandbox (a simulated Jira Cloud and GitHub on free loopback ports), writes a
configuration for it, runs a full sync into a fresh SQLite file, then an incremental one,
and prints what happened and where the database is.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from syncd.config import Settings, load_settings
from syncd.store import models as m
from syncd.store.db import open_database, upgrade
from syncd.sync.engine import SyncEngine, SyncReport
from syncd.sync.progress import Progress

# The sandbox's secrets reach the config through environment variables, as a real
# deployment's should: the written file holds only their names.
JIRA_TOKEN_ENV = "SYNCD_DEMO_JIRA_TOKEN"
GITHUB_TOKEN_ENV = "SYNCD_DEMO_GITHUB_TOKEN"

COUNTED = (
    ("scopes", m.Scope),
    ("accounts", m.Account),
    ("people", m.Person),
    ("issues", m.Issue),
    ("issue_changes", m.IssueChange),
    ("issue_links", m.IssueLink),
    ("sprints", m.Sprint),
    ("releases", m.Release),
    ("release_items", m.ReleaseItem),
    ("pull_requests", m.PullRequest),
    ("reviews", m.Review),
    ("commits", m.Commit),
    ("links", m.Link),
)


@dataclass
class DemoResult:
    config_path: Path
    database_path: Path
    full: SyncReport
    full_seconds: float
    incremental: SyncReport
    incremental_seconds: float
    counts: dict[str, int]
    sandbox_description: str


def write_config(directory: Path, sandbox: Any) -> Path:
    size = sandbox.size
    projects = ", ".join(f'"{p}"' for p in size.jira_projects)
    repos = ", ".join(f'"{r}"' for r in size.github_repos)
    text = f"""# Written by `syncd demo` for its sandbox; the tokens come from the environment.
[database]
url = "sqlite:///{directory / "syncd.db"}"

[[sources]]
name = "demo-jira"
kind = "jira"
url = "{sandbox.jira_url}"
email = "{sandbox.jira_email}"
token_env = "{JIRA_TOKEN_ENV}"
projects = [{projects}]
interval = "1m"

[[sources]]
name = "demo-github"
kind = "github"
url = "{sandbox.github_url}"
token_env = "{GITHUB_TOKEN_ENV}"
repos = [{repos}]
interval = "1m"
max_requests_per_second = 200
"""
    path = directory / "syncd.toml"
    path.write_text(text, encoding="utf-8")
    return path


def table_counts(db: Engine) -> dict[str, int]:
    with db.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(model)).scalar_one()
            for name, model in COUNTED
        }


def run_demo(
    directory: Path,
    *,
    size: str = "small",
    seed: int = 1,
    progress: Progress | None = None,
    after_sync: Any = None,
) -> DemoResult:
    """Run the demo in ``directory`` (its database is replaced); return what happened."""
    from syncd.sandbox.app import Sandbox

    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "syncd.db"
    for stale in directory.glob("syncd.db*"):
        stale.unlink()
    with Sandbox(size=size, seed=seed) as sandbox:
        config_path = write_config(directory, sandbox)
        os.environ[JIRA_TOKEN_ENV] = sandbox.jira_token
        os.environ[GITHUB_TOKEN_ENV] = sandbox.github_token
        settings: Settings = load_settings(config_path)
        db = open_database(settings.database.url)
        upgrade(db)
        engine = SyncEngine(settings, db, progress=progress)
        t0 = time.monotonic()
        full = engine.sync(full=True)
        full_seconds = time.monotonic() - t0
        if after_sync is not None:
            after_sync(settings, db)
        t0 = time.monotonic()
        incremental = engine.sync()
        incremental_seconds = time.monotonic() - t0
        counts = table_counts(db)
        db.dispose()
        description = sandbox.describe()
    return DemoResult(
        config_path,
        database,
        full,
        full_seconds,
        incremental,
        incremental_seconds,
        counts,
        description,
    )
