"""Reading ahead: the next page is fetched while the current one is mapped and stored."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def read_ahead(pages: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Iterate ``pages`` in a thread of its own, ``depth`` items ahead of the consumer.

    While the caller maps a page and the engine stores it, the next page is already on its
    way: the server's time and ours overlap instead of adding up. The producing thread runs
    in a copy of the caller's context, so requests still count towards the stream's meter.
    Its errors (StopRequested included) are raised here, in the caller's thread.
    """
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    closed = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not closed.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(("page", page)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed over: the consumer raises it
            put(("error", exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(
        target=contextvars.copy_context().run, args=(produce,), name="jira-read-ahead", daemon=True
    )
    worker.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "page":
                yield value
            elif kind == "end":
                return
            else:
                raise value
    finally:
        closed.set()
        worker.join(timeout=60)
