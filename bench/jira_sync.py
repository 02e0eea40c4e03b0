"""Benchmark: a full Jira sync of the sandbox, then a no-change incremental run.

    .venv/bin/python bench/jira_sync.py                       # medium, Cloud, SQLite
    .venv/bin/python bench/jira_sync.py --deployment datacenter --latency-ms 50

The sandbox runs in a process of its own (as a real Jira would be elsewhere), so syncd's
figures are not its CPU time shared with the simulated server's. Printed, per run: wall
time, records/s and issues/s, requests by endpoint, and requests against a lower bound:
the issue pages a search needs at the largest page size the API allows with fields (100 on
Cloud's search/jql, 1000 on Data Center's search), plus the pages of the complete histories
Cloud's search does not embed (bulk changelog, 1000 entries a page), per project. A no-change
run's bound is one search per project. Requests are shown in all and for the issue data alone
(the rest: project with versions, boards, sprints, field ids and the user, once each).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import multiprocessing as mp
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from syncd.config import settings_from_dict
from syncd.sandbox.jira import JiraService
from syncd.sandbox.jira.handlers import (
    BULKFETCH_DEFAULT,
    LEGACY_SEARCH_MAX,
    SEARCH_JQL_CHANGELOG_CAP,
    SEARCH_JQL_MAX,
)
from syncd.sandbox.sizes import SIZES
from syncd.store.db import open_database, upgrade
from syncd.sync.engine import SyncEngine


def _serve(size: str, deployment: str, ready: Any) -> None:
    from syncd.sandbox.app import Sandbox

    sb = Sandbox(size=size, seed=1, jira_deployment=deployment).start()  # type: ignore[arg-type]
    gc.freeze()  # millions of long-lived objects: keep the collector off them (as cli.py)
    ready.put((sb.jira_url, sb.jira_email, sb.jira_token))
    threading.Event().wait()


class RemoteSandbox:
    """The sandbox in a child process, driven through its /_sandbox/ control endpoints."""

    def __init__(self, size: str, deployment: str) -> None:
        ctx = mp.get_context("spawn")
        ready = ctx.Queue()
        self.process = ctx.Process(target=_serve, args=(size, deployment, ready), daemon=True)
        self.process.start()
        self.url, self.email, self.token = ready.get(timeout=300)
        self.deployment = deployment

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/_sandbox/{path}", data=data, method=method)
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def lower_bound(service: JiraService) -> dict[str, int]:
    """Requests a perfect reader needs for the issue data, project by project (each project
    is its own stream): search pages at the largest page size, plus on Cloud the bulk
    changelog pages for the histories search leaves out."""
    cloud = service.cloud
    page = SEARCH_JQL_MAX if cloud else LEGACY_SEARCH_MAX
    issues = {p: 0 for p in service.size.jira_projects}
    truncated = {p: 0 for p in service.size.jira_projects}
    for issue in service.data.issues.values():
        issues[issue.project] += 1
        if cloud and len(issue.history) > SEARCH_JQL_CHANGELOG_CAP:
            truncated[issue.project] += len(issue.history)
    search = sum(max(1, math.ceil(n / page)) for n in issues.values())
    changelog = sum(math.ceil(n / BULKFETCH_DEFAULT) for n in truncated.values())
    return {"search": search, "changelog": changelog, "total": search + changelog}


def engine_for(sb: RemoteSandbox, db_url: str, projects: list[str]) -> SyncEngine:
    source: dict[str, Any] = {
        "name": "bench-jira",
        "kind": "jira",
        "url": sb.url,
        "token": sb.token,
        "projects": projects,
    }
    if sb.deployment == "cloud":
        source["email"] = sb.email
    settings = settings_from_dict({"database": {"url": db_url}, "sources": [source]}, env={})
    db = open_database(db_url)
    upgrade(db)
    return SyncEngine(settings, db)


def run(engine: SyncEngine, sb: RemoteSandbox, *, full: bool) -> dict[str, Any]:
    sb.control("POST", "requests/reset")
    started = time.perf_counter()
    report = engine.sync(full=full)
    seconds = time.perf_counter() - started
    if not report.ok:
        failed = [(r.scope, r.stream, r.error) for r in report.results if r.status != "success"]
        raise SystemExit(f"sync failed: {report.source_errors or failed}")
    log = sb.control("GET", "requests")
    return {
        "seconds": seconds,
        "records": sum(r.records for r in report.results),
        "requests": log["total"],
        "by_endpoint": log["by_endpoint"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=sorted(SIZES))
    parser.add_argument("--deployment", choices=["cloud", "datacenter"], default="cloud")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="for the latency run")
    parser.add_argument("--db", default=None, help="database URL (default: fresh SQLite files)")
    args = parser.parse_args()

    service = JiraService(args.size, 1, deployment=args.deployment)  # same data as the server's
    projects = list(service.size.jira_projects)
    issues = len(service.data.issues)
    bound = lower_bound(service)
    print(
        f"sandbox: {args.size}, Jira {args.deployment}, {len(projects)} projects, {issues} issues,"
        f" {service.data.history_count()} changelog entries (sandbox in its own process)"
    )
    print(
        f"lower bound: {bound['search']} search pages + {bound['changelog']} changelog pages"
        f" = {bound['total']} requests; no-change run: {len(projects)}"
    )
    del service

    sb = RemoteSandbox(args.size, args.deployment)
    results: list[tuple[str, dict[str, Any], int]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.db or f"sqlite:///{Path(tmp) / 'fast.db'}"
            engine = engine_for(sb, url, projects)
            results.append(
                ("full sync, no added latency", run(engine, sb, full=True), bound["total"])
            )
            results.append(
                ("no-change incremental run", run(engine, sb, full=False), len(projects))
            )
            if not args.db:
                sb.control("POST", "faults", {"latency_ms": args.latency_ms})
                slow_engine = engine_for(sb, f"sqlite:///{Path(tmp) / 'slow.db'}", projects)
                title = f"full sync, {args.latency_ms:.0f} ms added latency per request"
                results.append((title, run(slow_engine, sb, full=True), bound["total"]))
    finally:
        sb.stop()

    for title, r, best in results:
        print(
            f"\n{title}: {r['seconds']:.2f}s, {r['records']} records"
            f" ({r['records'] / r['seconds']:,.0f} records/s,"
            f" {issues / r['seconds']:,.0f} issues/s if it was a full read)"
        )
        data = sum(
            n
            for endpoint, n in r["by_endpoint"].items()
            if "search" in endpoint or "changelog" in endpoint
        )
        print(
            f"  requests: {r['requests']} in all, {data} for issue data (search, changelog);"
            f" lower bound {best}: {r['requests'] / best:.2f}x in all, {data / best:.2f}x"
            " for issue data"
        )
        for endpoint, n in sorted(r["by_endpoint"].items(), key=lambda kv: -kv[1]):
            print(f"    {n:6d}  {endpoint}")


if __name__ == "__main__":
    main()
