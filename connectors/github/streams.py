"""The streams of one GitHub repository: each a few lines of what to read and how to map it.

Order matters (``GitHubConnector.streams``): the repository first (its default branch is
what the commits stream follows), users last (they are the accounts the other streams saw).
A stream's state between runs is its cursor only; ``RepoContext`` carries facts from one
stream to the next within one run of one repository.

Cost of a run in which nothing changed: every list's first page is asked with the ETag of
the previous answer and comes back ``304 Not Modified``, which GitHub does not count against
the rate limit. Per repository that is 5 + (tracked branches) conditional requests, 0 points;
one fewer for a repository with Issues disabled (its issues are not asked for) and for an
empty one (its commits are not asked for while the repository payload is unchanged).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Generator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from connectors.base import Runtime, Stream, StreamContext
from connectors.github.client import GitHubClient, Page
from connectors.github.config import GitHubSourceConfig
from connectors.github.incremental import SETTLE, VERSION, Window, add_retry
from connectors.github.mapping import (
    MappingError,
    format_time,
    has_details,
    is_pull_request_item,
    item_label,
    map_commit,
    map_issue,
    map_milestone,
    map_pull_request,
    map_repository,
    map_review,
    map_user,
    parse_time,
    profile_account,
)
from syncd.errors import ConfigError, FatalError, NotFound
from syncd.records import Account, Batch, ItemError, Record


@dataclass
class RepoContext:
    """Facts one stream learns for the next ones, within one run of one repository."""

    repo: str
    default_branch: str | None = None
    # From the repository payload: False when Issues are disabled in the repository's
    # settings (its /issues answers 410 Gone); None when not known.
    has_issues: bool | None = None
    # The repository payload answered 304: nothing was pushed since it was last read (a
    # push moves ``pushed_at``), so an empty repository is still empty.
    repository_unchanged: bool = False
    users: dict[str, str] = field(default_factory=dict)  # account id -> login, seen this run
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, accounts: list[Account]) -> None:
        with self.lock:
            for account in accounts:
                if account.login:
                    self.users[account.external_id] = account.login


class GitHubStream(Stream):
    name: ClassVar[str]

    def __init__(
        self,
        client: GitHubClient,
        config: GitHubSourceConfig,
        runtime: Runtime,
        context: RepoContext,
    ) -> None:
        self.client = client
        self.config = config
        self.runtime = runtime
        self.context = context
        self.repo = context.repo
        self.path = f"/repos/{quote(self.repo, safe='/')}"

    def _mapped(
        self, records: list[Record], errors: list[ItemError], payload: Any, kind: str, fn: Any
    ) -> Any:
        """Run one mapper; a malformed item becomes an ItemError and the read goes on."""
        try:
            return fn()
        except MappingError as exc:
            errors.append(ItemError(item=item_label(payload, self.repo, kind), reason=str(exc)))
            return None
        except (KeyError, TypeError, AttributeError) as exc:  # a shape no mapper expected
            errors.append(
                ItemError(
                    item=item_label(payload, self.repo, kind),
                    reason=f"unexpected payload shape ({type(exc).__name__}: {exc})",
                )
            )
            return None

    def _batch(
        self,
        records: list[Record],
        errors: list[ItemError] | None = None,
        cursor: dict[str, Any] | None = None,
    ) -> Batch:
        """A batch with its accounts first, once each, in id order. Repositories synced in
        parallel write the same accounts; one lock order in every transaction is what keeps
        PostgreSQL from deadlocking two of them."""
        accounts = {r.external_id: r for r in records if isinstance(r, Account)}
        ordered: list[Record] = [accounts[k] for k in sorted(accounts)]
        ordered.extend(r for r in records if not isinstance(r, Account))
        return Batch(records=ordered, errors=errors or [], cursor=cursor)

    def _list(self, page: Page) -> list[Any]:
        if not isinstance(page.data, list):
            raise FatalError(f"source {self.config.name!r}: {page.url} did not answer a list")
        return page.data


# -- repository ---------------------------------------------------------------------------


class RepositoryStream(GitHubStream):
    """``GET /repos/{owner}/{repo}`` -> Scope (conditional: unchanged costs nothing)."""

    name = "repository"

    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[Batch]:
        state = cursor if cursor and cursor.get("v") == VERSION and not ctx.full else {}
        try:
            page = self.client.get(self.path, etag=state.get("etag"))
        except NotFound:
            raise ConfigError(
                f"source {self.config.name!r}: repository {self.repo} does not exist or is "
                "not visible with these credentials"
            ) from None
        if page.not_modified:
            self.context.default_branch = state.get("default_branch")
            self.context.has_issues = _flag(state.get("has_issues"))
            self.context.repository_unchanged = True
            return
        data = page.data if isinstance(page.data, Mapping) else {}
        records: list[Record] = []
        errors: list[ItemError] = []
        scope = self._mapped(
            records, errors, data, "repository", lambda: map_repository(data, key=self.repo)
        )
        if scope is not None:
            records.append(scope)
        owner = data.get("owner")
        if isinstance(owner, Mapping) and owner.get("id") is not None:
            account = map_user(owner)
            records.append(account)
            self.context.saw([account])
        branch = data.get("default_branch")
        self.context.default_branch = branch if isinstance(branch, str) else None
        has_issues = _flag(data.get("has_issues"))
        self.context.has_issues = has_issues
        yield self._batch(
            records=records,
            errors=errors,
            cursor={
                "v": VERSION,
                "etag": page.etag,
                "default_branch": branch,
                "has_issues": has_issues,
            },
        )


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# -- milestones ----------------------------------------------------------------------------


class MilestonesStream(GitHubStream):
    """All milestones (open and closed) -> Release. Few per repository, so each run re-reads
    them, conditionally page by page: an unchanged page is a free 304."""

    name = "milestones"

    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[Batch]:
        state = cursor if cursor and cursor.get("v") == VERSION and not ctx.full else {}
        old_etags: list[str] = list(state.get("etags") or [])
        etags: list[str | None] = []
        records: list[Record] = []
        errors: list[ItemError] = []
        number = 1
        while True:
            self.runtime.check_stop()
            params = {"state": "all", "per_page": self.config.per_page, "page": number}
            etag = old_etags[number - 1] if number <= len(old_etags) else None
            page = self.client.get(f"{self.path}/milestones", params, etag=etag)
            etags.append(page.etag)
            if page.not_modified:
                if number >= len(old_etags):
                    break
            else:
                for item in self._list(page):
                    release = self._mapped(
                        records,
                        errors,
                        item,
                        "milestone",
                        lambda i=item: map_milestone(i, self.repo),
                    )
                    if release is not None:
                        records.append(release)
                        creator = item.get("creator")
                        if isinstance(creator, Mapping) and creator.get("id") is not None:
                            records.append(map_user(creator))
                if not page.next_url:
                    break
            number += 1
        self.context.saw([r for r in records if isinstance(r, Account)])
        if records or errors or etags != old_etags:
            yield self._batch(records=records, errors=errors, cursor={"v": VERSION, "etags": etags})


# -- issues and pull requests: newest-updated first, stop at the watermark ------------------


class _UpdatedDescStream(GitHubStream):
    """A list read newest-updated first down to the stored watermark (see ``Window``).

    An item listed but not stored (its payload refused by the mapper; for a pull request,
    its details or reviews not readable) is owed a second reading: the watermark moves past
    it, so it is read on its own at the start of the next run (even if the list answers
    304) until it is stored. One that turns out deleted (404, or 410 for an issue) is
    reported as an item error and no longer owed.
    """

    list_path: ClassVar[str]
    uses_since: ClassVar[bool]
    # Statuses of the list that mean "no items" rather than an error.
    empty_on: ClassVar[tuple[int, ...]] = ()

    def params(self, since: datetime | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "state": "all",
            "sort": "updated",
            "direction": "desc",
            "per_page": self.config.per_page,
        }
        if since is not None:
            params["since"] = format_time(since)
        return params

    def key(self, item: Mapping[str, Any]) -> str:
        return str(item.get("number"))

    def skip(self, item: Mapping[str, Any]) -> bool:
        return False

    def map_page(
        self,
        items: list[Mapping[str, Any]],
        records: list[Record],
        errors: list[ItemError],
        failed: set[str],
    ) -> list[Mapping[str, Any]]:
        """Map ``items`` into ``records``; return the items that were mapped, and add the
        keys of those worth reading again (not stored, not gone) to ``failed``."""
        raise NotImplementedError

    def read_one_again(
        self, key: str, records: list[Record], errors: list[ItemError]
    ) -> tuple[bool, str | None]:
        """Read the item ``key`` again on its own and map it into ``records``: (still owed
        a reading, its ``updated_at`` when stored)."""
        raise NotImplementedError

    def _read_again(self, window: Window) -> Generator[Batch, None, Window]:
        """The items owed a second reading (``Window.retry``), one by one; one batch."""
        records: list[Record] = []
        errors: list[ItemError] = []
        owed: set[str] = set()
        stored: dict[str, str] = {}
        settled = self.ctx.run_started_at - SETTLE
        for key in sorted(window.retry, key=lambda k: (len(k), k)):
            self.runtime.check_stop()
            again, updated_at = self.read_one_again(key, records, errors)
            if again:
                owed.add(key)
            elif updated_at is not None and parse_time(updated_at, "updated_at") < settled:
                stored[key] = updated_at
        self.context.saw([r for r in records if isinstance(r, Account)])
        window = window.read_again(stored, owed)
        yield self._batch(records=records, errors=errors, cursor=window.dump())
        return window

    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[Batch]:
        self.ctx = ctx
        window = Window.load(cursor, full=ctx.full)
        if window.retry:
            window = yield from self._read_again(window)
        overlap = self.config.overlap
        floor = window.floor(overlap)
        path = f"{self.path}/{self.list_path}"
        since = window.since if self.uses_since else None
        pages = self.client.pages(
            path, self.params(since), etag=window.etag, empty_on=self.empty_on
        )
        first = next(pages)
        if first.not_modified:
            return  # nothing changed since the stored ETag: no rate limit spent
        if first.status in self.empty_on:
            return
        if self.uses_since and window.since_due(
            ctx.run_started_at, overlap, self.config.since_refresh
        ):
            # Move ``since`` up now, and read the list under its new URL, so that the ETag
            # stored at the end belongs to the URL the next run asks for.
            pages.close()
            since = floor
            pages = self.client.pages(path, self.params(since), empty_on=self.empty_on)
            first = next(pages)
            if first.status in self.empty_on:
                return
        etag = first.etag
        settled = ctx.run_started_at - SETTLE
        newest: datetime | None = None
        lowest: datetime | None = None  # of the items read so far: the last one
        final_floor: datetime | None = None
        stored: dict[str, str] = {}  # items stored by this read at or above final_floor
        retry: set[str] = set(window.retry)
        page: Page | None = first
        while page is not None:
            self.runtime.check_stop()
            fresh: list[Mapping[str, Any]] = []
            stop = False
            errors: list[ItemError] = []
            failed: set[str] = set()
            for item in self._list(page):
                if not isinstance(item, Mapping):
                    errors.append(
                        ItemError(item=f"{self.repo} {self.name}", reason="not an object")
                    )
                    continue
                try:
                    updated = parse_time(item.get("updated_at"), "updated_at")
                except MappingError as exc:
                    errors.append(ItemError(item=item_label(item, self.repo), reason=str(exc)))
                    if isinstance(item.get("number"), int) and not self.skip(item):
                        failed.add(self.key(item))
                    continue
                if floor is not None and updated < floor:
                    stop = True  # newest first: everything after this is older still
                    break
                if newest is None or updated > newest:
                    newest = updated
                    final_floor = window.final_floor(newest, ctx.run_started_at, overlap)
                lowest = updated
                if self.skip(item) or window.stored(self.key(item), item["updated_at"], updated):
                    continue
                fresh.append(item)
            records: list[Record] = []
            for item in self.map_page(fresh, records, errors, failed):
                key = self.key(item)
                retry.discard(key)
                # An item updated moments before the run could change again within the same
                # second (timestamps have one-second resolution): not "seen", read again.
                updated = parse_time(item["updated_at"], "updated_at")
                if updated < settled and (final_floor is None or updated >= final_floor):
                    stored[key] = item["updated_at"]
            for key in sorted(failed):
                add_retry(retry, key)
            self.context.saw([r for r in records if isinstance(r, Account)])
            following = None if stop else next(pages, None)
            if following is None:
                done = window.finished(
                    newest=newest,
                    run_started_at=ctx.run_started_at,
                    overlap=overlap,
                    since=since,
                    etag=etag,
                    stored=stored,
                    retry=retry,
                )
                yield self._batch(records=records, errors=errors, cursor=done.dump())
            else:
                now = window.progressed(
                    stored,
                    retry=retry,
                    floor=final_floor,
                    low=lowest,
                    high=min(newest, settled) if newest else None,
                )
                yield self._batch(records=records, errors=errors, cursor=now.dump())
            page = following
        pages.close()


_GONE = "listed earlier, but now answers 404/410 when read: deleted, or no longer visible"


class IssuesStream(_UpdatedDescStream):
    """``/issues?since=...`` -> Issue. That endpoint lists pull requests too; they are
    skipped here (but still move the watermark, since they share the ordering).

    A repository with Issues disabled (``"has_issues": false`` in its payload) is not asked
    at all; its ``/issues`` would answer ``410 Issues are disabled for this repo``, which is
    read as an empty list when the payload was not known (or changed in between)."""

    name = "issues"
    list_path = "issues"
    uses_since = True
    empty_on = (410,)

    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[Batch]:
        if self.context.has_issues is False:
            return iter(())
        return super().read(cursor, ctx)

    def skip(self, item: Mapping[str, Any]) -> bool:
        return is_pull_request_item(item)

    def map_page(
        self,
        items: list[Mapping[str, Any]],
        records: list[Record],
        errors: list[ItemError],
        failed: set[str],
    ) -> list[Mapping[str, Any]]:
        mapped_items = []
        for item in items:
            mapped = self._mapped(
                records, errors, item, "issue", lambda i=item: map_issue(i, self.repo)
            )
            if mapped is not None:
                issue, accounts, releases = mapped
                records.extend([*accounts, *releases, issue])
                mapped_items.append(item)
            elif isinstance(item.get("number"), int):
                failed.add(self.key(item))
        return mapped_items

    def read_one_again(
        self, key: str, records: list[Record], errors: list[ItemError]
    ) -> tuple[bool, str | None]:
        label = f"{self.repo}#{key}"
        try:
            # 410: deleted ("This issue was deleted"), or Issues disabled since.
            page = self.client.get(f"{self.path}/issues/{key}", empty_on=(410,))
        except NotFound:
            errors.append(ItemError(item=label, reason=_GONE))
            return False, None
        if page.status == 410:
            errors.append(ItemError(item=label, reason=_GONE))
            return False, None
        item = page.data
        if not isinstance(item, Mapping):
            errors.append(ItemError(item=label, reason="not an object"))
            return True, None
        if is_pull_request_item(item):
            return False, None  # the pull requests stream has it
        failed: set[str] = set()
        if self.map_page([item], records, errors, failed):
            return False, item.get("updated_at")
        return bool(failed), None


class PullRequestsStream(_UpdatedDescStream):
    """``/pulls`` (no ``since`` exists: newest-updated first, stop at the watermark) ->
    PullRequest and Review.

    Each changed pull request costs its review list. Its sizes (additions, deletions,
    changed files) are only in the single-PR payload, one more request each: they are read
    for open pull requests and for those updated within ``pull_request_sizes_for`` (every
    changed one, in incremental runs), so a first sync does not spend a request per pull
    request closed years ago. Unchanged pull requests (``seen``) cost nothing. The requests
    of one page run on ``pull_request_workers`` threads, inside the same request budget.
    """

    name = "pull_requests"
    list_path = "pulls"
    uses_since = False

    def _wants_sizes(self, item: Mapping[str, Any]) -> bool:
        if has_details(item):
            return False
        window = self.config.pull_request_sizes_for
        if window == "all" or item.get("state") == "open":
            return True
        updated = parse_time(item.get("updated_at"), "updated_at")
        return updated >= self.ctx.run_started_at - window

    def _fetch(self, item: Mapping[str, Any]) -> tuple[Mapping[str, Any] | None, list[Any]] | str:
        """(details or None, review payloads) of one pull request, or why it has none."""
        self.runtime.check_stop()
        number = item["number"]
        try:
            details = (
                self.client.get(f"{self.path}/pulls/{number}").data
                if self._wants_sizes(item)
                else None
            )
            reviews: list[Any] = []
            for page in self.client.pages(
                f"{self.path}/pulls/{number}/reviews", {"per_page": self.config.per_page}
            ):
                reviews.extend(self._list(page))
        except NotFound:
            return "gone"  # deleted between list and detail (spam removal)
        except FatalError as exc:  # one pull request's answer GitHub could not give
            return f"reviews or details: {exc}"
        return details, reviews

    def _fetch_all(
        self, items: list[Mapping[str, Any]]
    ) -> list[tuple[Mapping[str, Any] | None, list[Any]] | str]:
        workers = min(self.config.pull_request_workers, len(items))
        if workers <= 1:
            return [self._fetch(item) for item in items]
        pool = ThreadPoolExecutor(workers, thread_name_prefix=f"{self.repo}-pulls")
        try:
            # Each task in a copy of this context: requests count for this stream's run.
            futures = [pool.submit(contextvars.copy_context().run, self._fetch, i) for i in items]
            return [future.result() for future in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def map_page(
        self,
        items: list[Mapping[str, Any]],
        records: list[Record],
        errors: list[ItemError],
        failed: set[str],
    ) -> list[Mapping[str, Any]]:
        mapped_items: list[Mapping[str, Any]] = []
        valid: list[Mapping[str, Any]] = []
        for item in items:
            if not isinstance(item.get("number"), int) or item.get("id") is None:
                errors.append(
                    ItemError(item=item_label(item, self.repo), reason="number or id is missing")
                )
                if isinstance(item.get("number"), int):
                    failed.add(self.key(item))
                continue
            try:
                self._wants_sizes(item)
            except MappingError as exc:
                errors.append(ItemError(item=item_label(item, self.repo), reason=str(exc)))
                failed.add(self.key(item))
                continue
            valid.append(item)
        for item, fetched in zip(valid, self._fetch_all(valid), strict=True):
            if fetched == "gone":
                errors.append(ItemError(item=item_label(item, self.repo), reason=_GONE))
            elif isinstance(fetched, str):
                errors.append(ItemError(item=item_label(item, self.repo), reason=fetched))
                failed.add(self.key(item))
            elif self._map_pull(item, *fetched, records, errors):
                mapped_items.append(item)
            else:
                failed.add(self.key(item))
        return mapped_items

    def _map_pull(
        self,
        item: Mapping[str, Any],
        details: Mapping[str, Any] | None,
        reviews: list[Any],
        records: list[Record],
        errors: list[ItemError],
    ) -> bool:
        mapped = self._mapped(
            records,
            errors,
            item,
            "pull request",
            lambda: map_pull_request(item, self.repo, details),
        )
        if mapped is None:
            return False
        pull, accounts, releases = mapped
        records.extend([*accounts, *releases, pull])
        for review_payload in reviews:
            review = self._mapped(
                records,
                errors,
                review_payload,
                "review",
                lambda r=review_payload, p=pull.external_id: map_review(r, p),
            )
            if review is not None:
                records.extend([*review[1], review[0]])
        return True

    def read_one_again(
        self, key: str, records: list[Record], errors: list[ItemError]
    ) -> tuple[bool, str | None]:
        """The single-PR payload (a superset of the list item, sizes included) and the
        review list."""
        label = f"{self.repo}#{key}"
        try:
            details = self.client.get(f"{self.path}/pulls/{key}").data
            reviews: list[Any] = []
            for page in self.client.pages(
                f"{self.path}/pulls/{key}/reviews", {"per_page": self.config.per_page}
            ):
                reviews.extend(self._list(page))
        except NotFound:
            errors.append(ItemError(item=label, reason=_GONE))
            return False, None
        except FatalError as exc:
            errors.append(ItemError(item=label, reason=f"reviews or details: {exc}"))
            return True, None
        if not isinstance(details, Mapping):
            errors.append(ItemError(item=label, reason="not an object"))
            return True, None
        if self._map_pull(details, None, reviews, records, errors):
            updated = details.get("updated_at")
            return False, updated if isinstance(updated, str) else None
        return True, None


# -- commits ---------------------------------------------------------------------------------


class CommitsStream(GitHubStream):
    """Commits of the default branch and the configured branches -> Commit.

    GitHub lists a branch's commits newest committer date first. ``since`` filters on the
    committer date, so a merge that brings commits made days earlier (a "merge" pull
    request, a late push) would slip past a since-window. Instead each branch's cursor keeps
    the head it was read at, and a read walks the list from the new head until every commit
    the new head reaches is either read or known to be reachable from the old head (an
    ancestor comes after its descendants in that order). Unchanged head: the first page is
    a free 304. Fast-forward by a few commits: one page. An empty repository answers
    ``409 Git Repository is empty.`` (github/rest-api-description#385): no commits, head
    None, and no request again until the repository payload changes (a push moves
    ``pushed_at``).
    """

    name = "commits"

    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[Batch]:
        state = cursor if cursor and cursor.get("v") == VERSION and not ctx.full else {}
        old_branches: dict[str, dict[str, Any]] = dict(state.get("branches") or {})
        default = self.context.default_branch or state.get("default_branch")
        if default is None:
            page = self.client.get(self.path)
            default = page.data.get("default_branch") if isinstance(page.data, Mapping) else None
        if not isinstance(default, str):
            raise ConfigError(f"source {self.config.name!r}: {self.repo} has no default branch")
        branches = [default, *(b for b in self.config.branches if b != default)]
        done: dict[str, dict[str, Any]] = {b: s for b, s in old_branches.items() if b in branches}
        for branch in branches:
            old = old_branches.get(branch, {})
            if old.get("empty") and self.context.repository_unchanged:
                continue  # still empty: nothing was pushed since the repository was read
            walk = _BranchWalk(self, branch, old, [old.get("head")])
            for records, errors, final in walk.run():
                if final is not None:
                    done[branch] = final
                cursor_now = {"v": VERSION, "default_branch": default, "branches": dict(done)}
                self.context.saw([r for r in records if isinstance(r, Account)])
                yield self._batch(records=records, errors=errors, cursor=cursor_now)


class _BranchWalk:
    """One branch's read: from the listed head down to what the old heads already reach."""

    def __init__(
        self,
        stream: CommitsStream,
        branch: str,
        state: Mapping[str, Any],
        known_heads: list[str | None],
    ) -> None:
        self.stream = stream
        self.branch = branch
        self.state = state
        self.old = {h for h in known_heads if h}
        self.parents: dict[str, tuple[str, ...]] = {}
        self.new_frontier: set[str] = set()  # reachable from the new head, not yet listed

    def _mark_old(self, sha: str) -> None:
        """``sha`` is reachable from an old head; so is every ancestor of it listed so far."""
        stack = [sha]
        while stack:
            current = stack.pop()
            if current in self.old:
                continue
            self.old.add(current)
            stack.extend(self.parents.get(current, ()))

    def run(self) -> Iterator[tuple[list[Record], list[ItemError], dict[str, Any] | None]]:
        stream = self.stream
        params = {"sha": self.branch, "per_page": stream.config.per_page}
        try:
            pages = stream.client.pages(
                f"{stream.path}/commits", params, etag=self.state.get("etag"), empty_on=(409,)
            )
            first = next(pages)
        except NotFound:
            return  # a configured branch this repository does not have
        if first.not_modified:
            return
        if first.status == 409:  # "Git Repository is empty.": no commits, no head yet
            yield [], [], {"head": None, "etag": None, "empty": True}
            return
        etag = first.etag
        listed = stream._list(first)
        if not listed:
            yield [], [], {"head": None, "etag": etag}
            return
        head = listed[0].get("sha") if isinstance(listed[0], Mapping) else None
        if not isinstance(head, str):
            raise FatalError(f"source {stream.config.name!r}: {first.url}: a commit has no sha")
        if head in self.old:  # nothing new (e.g. a branch at the default branch's head)
            yield [], [], {"head": head, "etag": etag}
            return
        self.new_frontier = {head}
        page: Page | None = first
        while page is not None:
            stream.runtime.check_stop()
            records: list[Record] = []
            errors: list[ItemError] = []
            for item in stream._list(page):
                sha = item.get("sha") if isinstance(item, Mapping) else None
                if not isinstance(sha, str):
                    errors.append(
                        ItemError(item=f"{stream.repo} commit", reason="commit without sha")
                    )
                    continue
                parents = tuple(
                    p["sha"]
                    for p in item.get("parents") or ()
                    if isinstance(p, Mapping) and isinstance(p.get("sha"), str)
                )
                self.parents[sha] = parents
                if sha in self.old:
                    for parent in parents:
                        self._mark_old(parent)
                    self.new_frontier.discard(sha)
                    continue
                self.new_frontier.discard(sha)
                self.new_frontier.update(p for p in parents if p not in self.old)
                commit = stream._mapped(
                    records,
                    errors,
                    item,
                    "commit",
                    lambda i=item: map_commit(i, stream.repo, self.branch),
                )
                if commit is not None:
                    records.extend([*commit[1], commit[0]])
            self.new_frontier -= self.old
            finished = not self.new_frontier
            following = None if finished else next(pages, None)
            if following is None:
                pages.close()
                yield records, errors, {"head": head, "etag": etag}
                return
            yield records, errors, None
            page = following


# -- users ---------------------------------------------------------------------------------


class ProfileCache:
    """Profiles read during one run of a source, so a user seen in several repositories is
    read once, even when two repositories ask at the same moment. Lives as long as the
    connector (one sync run)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        self._reading: dict[str, threading.Lock] = {}

    def get(self, login: str) -> dict[str, Any] | None:
        with self._lock:
            return self._entries.get(login.lower())

    def put(self, login: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries[login.lower()] = entry

    def reading(self, login: str) -> threading.Lock:
        """Held while one thread reads ``login``; the others wait and take its result."""
        with self._lock:
            return self._reading.setdefault(login.lower(), threading.Lock())


def _profile_account(account_id: str, entry: Mapping[str, Any]) -> Account:
    """The account from the cursor's copy of its profile: complete, like the profile."""
    return profile_account(
        account_id, login=entry.get("login"), name=entry.get("name"), email=entry.get("email")
    )


class UsersStream(GitHubStream):
    """Profiles (``/users/{login}``) of the accounts this repository's streams saw: the name
    and the public e-mail, which GitHub only lets a user choose among their verified
    addresses. A profile is read once, then again (conditionally) every ``user_refresh``;
    in between, the accounts seen in a run are written again from the cursor's copy, so a
    list payload (which has no e-mail) never leaves an account less known than its profile.
    """

    name = "users"

    def __init__(self, *args: Any, profiles: ProfileCache | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.profiles = profiles or ProfileCache()

    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[Batch]:
        state = cursor if cursor and cursor.get("v") == VERSION and not ctx.full else {}
        known: dict[str, dict[str, Any]] = {
            k: dict(v) for k, v in (state.get("users") or {}).items() if isinstance(v, Mapping)
        }
        with self.context.lock:
            seen = dict(self.context.users)
        now = ctx.run_started_at
        wanted: dict[str, str] = dict(seen)  # account id -> login
        for account_id, stored_entry in known.items():
            if account_id not in wanted and isinstance(stored_entry.get("login"), str):
                wanted[account_id] = stored_entry["login"]
        records: list[Record] = []
        errors: list[ItemError] = []
        changed = False
        for account_id, login in sorted(wanted.items()):
            entry = known.get(account_id)
            fetched = entry.get("fetched_at") if entry else None
            fresh = (
                entry is not None
                and entry.get("login") == login
                and isinstance(fetched, str)
                and now - parse_time(fetched, "fetched_at") <= self.config.user_refresh
            )
            if fresh:
                assert entry is not None
                if account_id in seen:
                    records.append(_profile_account(account_id, entry))
                continue
            with self.profiles.reading(login):
                shared = self._profile(account_id, login, entry, now, records, errors, known)
            if shared is None:
                continue
            known[account_id] = dict(shared)
            changed = True
            records.append(_profile_account(account_id, shared))
        if records or errors or changed:
            yield self._batch(records=records, errors=errors, cursor={"v": VERSION, "users": known})

    def _profile(
        self,
        account_id: str,
        login: str,
        entry: dict[str, Any] | None,
        now: datetime,
        records: list[Record],
        errors: list[ItemError],
        known: dict[str, dict[str, Any]],
    ) -> dict[str, Any] | None:
        """The profile of ``login``: read by another repository this run, or read now."""
        shared: dict[str, Any] | None = self.profiles.get(login)
        if shared is not None and (
            now - parse_time(shared["fetched_at"], "fetched_at") > self.config.user_refresh
        ):
            shared = None  # a connector kept longer than a profile stays fresh
        if shared is None:
            self.runtime.check_stop()
            etag = entry.get("etag") if entry and entry.get("login") == login else None
            try:
                page = self.client.get(f"/users/{quote(login, safe='')}", etag=etag)
            except NotFound:  # renamed or deleted: seen again under its new login
                known.pop(account_id, None)
                return None
            if page.not_modified and entry is not None:
                shared = {**entry, "fetched_at": format_time(now)}
            else:
                account = self._mapped(
                    records,
                    errors,
                    page.data,
                    "user",
                    lambda d=page.data: map_user(d, profile=True),
                )
                if account is None:
                    return None
                shared = {
                    "login": login,
                    "etag": page.etag,
                    "fetched_at": format_time(now),
                    "name": account.display_name,
                    "email": account.email,
                }
            self.profiles.put(login, shared)
        return shared
