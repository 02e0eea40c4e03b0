"""GitHub's primary and secondary rate limits, per token.

From "Rate limits for the REST API" (docs.github.com, github/docs
``content/rest/using-the-rest-api/rate-limits-for-the-rest-api.md``):

- every response carries ``x-ratelimit-limit``, ``-remaining``, ``-used``, ``-reset`` (UTC
  epoch seconds) and ``-resource`` (``core`` for everything we serve);
- over the primary limit: ``403`` or ``429``, ``x-ratelimit-remaining: 0``; do not retry
  before ``x-ratelimit-reset``. Body: ``API rate limit exceeded for user ID <id>. ...``;
- over a secondary limit (too many requests in a short time): ``403`` or ``429`` and a
  message saying so, often with ``retry-after`` (seconds). There is no way to query it;
- ``GET /rate_limit`` and conditional requests answered ``304`` do not count against the
  primary limit ("Best practices for using the REST API").

Two regimes, switched by ``Faults.rate_limit``:

- **relaxed** (default): headers as GitHub sends them, a budget large enough for a full sync
  of the ``large`` size, never a refusal (an exhausted window just starts a new one);
- **enforced**: a tight budget in short windows, so tests and benchmarks see both limits in
  seconds instead of hours. Numbers are in :class:`RateLimitPolicy`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

DOCS_PRIMARY = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
DOCS_SECONDARY = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)


@dataclass(frozen=True)
class RateLimitPolicy:
    relaxed_limit: int = 1_000_000
    relaxed_window_s: float = 3600.0
    limit: int = 300  # enforced primary limit per window
    window_s: float = 10.0
    burst: int = 60  # enforced secondary limit: at most this many requests ...
    burst_window_s: float = 1.0  # ... in any window this long
    burst_retry_after_s: int = 1  # the Retry-After a secondary refusal sends
    primary_status: int = 403  # GitHub answers 403 or 429 for either limit; we use both
    secondary_status: int = 429
    unauthenticated_limit: int = 60


@dataclass
class _Bucket:
    limit: int
    window_s: float
    used: int = 0
    reset_at: float = 0.0
    recent: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


@dataclass(frozen=True)
class Refusal:
    kind: str  # "primary" | "secondary"
    status: int
    wait_until: float
    retry_after: int | None


class RateLimiter:
    def __init__(self, policy: RateLimitPolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self.clock = clock
        self._buckets: dict[tuple[str, bool], _Bucket] = {}

    def _bucket(self, key: str, enforced: bool) -> _Bucket:
        bucket = self._buckets.get((key, enforced))
        if bucket is None:
            p = self.policy
            limit, window = (
                (p.limit, p.window_s) if enforced else (p.relaxed_limit, p.relaxed_window_s)
            )
            bucket = _Bucket(limit, window)
            self._buckets[(key, enforced)] = bucket
        now = self.clock()
        if now >= bucket.reset_at:
            # A window starts with the first request after the previous one ended.
            bucket.used = 0
            bucket.reset_at = now + bucket.window_s
        return bucket

    def check(self, key: str, enforced: bool) -> Refusal | None:
        """Whether the request may proceed; records it for the secondary limit."""
        bucket = self._bucket(key, enforced)
        if not enforced:
            if bucket.used >= bucket.limit:  # relaxed: never refuse, start over
                bucket.used = 0
                bucket.reset_at = self.clock() + bucket.window_s
            return None
        p, now = self.policy, self.clock()
        recent = bucket.recent
        recent.append(now)
        while recent and recent[0] <= now - p.burst_window_s:
            recent.popleft()
        if now < bucket.blocked_until:
            wait = bucket.blocked_until
            return Refusal("secondary", p.secondary_status, wait, max(1, math.ceil(wait - now)))
        if len(recent) > p.burst:
            bucket.blocked_until = now + p.burst_retry_after_s
            return Refusal(
                "secondary", p.secondary_status, bucket.blocked_until, p.burst_retry_after_s
            )
        if bucket.used >= bucket.limit:
            return Refusal("primary", p.primary_status, bucket.reset_at, None)
        return None

    def charge(self, key: str, enforced: bool, cost: int) -> None:
        bucket = self._bucket(key, enforced)
        bucket.used = min(bucket.limit, bucket.used + cost)

    def status(self, key: str, enforced: bool) -> dict[str, int]:
        bucket = self._bucket(key, enforced)
        return {
            "limit": bucket.limit,
            "remaining": bucket.limit - bucket.used,
            "reset": math.ceil(bucket.reset_at),
            "used": bucket.used,
        }

    def headers(self, key: str, enforced: bool) -> dict[str, str]:
        s = self.status(key, enforced)
        return {
            "X-RateLimit-Limit": str(s["limit"]),
            "X-RateLimit-Remaining": str(s["remaining"]),
            "X-RateLimit-Reset": str(s["reset"]),
            "X-RateLimit-Used": str(s["used"]),
            "X-RateLimit-Resource": "core",
        }

    def unauthenticated_headers(self) -> dict[str, str]:
        """What a request with bad or no credentials is told: the per-IP limit of 60."""
        reset = math.ceil(self.clock() + 3600)
        limit = self.policy.unauthenticated_limit
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit - 1),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Used": "1",
            "X-RateLimit-Resource": "core",
        }
