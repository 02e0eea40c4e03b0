"""A connector that serves issues from memory, for proving the engine's semantics.

Each scope serves ``issues_per_scope`` issues in pages of ``page_size``; the cursor is the
offset of the next page. Hooks let a test fail, stop or slow a run at a chosen batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from connectors.base import CheckResult, Connector, SourceConfig, Stream, StreamContext
from syncd import records as r
from syncd.errors import AuthError, TransientError

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class MemoryConfig(SourceConfig):
    projects: list[str] = ["MEM"]
    issues_per_scope: int = 10
    page_size: int = 3


def make_issue(scope: str, n: int, title_suffix: str = "") -> r.Issue:
    return r.Issue(
        external_id=f"{scope}:{n}",
        scope_key=scope,
        key=f"{scope}-{n}",
        url=None,
        title=f"Issue {n}{title_suffix}",
        type="task",
        original_type="Task",
        status="todo",
        original_status="To Do",
        created_at=T0 + timedelta(minutes=n),
        updated_at=T0 + timedelta(minutes=n),
        assignee_id=f"user-{n % 3}",
        labels=("a", "b"),
    )


class IssuePages(Stream):
    name = "issues"

    def __init__(self, connector: MemoryConnector, scope: str) -> None:
        self.connector = connector
        self.scope = scope

    def read(self, cursor: dict[str, Any] | None, ctx: StreamContext) -> Iterator[r.Batch]:
        c = self.connector
        cfg = c.config
        offset = 0 if ctx.full or not cursor else cursor["offset"]
        c.reads.append((self.scope, offset))
        while offset < cfg.issues_per_scope:
            page = range(offset + 1, min(offset + cfg.page_size, cfg.issues_per_scope) + 1)
            batch_no = offset // cfg.page_size
            hook = MemoryConnector.before_batch  # via the class: a plain function
            if hook:
                hook(self.scope, batch_no)
            records: list[r.Record] = [
                r.Account(external_id=f"user-{n % 3}", display_name=f"User {n % 3}") for n in page
            ]
            scope = "UNREGISTERED" if batch_no == c.unregistered_scope_at_batch else self.scope
            records += [make_issue(scope, n, c.title_suffix) for n in page]
            offset = page[-1]
            yield r.Batch(
                records=records,
                cursor={"offset": offset},
                progress=(offset, cfg.issues_per_scope),
                errors=c.errors_in_batch.get(batch_no, []),
            )


class MemoryConnector(Connector):
    kind = "memory"
    config_model = MemoryConfig
    scope_kind = "jira_project"
    # Test hooks, set on the class by a test (the engine creates the instance).
    before_batch: ClassVar[Callable[[str, int], None] | None] = None
    errors_in_batch: ClassVar[dict[int, list[r.ItemError]]] = {}
    title_suffix: ClassVar[str] = ""
    reads: ClassVar[list[tuple[str, int]]] = []
    refuse_credentials: ClassVar[bool] = False
    unregistered_scope_at_batch: ClassVar[int | None] = None

    def check(self) -> CheckResult:
        return CheckResult(True, "memory")

    def scopes(self) -> list[str]:
        return list(self.config.projects)

    def streams(self, scope_key: str) -> list[Stream]:
        if self.refuse_credentials:
            raise AuthError(f"source {self.config.name!r}: credentials were refused (401)")
        return [IssuePages(self, scope_key)]


def reset_hooks() -> None:
    MemoryConnector.before_batch = None
    MemoryConnector.errors_in_batch = {}
    MemoryConnector.title_suffix = ""
    MemoryConnector.reads = []
    MemoryConnector.refuse_credentials = False
    MemoryConnector.unregistered_scope_at_batch = None


def fail_at(batch: int, scope: str | None = None) -> Callable[[str, int], None]:
    def hook(s: str, b: int) -> None:
        if b == batch and (scope is None or s == scope):
            raise TransientError(f"simulated outage at batch {b}")

    return hook
