"""Logging: readable on a terminal, JSON lines for machines; secrets masked either way."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from pythonjsonlogger.json import JsonFormatter

from syncd.secrets import Redactor

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Masks every known secret in a record's message and in its traceback text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.redact.secrets:
            return True
        message = record.getMessage()
        masked = self.redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info:
            # Formatters render the traceback after filters ran: render it here, masked.
            record.exc_text = self.redact(_TRACEBACKS.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


_TRACEBACKS = logging.Formatter()


def setup_logging(level: str = "INFO", fmt: str = "auto", secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once per process (idempotent: replaces our handler)."""
    stream = sys.stderr
    if fmt == "auto":
        fmt = "text" if stream.isatty() else "json"
    handler: logging.Handler
    if fmt == "json":
        handler = logging.StreamHandler(stream)
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    elif stream.isatty():
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, rich_tracebacks=False, log_time_format="%H:%M:%S")
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    handler.set_name("syncd")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "syncd"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that log request URLs or headers at INFO/DEBUG stay quiet.
    for noisy in ("urllib3", "github", "jira", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
