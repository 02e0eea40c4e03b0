"""The sync engine: stored cursor in, batches out, each batch and its cursor in one commit.

Sources run in parallel (``sync.max_parallel_sources``); the scopes of one source run in
parallel too (``concurrency`` per source), sharing that source's request budget; the
streams of one scope run in order. A stream that fails is recorded (``sync_runs``,
``sync_cursors.last_error``) and the others go on, except when the credentials are refused:
then the whole source stops, since every further request would fail the same way.
A stop request (SIGTERM, Ctrl-C) ends each stream after the batch it is storing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from connectors.base import Connector, Runtime, SourceConfig, Stream, StreamContext, discover
from connectors.http import RequestBudget, RequestMeter
from syncd.config import Settings
from syncd.errors import AuthError, ConfigError, StopRequested, SyncdError
from syncd.secrets import Redactor, secret_values
from syncd.store import models as m
from syncd.store.db import describe_db_error
from syncd.store.upsert import insert_for, insert_missing
from syncd.store.writer import BatchWriter
from syncd.sync.progress import NullProgress, Progress

log = logging.getLogger("syncd.sync")

SOURCES, SCOPES = m.table(m.Source), m.table(m.Scope)
RUNS, CURSORS = m.table(m.SyncRun), m.table(m.SyncCursor)
ITEM_ERRORS = m.table(m.SyncItemError)
_LINK_LOCK = threading.Lock()
_LINK_LOCK_ID = 0x73796E636C  # advisory lock id for link / people derivation


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class StreamResult:
    source: str
    scope: str
    stream: str
    status: str  # success / failed / stopped
    records: int = 0
    batches: int = 0
    requests: int = 0
    item_errors: int = 0
    seconds: float = 0.0
    error: str | None = None


@dataclass
class SyncReport:
    results: list[StreamResult] = field(default_factory=list)
    source_errors: dict[str, str] = field(default_factory=dict)  # source -> why it stopped
    link_error: str | None = None  # deriving links / people failed (the synced data stays)

    @property
    def ok(self) -> bool:
        return (
            not self.source_errors
            and self.link_error is None
            and all(r.status == "success" for r in self.results)
        )

    @property
    def stopped(self) -> bool:
        return any(r.status == "stopped" for r in self.results)

    def failed_sources(self) -> list[str]:
        failed = set(self.source_errors)
        failed |= {r.source for r in self.results if r.status == "failed"}
        return sorted(failed)


class SyncEngine:
    def __init__(
        self,
        settings: Settings,
        db: Engine,
        *,
        connectors: Mapping[str, type[Connector]] | None = None,
        stop: threading.Event | None = None,
        progress: Progress | None = None,
        clock: Callable[[], datetime] = _now,
        derive_links: bool = True,
    ) -> None:
        self.settings = settings
        self.derive_links = derive_links
        self.db = db
        self.connectors = connectors if connectors is not None else discover()
        self.stop = stop or threading.Event()
        self.progress = progress or NullProgress()
        self.clock = clock
        self.redact = Redactor(secret_values(settings))
        self._budgets: dict[str, RequestBudget] = {}
        self._pruned_at = float("-inf")
        self._budgets_lock = threading.Lock()

    # -- public --------------------------------------------------------------------------

    def sync(self, source: str | None = None, *, full: bool = False) -> SyncReport:
        """Run every stream of every scope of ``source`` (or of all sources) once."""
        configs = [self.settings.source(source)] if source else list(self.settings.sources)
        report = SyncReport()
        workers = max(1, min(len(configs), self.settings.sync.max_parallel_sources))
        with ThreadPoolExecutor(workers, thread_name_prefix="source") as pool:
            futures = {pool.submit(self._sync_source, cfg, full): cfg for cfg in configs}
            for future, cfg in futures.items():
                results, error = future.result()
                report.results.extend(results)
                if error:
                    report.source_errors[cfg.name] = error
        self._prune_runs()
        if self.derive_links and not self.stop.is_set():
            # Incremental and cheap; run even when nothing was synced, so a changed
            # [people] mapping takes effect on the next tick.
            report.link_error = self._derive_links(full)
        return report

    @contextmanager
    def _cluster_lock(self, key: int) -> Iterator[None]:
        """A PostgreSQL advisory lock held for the block (nothing to do on SQLite, whose
        single writer already serialises processes)."""
        if self.db.dialect.name != "postgresql":
            yield
            return
        with self.db.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()

    def _prune_runs(self) -> None:
        """Keep ``sync.keep_runs`` of run history: at a 5-minute interval, 50 scopes and 6
        streams make ~86k rows a day."""
        now = time.monotonic()
        if now - self._pruned_at < 3600:  # hourly is plenty, and keeps ticks cheap
            return
        self._pruned_at = now
        cutoff = self.clock() - self.settings.sync.keep_runs
        try:
            with self.db.begin() as conn:
                conn.execute(delete(RUNS).where(RUNS.c.started_at < cutoff))
        except SQLAlchemyError as exc:  # housekeeping only: the next sync tries again
            log.warning("pruning sync_runs failed: %s", describe_db_error(exc))

    def _derive_links(self, full: bool) -> str | None:
        """Cross-tool links and people from what the sync stored (incremental)."""
        from syncd.link import refresh

        # One derivation at a time: in this process (the daemon syncs sources in parallel)
        # and, on PostgreSQL, across processes (a daemon and a manual `syncd sync`).
        with _LINK_LOCK, self._cluster_lock(_LINK_LOCK_ID):
            try:
                result = refresh(self.db, self.settings.people, full=full)
            except SyncdError as exc:
                log.error("deriving links and people failed: %s", exc)
                return str(exc)
            except Exception as exc:  # a bug must not hide the sync's own outcome
                log.exception("deriving links and people failed")
                return f"internal error: {type(exc).__name__}: {exc}"
        log.info("links and people: %s", result)
        return None

    def register_source(self, cfg: SourceConfig) -> int:
        """The ``sources`` row for ``cfg`` (created or updated), by name."""
        with self.db.begin() as conn:
            insert_missing(
                conn,
                SOURCES,
                [
                    {
                        "name": cfg.name,
                        "kind": cfg.kind,
                        "base_url": cfg.url,
                        "created_at": self.clock(),
                    }
                ],
                ("name",),
            )
            conn.execute(
                update(SOURCES)
                .where(SOURCES.c.name == cfg.name)
                .where((SOURCES.c.kind != cfg.kind) | (SOURCES.c.base_url != cfg.url))
                .values(kind=cfg.kind, base_url=cfg.url)
            )
            return conn.execute(select(SOURCES.c.id).where(SOURCES.c.name == cfg.name)).scalar_one()

    def make_connector(self, cfg: SourceConfig) -> Connector:
        if cfg.kind not in self.connectors:
            raise ConfigError(f"source {cfg.name!r}: no connector of kind {cfg.kind!r} installed")
        cls = self.connectors[cfg.kind]
        return cls(cfg, Runtime(source_name=cfg.name, budget=self.budget_for(cfg), stop=self.stop))

    def budget_for(self, cfg: SourceConfig) -> RequestBudget:
        """The source's request budget, kept across runs: a Retry-After window or a spent
        rate limit learned in one daemon tick still holds in the next."""
        with self._budgets_lock:
            budget = self._budgets.get(cfg.name)
            if budget is None:
                budget = RequestBudget(
                    cfg.name, max_per_second=cfg.max_requests_per_second, stop=self.stop
                )
                self._budgets[cfg.name] = budget
            return budget

    # -- one source ----------------------------------------------------------------------

    def _sync_source(self, cfg: SourceConfig, full: bool) -> tuple[list[StreamResult], str | None]:
        results: list[StreamResult] = []
        try:
            source_id = self.register_source(cfg)
            connector = self.make_connector(cfg)
        except SyncdError as exc:
            return results, self.redact(str(exc))
        except SQLAlchemyError as exc:
            return results, f"database: {describe_db_error(exc)}"
        abort = threading.Event()
        fatal: list[str] = []
        try:
            scopes = connector.scopes()
            self._register_scopes(source_id, connector, scopes)
            with ThreadPoolExecutor(
                max(1, min(cfg.concurrency, len(scopes))), thread_name_prefix=f"{cfg.name}"
            ) as pool:
                futures = [
                    pool.submit(
                        self._sync_scope, connector, cfg, source_id, scope, full, abort, fatal
                    )
                    for scope in scopes
                ]
                for future in futures:
                    results.extend(future.result())
        except SyncdError as exc:
            fatal.append(self.redact(str(exc)))
        except SQLAlchemyError as exc:
            fatal.append(f"database: {describe_db_error(exc)}")
        finally:
            connector.close()
        return results, (fatal[0] if fatal else None)

    def _register_scopes(self, source_id: int, connector: Connector, scopes: list[str]) -> None:
        with self.db.begin() as conn:
            insert_missing(
                conn,
                SCOPES,
                [
                    {
                        "source_id": source_id,
                        "kind": connector.scope_kind,
                        "key": key,
                        "external_id": None,
                        "name": key,
                        "url": None,
                        "stored_at": self.clock(),
                    }
                    for key in scopes
                ],
                ("source_id", "key"),
            )

    def _sync_scope(
        self,
        connector: Connector,
        cfg: SourceConfig,
        source_id: int,
        scope: str,
        full: bool,
        abort: threading.Event,
        fatal: list[str],
    ) -> list[StreamResult]:
        results = []
        for stream in connector.streams(scope):
            if abort.is_set() or self.stop.is_set():
                break
            try:
                result = self._run_stream(cfg, source_id, scope, stream, full)
            except SQLAlchemyError as exc:  # the bookkeeping itself could not be stored
                error = f"database: {describe_db_error(exc)}"
                log.error("sync %s %s %s: %s", cfg.name, scope, stream.name, error)
                result = StreamResult(cfg.name, scope, stream.name, "failed", error=error)
            results.append(result)
            if result.status == "auth_failed":
                result.status = "failed"
                abort.set()
                fatal.append(result.error or "credentials refused")
        return results

    # -- one stream ----------------------------------------------------------------------

    def _run_stream(
        self, cfg: SourceConfig, source_id: int, scope: str, stream: Stream, full: bool
    ) -> StreamResult:
        started = self.clock()
        t0 = time.monotonic()
        result = StreamResult(cfg.name, scope, stream.name, "success")
        run_id = self._start_run(source_id, scope, stream.name, started, full)
        cursor = self._load_cursor(source_id, scope, stream.name)
        writer = BatchWriter(self.db, source_id)
        ctx = StreamContext(scope_key=scope, run_started_at=started, full=full)
        task = self.progress.start(f"{cfg.name} {scope} {stream.name}")
        log.info(
            "sync %s %s %s: starting%s", cfg.name, scope, stream.name, " (full)" if full else ""
        )
        with RequestMeter() as meter:
            try:
                batches = stream.read(cursor, ctx)
                try:
                    for batch in batches:
                        writer.write(scope, stream.name, batch, run_id=run_id)
                        result.batches += 1
                        result.records += len(batch.records)
                        result.item_errors += len(batch.errors)
                        for error in batch.errors:
                            log.warning(
                                "sync %s %s %s: skipped %s: %s",
                                cfg.name,
                                scope,
                                stream.name,
                                error.item,
                                error.reason,
                            )
                        self.progress.advance(task, len(batch.records), batch.progress)
                        if self.stop.is_set():
                            raise StopRequested("stop requested")
                finally:
                    close = getattr(batches, "close", None)
                    if close is not None:
                        close()
            except StopRequested:
                result.status = "stopped"
            except AuthError as exc:
                result.status, result.error = "auth_failed", str(exc)
            except SyncdError as exc:
                result.status, result.error = "failed", str(exc)
            except SQLAlchemyError as exc:
                result.status, result.error = "failed", f"database: {describe_db_error(exc)}"
            except Exception as exc:  # a bug or an unexpected library error: record, go on
                log.exception("sync %s %s %s: unexpected error", cfg.name, scope, stream.name)
                result.status, result.error = (
                    "failed",
                    f"internal error: {type(exc).__name__}: {exc}",
                )
            result.requests = meter.requests
        if result.error:
            result.error = self.redact(result.error)
        result.seconds = time.monotonic() - t0
        self.progress.finish(task)
        self._finish_run(run_id, result)
        self._mark_cursor(source_id, scope, stream.name, result)
        if full and result.status == "success":
            self._forget_item_errors(source_id, scope, stream.name, run_id)
        level = logging.INFO if result.status in ("success", "stopped") else logging.ERROR
        log.log(
            level,
            "sync %s %s %s: %s, %d records, %d requests, %.1fs%s",
            cfg.name,
            scope,
            stream.name,
            result.status,
            result.records,
            result.requests,
            result.seconds,
            f": {result.error}" if result.error else "",
        )
        return result

    def _forget_item_errors(self, source_id: int, scope: str, stream: str, run_id: int) -> None:
        """After a complete read of a stream, item errors it did not meet again are stale
        (the item was fixed, or is gone)."""
        with self.db.begin() as conn:
            conn.execute(
                delete(ITEM_ERRORS).where(
                    ITEM_ERRORS.c.source_id == source_id,
                    ITEM_ERRORS.c.scope_key == scope,
                    ITEM_ERRORS.c.stream == stream,
                    ITEM_ERRORS.c.run_id.is_distinct_from(run_id),
                )
            )

    def _load_cursor(self, source_id: int, scope: str, stream: str) -> dict | None:
        with self.db.connect() as conn:
            return conn.execute(
                select(CURSORS.c.cursor).where(
                    CURSORS.c.source_id == source_id,
                    CURSORS.c.scope_key == scope,
                    CURSORS.c.stream == stream,
                )
            ).scalar_one_or_none()

    def _start_run(
        self, source_id: int, scope: str, stream: str, started: datetime, full: bool
    ) -> int:
        with self.db.begin() as conn:
            return conn.execute(
                RUNS.insert()
                .values(
                    source_id=source_id,
                    scope_key=scope,
                    stream=stream,
                    started_at=started,
                    status="running",
                    full=full,
                    batches=0,
                    records=0,
                    requests=0,
                    item_errors=0,
                )
                .returning(RUNS.c.id)
            ).scalar_one()

    def _finish_run(self, run_id: int, result: StreamResult) -> None:
        with self.db.begin() as conn:
            conn.execute(
                update(RUNS)
                .where(RUNS.c.id == run_id)
                .values(
                    finished_at=self.clock(),
                    status="failed" if result.status == "auth_failed" else result.status,
                    batches=result.batches,
                    records=result.records,
                    requests=result.requests,
                    item_errors=result.item_errors,
                    error=result.error,
                )
            )

    def _mark_cursor(self, source_id: int, scope: str, stream: str, result: StreamResult) -> None:
        """Record the outcome on the cursor row (created if the stream stored none yet)."""
        now = self.clock()
        values: dict = {"updated_at": now}
        if result.status == "success":
            values |= {"last_success_at": now, "last_error": None, "last_error_at": None}
        elif result.status != "stopped":
            values |= {"last_error": result.error, "last_error_at": now}
        with self.db.begin() as conn:
            stmt = insert_for(self.db.dialect.name, CURSORS).values(
                source_id=source_id, scope_key=scope, stream=stream, cursor=None, **values
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["source_id", "scope_key", "stream"], set_=values
                )
            )
