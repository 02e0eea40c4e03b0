"""The simulated GitHub REST API of the sandbox (see ``service`` for the interface)."""

from syncd.sandbox.github.service import GitHubService

__all__ = ["GitHubService"]
