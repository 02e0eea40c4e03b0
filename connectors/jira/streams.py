"""The streams of one Jira project. Each turns a stored cursor into batches; none keeps state
between runs (within a run, ``RunShared`` lets them reuse what another already read).

Order matters and is the order ``JiraConnector.streams`` returns: the project with its
versions, then sprints (so issues find them stored), then issues, then the deletion
reconciliation.

Cursors (JSON, one per project and stream):
- ``project`` (with its versions) / ``sprints``: ``{"refreshed_at": iso}``; re-read every
  ``refresh_every`` and on ``--full``. Between refreshes, sprints stay fresh through the
  Sprint field of changed issues, and a fix version an issue names that this project has not
  listed yet makes the issues stream read the versions at once.
- ``issues``: ``watermark`` (UTC; max ``updated`` stored, never past the run's start),
  ``seen`` (issue id -> ``updated`` for the issues at the window's boundary, to drop them
  when the overlap returns them unchanged), ``versions`` (version ids listed so far),
  ``retry`` (issue id -> key of issues that failed to map, read again next run), ``owed``
  (issue id -> key of issues whose complete history, longer than search embeds, is still
  to be stored: read first if a run was interrupted), ``env`` (deployment and custom field
  ids, saving their requests on the next run).
- ``reconcile``: ``{"reconciled_at": iso}``; runs every ``reconcile_every`` and on ``--full``;
  when the issues stream read every issue in the same run, that read is the listing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from connectors.base import Runtime, Stream, StreamContext
from connectors.jira import jql
from connectors.jira.client import BULK_CHANGELOG_ISSUES, JiraClient, SearchPage
from connectors.jira.config import JiraSourceConfig
from connectors.jira.mapping import (
    FieldIds,
    MappingError,
    embedded_changelog,
    issue_fields,
    issue_updated,
    map_changes,
    map_issue,
    map_project,
    map_release,
    map_sprint,
    merge_histories,
    parse_datetime,
)
from connectors.jira.readahead import read_ahead
from syncd.errors import FatalError
from syncd.records import Batch, IssueDeletions, ItemError, Record

log = logging.getLogger("syncd.connectors.jira")

MAX_RETRY = 50  # issues kept for a second reading; more than this is a systemic problem


@dataclass
class RunShared:
    """What the streams of one connector instance (one sync run) learn for each other:
    version ids listed per project, and complete issue id listings (from a full read)
    with the time they were taken. Not stored: the next run starts empty."""

    versions: dict[str, set[str]] = field(default_factory=dict)
    listings: dict[str, tuple[datetime, frozenset[str]]] = field(default_factory=dict)


def _iso(value: datetime) -> str:
    return value.isoformat()


def _parse_cursor_time(cursor: dict[str, Any] | None, key: str) -> datetime | None:
    value = (cursor or {}).get(key)
    if not value:
        return None
    try:
        return parse_datetime(value, key)
    except MappingError:
        log.warning("ignoring unreadable cursor value %s=%r", key, value)
        return None


def _unique(records: Iterable[Record]) -> list[Record]:
    """One record per (type, identity), the last one winning: one upsert statement must
    not touch a row twice (PostgreSQL refuses ``ON CONFLICT DO UPDATE`` on a repeat)."""
    out: dict[tuple[Any, ...], Record] = {}
    for record in records:
        identity = getattr(record, "external_id", None) or getattr(record, "key", None)
        out[(type(record), identity)] = record
    return list(out.values())


class JiraStream(Stream):
    """Shared wiring: the client, the config, the project key."""

    name: ClassVar[str]

    def __init__(
        self,
        client: JiraClient,
        config: JiraSourceConfig,
        runtime: Runtime,
        scope_key: str,
        shared: RunShared | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.runtime = runtime
        self.scope_key = scope_key
        self.shared = shared if shared is not None else RunShared()


class PeriodicStream(JiraStream):
    """A small listing re-read every ``refresh_every`` (and on a full sync)."""

    every_setting: ClassVar[str] = "refresh_every"
    stamp: ClassVar[str] = "refreshed_at"

    def due(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> bool:
        last = _parse_cursor_time(cursor, self.stamp)
        every: timedelta = getattr(self.config, self.every_setting)
        return ctx.full or last is None or ctx.run_started_at - last >= every

    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[Batch]:
        if not self.due(cursor, ctx):
            return
        records, errors = self.fetch(ctx)
        yield Batch(
            records=_unique(records),
            errors=errors,
            cursor={self.stamp: _iso(ctx.run_started_at)},
        )

    def fetch(self, ctx: StreamContext) -> tuple[list[Record], list[ItemError]]:
        raise NotImplementedError


class ProjectStream(PeriodicStream):
    """The project and its versions: Jira's project resource lists both, one request."""

    name = "project"

    def fetch(self, ctx: StreamContext) -> tuple[list[Record], list[ItemError]]:
        project = self.client.project(self.scope_key)
        scope = map_project(project, base_url=self.client.base_url)
        found, errors = releases(self.client, self.scope_key, self.shared, project)
        return [scope, *found], errors


def releases(
    client: JiraClient,
    scope_key: str,
    shared: RunShared,
    project: dict[str, Any] | None = None,
) -> tuple[list[Record], list[ItemError]]:
    """Release records for the versions of a project (read now unless ``project`` is the
    project resource, which embeds them)."""
    records: list[Record] = []
    errors: list[ItemError] = []
    embedded = project.get("versions") if project is not None else None
    versions = embedded if isinstance(embedded, list) else client.versions(scope_key)
    shared.versions.setdefault(scope_key, set()).update(
        str(v.get("id")) for v in versions if isinstance(v, dict)
    )
    for version in versions:
        try:
            records.append(map_release(version, scope_key=scope_key, base_url=client.base_url))
        except MappingError as exc:
            name = version.get("name") if isinstance(version, dict) else None
            errors.append(ItemError(item=f"{scope_key} version {name or '?'}", reason=str(exc)))
    return records, errors


class SprintsStream(PeriodicStream):
    """Sprints of the project's boards (agile API). Kanban boards have none."""

    name = "sprints"

    def fetch(self, ctx: StreamContext) -> tuple[list[Record], list[ItemError]]:
        records: list[Record] = []
        errors: list[ItemError] = []
        for board in self.client.boards(self.scope_key):
            self.runtime.check_stop()
            board_type = str(board.get("type") or "scrum").lower()
            if board_type == "kanban" or board.get("id") is None:
                continue
            try:
                sprints = list(self.client.sprints(str(board["id"])))
            except FatalError as exc:
                # A team-managed ("simple") board without the sprints feature answers 400.
                if board_type == "scrum":
                    raise
                log.info("%s: board %s has no sprints: %s", self.scope_key, board["id"], exc)
                continue
            for sprint in sprints:
                try:
                    records.append(map_sprint(sprint, f"sprint {sprint.get('id')}"))
                except MappingError as exc:
                    errors.append(ItemError(item=f"sprint {sprint.get('name')}", reason=str(exc)))
        return records, errors


class ReconcileStream(PeriodicStream):
    """Lists every issue id of the project (ids only, large pages) so the store can mark the
    issues Jira no longer has as deleted: deletions leave no trace in search results."""

    name = "reconcile"
    every_setting = "reconcile_every"
    stamp = "reconciled_at"

    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[Batch]:
        if not self.due(cursor, ctx):
            return
        if self.scope_key in self.shared.listings:
            # The issues stream read every issue in this run: that is the listing.
            observed_at, ids = self.shared.listings[self.scope_key]
            yield Batch(
                records=[IssueDeletions(self.scope_key, ids, observed_at)],
                cursor={self.stamp: _iso(ctx.run_started_at)},
                progress=(len(ids), len(ids)),
            )
            return
        present, pages = self._list_ids()
        if pages > 1 and self.client.deployment() == "cloud":
            # search/jql page tokens are offsets: an issue deleted while we page moves the
            # rest one place forward, and the one at a page boundary goes unlisted, which
            # would mark it deleted here. A second listing is cheap (5,000 ids a page) and
            # an issue missing from both is gone. Data Center paging checks this itself.
            again, _ = self._list_ids()
            present |= again
        deletions = IssueDeletions(
            scope_key=self.scope_key,
            present_external_ids=frozenset(present),
            # Issues changed after the run began are not judged gone (the store compares
            # their updated_at with this).
            observed_at=ctx.run_started_at,
        )
        yield Batch(
            records=[deletions],
            cursor={self.stamp: _iso(ctx.run_started_at)},
            progress=(len(present), len(present)),
        )

    def _list_ids(self) -> tuple[set[str], int]:
        present: set[str] = set()
        pages = 0
        for page in self.client.search(
            jql.ids_query(self.scope_key),
            fields=["id"],
            changelog=False,
            page_size=self.config.id_page_size,
        ):
            self.runtime.check_stop()
            pages += 1
            present.update(str(i["id"]) for i in page.issues if isinstance(i, dict) and i.get("id"))
        return present, pages


class IssuesStream(JiraStream):
    """Issues with their history, links, sprints and fix versions, incrementally."""

    name = "issues"

    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[Batch]:
        self._offset_paged = False
        state = _IssueCursor.load(None if ctx.full else cursor, ctx, self.config)
        if cursor and ctx.full:
            # A full read starts over but keeps what it knows about the site, and what it
            # still owes (histories and failed issues of an interrupted run).
            previous = _IssueCursor.load(cursor, ctx, self.config)
            state.env, state.owed, state.retry = previous.env, previous.owed, previous.retry
        field_ids = self._field_ids(state, ctx)
        fields = issue_fields(field_ids)

        if state.owed:
            yield self._complete_histories(state)
        if state.retry:
            yield from self._retry(state, field_ids, fields)

        lower = None
        if state.watermark is not None:
            lower = jql.window_start(state.watermark, self.config.overlap, self.client.time_zone())
        everything = lower is None
        listed: set[str] = set()
        done = 0
        emitted = False
        for page in read_ahead(self._pages(lower, fields)):
            self.runtime.check_stop()
            listed.update(str(i.get("id")) for i in page.issues if isinstance(i, dict))
            records, errors, page_max = self._map_page(page.issues, state, field_ids)
            if page_max is not None:
                state.advance(page_max)
            done += len(page.issues)
            yield Batch(records=records, errors=errors, cursor=state.dump(), progress=(done, None))
            emitted = True
            if len(state.owed) >= BULK_CHANGELOG_ISSUES:
                yield self._complete_histories(state)
        if state.owed:
            yield self._complete_histories(state)
        elif not emitted:
            yield Batch(cursor=state.dump())
        if everything and not self._offset_paged:
            # A read of every issue is also a complete id listing: reconciliation this run
            # need not list them again. (Not if a Cloud page token was followed and the
            # minutes it stepped through were not listed again: see _pages.)
            self.shared.listings[self.scope_key] = (ctx.run_started_at, frozenset(listed))

    # -- paging --------------------------------------------------------------------------

    def _pages(self, lower: str | None, fields: list[str]) -> Iterator[SearchPage]:
        """Search pages, oldest first, from ``lower`` (a JQL minute) on.

        Page tokens are offsets in disguise: an issue deleted, moved away or updated while
        we page moves the rest one place forward, and the one at the page boundary would
        never be read. So after a page the next one is normally a fresh query from the
        minute of the newest issue read (keyset paging); the issues of that minute are read
        twice and dropped as duplicates. When that minute holds many of the page's issues
        (a bulk edit, a sprint start), or the start cannot move (the page is all one
        minute), the query's own next page follows instead — and on Cloud, where nothing
        checks such a step, the minutes around it are listed again (ids only) afterwards,
        and any issue the pages stepped over is read on its own. (Data Center's offset
        paging checks each step itself.)
        """
        cloud = self.client.deployment() == "cloud"
        read: set[str] = set()
        stepped: list[tuple[datetime, datetime]] = []  # updated ranges of token steps
        while True:
            query = jql.issues_query(self.scope_key, lower)
            moved_on = False
            after: datetime | None = None  # newest of the page a token step left
            for page in self.client.search(
                query, fields=fields, changelog=True, page_size=self.client.page_size()
            ):
                if after is not None:
                    oldest = _oldest(page.issues)
                    stepped.append((after, oldest if oldest is not None else after))
                    after = None
                read.update(_id(i) for i in page.issues)
                yield page
                if page.last:
                    break
                newest, tail = _newest(page.issues)
                if newest is not None and tail <= max(2, len(page.issues) // 10):
                    start = jql.window_start(newest, timedelta(0), self.client.time_zone())
                    if lower is None or start > lower:
                        lower, moved_on = start, True
                        break
                if cloud and newest is not None:
                    self._offset_paged = True
                    after = newest
            if not moved_on:
                break
        if stepped:
            # One listing from the first step to the last: ids only, 5,000 a page, cheaper
            # than a listing per step.
            first = min(min(a, b) for a, b in stepped)
            last = max(max(a, b) for a, b in stepped)
            yield from self._stepped_over(first, last, read, fields)
            self._offset_paged = False  # every step checked: the read is complete

    def _stepped_over(
        self, first: datetime, last: datetime, read: set[str], fields: list[str]
    ) -> Iterator[SearchPage]:
        """Issues updated between ``first`` and ``last`` that the pages did not hold."""
        zone = self.client.time_zone()
        query = jql.range_query(
            self.scope_key,
            jql.window_start(first, timedelta(0), zone),
            jql.window_start(last + timedelta(minutes=2), timedelta(0), zone),
        )
        missing: list[str] = []
        for page in self.client.search(
            query, fields=["id"], changelog=False, page_size=self.config.id_page_size
        ):
            missing.extend(i for i in map(_id, page.issues) if i and i not in read)
        found = []
        for issue_id in dict.fromkeys(missing):
            log.info(
                "%s: issue id %s was stepped over while paging; reading it",
                self.scope_key,
                issue_id,
            )
            raw = self.client.issue(issue_id, fields=fields)
            if raw is not None:
                found.append(raw)
        if found:
            yield SearchPage(found, True)

    # -- steps ---------------------------------------------------------------------------

    def _field_ids(self, state: _IssueCursor, ctx: StreamContext) -> FieldIds:
        env = state.env
        self.client.hint_deployment(env.get("deployment"))
        read_at = _parse_cursor_time(env, "read_at")
        hinted = env.get("fields")
        if read_at is not None and isinstance(hinted, dict) and not ctx.full:
            try:
                self.client.hint_field_ids(FieldIds(**hinted), read_at)
            except TypeError:
                log.warning("ignoring unreadable field ids in the cursor: %r", hinted)
        # A full sync reads them afresh (once per source); otherwise every refresh_every.
        ids, read_at = self.client.field_ids(
            read_since=None if ctx.full else ctx.run_started_at - self.config.refresh_every,
            fetched=ctx.full,
        )
        state.env = {
            "deployment": self.client.deployment(),
            "fields": {
                "story_points": ids.story_points,
                "sprint": ids.sprint,
                "epic_link": ids.epic_link,
            },
            "read_at": _iso(read_at),
        }
        return ids

    def _retry(
        self, state: _IssueCursor, field_ids: FieldIds, fields: list[str]
    ) -> Iterator[Batch]:
        """Issues that failed to map last time are read again, one by one."""
        page = []
        for issue_id, key in list(state.retry.items()):
            self.runtime.check_stop()
            raw = self.client.issue(issue_id, fields=fields)
            state.retry.pop(issue_id, None)
            if raw is None:
                log.info("%s: %s is gone; no longer retried", self.scope_key, key)
                continue
            state.seen.pop(issue_id, None)  # read it whatever the boundary says
            page.append(raw)
        records, errors, _ = self._map_page(page, state, field_ids)
        yield Batch(records=records, errors=errors, cursor=state.dump())
        if state.owed:
            yield self._complete_histories(state)

    def _complete_histories(self, state: _IssueCursor) -> Batch:
        """The histories search did not embed in full, for every issue owed one.

        Read in bulk (up to 1000 issues a request on Cloud) rather than page by page; until
        the batch holding them is stored, the cursor lists the issues still owed, so an
        interrupted run reads them first next time.
        """
        owed = dict(state.owed)
        histories = self.client.changelogs(list(owed))
        records: list[Record] = []
        errors: list[ItemError] = []
        for issue_id, key in owed.items():
            try:
                changes, accounts = map_changes(
                    issue_id,
                    merge_histories(histories.get(issue_id, ())),
                    trust_emails=self.config.trust_emails,
                )
            except MappingError as exc:
                errors.append(ItemError(item=key, reason=f"history: {exc}"))
                continue
            records.extend(accounts)
            records.extend(changes)
        state.owed.clear()
        return Batch(records=_unique(records), errors=errors, cursor=state.dump())

    def _map_page(
        self,
        page: list[dict[str, Any]],
        state: _IssueCursor,
        field_ids: FieldIds,
    ) -> tuple[list[Record], list[ItemError], datetime | None]:
        errors: list[ItemError] = []
        records: list[Record] = []
        version_ids: set[str] = set()
        page_max: datetime | None = None
        for raw in page:
            if not isinstance(raw, dict):
                errors.append(
                    ItemError(
                        item=f"{self.scope_key} search page",
                        reason="an issue that is not an object",
                    )
                )
                continue
            issue_id = str(raw.get("id") or "")
            key = str(raw.get("key") or f"{self.scope_key} issue id {issue_id or '?'}")
            try:
                updated = issue_updated(raw)
                if page_max is None or updated > page_max:
                    page_max = updated
                if state.seen_unchanged(issue_id, updated):
                    continue  # on the boundary and unchanged: stored already
                if _project_of(raw) not in (None, self.scope_key):
                    # Read by id (a retry, a stepped-over issue) after it moved: its new
                    # project's stream reads it, under the right scope (moving bumps
                    # ``updated``).
                    continue
                mapped = map_issue(
                    raw,
                    scope_key=self.scope_key,
                    base_url=self.client.base_url,
                    field_ids=field_ids,
                    trust_emails=self.config.trust_emails,
                )
            except MappingError as exc:
                errors.append(ItemError(item=key, reason=str(exc)))
                if issue_id:
                    state.fail(issue_id, key)
                continue
            records.extend(mapped.accounts)
            records.extend(mapped.sprints)
            records.append(mapped.issue)
            records.extend(mapped.changes)
            version_ids.update(mapped.issue.release_ids)
            state.stored(issue_id, updated)
            if not embedded_changelog(raw)[1]:
                state.owed[issue_id] = key

        unknown = version_ids - state.versions - self.shared.versions.get(self.scope_key, set())
        if unknown:
            # A fix version this project has not listed yet: list the versions now, so the
            # release is stored with its dates instead of as a bare id.
            found, version_errors = releases(self.client, self.scope_key, self.shared)
            records[:0] = found
            errors.extend(version_errors)
            state.versions |= unknown  # listed or not, do not ask again for these
        return _unique(records), errors, page_max


def _id(issue: Any) -> str:
    return str(issue.get("id") or "") if isinstance(issue, dict) else ""


def _project_of(raw: dict[str, Any]) -> str | None:
    fields = raw.get("fields")
    project = fields.get("project") if isinstance(fields, dict) else None
    key = project.get("key") if isinstance(project, dict) else None
    return key if isinstance(key, str) else None


def _oldest(issues: list[Any]) -> datetime | None:
    times = []
    for raw in issues:
        try:
            times.append(issue_updated(raw))
        except MappingError:
            continue
    return min(times) if times else None


def _newest(issues: list[Any]) -> tuple[datetime | None, int]:
    """The newest ``updated`` on a page, and how many of its issues share that minute."""
    times = []
    for raw in issues:
        try:
            times.append(issue_updated(raw))
        except MappingError:
            continue
    if not times:
        return None, 0
    newest = max(times)
    minute = newest.replace(second=0, microsecond=0)
    return newest, sum(1 for t in times if t >= minute)


class _IssueCursor:
    """The issues stream's cursor as a value object (see the module docstring)."""

    def __init__(self, ctx: StreamContext, overlap: timedelta) -> None:
        self.ctx = ctx
        self.overlap = overlap
        self.watermark: datetime | None = None
        self.seen: dict[str, datetime] = {}
        self.versions: set[str] = set()
        self.retry: dict[str, str] = {}
        self.owed: dict[str, str] = {}  # issue id -> key: complete history still to read
        self.env: dict[str, Any] = {}

    @classmethod
    def load(
        cls, cursor: dict[str, Any] | None, ctx: StreamContext, config: JiraSourceConfig
    ) -> _IssueCursor:
        state = cls(ctx, config.overlap)
        if not cursor:
            return state
        state.watermark = _parse_cursor_time(cursor, "watermark")
        for issue_id, value in (cursor.get("seen") or {}).items():
            try:
                state.seen[str(issue_id)] = parse_datetime(value, "seen")
            except MappingError:
                continue
        state.versions = {str(v) for v in cursor.get("versions") or []}
        state.retry = {str(k): str(v) for k, v in (cursor.get("retry") or {}).items()}
        state.owed = {str(k): str(v) for k, v in (cursor.get("owed") or {}).items()}
        state.env = dict(cursor.get("env") or {})
        return state

    def seen_unchanged(self, issue_id: str, updated: datetime) -> bool:
        return self.seen.get(issue_id) == updated

    def stored(self, issue_id: str, updated: datetime) -> None:
        self.seen[issue_id] = updated
        self.retry.pop(issue_id, None)

    def fail(self, issue_id: str, key: str) -> None:
        if len(self.retry) < MAX_RETRY or issue_id in self.retry:
            self.retry[issue_id] = key
        self.seen.pop(issue_id, None)

    def advance(self, page_max: datetime) -> None:
        """Everything up to ``page_max`` is stored (results come oldest first); the
        watermark never passes the run's start, so changes made during the run are read
        again next time."""
        candidate = min(page_max, self.ctx.run_started_at)
        if self.watermark is None or candidate > self.watermark:
            self.watermark = candidate
        # Keep only what the next window (watermark - overlap, floored to the minute)
        # can return again.
        horizon = self.watermark - self.overlap - timedelta(minutes=2)
        self.seen = {k: v for k, v in self.seen.items() if v >= horizon}

    def dump(self) -> dict[str, Any]:
        return {
            "watermark": _iso(self.watermark) if self.watermark else None,
            "seen": {k: _iso(v) for k, v in sorted(self.seen.items())},
            "versions": sorted(self.versions),
            "retry": dict(sorted(self.retry.items())),
            "owed": dict(sorted(self.owed.items())),
            "env": self.env,
        }
