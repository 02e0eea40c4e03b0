"""``serve()``: run the sandbox in the foreground until SIGINT/SIGTERM (``syncd sandbox``).

Kept apart from the Typer command so it can be called and tested without a CLI framework.
"""

from __future__ import annotations

import gc
import signal
import sys
import threading
from typing import TextIO

from syncd.sandbox.app import Sandbox
from syncd.sandbox.http import Faults
from syncd.sandbox.jira.service import Deployment


def serve(
    size: str = "small",
    seed: int = 1,
    jira_port: int = 0,
    github_port: int = 0,
    evolve: float | None = None,
    faults_spec: str | None = None,
    jira_deployment: Deployment = "cloud",
    *,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Serve until SIGINT/SIGTERM (or until ``stop`` is set); returns an exit code.

    ``faults_spec`` is the ``--faults`` value: ``latency_ms=50,error_rate=0.05,rate_limit``
    (names of :class:`~syncd.sandbox.http.Faults`); a bad spec raises ``ValueError``
    before anything starts. ``evolve`` is in changes per minute."""
    stream = out or sys.stdout
    faults = Faults.parse(faults_spec)
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        with Sandbox(
            size=size,
            seed=seed,
            jira_port=jira_port,
            github_port=github_port,
            faults=faults,
            evolve_rate=evolve,
            jira_deployment=jira_deployment,
        ) as sandbox:
            # The generated data is millions of long-lived objects: a full cyclic GC pass over
            # them takes seconds (large size) and would stall requests at random. This process
            # exists to serve them, so move them out of the collector's sight.
            gc.freeze()
            print(sandbox.describe(), file=stream)
            print("\nServing; press Ctrl-C to stop.", file=stream, flush=True)
            stop.wait()
            print("Stopping.", file=stream, flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
