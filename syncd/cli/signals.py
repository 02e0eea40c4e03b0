"""SIGTERM / Ctrl-C: the first one asks for a clean stop, a second Ctrl-C aborts at once."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger("syncd")


@contextmanager
def handle_stop_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """Within the block, SIGTERM and SIGINT set ``stop`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        log.warning(
            "%s received: finishing the current batches, then stopping (Ctrl-C again to abort)",
            signal.Signals(signum).name,
        )

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
