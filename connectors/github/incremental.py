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
  are older than ``SETTLE`` at the time of the read. Batches
  before the last carry ``seen`` grown by what they stored, so a run that stops half-way
  does not pay for the stored half again.
- ``since`` and ``etag``: the query's ``since`` parameter is kept stable between runs, so the
  first page's URL is the same and its ETag can be sent: an unchanged list answers 304,
  which costs no rate limit. ``since`` moves up to the watermark at most every
  ``since_refresh``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from connectors.github.mapping import MappingError, format_time, parse_time

VERSION = 1
# Items updated less than this before a run started are not recorded as seen: GitHub's
# timestamps have one-second resolution and clocks drift, so such an item may change again
# without its ``updated_at`` changing as seen from here.
SETTLE = timedelta(seconds=60)


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, "cursor time")
    except MappingError:
        return None


@dataclass(frozen=True)
class Window:
    watermark: datetime | None = None
    since: datetime | None = None
    etag: str | None = None
    seen: Mapping[str, str] = field(default_factory=dict)  # key -> updated_at as stored

    @classmethod
    def load(cls, data: Mapping[str, Any] | None, *, full: bool = False) -> Window:
        """The window a stored cursor describes; an empty one for a full refresh or a cursor
        this code does not understand (then the read starts over, which is always safe)."""
        if full or not data or data.get("v") != VERSION:
            return cls()
        seen = data.get("seen")
        return cls(
            watermark=_time(data.get("watermark")),
            since=_time(data.get("since")),
            etag=data.get("etag") if isinstance(data.get("etag"), str) else None,
            seen=dict(seen) if isinstance(seen, Mapping) else {},
        )

    def dump(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "watermark": format_time(self.watermark) if self.watermark else None,
            "since": format_time(self.since) if self.since else None,
            "etag": self.etag,
            "seen": dict(sorted(self.seen.items())),
        }

    def floor(self, overlap: timedelta) -> datetime | None:
        """Items older than this were stored by earlier runs."""
        return self.watermark - overlap if self.watermark else None

    def stored(self, key: str, updated_at: str) -> bool:
        return self.seen.get(key) == updated_at

    def since_due(self, now: datetime, overlap: timedelta, refresh: timedelta) -> bool:
        """Whether the query's ``since`` should move up to the watermark on this read."""
        floor = self.floor(overlap)
        if floor is None:
            return False  # no watermark yet: list everything, keep since empty
        return self.since is None or floor - self.since > refresh

    def progressed(self, stored: Mapping[str, str]) -> Window:
        """This window plus items stored so far in a read that has not finished."""
        return replace(self, seen={**self.seen, **stored})

    def finished(
        self,
        *,
        newest: datetime | None,
        run_started_at: datetime,
        overlap: timedelta,
        since: datetime | None,
        etag: str | None,
        stored: Mapping[str, str],
    ) -> Window:
        """The window after a complete read."""
        watermark = self.watermark
        if newest is not None:
            capped = min(newest, run_started_at)
            watermark = capped if watermark is None else max(watermark, capped)
        floor = watermark - overlap if watermark else None
        seen = {**self.seen, **stored}
        if floor is not None:
            seen = {k: v for k, v in seen.items() if (_time(v) or floor) >= floor}
        return Window(watermark=watermark, since=since, etag=etag, seen=seen)
