"""JQL windows: minute granularity, the user's time zone, daylight-saving folds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors.jira.jql import ids_query, issues_query, window_start

NY = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")


def test_watermark_is_converted_to_the_users_zone_and_floored_to_the_minute():
    watermark = datetime(2024, 3, 5, 13, 7, 31, 412000, tzinfo=UTC)
    assert window_start(watermark, timedelta(minutes=2), UTC) == "2024-03-05 13:05"
    # New York is UTC-5 in March before DST: 13:05 UTC is 08:05 there
    assert window_start(watermark, timedelta(minutes=2), NY) == "2024-03-05 08:05"
    # Half-hour offsets exist: UTC+5:30
    assert window_start(watermark, timedelta(minutes=2), KOLKATA) == "2024-03-05 18:35"


def test_a_change_in_the_watermarks_own_minute_is_inside_the_window():
    watermark = datetime(2024, 3, 5, 13, 7, 59, 999000, tzinfo=UTC)
    start = datetime.strptime(window_start(watermark, timedelta(minutes=1), UTC), "%Y-%m-%d %H:%M")
    assert start.replace(tzinfo=UTC) <= watermark - timedelta(minutes=1)


@pytest.mark.parametrize("minute", range(0, 60, 7))
def test_fall_back_fold_never_starts_later_than_meant(minute):
    """On 2024-11-03 New York repeats 01:00-01:59. Whichever occurrence Jira reads an
    ambiguous wall time as, the window must start at or before the instant we meant."""
    first_pass = datetime(2024, 11, 3, 5, minute, tzinfo=UTC)  # 01:mm EDT (first occurrence)
    for instant in (first_pass, first_pass + timedelta(hours=1)):  # and 01:mm EST (second)
        text = window_start(instant, timedelta(minutes=1), NY)
        wall = datetime.strptime(text, "%Y-%m-%d %H:%M")
        readings = [wall.replace(tzinfo=NY, fold=f).astimezone(UTC) for f in (0, 1)]
        assert max(readings) <= instant - timedelta(minutes=1), (instant, text)
        # and it does not throw away more than the fold itself
        assert instant - min(readings) <= timedelta(hours=2, minutes=2)


def test_spring_forward_gap_is_harmless():
    instant = datetime(2024, 3, 10, 7, 30, tzinfo=UTC)  # 03:30 EDT, just after the gap
    assert window_start(instant, timedelta(minutes=5), NY) == "2024-03-10 03:25"


def test_queries_are_ordered_and_quoted():
    assert issues_query("PROJ", None) == 'project = "PROJ" ORDER BY updated ASC, key ASC'
    assert (
        issues_query("PROJ", "2024-03-05 08:05")
        == 'project = "PROJ" AND updated >= "2024-03-05 08:05" ORDER BY updated ASC, key ASC'
    )
    assert ids_query("OPS") == 'project = "OPS" ORDER BY created ASC, key ASC'
