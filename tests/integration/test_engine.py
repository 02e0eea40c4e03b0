"""The sync engine's promises, on SQLite and on PostgreSQL, with an in-memory connector:
every record exactly once across failures and reruns, a cursor never ahead of its data,
a stop loses nothing, unchanged records are not rewritten, bad items are recorded."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from syncd.cli.signals import handle_stop_signals
from syncd.config import settings_from_dict
from syncd.records import ItemError
from syncd.store import models as m
from syncd.sync.engine import SyncEngine
from tests.support.memory_connector import MemoryConnector, fail_at, reset_hooks

CONNECTORS = {"memory": MemoryConnector}


@pytest.fixture(autouse=True)
def _clean_hooks() -> Iterator[None]:
    reset_hooks()
    yield
    reset_hooks()


def settings(database_url: str, **source: object):
    base = {
        "name": "mem",
        "kind": "memory",
        "url": "https://memory.example",
        "token": "s3cret-token",
        "projects": ["MEM"],
        "issues_per_scope": 10,
        "page_size": 3,
    }
    return settings_from_dict(
        {"database": {"url": database_url}, "sources": [{**base, **source}]},
        env={},
        connectors=CONNECTORS,
    )


def engine_for(db: Engine, database_url: str, stop: threading.Event | None = None, **source):
    return SyncEngine(settings(database_url, **source), db, connectors=CONNECTORS, stop=stop)


def stored_keys(db: Engine) -> list[str]:
    with db.connect() as conn:
        return sorted(conn.execute(select(m.Issue.key)).scalars())


def stored_offset(db: Engine, scope: str = "MEM") -> int | None:
    with db.connect() as conn:
        cursor = conn.execute(
            select(m.SyncCursor.cursor).where(m.SyncCursor.scope_key == scope)
        ).scalar_one_or_none()
    return cursor["offset"] if cursor else None


def test_full_run_stores_every_record_and_the_run(db: Engine, database_url: str) -> None:
    report = engine_for(db, database_url).sync()

    assert report.ok
    assert stored_keys(db) == sorted(f"MEM-{n}" for n in range(1, 11))
    assert stored_offset(db) == 10
    with db.connect() as conn:
        run = conn.execute(select(m.SyncRun)).one()
        assert (run.status, run.records, run.batches) == ("success", 10 + 10, 4)
        assert run.finished_at is not None
        issue = conn.execute(select(m.Issue).where(m.Issue.key == "MEM-4")).one()
        assert issue.created_at.tzinfo is not None
        assert issue.labels == ["a", "b"]
        assignee = conn.execute(select(m.Account).where(m.Account.id == issue.assignee_id)).one()
        assert assignee.external_id == "user-1"


def test_failure_after_batches_then_rerun_gives_every_record_exactly_once(
    db: Engine, database_url: str
) -> None:
    MemoryConnector.before_batch = fail_at(2)
    report = engine_for(db, database_url).sync()

    assert not report.ok and report.failed_sources() == ["mem"]
    assert "simulated outage" in (report.results[0].error or "")
    # The two batches before the failure are stored, and the cursor says exactly that.
    assert stored_keys(db) == sorted(f"MEM-{n}" for n in range(1, 7))
    assert stored_offset(db) == 6
    with db.connect() as conn:
        cursor_row = conn.execute(select(m.SyncCursor)).one()
        assert "simulated outage" in cursor_row.last_error
        assert cursor_row.last_success_at is None

    MemoryConnector.before_batch = None
    report = engine_for(db, database_url).sync()

    assert report.ok
    assert MemoryConnector.reads[-1] == ("MEM", 6)  # resumed where the cursor said
    assert stored_keys(db) == sorted(f"MEM-{n}" for n in range(1, 11))
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Issue)).scalar_one() == 10
        cursor_row = conn.execute(select(m.SyncCursor)).one()
        assert cursor_row.last_error is None and cursor_row.last_success_at is not None


def test_a_batch_that_cannot_be_stored_leaves_the_cursor_behind_its_data(
    db: Engine, database_url: str
) -> None:
    # Batch 2 names a scope the engine never registered: its write fails as a whole.
    MemoryConnector.unregistered_scope_at_batch = 2
    report = engine_for(db, database_url).sync()

    assert not report.ok
    assert "not registered" in (report.results[0].error or "")
    assert stored_keys(db) == sorted(f"MEM-{n}" for n in range(1, 7))
    assert stored_offset(db) == 6  # never ahead of the stored data


def test_stop_signal_mid_run_loses_nothing(db: Engine, database_url: str) -> None:
    stop = threading.Event()

    def sigterm_at_batch_2(scope: str, batch: int) -> None:
        if batch == 2:
            os.kill(os.getpid(), signal.SIGTERM)
            # The handler runs in the main thread; this batch is produced in a worker.
            assert stop.wait(5), "the SIGTERM handler did not run"

    MemoryConnector.before_batch = sigterm_at_batch_2
    with handle_stop_signals(stop):
        report = engine_for(db, database_url, stop=stop).sync()

    assert report.stopped and stop.is_set()
    # The batch being produced when the signal came is finished and stored, nothing after.
    assert stored_offset(db) == 9
    assert stored_keys(db) == sorted(f"MEM-{n}" for n in range(1, 10))
    with db.connect() as conn:
        assert conn.execute(select(m.SyncRun.status)).scalar_one() == "stopped"

    MemoryConnector.before_batch = None
    report = engine_for(db, database_url).sync()
    assert report.ok
    assert stored_keys(db) == sorted(f"MEM-{n}" for n in range(1, 11))


def test_unchanged_records_are_not_rewritten_and_changed_ones_are(
    db: Engine, database_url: str
) -> None:
    engine_for(db, database_url).sync()
    with db.connect() as conn:
        before = dict(conn.execute(select(m.Issue.key, m.Issue.stored_at)).all())
        accounts_before = dict(
            conn.execute(select(m.Account.external_id, m.Account.stored_at)).all()
        )

    engine_for(db, database_url).sync(full=True)
    with db.connect() as conn:
        assert dict(conn.execute(select(m.Issue.key, m.Issue.stored_at)).all()) == before
        assert (
            dict(conn.execute(select(m.Account.external_id, m.Account.stored_at)).all())
            == accounts_before
        )

    MemoryConnector.title_suffix = " (renamed)"
    engine_for(db, database_url).sync(full=True)
    with db.connect() as conn:
        after = dict(conn.execute(select(m.Issue.key, m.Issue.stored_at)).all())
        titles = set(conn.execute(select(m.Issue.title)).scalars())
    assert all(after[k] > before[k] for k in before)
    assert all(t.endswith("(renamed)") for t in titles)


def test_malformed_items_are_recorded_and_the_sync_goes_on(db: Engine, database_url: str) -> None:
    MemoryConnector.errors_in_batch = {1: [ItemError("MEM-99", "fields.status is missing")]}
    report = engine_for(db, database_url).sync()

    assert report.ok  # a skipped item does not fail the run...
    assert report.results[0].item_errors == 1
    assert len(stored_keys(db)) == 10  # ...and everything else is stored
    with db.connect() as conn:
        error = conn.execute(select(m.SyncItemError)).one()
        assert (error.item, error.reason, error.stream) == (
            "MEM-99",
            "fields.status is missing",
            "issues",
        )
        assert conn.execute(select(m.SyncRun.item_errors)).scalar_one() == 1

    engine_for(db, database_url).sync(full=True)
    with db.connect() as conn:
        assert conn.execute(select(m.SyncItemError.occurrences)).scalar_one() == 2


def test_refused_credentials_fail_the_source_by_name_and_spare_the_others(
    db: Engine, database_url: str
) -> None:
    cfg = settings(database_url)
    other = cfg.sources[0].model_copy(update={"name": "mem2", "projects": ["OTHER"]})
    cfg.sources.append(other)
    MemoryConnector.refuse_credentials = True
    report = SyncEngine(cfg, db, connectors=CONNECTORS).sync(source="mem")
    assert report.failed_sources() == ["mem"]
    assert "credentials were refused" in report.source_errors["mem"]
    assert "s3cret-token" not in report.source_errors["mem"]

    MemoryConnector.refuse_credentials = False
    assert SyncEngine(cfg, db, connectors=CONNECTORS).sync(source="mem2").ok
    assert stored_keys(db) == sorted(f"OTHER-{n}" for n in range(1, 11))


def test_scopes_of_a_source_sync_in_parallel_into_their_own_cursors(
    db: Engine, database_url: str
) -> None:
    report = engine_for(db, database_url, projects=["A", "B", "C"], concurrency=3).sync()
    assert report.ok and len(report.results) == 3
    assert len(stored_keys(db)) == 30
    assert {stored_offset(db, s) for s in "ABC"} == {10}


def test_a_secret_echoed_in_an_error_is_masked_before_it_is_stored(
    db: Engine, database_url: str
) -> None:
    from syncd.errors import TransientError

    def leaky(scope: str, batch: int) -> None:
        raise TransientError("GET https://memory.example/?token=s3cret-token answered 502")

    MemoryConnector.before_batch = leaky
    report = engine_for(db, database_url).sync()
    assert report.results[0].error == "GET https://memory.example/?token=*** answered 502"
    with db.connect() as conn:
        stored = conn.execute(select(m.SyncRun.error)).scalar_one()
        cursor_error = conn.execute(select(m.SyncCursor.last_error)).scalar_one()
    assert "s3cret-token" not in stored and "s3cret-token" not in cursor_error


def test_run_history_older_than_keep_runs_is_pruned(db: Engine, database_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    engine = engine_for(db, database_url)
    engine.sync()
    old = datetime.now(UTC) - timedelta(days=30)
    with db.begin() as conn:
        conn.execute(m.table(m.SyncRun).update().values(started_at=old, finished_at=old))
    engine_for(db, database_url).sync()  # a new engine: the hourly pruning is due
    with db.connect() as conn:
        starts = conn.execute(select(m.SyncRun.started_at)).scalars().all()
    assert len(starts) == 1 and starts[0] > old + timedelta(days=29)
