"""Jira's rate limiting, switched on by ``Faults.rate_limit`` with deliberately tight limits.

A token bucket per client (credentials). When it is empty the answer is 429 with the
headers the deployment documents:

- Cloud (developer.atlassian.com/cloud/jira/platform/rate-limiting): ``Retry-After``
  (seconds), ``X-RateLimit-Reset`` (ISO 8601, ``yyyy-MM-ddTHH:mmZ``), ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining``, ``RateLimit-Reason`` (``jira-burst-based`` for API-token
  traffic); successful answers carry ``X-RateLimit-NearLimit: true`` when less than 20% of
  the budget is left. "If you reissue the request before the retry period expires, the
  request will fail and return the same or longer Retry-After period": a client that does
  not wait is punished with a longer wait.
- Data Center ("Adjusting your code for rate limiting"): ``Retry-After``,
  ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-FillRate``,
  ``X-RateLimit-Interval-Seconds``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class _Bucket:
    tokens: float
    at: float
    blocked_until: float = 0.0


@dataclass
class RateLimiter:
    capacity: int = 10
    refill_per_second: float = 5.0
    penalty_seconds: float = 1.0  # added when a client ignores Retry-After
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def take(self, client: str, now: float) -> tuple[bool, float, float]:
        """(allowed, tokens left, seconds to wait when refused)."""
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                bucket = self._buckets[client] = _Bucket(float(self.capacity), now)
            bucket.tokens = min(
                float(self.capacity), bucket.tokens + (now - bucket.at) * self.refill_per_second
            )
            bucket.at = now
            if now < bucket.blocked_until:
                bucket.blocked_until += self.penalty_seconds
                return False, 0.0, bucket.blocked_until - now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return True, bucket.tokens, 0.0
            wait = (1.0 - bucket.tokens) / self.refill_per_second
            bucket.blocked_until = now + max(1.0, math.ceil(wait))
            return False, 0.0, bucket.blocked_until - now

    def headers(
        self, cloud: bool, allowed: bool, left: float, wait: float, now: float
    ) -> dict[str, str]:
        if cloud:
            if allowed:
                near = left < 0.2 * self.capacity
                return {"X-RateLimit-NearLimit": "true"} if near else {}
            seconds = max(1, math.ceil(wait))
            reset = datetime.fromtimestamp(now + seconds, UTC).strftime("%Y-%m-%dT%H:%MZ")
            return {
                "Retry-After": str(seconds),
                "X-RateLimit-Reset": reset,
                "X-RateLimit-Limit": str(self.capacity),
                "X-RateLimit-Remaining": "0",
                "RateLimit-Reason": "jira-burst-based",
            }
        out = {
            "X-RateLimit-Limit": str(self.capacity),
            "X-RateLimit-Remaining": str(int(left)),
            "X-RateLimit-FillRate": str(int(self.refill_per_second)),
            "X-RateLimit-Interval-Seconds": "1",
        }
        if not allowed:
            out["Retry-After"] = str(max(1, math.ceil(wait)))
        return out
