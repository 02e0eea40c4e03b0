"""The daemon keeps each source on its interval and stops promptly when asked."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, func, select

from syncd.service.daemon import Daemon
from syncd.store import models as m
from syncd.sync.engine import SyncEngine
from tests.integration.test_engine import CONNECTORS, settings
from tests.support.memory_connector import MemoryConnector, fail_at, reset_hooks


def test_each_source_syncs_on_its_interval_until_stopped(db: Engine, database_url: str) -> None:
    reset_hooks()
    cfg = settings(database_url, interval="1s")
    failing = cfg.sources[0].model_copy(update={"name": "flaky", "projects": ["FLAKY"]})
    cfg.sources.append(failing)
    MemoryConnector.before_batch = fail_at(0, scope="FLAKY")  # this source always fails
    engine = SyncEngine(cfg, db, connectors=CONNECTORS, stop=threading.Event())
    real_sync = engine.sync
    ticks: list[str] = []

    def sync_that_crashes_once(source: str | None = None, *, full: bool = False):  # type: ignore[no-untyped-def]
        ticks.append(source or "")
        if source == "mem" and ticks.count("mem") == 1:
            raise RuntimeError("database went away")  # not a SyncdError: a crash
        return real_sync(source, full=full)

    engine.sync = sync_that_crashes_once  # type: ignore[method-assign]
    stop = engine.stop
    reports: list[str] = []
    daemon = Daemon(cfg, engine, stop, on_report=lambda name, report: reports.append(name))
    thread = threading.Thread(target=daemon.run)
    thread.start()
    deadline = time.monotonic() + 30
    while daemon.runs.get("mem", 0) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)
    reset_hooks()

    assert not thread.is_alive()
    assert daemon.crashes == {"mem": 1}  # the crash did not end the source's loop
    assert daemon.runs["mem"] >= 3
    assert daemon.runs["flaky"] >= 2  # a failing source is retried on its next tick
    with db.connect() as conn:
        runs = dict(
            conn.execute(
                select(m.SyncRun.scope_key, func.count()).group_by(m.SyncRun.scope_key)
            ).all()
        )
        assert conn.execute(select(func.count()).select_from(m.Issue)).scalar_one() == 10
    assert runs["MEM"] >= 2 and runs["FLAKY"] >= 2  # one "mem" tick crashed before its run
