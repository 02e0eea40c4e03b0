"""Errors in GitHub's shape."""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An error answer in GitHub's shape: ``{"message", "documentation_url", "status"}``."""

    def __init__(
        self, status: int, message: str, docs: str = DOCS, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.docs = docs
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        # Since 2024 GitHub adds the status, as a string, to error bodies.
        return {
            "message": self.message,
            **self.extra,
            "documentation_url": self.docs,
            "status": str(self.status),
        }


def not_found(docs: str = DOCS) -> ApiError:
    return ApiError(404, "Not Found", docs)
