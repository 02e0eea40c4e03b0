"""Stores one batch of normalized records and its cursor in ONE transaction.

Records refer to each other by the source's ids; here they are resolved to row ids, in
dependency order (scopes, accounts, sprints, releases, issues, pull requests, then what
hangs off them). A reference to something not stored yet (an assignee seen only by id, a
sprint listed on an issue) gets a minimal stub row that its own record fills in later.
Aggregates replace their child sets (an issue's links, sprints, fix versions), so a link
removed in the source disappears here too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, tuple_, update
from sqlalchemy.exc import DBAPIError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random

from syncd import records as r
from syncd.store import models as m
from syncd.store.upsert import id_map, insert_for, insert_missing, one_of, upsert

SCOPES, ACCOUNTS, ISSUES = m.table(m.Scope), m.table(m.Account), m.table(m.Issue)
CHANGES, LINKS, SPRINTS = m.table(m.IssueChange), m.table(m.IssueLink), m.table(m.Sprint)
SPRINT_ISSUES, RELEASES = m.table(m.SprintIssue), m.table(m.Release)
RELEASE_ITEMS, PULLS = m.table(m.ReleaseItem), m.table(m.PullRequest)
REVIEWS, COMMITS = m.table(m.Review), m.table(m.Commit)
CURSORS, ITEM_ERRORS = m.table(m.SyncCursor), m.table(m.SyncItemError)

_STUB_RELEASE_KIND = {"jira_project": "jira_version", "github_repo": "github_milestone"}


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for one batch.

    On SQLite the batch is written without per-row foreign-key checks: they halved the
    upsert rate (bench/store_upsert.py), and every reference in a batch is resolved to a
    stored row (or a stub inserted in the same transaction) before it is written.
    PostgreSQL keeps enforcing them. The pragma only takes effect outside a transaction,
    hence the commits around it.
    """
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            with conn.begin():
                yield conn
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


def _is_lock_conflict(exc: BaseException) -> bool:
    """PostgreSQL's deadlock_detected (40P01) and serialization_failure (40001)."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in (
        "40P01",
        "40001",
    )


class BatchWriter:
    """Writes batches for one source. Cheap to create; holds only small id caches."""

    def __init__(self, engine: Engine, source_id: int) -> None:
        self.engine = engine
        self.source_id = source_id

    def write(
        self,
        scope_key: str,
        stream: str,
        batch: r.Batch,
        *,
        run_id: int | None = None,
    ) -> None:
        """Store the batch and, if it carries one, its cursor; all or nothing.

        Two transactions that lock the same rows in opposite orders (PostgreSQL reports a
        deadlock or a serialization failure and rolls one back) are retried a few times:
        the rolled-back one wrote nothing, so trying again is safe.
        """
        for attempt in Retrying(
            retry=retry_if_exception(_is_lock_conflict),
            stop=stop_after_attempt(5),
            wait=wait_random(0.05, 0.5),
            reraise=True,
        ):
            with attempt, _write_transaction(self.engine) as conn:
                _BatchWrite(conn, self.source_id, scope_key, stream, run_id).run(batch)


class _BatchWrite:
    def __init__(
        self, conn: Connection, source_id: int, scope_key: str, stream: str, run_id: int | None
    ) -> None:
        self.conn = conn
        self.source_id = source_id
        self.scope_key = scope_key
        self.stream = stream
        self.run_id = run_id
        self.now = _now()
        self.scope_ids: dict[str, int] = {}

    def run(self, batch: r.Batch) -> None:
        by_type: dict[type, list[Any]] = defaultdict(list)
        for record in batch.records:
            by_type[type(record)].append(record)
        errors = list(batch.errors)
        self.scopes(by_type[r.Scope])
        self.accounts(by_type[r.Account])
        self.sprints(by_type[r.Sprint])
        self.releases(by_type[r.Release])
        written_items = self.issues(by_type[r.Issue])
        written_items += self.pull_requests(by_type[r.PullRequest])
        errors += self.reviews(by_type[r.Review])
        errors += self.issue_changes(by_type[r.IssueChange])
        self.commits(by_type[r.Commit])
        for deletions in by_type[r.IssueDeletions]:
            self.issue_deletions(deletions)
        self.clear_item_errors(written_items)
        self.item_errors(errors)
        if batch.cursor is not None:
            self.cursor(batch.cursor)

    # -- lookups -------------------------------------------------------------------------

    def _one_of(self, column: Any, values: Sequence[Any]) -> Any:
        return one_of(column, values, self.conn.dialect.name)

    def scope_id(self, key: str) -> int:
        if key not in self.scope_ids:
            self.scope_ids.update(id_map(self.conn, SCOPES, "key", [key], source_id=self.source_id))
        if key not in self.scope_ids:
            raise LookupError(f"scope {key!r} is not registered for source {self.source_id}")
        return self.scope_ids[key]

    def account_ids(self, external_ids: Iterable[str | None]) -> dict[str, int]:
        wanted = {e for e in external_ids if e}
        found = id_map(self.conn, ACCOUNTS, "external_id", wanted, source_id=self.source_id)
        missing = wanted - found.keys()
        if missing:
            insert_missing(
                self.conn,
                ACCOUNTS,
                [self._account_row(r.Account(external_id=e)) for e in sorted(missing)],
                ("source_id", "external_id"),
            )
            found.update(
                id_map(self.conn, ACCOUNTS, "external_id", missing, source_id=self.source_id)
            )
        return found

    def sprint_ids(self, external_ids: Iterable[str]) -> dict[str, int]:
        wanted = set(external_ids)
        found = id_map(self.conn, SPRINTS, "external_id", wanted, source_id=self.source_id)
        missing = wanted - found.keys()
        if missing:
            stubs = [
                {**self._sprint_row(r.Sprint(external_id=e, name=f"Sprint {e}", state="unknown"))}
                for e in sorted(missing)
            ]
            insert_missing(self.conn, SPRINTS, stubs, ("source_id", "external_id"))
            found.update(
                id_map(self.conn, SPRINTS, "external_id", missing, source_id=self.source_id)
            )
        return found

    def release_ids(self, external_ids: Iterable[str], scope_key: str) -> dict[str, int]:
        wanted = set(external_ids)
        found = id_map(self.conn, RELEASES, "external_id", wanted, source_id=self.source_id)
        missing = wanted - found.keys()
        if missing:
            scope_kind = self.conn.execute(
                select(SCOPES.c.kind).where(SCOPES.c.id == self.scope_id(scope_key))
            ).scalar_one()
            kind = _STUB_RELEASE_KIND.get(scope_kind, "release")
            stubs = [
                self._release_row(r.Release(external_id=e, scope_key=scope_key, kind=kind, name=e))  # type: ignore[arg-type]
                for e in sorted(missing)
            ]
            insert_missing(self.conn, RELEASES, stubs, ("source_id", "kind", "external_id"))
            found.update(
                id_map(self.conn, RELEASES, "external_id", missing, source_id=self.source_id)
            )
        return found

    # -- records -------------------------------------------------------------------------

    def scopes(self, scopes: Sequence[r.Scope]) -> None:
        rows = [
            {
                "source_id": self.source_id,
                "kind": s.kind,
                "key": s.key,
                "external_id": s.external_id,
                "name": s.name,
                "url": s.url,
                "stored_at": self.now,
            }
            for s in scopes
        ]
        upsert(self.conn, SCOPES, rows, ("source_id", "key"))

    def _account_row(self, a: r.Account) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "external_id": a.external_id,
            "display_name": a.display_name,
            "email": a.email.lower() if a.email else None,
            "login": a.login,
            "active": a.active,
            "email_verified": a.email_verified,
            "stored_at": self.now,
        }

    def accounts(self, accounts: Sequence[r.Account]) -> None:
        # A partial view (a user embedded in an issue or a PR) keeps what it does not show;
        # a complete profile is the truth, blanks included.
        partial = [self._account_row(a) for a in accounts if not a.complete]
        complete = [self._account_row(a) for a in accounts if a.complete]
        upsert(
            self.conn,
            ACCOUNTS,
            partial,
            ("source_id", "external_id"),
            keep_known=("display_name", "email", "login"),
            follows={"email_verified": "email"},
        )
        upsert(self.conn, ACCOUNTS, complete, ("source_id", "external_id"))

    def _sprint_row(self, s: r.Sprint) -> dict[str, Any]:
        return {"source_id": self.source_id, **asdict(s), "stored_at": self.now}

    def sprints(self, sprints: Sequence[r.Sprint]) -> None:
        upsert(
            self.conn, SPRINTS, [self._sprint_row(s) for s in sprints], ("source_id", "external_id")
        )

    def _release_row(self, rel: r.Release) -> dict[str, Any]:
        row = asdict(rel)
        row["scope_id"] = self.scope_id(row.pop("scope_key"))
        return {"source_id": self.source_id, **row, "stored_at": self.now}

    def releases(self, releases: Sequence[r.Release]) -> None:
        upsert(
            self.conn,
            RELEASES,
            [self._release_row(rel) for rel in releases],
            ("source_id", "kind", "external_id"),
        )

    def issues(self, issues: Sequence[r.Issue]) -> list[str]:
        if not issues:
            return []
        accounts = self.account_ids(
            [i.assignee_id for i in issues] + [i.reporter_id for i in issues]
        )
        rows = []
        for i in issues:
            rows.append(
                {
                    "source_id": self.source_id,
                    "scope_id": self.scope_id(i.scope_key),
                    "external_id": i.external_id,
                    "key": i.key,
                    "url": i.url,
                    "title": i.title,
                    "type": i.type,
                    "original_type": i.original_type,
                    "status": i.status,
                    "original_status": i.original_status,
                    "priority": i.priority,
                    "assignee_id": accounts.get(i.assignee_id) if i.assignee_id else None,
                    "reporter_id": accounts.get(i.reporter_id) if i.reporter_id else None,
                    "created_at": i.created_at,
                    "updated_at": i.updated_at,
                    "resolved_at": i.resolved_at,
                    "due_date": i.due_date,
                    "story_points": i.story_points,
                    "original_estimate_s": i.original_estimate_s,
                    "remaining_estimate_s": i.remaining_estimate_s,
                    "time_spent_s": i.time_spent_s,
                    "parent_key": i.parent_key,
                    "epic_key": i.epic_key,
                    "resolution": i.resolution,
                    "labels": list(i.labels),
                    "components": list(i.components),
                    "deleted_at": None,  # seen in the source again: not deleted
                    "stored_at": self.now,
                }
            )
        renamed = self._key_changes(issues)
        # An older read (a page of the old project, fetched just before a move) never
        # overwrites a newer one.
        upsert(self.conn, ISSUES, rows, ("source_id", "external_id"), newer="updated_at")
        self._follow_renames(renamed)
        ids = id_map(
            self.conn,
            ISSUES,
            "external_id",
            [i.external_id for i in issues],
            source_id=self.source_id,
        )
        self._issue_links(issues, ids)
        self._issue_sprints(issues, ids)
        self._release_items(
            "issue_id", [(ids[i.external_id], i.scope_key, i.release_ids) for i in issues]
        )
        self._resolve_link_targets(ids)
        return [i.key for i in issues]

    def _key_changes(self, issues: Sequence[r.Issue]) -> dict[str, str]:
        """{old key: new key} for stored issues that arrive under another key (moved)."""
        incoming = {i.external_id: i.key for i in issues}
        stored = self.conn.execute(
            select(ISSUES.c.external_id, ISSUES.c.key, ISSUES.c.updated_at).where(
                ISSUES.c.source_id == self.source_id,
                self._one_of(ISSUES.c.external_id, list(incoming)),
            )
        )
        newest = {i.external_id: i.updated_at for i in issues}
        return {
            key: incoming[external_id]
            for external_id, key, updated_at in stored
            if key != incoming[external_id] and newest[external_id] >= updated_at
        }

    def _follow_renames(self, renamed: dict[str, str]) -> None:
        """Keys written elsewhere follow a moved issue: links pointing at it, and the parent
        and epic keys of its children (Jira does not touch those issues, so they are not
        read again)."""
        for old, new in renamed.items():
            for column in (ISSUES.c.parent_key, ISSUES.c.epic_key):
                self.conn.execute(
                    update(ISSUES)
                    .where(ISSUES.c.source_id == self.source_id, column == old)
                    .values({column.name: new, "stored_at": self.now})
                )
            self.conn.execute(
                update(LINKS)
                .where(LINKS.c.source_id == self.source_id, LINKS.c.to_issue_key == old)
                .values(to_issue_key=new, stored_at=self.now)
            )

    def _issue_links(self, issues: Sequence[r.Issue], ids: dict[str, int]) -> None:
        targets = id_map(
            self.conn,
            ISSUES,
            "external_id",
            [link.to_issue_external_id for i in issues for link in i.links],
            source_id=self.source_id,
        )
        rows = [
            {
                "source_id": self.source_id,
                "external_id": link.external_id,
                "from_issue_id": ids[i.external_id],
                "to_issue_id": targets.get(link.to_issue_external_id or ""),
                "to_issue_key": link.to_issue_key,
                "to_issue_external_id": link.to_issue_external_id,
                "type": link.type,
                "original_type": link.original_type,
                "stored_at": self.now,
            }
            for i in issues
            for link in i.links
        ]
        self._delete_stale(
            LINKS,
            "from_issue_id",
            {ids[i.external_id] for i in issues},
            "external_id",
            {(row["from_issue_id"], row["external_id"]) for row in rows},
        )
        upsert(self.conn, LINKS, rows, ("from_issue_id", "external_id"))

    def _resolve_link_targets(self, ids: dict[str, int]) -> None:
        """Links written before their target issue was stored point at it now."""
        target = (
            select(ISSUES.c.id)
            .where(
                ISSUES.c.source_id == LINKS.c.source_id,
                ISSUES.c.external_id == LINKS.c.to_issue_external_id,
            )
            .scalar_subquery()
        )
        self.conn.execute(
            update(LINKS)
            .where(
                LINKS.c.source_id == self.source_id,
                LINKS.c.to_issue_id.is_(None),
                self._one_of(LINKS.c.to_issue_external_id, sorted(ids)),
            )
            .values(to_issue_id=target)
        )

    def _issue_sprints(self, issues: Sequence[r.Issue], ids: dict[str, int]) -> None:
        sprint_ids = self.sprint_ids({s for i in issues for s in i.sprint_ids})
        desired = {(sprint_ids[s], ids[i.external_id]) for i in issues for s in i.sprint_ids}
        self._delete_stale(
            SPRINT_ISSUES,
            "issue_id",
            {ids[i.external_id] for i in issues},
            "sprint_id",
            {(issue, sprint) for sprint, issue in desired},
        )
        insert_missing(
            self.conn,
            SPRINT_ISSUES,
            [{"sprint_id": s, "issue_id": i, "source_id": self.source_id} for s, i in desired],
            ("sprint_id", "issue_id"),
        )

    def _release_items(
        self, subject_col: str, subjects: Sequence[tuple[int, str, Sequence[str]]]
    ) -> None:
        """Replace the release memberships of issues or pull requests."""
        desired: set[tuple[int, int]] = set()  # (subject id, release id)
        for subject_id, scope_key, release_external_ids in subjects:
            if release_external_ids:
                releases = self.release_ids(release_external_ids, scope_key)
                desired |= {(subject_id, releases[e]) for e in release_external_ids}
        self._delete_stale(
            RELEASE_ITEMS, subject_col, {s for s, _, _ in subjects}, "release_id", desired
        )
        where = RELEASE_ITEMS.c[subject_col].is_not(None)
        insert_missing(
            self.conn,
            RELEASE_ITEMS,
            [
                {"source_id": self.source_id, "release_id": rel, subject_col: sub}
                for sub, rel in desired
            ],
            ("release_id", subject_col),
            index_where=where,
        )

    def _delete_stale(
        self,
        table: Any,
        parent_col: str,
        parent_ids: set[int],
        child_col: str,
        keep: set[tuple[Any, Any]],
    ) -> None:
        """Delete children of ``parent_ids`` whose (parent, child) pair is not in ``keep``."""
        if not parent_ids:
            return
        existing = self.conn.execute(
            select(table.c[parent_col], table.c[child_col]).where(
                self._one_of(table.c[parent_col], sorted(parent_ids))
            )
        ).all()
        stale = [(parent, child) for parent, child in existing if (parent, child) not in keep]
        for start in range(0, len(stale), 500):
            self.conn.execute(
                delete(table).where(
                    tuple_(table.c[parent_col], table.c[child_col]).in_(stale[start : start + 500])
                )
            )

    def issue_changes(self, changes: Sequence[r.IssueChange]) -> list[r.ItemError]:
        if not changes:
            return []
        issues = id_map(
            self.conn,
            ISSUES,
            "external_id",
            [c.issue_external_id for c in changes],
            source_id=self.source_id,
        )
        authors = self.account_ids(c.author_id for c in changes)
        errors: list[r.ItemError] = []
        rows = []
        for c in changes:
            issue_id = issues.get(c.issue_external_id)
            if issue_id is None:
                errors.append(
                    r.ItemError(
                        item=f"issue id {c.issue_external_id}",
                        reason=f"history entry {c.external_id} refers to an issue not stored",
                    )
                )
                continue
            rows.append(
                {
                    "source_id": self.source_id,
                    "issue_id": issue_id,
                    "external_id": c.external_id,
                    "field": c.field,
                    "field_id": c.field_id,
                    "from_value": c.from_value,
                    "from_string": c.from_string,
                    "to_value": c.to_value,
                    "to_string": c.to_string,
                    "changed_at": c.changed_at,
                    "author_id": authors.get(c.author_id) if c.author_id else None,
                    "stored_at": self.now,
                }
            )
        upsert(self.conn, CHANGES, rows, ("source_id", "external_id"))
        return errors

    def issue_deletions(self, d: r.IssueDeletions) -> None:
        scope_id = self.scope_id(d.scope_key)
        stored = self.conn.execute(
            select(
                ISSUES.c.id, ISSUES.c.external_id, ISSUES.c.deleted_at, ISSUES.c.updated_at
            ).where(ISSUES.c.source_id == self.source_id, ISSUES.c.scope_id == scope_id)
        ).all()
        gone = [
            row.id
            for row in stored
            if row.deleted_at is None
            and row.external_id not in d.present_external_ids
            and row.updated_at <= d.observed_at  # changed after the id listing: not gone
        ]
        back = [
            row.id
            for row in stored
            if row.deleted_at is not None and row.external_id in d.present_external_ids
        ]
        # The conditions are repeated in the UPDATEs: another scope's thread may have
        # moved an issue here or away, or stored a newer version, since the select.
        if gone:
            self.conn.execute(
                update(ISSUES)
                .where(
                    self._one_of(ISSUES.c.id, gone),
                    ISSUES.c.scope_id == scope_id,
                    ISSUES.c.deleted_at.is_(None),
                    ISSUES.c.updated_at <= d.observed_at,
                )
                .values(deleted_at=d.observed_at, stored_at=self.now)
            )
        if back:
            self.conn.execute(
                update(ISSUES)
                .where(self._one_of(ISSUES.c.id, back), ISSUES.c.scope_id == scope_id)
                .values(deleted_at=None, stored_at=self.now)
            )

    def pull_requests(self, pulls: Sequence[r.PullRequest]) -> list[str]:
        if not pulls:
            return []
        authors = self.account_ids(p.author_id for p in pulls)
        rows = []
        for p in pulls:
            row = asdict(p)
            row.pop("release_ids")
            row["scope_id"] = self.scope_id(row.pop("scope_key"))
            row["author_id"] = authors.get(p.author_id) if p.author_id else None
            rows.append({"source_id": self.source_id, **row, "stored_at": self.now})
        # Sizes cost a request per pull request, so a connector may leave them out of
        # records of old pull requests: what was read once stays.
        upsert(
            self.conn,
            PULLS,
            rows,
            ("source_id", "external_id"),
            keep_known=("additions", "deletions", "changed_files"),
        )
        ids = id_map(
            self.conn,
            PULLS,
            "external_id",
            [p.external_id for p in pulls],
            source_id=self.source_id,
        )
        self._release_items(
            "pull_request_id", [(ids[p.external_id], p.scope_key, p.release_ids) for p in pulls]
        )
        return [f"{p.scope_key}#{p.number}" for p in pulls]

    def reviews(self, reviews: Sequence[r.Review]) -> list[r.ItemError]:
        if not reviews:
            return []
        pulls = id_map(
            self.conn,
            PULLS,
            "external_id",
            [v.pull_request_external_id for v in reviews],
            source_id=self.source_id,
        )
        authors = self.account_ids(v.author_id for v in reviews)
        rows, errors = [], []
        for v in reviews:
            if v.pull_request_external_id not in pulls:
                errors.append(
                    r.ItemError(
                        item=f"review {v.external_id}",
                        reason=f"pull request id {v.pull_request_external_id} is not stored",
                    )
                )
                continue
            rows.append(
                {
                    "source_id": self.source_id,
                    "pull_request_id": pulls[v.pull_request_external_id],
                    "external_id": v.external_id,
                    "author_id": authors.get(v.author_id) if v.author_id else None,
                    "state": v.state,
                    "submitted_at": v.submitted_at,
                    "stored_at": self.now,
                }
            )
        upsert(self.conn, REVIEWS, rows, ("source_id", "external_id"))
        return errors

    def commits(self, commits: Sequence[r.Commit]) -> None:
        if not commits:
            return
        authors = self.account_ids(c.author_id for c in commits)
        known = self._commit_branches(commits)
        rows = []
        for c in commits:
            row = asdict(c)
            row["scope_id"] = self.scope_id(row.pop("scope_key"))
            row["author_id"] = authors.get(c.author_id) if c.author_id else None
            # A commit reached from several tracked branches keeps all of them.
            row["branches"] = sorted(set(c.branches) | known.get((row["scope_id"], c.sha), set()))
            rows.append({"source_id": self.source_id, **row, "stored_at": self.now})
        upsert(self.conn, COMMITS, rows, ("scope_id", "sha"))

    def _commit_branches(self, commits: Sequence[r.Commit]) -> dict[tuple[int, str], set[str]]:
        by_scope: dict[int, list[str]] = defaultdict(list)
        for c in commits:
            by_scope[self.scope_id(c.scope_key)].append(c.sha)
        known: dict[tuple[int, str], set[str]] = {}
        for scope_id, shas in by_scope.items():
            stored = self.conn.execute(
                select(COMMITS.c.sha, COMMITS.c.branches).where(
                    COMMITS.c.scope_id == scope_id, self._one_of(COMMITS.c.sha, shas)
                )
            )
            known.update({(scope_id, sha): set(branches or ()) for sha, branches in stored})
        return known

    # -- bookkeeping ---------------------------------------------------------------------

    def clear_item_errors(self, items: list[str]) -> None:
        """An item that was stored now is no longer in error."""
        if items:
            self.conn.execute(
                delete(ITEM_ERRORS).where(
                    ITEM_ERRORS.c.source_id == self.source_id,
                    self._one_of(ITEM_ERRORS.c.item, items),
                )
            )

    def item_errors(self, errors: Sequence[r.ItemError]) -> None:
        if not errors:
            return
        rows = [
            {
                "source_id": self.source_id,
                "scope_key": self.scope_key,
                "stream": self.stream,
                "item": e.item[:500],
                "reason": e.reason,
                "first_seen_at": self.now,
                "last_seen_at": self.now,
                "occurrences": 1,
                "run_id": self.run_id,
            }
            for e in errors
        ]
        for row in rows:  # few by nature; each may conflict with an earlier run's
            stmt = insert_for(self.conn.dialect.name, ITEM_ERRORS).values(row)
            stmt = stmt.on_conflict_do_update(
                index_elements=["source_id", "scope_key", "stream", "item"],
                set_={
                    "reason": stmt.excluded.reason,
                    "last_seen_at": stmt.excluded.last_seen_at,
                    "occurrences": ITEM_ERRORS.c.occurrences + 1,
                    "run_id": stmt.excluded.run_id,
                },
            )
            self.conn.execute(stmt)

    def cursor(self, cursor: dict[str, Any]) -> None:
        upsert(
            self.conn,
            CURSORS,
            [
                {
                    "source_id": self.source_id,
                    "scope_key": self.scope_key,
                    "stream": self.stream,
                    "cursor": cursor,
                    "updated_at": self.now,
                }
            ],
            ("source_id", "scope_key", "stream"),
            ignore_in_compare=("updated_at",),
        )
