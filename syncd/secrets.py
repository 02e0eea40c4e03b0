"""Keeping configured secrets out of text that leaves the process: logs and stored errors.

Secrets are kept out of messages by construction (connectors build their errors without
them); this is the second line of defence, for a library that echoes a header, a URL or a
traceback's locals.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, SecretStr
from sqlalchemy.engine import make_url

MASK = "***"
_MIN_LENGTH = 6  # shorter values would mask ordinary words


def secret_values(settings: Any) -> list[str]:
    """Every secret the settings hold, in each form it may appear in text: the value, the
    HTTP Basic credential built from it, and each line of a multi-line key."""
    values: list[str] = []
    for source in getattr(settings, "sources", []):
        found = list(_secrets_in(source))
        values += found
        email = getattr(source, "email", None)
        token = getattr(source, "token", None)
        if email and isinstance(token, SecretStr):
            basic = f"{email}:{token.get_secret_value()}".encode()
            values.append(base64.b64encode(basic).decode())
    database = getattr(settings, "database", None)
    if database is not None:
        try:
            password = make_url(database.url).password
        except Exception:  # an invalid URL is reported by validation, not here
            password = None
        if password:
            values.append(str(password))
    return values


def _secrets_in(model: BaseModel) -> Iterable[str]:
    for _, value in model:
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            yield secret
            if "\n" in secret:  # a PEM key: any of its lines may be quoted alone
                yield from (line for line in secret.splitlines() if len(line) >= 16)


class Redactor:
    """Replaces known secret values in text with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted(
            {s for s in secrets if s and len(s) >= _MIN_LENGTH}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text
