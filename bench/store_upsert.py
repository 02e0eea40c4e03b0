"""Benchmark: batched upserts of normalized issues (with their history) into SQLite and
PostgreSQL, then the same records again unchanged.

Prints issue rows/s, records/s (issues + changes + accounts), and how many rows the
unchanged pass actually rewrote (target: 0). Not a test: it only prints figures.

    .venv/bin/python bench/store_upsert.py [--issues 100000] [--batch 1000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, func, select, text

from syncd import records as r
from syncd.store import models as m
from syncd.store.db import open_database, upgrade
from syncd.store.writer import BatchWriter

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def make_batch(start: int, size: int, changes_per_issue: int) -> list[r.Record]:
    out: list[r.Record] = [
        r.Account(external_id=f"acc-{n}", display_name=f"User {n}") for n in range(50)
    ]
    for n in range(start, start + size):
        updated = T0 + timedelta(minutes=n)
        out.append(
            r.Issue(
                external_id=str(10_000 + n),
                scope_key="PROJ",
                key=f"PROJ-{n}",
                url=f"https://jira.example/browse/PROJ-{n}",
                title=f"Issue number {n} 🚀",
                type="story",
                original_type="Story",
                status="in_progress",
                original_status="In Progress",
                priority="Medium",
                assignee_id=f"acc-{n % 50}",
                reporter_id=f"acc-{(n + 7) % 50}",
                created_at=T0,
                updated_at=updated,
                due_date=date(2025, 6, 1),
                story_points=float(n % 8),
                labels=("backend", "q3"),
                epic_key=f"PROJ-{n % 100}",
                original_estimate_s=3600,
                time_spent_s=1800,
            )
        )
        for c in range(changes_per_issue):
            out.append(
                r.IssueChange(
                    external_id=f"{n}:{c}",
                    issue_external_id=str(10_000 + n),
                    field="status",
                    changed_at=updated - timedelta(minutes=c),
                    from_string="To Do",
                    to_string="In Progress",
                    author_id=f"acc-{c}",
                )
            )
    return out


def run(url: str, issues: int, batch: int, changes_per_issue: int) -> None:
    db = open_database(url)
    upgrade(db)
    with db.begin() as conn:
        source_id = conn.execute(
            m.table(m.Source)
            .insert()
            .values(name="bench", kind="jira", base_url="https://x", created_at=T0)
            .returning(m.Source.id)
        ).scalar_one()
        conn.execute(
            m.table(m.Scope)
            .insert()
            .values(source_id=source_id, kind="jira_project", key="PROJ", name="PROJ", stored_at=T0)
        )
    writer = BatchWriter(db, source_id)
    batches = [
        make_batch(start, min(batch, issues - start), changes_per_issue)
        for start in range(0, issues, batch)
    ]
    records = sum(len(b) for b in batches)
    for label in ("first pass (insert)", "second pass (unchanged)"):
        pass_started = datetime.now(UTC)
        t0 = time.perf_counter()
        for b in batches:
            writer.write("PROJ", "issues", r.Batch(records=b, cursor={"n": len(b)}))
        seconds = time.perf_counter() - t0
        with db.connect() as conn:
            rewritten = sum(
                conn.execute(
                    select(func.count()).select_from(model).where(model.stored_at >= pass_started)
                ).scalar_one()
                for model in (m.Issue, m.IssueChange, m.Account)
            )
        print(
            f"  {label:<24} {issues / seconds:>9,.0f} issue rows/s  {records / seconds:>9,.0f} records/s"
            f"  {seconds:6.1f}s  rows written: {rewritten:,}"
        )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--changes-per-issue", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{args.issues:,} issues x (1 issue + {args.changes_per_issue} changes) + accounts, "
        f"batches of {args.batch} issues"
    )
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                print(f"SQLite file ({tmp}/bench.db)")
                run(f"sqlite:///{tmp}/bench.db", args.issues, args.batch, args.changes_per_issue)
        elif backend == "postgresql":
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            try:
                print(f"PostgreSQL ({POSTGRES_URL}, schema {schema})")
                run(
                    f"{POSTGRES_URL}?options=-csearch_path%3D{schema}",
                    args.issues,
                    args.batch,
                    args.changes_per_issue,
                )
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
