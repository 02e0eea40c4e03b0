"""Generation time and peak memory of the simulated GitHub, and the cost of serving it.

    .venv/bin/python bench/sandbox_github_generate.py [size ...]   (default: small medium large)

Prints, per size: data counts, wall time to generate, peak Python heap during generation
(tracemalloc, measured in a separate run because tracing slows generation down), resident
set size after generation, and the time to render typical pages (100 items) in-process.
"""

from __future__ import annotations

import gc
import resource
import sys
import time
import tracemalloc

from syncd.sandbox.github.service import GitHubService
from syncd.sandbox.http import Faults, Headers, Request
from syncd.sandbox.sizes import SIZES


def _request(path: str, **query: str) -> Request:
    return Request(
        method="GET",
        path=f"/api/v3{path}",
        query={k: [v] for k, v in query.items()},
        headers=Headers({"Authorization": f"token {GitHubService.TOKEN}"}),
        body=b"",
        base_url="http://127.0.0.1:8080",
        faults=Faults(),
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench(size_name: str) -> None:
    size = SIZES[size_name]
    gc.collect()
    started = time.perf_counter()
    service = GitHubService(size, seed=1)
    generated = time.perf_counter() - started
    print(f"== {size_name}: {service.counts()}")
    print(f"   generate: {generated:.2f} s, max RSS so far {_rss_mb():.0f} MiB")

    repo = size.github_repos[0]
    last_page = -(-len(service.data.repos[repo].branch_log()) // 100)
    pages = {
        "commits (1st page, builds the log)": _request(f"/repos/{repo}/commits", per_page="100"),
        "commits (cached log, last page)": _request(
            f"/repos/{repo}/commits", per_page="100", page=str(last_page)
        ),
        "pulls state=all sort=updated": _request(
            f"/repos/{repo}/pulls", state="all", sort="updated", direction="desc", per_page="100"
        ),
        "issues state=all": _request(f"/repos/{repo}/issues", state="all", per_page="100"),
    }
    for label, request in pages.items():
        started = time.perf_counter()
        response = service.handle(request)
        took = (time.perf_counter() - started) * 1000
        print(f"   {label}: {took:.0f} ms, {len(response.body) / 1024:.0f} KiB, {response.status}")
    started = time.perf_counter()
    applied = service.evolve(1000)
    print(f"   evolve(1000): {(time.perf_counter() - started) * 1000:.0f} ms {applied}")
    del service
    gc.collect()

    tracemalloc.start()
    GitHubService(size, seed=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"   peak traced heap while generating: {peak / 2**20:.0f} MiB")


def main(argv: list[str]) -> None:
    for name in argv or ["small", "medium", "large"]:
        bench(name)


if __name__ == "__main__":
    main(sys.argv[1:])
