"""How long generating the sandbox takes, how much memory it holds, and how fast it serves.

    .venv/bin/python bench/sandbox_generate.py [--size large] [--seed 1] [--service jira|github|both]

Each service is measured in its own child process, so peak RSS belongs to that service
alone. Serving is measured over real HTTP: pages of search/jql (100 issues with all
fields, and 5000 ids) and single issues with their changelog, for Jira; for GitHub, a page
of pulls and of issues. Prints one block of figures per service; never part of the tests.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any


def _rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Any, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def measure_jira(size: str, seed: int) -> dict[str, Any]:
    import requests

    from syncd.sandbox.http import SandboxServer
    from syncd.sandbox.jira import JiraService
    from tests.sandbox.jira_support import basic

    base_rss = _rss_mb()
    started = time.perf_counter()
    service = JiraService(size, seed)
    generated = time.perf_counter() - started
    gc.freeze()  # as serve() does: keep full GC passes over the data from stalling requests
    figures: dict[str, Any] = {
        "service": "jira",
        "size": size,
        "generate_s": round(generated, 2),
        "peak_rss_mb": round(_rss_mb(), 1),
        "rss_before_mb": round(base_rss, 1),
        **service.counts(),
    }
    project = service.size.jira_projects[0]
    with SandboxServer(service) as server, requests.Session() as s:
        s.headers.update(basic(service))
        url = f"{server.url}/rest/api/3/search/jql"

        def page_all_fields() -> None:
            r = s.get(
                url,
                params={
                    "jql": f"project = {project} ORDER BY updated DESC",
                    "fields": "*all",
                    "maxResults": 100,
                },
            )
            assert r.status_code == 200 and len(r.json()["issues"]) == 100

        def page_ids() -> None:
            r = s.get(
                url, params={"jql": f"project = {project}", "fields": "id", "maxResults": 5000}
            )
            assert r.status_code == 200

        big = max(service.data.issues.values(), key=lambda i: len(i.history))

        def issue_with_changelog() -> None:
            r = s.get(f"{server.url}/rest/api/3/issue/{big.key}", params={"expand": "changelog"})
            assert r.status_code == 200

        def full_scan() -> int:
            token, n = None, 0
            while True:
                r = s.get(
                    url,
                    params={
                        "jql": f"project = {project}",
                        "fields": "updated,status",
                        "maxResults": 100,
                        "nextPageToken": token,
                    },
                )
                body = r.json()
                n += len(body["issues"])
                token = body.get("nextPageToken")
                if body["isLast"]:
                    return n

        for name, fn, repeat in (
            ("search_jql_100_all_fields_ms", page_all_fields, 10),
            ("search_jql_5000_ids_ms", page_ids, 5),
            ("issue_with_changelog_ms", issue_with_changelog, 10),
        ):
            median, worst = _timed(fn, repeat)
            figures[name] = f"median {median:.1f}, max {worst:.1f}"
        started = time.perf_counter()
        scanned = full_scan()
        figures["full_project_scan"] = f"{scanned} issues in {time.perf_counter() - started:.1f} s"
        started = time.perf_counter()
        applied = service.evolve(100)
        figures["evolve_100_ms"] = round((time.perf_counter() - started) * 1000, 1)
        figures["evolve_kinds"] = applied
    figures["peak_rss_after_serving_mb"] = round(_rss_mb(), 1)
    return figures


def measure_github(size: str, seed: int) -> dict[str, Any]:
    import requests

    from syncd.sandbox.github.service import GitHubService
    from syncd.sandbox.http import SandboxServer
    from syncd.sandbox.sizes import SIZES

    started = time.perf_counter()
    service = GitHubService(SIZES[size], seed)
    generated = time.perf_counter() - started
    gc.freeze()
    figures: dict[str, Any] = {
        "service": "github",
        "size": size,
        "generate_s": round(generated, 2),
        "peak_rss_mb": round(_rss_mb(), 1),
        **service.counts(),
    }
    repo = service.size.github_repos[0]
    with SandboxServer(service) as server, requests.Session() as s:
        s.headers["Authorization"] = f"token {service.token}"
        api = f"{server.url}/api/v3/repos/{repo}"
        for name, path in (
            ("pulls_page_100_ms", "/pulls"),
            ("issues_page_100_ms", "/issues"),
            ("commits_page_100_ms", "/commits"),
        ):
            median, worst = _timed(
                lambda p=path: s.get(
                    api + p, params={"per_page": 100, "state": "all"}
                ).raise_for_status(),
                10,
            )
            figures[name] = f"median {median:.1f}, max {worst:.1f}"
    figures["peak_rss_after_serving_mb"] = round(_rss_mb(), 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=("small", "medium", "large"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--service", default="both", choices=("jira", "github", "both"))
    parser.add_argument("--child", choices=("jira", "github"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure = measure_jira if args.child == "jira" else measure_github
        print(json.dumps(measure(args.size, args.seed)))
        return 0
    services = ("jira", "github") if args.service == "both" else (args.service,)
    for name in services:
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--size",
                args.size,
                "--seed",
                str(args.seed),
                "--child",
                name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            print(f"{name}: failed\n{child.stderr}", file=sys.stderr)
            return child.returncode
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"== {name} ({args.size}, seed {args.seed})")
        for key, value in figures.items():
            if key not in ("service", "size"):
                print(f"  {key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
