"""The one retry policy and the per-source request budget every connector call goes through.

What to do with a response is a table (``classify``): return it, retry it (transient), wait
and retry (rate limited), or fail (configuration / fatal). Retrying happens here and only
here; the libraries' own retry loops are switched off by the connectors.

The budget paces one source's requests across all of its scopes' threads: never send while a
``Retry-After`` or rate-limit reset window is in force, and slow down as the remaining
allowance (``X-RateLimit-Remaining``) runs low, so a sync never runs the budget dry.
"""

from __future__ import annotations

import contextvars
import email.utils
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)

from syncd.errors import (
    AuthError,
    FatalError,
    NotFound,
    RateLimited,
    StopRequested,
    TransientError,
)

log = logging.getLogger("syncd.http")

# Counts requests of the stream that is running in this thread (sync_runs.requests).
_meter: contextvars.ContextVar[RequestMeter | None] = contextvars.ContextVar(
    "syncd_request_meter", default=None
)


class RequestMeter:
    """Counts requests sent on behalf of one stream run (also from helper threads the
    stream runs in a copy of its context, hence the lock)."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()

    def count(self) -> None:
        with self._lock:
            self.requests += 1

    def __enter__(self) -> RequestMeter:
        self._token = _meter.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _meter.reset(self._token)


def safe_url(url: str) -> str:
    """The URL without credentials or query string: fit for logs and error messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class RequestBudget:
    """Per-source pacing shared by every thread of that source.

    - ``max_per_second``: a steady ceiling (None: no ceiling).
    - ``block_for``: nobody sends until the window ends (Retry-After, reset time).
    - ``observe``: reads ``X-RateLimit-Remaining/Reset``; below ``low_water`` of the limit it
      spreads the remaining requests over the time left, and at ``reserve`` it waits for
      the reset.
    """

    def __init__(
        self,
        source_name: str,
        *,
        max_per_second: float | None = None,
        reserve: int = 20,
        low_water: float = 0.2,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source_name = source_name
        self.min_interval = 1.0 / max_per_second if max_per_second else 0.0
        self.reserve = reserve
        self.low_water = low_water
        self.stop = stop or threading.Event()
        self.clock = clock
        self._lock = threading.Lock()
        self._blocked_until = 0.0
        self._next_slot = 0.0
        self._paced_interval = 0.0
        self.requests = 0
        self.waited_s = 0.0
        self.send_times: list[float] = []  # kept small: only for tests via record_sends
        self.record_sends = False
        self._unhinted_limits = 0  # rate limits in a row that came without a wait time

    def blocked_until(self) -> float:
        with self._lock:
            return self._blocked_until

    def acquire(self) -> None:
        """Wait for a slot to send one request; raises StopRequested if asked to stop."""
        while True:
            with self._lock:
                now = self.clock()
                start = max(self._blocked_until, self._next_slot)
                if start <= now:
                    interval = max(self.min_interval, self._paced_interval)
                    self._next_slot = now + interval
                    self.requests += 1
                    if self.record_sends:
                        self.send_times.append(now)
                    return
                delay = start - now
            self.waited_s += delay
            if self.stop.wait(min(delay, 5.0)):
                raise StopRequested(f"source {self.source_name}: stop requested")

    def unhinted_wait(self, base: float) -> float:
        """The wait for a rate limit that said neither how long (``Retry-After``) nor until
        when (a spent ``X-RateLimit-Remaining`` with its reset): ``base`` the first time,
        doubling while it keeps happening (GitHub, "Rate limits for the REST API": wait at
        least a minute, then exponentially longer)."""
        with self._lock:
            wait = base * 2 ** min(self._unhinted_limits, 4)
            self._unhinted_limits += 1
        return wait

    def answered(self) -> None:
        """A response that was not a rate limit ends a run of unhinted limits."""
        if self._unhinted_limits:
            with self._lock:
                self._unhinted_limits = 0

    def block_for(self, seconds: float, reason: str) -> None:
        until = self.clock() + max(0.0, seconds)
        with self._lock:
            if until > self._blocked_until:
                self._blocked_until = until
                log.warning("%s: %s; pausing requests for %.1fs", self.source_name, reason, seconds)

    def observe(self, headers: Any) -> None:
        """Adjust pacing from the rate-limit headers of a response."""
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        limit = _int_header(headers, "X-RateLimit-Limit")
        reset = _int_header(headers, "X-RateLimit-Reset")
        if remaining is None or reset is None:
            return
        now = self.clock()
        window = max(0.0, reset - now)
        if remaining <= self.reserve:
            self.block_for(window + 1.0, f"rate limit nearly spent ({remaining} left)")
            return
        with self._lock:
            if limit and remaining < limit * self.low_water:
                self._paced_interval = window / max(remaining - self.reserve, 1)
            else:
                self._paced_interval = 0.0


def _int_header(headers: Any, name: str) -> int | None:
    value = headers.get(name) if headers is not None else None
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def retry_after_seconds(headers: Any, clock: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds (delta or HTTP date), else None."""
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):  # neither seconds nor a date: as if absent
        return None
    if parsed.tzinfo is None:  # "-0000" means UTC with unknown origin (RFC 5322)
        parsed = parsed.replace(tzinfo=UTC)
    return max(0.0, parsed.timestamp() - clock())


def classify(
    response: requests.Response, source_name: str, clock: Callable[[], float] = time.time
) -> None:
    """Raise the typed error a response stands for; return if it is a usable answer."""
    status = response.status_code
    if status < 400:
        return
    where = f"{source_name}: {response.request.method if response.request else 'GET'} {safe_url(response.url or '')}"
    headers = response.headers
    retry_after = retry_after_seconds(headers, clock)
    if status == 429:
        wait = 60.0 if retry_after is None else retry_after  # "Retry-After: 0" means now
        raise RateLimited(f"{where} answered 429 Too Many Requests", wait)
    if status == 403 and _looks_rate_limited(response):
        if retry_after is not None:
            wait = retry_after
        else:
            reset = _int_header(headers, "X-RateLimit-Reset")
            remaining = _int_header(headers, "X-RateLimit-Remaining")
            # Primary limit spent: wait for the reset; secondary limit without
            # Retry-After: GitHub says wait at least a minute.
            wait = max(reset - clock(), 1.0) if remaining == 0 and reset else 60.0
        raise RateLimited(f"{where} answered 403 (rate limited)", wait)
    if status == 401:
        raise AuthError(
            f"source {source_name!r}: credentials were refused (401 from {safe_url(response.url or '')}); "
            "check the token / email in the configuration"
        )
    if status == 403:
        raise AuthError(
            f"source {source_name!r}: access denied (403 from {safe_url(response.url or '')}); "
            "check the token's permissions"
        )
    if status == 404:
        raise NotFound(f"{where} answered 404 Not Found")
    if status == 408 or status >= 500:
        raise TransientError(f"{where} answered {status}")
    raise FatalError(f"{where} answered {status}: {_snippet(response)}")


def _primary_spent(headers: Any) -> bool:
    return headers.get("X-RateLimit-Remaining") == "0" and "X-RateLimit-Reset" in headers


def _looks_rate_limited(response: requests.Response) -> bool:
    if "Retry-After" in response.headers or response.headers.get("X-RateLimit-Remaining") == "0":
        return True
    return "rate limit" in _snippet(response).lower()


def _snippet(response: requests.Response, limit: int = 300) -> str:
    try:
        text = response.text
    except Exception:  # body could not be decoded: the status says enough
        return ""
    return " ".join(text.split())[:limit]


@dataclass
class RetrySettings:
    max_attempts: int = 8
    max_elapsed_s: float = 900.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 60.0


class HttpPolicy:
    """Sends one logical request with the retry table applied. Thread-safe."""

    def __init__(
        self,
        budget: RequestBudget,
        settings: RetrySettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.budget = budget
        self.settings = settings or RetrySettings()
        self.clock = clock

    def call(
        self, send: Callable[[], requests.Response], *, json_body: bool = False
    ) -> requests.Response:
        """Run ``send`` (one HTTP request) until it gives a usable response.

        With ``json_body`` the body is parsed inside the attempt, so a truncated page is
        retried like a dropped connection; the parsed value is at ``response.syncd_json``.
        """
        s = self.settings
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(s.max_attempts) | stop_after_delay(s.max_elapsed_s),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._attempt, send, json_body)

    def _attempt(self, send: Callable[[], requests.Response], json_body: bool) -> requests.Response:
        self.budget.acquire()
        meter = _meter.get()
        if meter is not None:
            meter.count()
        try:
            response = send()
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(
                f"{self.budget.source_name}: {type(exc).__name__}: {_exc_text(exc)}"
            ) from None
        except requests.exceptions.ChunkedEncodingError as exc:
            raise TransientError(
                f"{self.budget.source_name}: truncated response: {_exc_text(exc)}"
            ) from None
        self.budget.observe(response.headers)
        try:
            classify(response, self.budget.source_name, self.clock)
        except RateLimited as exc:
            wait = exc.retry_after
            if "Retry-After" not in response.headers and not _primary_spent(response.headers):
                wait = self.budget.unhinted_wait(wait)
            self.budget.block_for(wait, str(exc))
            raise
        self.budget.answered()
        if json_body and response.status_code != 304:
            try:
                response.syncd_json = json.loads(response.content)  # type: ignore[attr-defined]
            except ValueError:
                raise TransientError(
                    f"{self.budget.source_name}: {safe_url(response.url or '')} returned a body "
                    "that is not valid JSON (truncated?)"
                ) from None
        return response

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimited):
            return 0.0  # the budget holds every thread until the window ends
        s = self.settings
        ceiling = min(s.backoff_max_s, s.backoff_base_s * 2 ** (state.attempt_number - 1))
        return random.uniform(0, ceiling)

    def _sleep(self, seconds: float) -> None:
        if self.budget.stop.wait(seconds):
            raise StopRequested(f"source {self.budget.source_name}: stop requested")

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info("retrying after attempt %d: %s", state.attempt_number, exc)


def _exc_text(exc: BaseException) -> str:
    """Exception text with any URL reduced to its safe form (requests puts URLs, with
    query strings, into connection error messages)."""
    text = str(exc)
    for word in text.split():
        if "://" in word:
            text = text.replace(word, safe_url(word.strip("'\"(),")))
    return text[:300]
