"""Reading the next search page while the current one is mapped and stored."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.http import RequestMeter, _meter
from connectors.jira.readahead import read_ahead
from syncd.errors import TransientError


def test_pages_come_in_order_and_the_next_is_fetched_while_one_is_used():
    fetched: list[int] = []

    def pages():
        for n in range(4):
            fetched.append(n)
            yield n

    reader = read_ahead(pages())
    assert next(reader) == 0
    deadline = time.monotonic() + 2
    while len(fetched) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fetched[:2] == [0, 1]  # page 1 is on its way while page 0 is in use
    assert list(reader) == [1, 2, 3]


def test_an_error_of_the_reading_thread_is_raised_to_the_consumer():
    def pages():
        yield 1
        raise TransientError("jira: 503 after 8 attempts")

    reader = read_ahead(pages())
    assert next(reader) == 1
    with pytest.raises(TransientError, match="503"):
        next(reader)


def test_closing_early_stops_the_reading_thread():
    closed = threading.Event()

    def pages():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    reader = read_ahead(pages())
    assert next(reader) == 1
    reader.close()
    assert closed.wait(2)


def test_requests_of_the_reading_thread_count_for_the_stream():
    def pages():
        meter = _meter.get()
        assert meter is not None
        meter.requests += 1
        yield "page"

    with RequestMeter() as meter:
        assert list(read_ahead(pages())) == ["page"]
    assert meter.requests == 1
