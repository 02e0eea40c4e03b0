"""Cursor value objects of the GitHub streams: what is stored, and where to read next.

``Window`` serves the lists read newest-updated first (issues, pull requests):

- ``watermark``: every item updated at or before it is stored. It only moves at the end of
  a complete read, to the newest ``updated_at`` seen, and never past the run's start, so
  items updated while the run reads are read next time.
- The next read starts at ``watermark - overlap`` (closed start) and stops at the first item
  older than that. Reading newest first is what makes this safe: an item updated during the
  read jumps to the front (we read it next time) instead of shifting an unread item past a
  page boundary, which is what ascending order would do.
- ``seen``: items already stored with exactly this ``updated_at``. The overlap re-lists them
  every time; ``seen`` skips them (and, for pull requests, their detail requests), once they
  are older than ``SETTLE`` at the time of the read. Only items at or above the floor that
  the read will end with are kept (the list's first item is its newest, so that floor is
  known from the first page on): the cursor stays as small as the overlap, however long the
  read (a first sync of 50,000 issues does not rewrite a 50,000-entry cursor per page).
- ``stored_range``: what batches before the last claim instead, in O(1): every item updated
  in ``(low, high]`` was stored by this read (or is in ``retry``), ``high`` being at most
  ``SETTLE`` before the run. Reading newest first, the items above the current position
  are all read, and an item that changes later moves above ``high``; so a run that stops
  half-way does not pay for the stored half again (for pull requests: their detail and
  review requests). A finished read drops it.
- ``retry``: items that were listed but could not be stored (a payload a mapper refused, a
  pull request whose details or reviews could not be read). The watermark moves past them
  and the list may answer 304 for a long time, so they are read again one by one at the
  start of the next run until they are stored, or found deleted. At most ``MAX_RETRY``.
- ``since`` and ``etag``: the query's ``since`` parameter is kept stable between runs, so the
  first page's URL is the same and its ETag can be sent: an unchanged list answers 304,
  which costs no rate limit. ``since`` moves up to the watermark at most every
  ``since_refresh``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from connectors.github.mapping import MappingError, format_time, parse_time

VERSION = 1
# Items updated less than this before a run started are not recorded as seen: GitHub's
# timestamps have one-second resolution and clocks drift, so such an item may change again
# without its ``updated_at`` changing as seen from here.
SETTLE = timedelta(seconds=60)
# Items kept for a second reading; more than this is a systemic problem, not a bad item.
MAX_RETRY = 50


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, "cursor time")
    except MappingError:
        return None


def _number_order(key: str) -> tuple[int, str]:
    return (len(key), key)


@dataclass(frozen=True)
class Window:
    watermark: datetime | None = None
    since: datetime | None = None
    etag: str | None = None
    seen: Mapping[str, str] = field(default_factory=dict)  # key -> updated_at as stored
    retry: frozenset[str] = frozenset()
    stored_range: tuple[datetime, datetime] | None = None  # (low, high]: see the module doc

    @classmethod
    def load(cls, data: Mapping[str, Any] | None, *, full: bool = False) -> Window:
        """The window a stored cursor describes; an empty one for a full refresh or a cursor
        this code does not understand (then the read starts over, which is always safe)."""
        if full or not data or data.get("v") != VERSION:
            return cls()
        seen = data.get("seen")
        retry = data.get("retry")
        bounds = data.get("stored_range")
        stored_range = None
        if isinstance(bounds, list) and len(bounds) == 2:
            low, high = _time(bounds[0]), _time(bounds[1])
            if low is not None and high is not None and low < high:
                stored_range = (low, high)
        return cls(
            watermark=_time(data.get("watermark")),
            since=_time(data.get("since")),
            etag=data.get("etag") if isinstance(data.get("etag"), str) else None,
            seen=dict(seen) if isinstance(seen, Mapping) else {},
            retry=frozenset(str(k) for k in retry) if isinstance(retry, list) else frozenset(),
            stored_range=stored_range,
        )

    def dump(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "watermark": format_time(self.watermark) if self.watermark else None,
            "since": format_time(self.since) if self.since else None,
            "etag": self.etag,
            "seen": dict(sorted(self.seen.items())),
            "retry": sorted(self.retry, key=_number_order),
            "stored_range": [format_time(t) for t in self.stored_range]
            if self.stored_range
            else None,
        }

    def floor(self, overlap: timedelta) -> datetime | None:
        """Items older than this were stored by earlier runs."""
        return self.watermark - overlap if self.watermark else None

    def final_floor(
        self, newest: datetime | None, run_started_at: datetime, overlap: timedelta
    ) -> datetime | None:
        """The floor this read will end with, once its newest item is known."""
        watermark = self._watermark_after(newest, run_started_at)
        return watermark - overlap if watermark else None

    def stored(self, key: str, updated_at: str, updated: datetime) -> bool:
        """Whether the item (key, updated_at) is stored already and need not be read."""
        if key in self.retry:
            return False
        if self.seen.get(key) == updated_at:
            return True
        return self.stored_range is not None and (
            self.stored_range[0] < updated <= self.stored_range[1]
        )

    def since_due(self, now: datetime, overlap: timedelta, refresh: timedelta) -> bool:
        """Whether the query's ``since`` should move up to the watermark on this read."""
        floor = self.floor(overlap)
        if floor is None:
            return False  # no watermark yet: list everything, keep since empty
        return self.since is None or floor - self.since > refresh

    def read_again(self, stored: Mapping[str, str], retry: Iterable[str]) -> Window:
        """This window after the items of ``retry`` were read again: ``stored`` those that
        were stored now, ``retry`` those still owed."""
        return replace(self, seen={**self.seen, **stored}, retry=frozenset(retry))

    def progressed(
        self,
        stored: Mapping[str, str],
        *,
        retry: Iterable[str],
        floor: datetime | None,
        low: datetime | None,
        high: datetime | None,
    ) -> Window:
        """This window plus what a read that has not finished stored so far: ``stored``
        (key -> updated_at, kept at or above ``floor``, the final floor), ``retry``, and
        the range ``(low, high]`` it read from its top down to ``low``."""
        seen = _at_or_above({**self.seen, **stored}, floor)
        stored_range = self.stored_range
        if low is not None and high is not None and low < high:
            if stored_range is None:
                stored_range = (low, high)
            elif low <= stored_range[1]:  # reached down into the earlier range: one range
                stored_range = (min(low, stored_range[0]), max(high, stored_range[1]))
            # else: still above the earlier range; it stays what the cursor claims
        return replace(self, seen=seen, retry=frozenset(retry), stored_range=stored_range)

    def finished(
        self,
        *,
        newest: datetime | None,
        run_started_at: datetime,
        overlap: timedelta,
        since: datetime | None,
        etag: str | None,
        stored: Mapping[str, str],
        retry: Iterable[str] = (),
    ) -> Window:
        """The window after a complete read."""
        watermark = self._watermark_after(newest, run_started_at)
        floor = watermark - overlap if watermark else None
        seen = _at_or_above({**self.seen, **stored}, floor)
        return Window(
            watermark=watermark, since=since, etag=etag, seen=seen, retry=frozenset(retry)
        )

    def _watermark_after(
        self, newest: datetime | None, run_started_at: datetime
    ) -> datetime | None:
        watermark = self.watermark
        if newest is not None:
            capped = min(newest, run_started_at)
            watermark = capped if watermark is None else max(watermark, capped)
        return watermark


def _at_or_above(seen: Mapping[str, str], floor: datetime | None) -> dict[str, str]:
    if floor is None:
        return dict(seen)
    return {k: v for k, v in seen.items() if (_time(v) or floor) >= floor}


def add_retry(retry: set[str], key: str) -> bool:
    """Owe ``key`` a second reading, unless ``MAX_RETRY`` are owed already."""
    if key in retry or len(retry) < MAX_RETRY:
        retry.add(key)
        return True
    return False
