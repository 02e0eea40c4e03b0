"""GitHub's page-number pagination and its ``Link`` header.

From "Using pagination in the REST API" (docs.github.com):

- ``per_page`` defaults to 30 and is capped at 100 (a larger value is silently lowered);
- the ``link`` header is omitted when everything fits on one page;
- its URLs are absolute and are to be followed as given, not rebuilt: for repository
  resources GitHub writes them with the repository *id*
  (``/repositories/1300192/issues?page=2``), not ``/repos/{owner}/{repo}``, so a client that
  parses the page number and rebuilds its own URL works by accident and one that pattern-
  matches the path breaks;
- relations appear in the order prev, next, last, first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

T = TypeVar("T")

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    per_page: int

    @classmethod
    def from_query(cls, query: dict[str, list[str]]) -> Page:
        per_page = _int(_first(query, "per_page"), DEFAULT_PER_PAGE)
        if per_page < 1:
            per_page = DEFAULT_PER_PAGE
        number = max(1, _int(_first(query, "page"), 1))
        return cls(number, min(per_page, MAX_PER_PAGE))

    def slice(self, items: Sequence[T]) -> Sequence[T]:
        start = (self.number - 1) * self.per_page
        return items[start : start + self.per_page]


def link_header(base: str, query: dict[str, list[str]], page: Page, total: int) -> str | None:
    """The ``Link`` header for ``page`` of ``total`` items listed at ``base`` (an absolute
    URL without query). The client's own parameters are kept, ``page`` is set."""
    last = max(1, -(-total // page.per_page))
    if last == 1 and page.number == 1:
        return None

    def url(number: int) -> str:
        params = {k: v for k, v in query.items() if k != "page"}
        params["page"] = [str(number)]
        return f"{base}?{urlencode(params, doseq=True)}"

    rels: list[tuple[str, int]] = []
    if page.number > 1:
        rels.append(("prev", page.number - 1))
    if page.number < last:
        rels.append(("next", page.number + 1))
        rels.append(("last", last))
    if page.number > 1:
        rels.append(("first", 1))
    return ", ".join(f'<{url(n)}>; rel="{rel}"' for rel, n in rels)
