"""JQL for incremental windows: pure functions, because the time-zone traps live here.

JQL compares dates at minute granularity, in the time zone of the user running the search
(their profile setting, read from /myself), not UTC and not the server's zone. A stored UTC
watermark therefore becomes: watermark - overlap, converted to the user's zone, floored to
the minute. Around a daylight-saving fall-back the same wall-clock minute happens twice; Jira
may read it as either occurrence, so the start is moved back until every reading of it lies
at or before the instant we meant (a closed start may only ever grow the window).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

JQL_DATE_FORMAT = "%Y-%m-%d %H:%M"


def window_start(watermark: datetime, overlap: timedelta, zone: ZoneInfo) -> str:
    """The wall-clock minute (``yyyy-MM-dd HH:mm`` in ``zone``) a search must start at so
    that nothing updated at or after ``watermark - overlap`` is left out."""
    target = (watermark - overlap).astimezone(UTC)
    candidate = target
    for _ in range(3):  # one step leaves a repeated hour; a fold is not followed by another
        local = candidate.astimezone(zone).replace(second=0, microsecond=0, tzinfo=None)
        readings = [local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
        if max(readings) <= target:
            return local.strftime(JQL_DATE_FORMAT)
        # An ambiguous minute: step back by the size of the fold, before the repeated hour.
        candidate = min(readings) - (max(readings) - min(readings))
    raise AssertionError(f"no safe JQL start for {target.isoformat()} in {zone}")


def quote(value: str) -> str:
    """A JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def issues_query(project: str, since: str | None) -> str:
    """Issues of ``project`` updated at or after ``since`` (a JQL date), oldest first.

    ``key`` breaks ties so the order is total: pages never disagree about who comes first.
    """
    clause = f"project = {quote(project)}"
    if since is not None:
        clause += f" AND updated >= {quote(since)}"
    return f"{clause} ORDER BY updated ASC, key ASC"


def range_query(project: str, since: str, before: str) -> str:
    """Issues of ``project`` updated in ``[since, before)`` (JQL minutes), oldest first."""
    return (
        f"project = {quote(project)} AND updated >= {quote(since)} AND updated < {quote(before)}"
        " ORDER BY updated ASC, key ASC"
    )


def ids_query(project: str) -> str:
    """Every issue of ``project``, in an order that updates do not change."""
    return f"project = {quote(project)} ORDER BY created ASC, key ASC"
