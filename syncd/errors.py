"""Typed errors. What to do with a failure is decided by its type, in one place each."""

from __future__ import annotations


class SyncdError(Exception):
    """Base of every error syncd raises on purpose."""


class ConfigError(SyncdError):
    """The configuration is wrong: retrying cannot help; the user must change something."""


class AuthError(ConfigError):
    """Credentials were refused (401, or a 403 that is not a rate limit)."""


class TransientError(SyncdError):
    """A failure that a later attempt may not see: 5xx, reset connection, truncated body."""


class RateLimited(TransientError):
    """The source asked us to wait ``retry_after`` seconds before sending again."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FatalError(SyncdError):
    """A failure no retry will fix and that is not the user's configuration (a 4xx we did
    not expect, a response the connector cannot understand)."""


class NotFound(FatalError):
    """The source answered 404 for something we asked for."""


class StopRequested(SyncdError):
    """The process was asked to stop (SIGTERM / Ctrl-C); raised between batches."""
