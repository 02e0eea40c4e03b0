"""Progress of long syncs: a rich progress bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

log = logging.getLogger("syncd.sync")


class Progress(Protocol):
    def start(self, label: str) -> object: ...
    def advance(
        self, task: object, records: int, position: tuple[int, int | None] | None
    ) -> None: ...
    def finish(self, task: object) -> None: ...


class NullProgress:
    def start(self, label: str) -> object:
        return label

    def advance(self, task: object, records: int, position: tuple[int, int | None] | None) -> None:
        pass

    def finish(self, task: object) -> None:
        pass


class LogProgress:
    """A log line per stream at most every ``every_s`` seconds: for services and CI logs."""

    def __init__(self, every_s: float = 10.0) -> None:
        self.every_s = every_s
        self._lock = threading.Lock()
        self._state: dict[str, list[float]] = {}

    def start(self, label: str) -> object:
        with self._lock:
            self._state[label] = [0, time.monotonic()]
        return label

    def advance(self, task: object, records: int, position: tuple[int, int | None] | None) -> None:
        label = str(task)
        with self._lock:
            state = self._state.setdefault(label, [0, time.monotonic()])
            state[0] += records
            if time.monotonic() - state[1] < self.every_s:
                return
            state[1] = time.monotonic()
            count = int(state[0])
        if position and position[1]:
            log.info("%s: %d records (%d of %d)", label, count, position[0], position[1])
        else:
            log.info("%s: %d records so far", label, count)

    def finish(self, task: object) -> None:
        with self._lock:
            self._state.pop(str(task), None)


class RichProgress:
    """One bar per running stream; bars with a known total show it, others just count."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichBar

        self.bar = RichBar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[records]} records"),
            TimeElapsedColumn(),
            transient=True,
        )
        self._lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def start(self, label: str) -> object:
        with self._lock:
            return self.bar.add_task(label, total=None, records=0)

    def advance(self, task: object, records: int, position: tuple[int, int | None] | None) -> None:
        with self._lock:
            current = self.bar.tasks[self._index(task)].fields["records"]
            kwargs: dict = {"records": current + records}
            if position:
                kwargs["completed"] = position[0]
                kwargs["total"] = position[1]
            self.bar.update(task, **kwargs)  # type: ignore[arg-type]

    def finish(self, task: object) -> None:
        with self._lock:
            self.bar.remove_task(task)  # type: ignore[arg-type]

    def _index(self, task: object) -> int:
        return next(i for i, t in enumerate(self.bar.tasks) if t.id == task)
