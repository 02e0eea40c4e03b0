"""The foreground daemon: each source syncs on its own interval until asked to stop.

One thread per source keeps that source's rhythm (start-to-start: a run that overruns its
interval is followed at once by the next); at most ``sync.max_parallel_sources`` of them
sync at the same time. A failing source is retried on its next tick, whatever failed (the
database too); the others are not held up by it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from syncd.config import Settings
from syncd.sync.engine import SyncEngine, SyncReport

log = logging.getLogger("syncd.daemon")


class Daemon:
    def __init__(
        self,
        settings: Settings,
        engine: SyncEngine,
        stop: threading.Event,
        *,
        on_report: Callable[[str, SyncReport], None] | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.stop = stop
        self.on_report = on_report
        self.runs: dict[str, int] = {}
        self.crashes: dict[str, int] = {}
        self._slots = threading.BoundedSemaphore(settings.sync.max_parallel_sources)

    def run(self) -> None:
        threads = [
            threading.Thread(target=self._source_loop, args=(s.name,), name=f"daemon-{s.name}")
            for s in self.settings.sources
        ]
        log.info("daemon started: %d sources", len(threads))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log.info("daemon stopped")

    def _source_loop(self, name: str) -> None:
        interval = self.settings.source(name).interval.total_seconds()
        while not self.stop.is_set():
            started = time.monotonic()
            with self._slots:
                if self.stop.is_set():
                    break
                try:
                    report = self.engine.sync(name)
                except Exception:  # never let one bad tick end this source's loop
                    self.crashes[name] = self.crashes.get(name, 0) + 1
                    log.exception("source %s: sync crashed; retrying next interval", name)
                    report = None
            self.runs[name] = self.runs.get(name, 0) + 1
            if report is not None:
                if self.on_report:
                    self.on_report(name, report)
                if not report.ok and not report.stopped:
                    log.error("source %s: sync failed: %s", name, "; ".join(_errors(report)))
            wait = max(0.0, interval - (time.monotonic() - started))
            if self.stop.wait(wait):
                break


def _errors(report: SyncReport) -> list[str]:
    errors = list(report.source_errors.values())
    errors += [f"{r.scope} {r.stream}: {r.error}" for r in report.results if r.error]
    return errors
