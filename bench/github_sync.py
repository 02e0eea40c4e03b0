"""GitHub sync against the sandbox: requests vs the lower bound, speed, and idle cost.

    .venv/bin/python bench/github_sync.py [--size medium] [--latency-ms 50] [--seed 1]
                                          [--database-url URL] [--rps N] [--concurrency N]

Figures printed:
- full sync: requests sent (the sandbox's count) against the lower bound, which is one
  request per 100 items of each list (issues incl. pull requests, pull requests,
  default-branch commits, milestones) plus one review list per pull request; what the
  requests above the bound were for; rate-limit points; records stored per second; wall
  time with the added latency;
- a cycle after some changes (evolve): requests and points;
- a cycle in which nothing changed: requests and rate-limit points (the target is 0).

Pacing: the connector's default (12 requests/s, under GitHub's 900 points a minute) would
make the wall time a measure of the pacing alone, so the sandbox run lifts it (``--rps``).
Requests go one at a time by default (``max_in_flight = 1``, GitHub's advice);
``--max-in-flight 8 --pull-request-workers 4`` shows what overlapping them buys.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from syncd.config import settings_from_dict
from syncd.sandbox.app import Sandbox
from syncd.sandbox.http import Faults
from syncd.store.db import open_database, upgrade
from syncd.sync.engine import SyncEngine, SyncReport


def lower_bound(sb: Sandbox) -> tuple[int, dict[str, int]]:
    parts: Counter[str] = Counter()
    for name in sb.size.github_repos:
        repo = sb.github_service.data.repos[name]
        parts["issues list"] += math.ceil((len(repo.issues) + len(repo.pulls)) / 100) or 1
        parts["pulls list"] += math.ceil(len(repo.pulls) / 100) or 1
        parts["commits list"] += math.ceil(len(repo.branch_log()) / 100) or 1
        parts["milestones list"] += math.ceil(len(repo.milestones) / 100) or 1
        parts["review lists"] += len(repo.pulls)
    return sum(parts.values()), dict(parts)


def _by_kind(summary: dict[str, Any]) -> dict[str, int]:
    kinds: Counter[str] = Counter()
    for endpoint, count in summary["by_endpoint"].items():
        template = endpoint.split(" ", 1)[-1]
        kinds[
            {
                "/repos/{o}/{r}": "repository",
                "/repos/{o}/{r}/issues": "issues list",
                "/repos/{o}/{r}/pulls": "pulls list",
                "/repos/{o}/{r}/pulls/{n}": "pull request details",
                "/repos/{o}/{r}/pulls/{n}/reviews": "review lists",
                "/repos/{o}/{r}/commits": "commits list",
                "/repos/{o}/{r}/milestones": "milestones list",
                "/users/{login}": "user profiles",
            }.get(template, template or "(refused before routing)")
        ] += count
    return dict(sorted(kinds.items()))


def _records(report: SyncReport) -> int:
    return sum(r.records for r in report.results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rps", type=float, default=1000.0)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--max-in-flight", type=int, default=1)
    parser.add_argument("--pull-request-workers", type=int, default=1)
    parser.add_argument("--changes", type=int, default=100)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    db = open_database(url)
    upgrade(db)
    faults = Faults(latency_ms=args.latency_ms)
    started = time.perf_counter()
    with Sandbox(size=args.size, seed=args.seed, faults=faults) as sb:
        print(
            f"sandbox {args.size} (seed {args.seed}) ready in {time.perf_counter() - started:.1f}s"
        )
        counts = sb.github_service.counts()
        print("  data: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        repos = list(sb.size.github_repos)
        settings = settings_from_dict(
            {
                "sources": [
                    {
                        "name": "gh",
                        "kind": "github",
                        "url": sb.github_url,
                        "token": sb.github_token,
                        "repos": repos,
                        "max_requests_per_second": args.rps,
                        "concurrency": args.concurrency or len(repos),
                        "max_in_flight": args.max_in_flight,
                        "pull_request_workers": args.pull_request_workers,
                    }
                ]
            },
            env={},
        )
        engine = SyncEngine(settings, db)
        log = sb.github_server.log  # type: ignore[union-attr]
        bound, bound_parts = lower_bound(sb)

        log.reset()
        t0 = time.perf_counter()
        report = engine.sync()
        wall = time.perf_counter() - t0
        assert report.ok, report.source_errors or [r for r in report.results if r.error]
        full = log.summary()
        records = _records(report)
        print(
            f"\nfull sync ({args.latency_ms:g} ms latency, db {url.split(':')[0]}, "
            f"{args.max_in_flight} request(s) in flight)"
        )
        print(f"  requests        {full['total']}  (lower bound {bound}: "
              + ", ".join(f"{k} {v}" for k, v in bound_parts.items()) + ")")  # fmt: skip
        print(f"  ratio           {full['total'] / bound:.3f} x lower bound")
        print("  by kind         " + ", ".join(f"{k} {v}" for k, v in _by_kind(full).items()))
        print(f"  rate-limit pts  {full['rate_limit_cost']}")
        print(f"  records         {records}  ({records / wall:.0f} records/s)")
        print(f"  wall time       {wall:.1f}s")

        applied = sb.github_server.evolve(args.changes)  # type: ignore[union-attr]
        log.reset()
        t0 = time.perf_counter()
        report = engine.sync()
        wall = time.perf_counter() - t0
        assert report.ok
        changed = log.summary()
        print(f"\nincremental sync after {sum(applied.values())} changes "
              f"({', '.join(f'{k} {v}' for k, v in sorted(applied.items()))})")  # fmt: skip
        print(f"  requests        {changed['total']}  by kind: "
              + ", ".join(f"{k} {v}" for k, v in _by_kind(changed).items()))  # fmt: skip
        print(f"  rate-limit pts  {changed['rate_limit_cost']}")
        print(f"  records         {_records(report)}")
        print(f"  wall time       {wall:.1f}s")

        log.reset()
        t0 = time.perf_counter()
        report = engine.sync()
        wall = time.perf_counter() - t0
        assert report.ok
        idle = log.summary()
        print("\nno-change cycle")
        print(f"  requests        {idle['total']}  (statuses {idle['by_status']})")
        print(f"  rate-limit pts  {idle['rate_limit_cost']}")
        print(f"  wall time       {wall:.2f}s")
    db.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
