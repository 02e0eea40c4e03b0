"""``Sandbox``: a simulated Jira and GitHub, each on its own loopback port, in one object.

    with Sandbox(size="small", seed=1) as sb:
        JIRA(sb.jira_url, basic_auth=(sb.jira_email, sb.jira_token))
        Github(base_url=sb.github_url, auth=Auth.Token(sb.github_token))

- ``jira_url``: the site's base URL (what the ``jira`` library and a Jira config take);
- ``github_url``: the REST API base, ``http://127.0.0.1:PORT/api/v3`` (what PyGithub's
  ``base_url`` and a GitHub Enterprise config take);
- ``jira_token`` is the API token on Cloud and the personal access token on Data Center
  (``jira_deployment="datacenter"``), where it is sent as ``Authorization: Bearer``;
- ``evolve_rate`` (changes per minute, per service) starts a background thread that applies
  changes through the servers, so they never race a request;
- ``faults`` applies to both servers (each gets its own copy; change them at run time through
  ``jira_server.faults`` / ``github_server.faults`` or ``POST /_sandbox/faults``).

The GitHub half comes from ``syncd.sandbox.github``; if that package cannot be imported the
sandbox runs Jira alone and ``github_service`` is ``None``.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

from syncd.sandbox.http import Faults, SandboxServer
from syncd.sandbox.jira import JiraService
from syncd.sandbox.jira.service import Deployment
from syncd.sandbox.sizes import SIZES, SandboxSize

log = logging.getLogger(__name__)

try:
    from syncd.sandbox.github.service import GitHubService
except ImportError:  # pragma: no cover - only while the GitHub half is being written
    GitHubService = None  # type: ignore[assignment,misc]


class Sandbox:
    def __init__(
        self,
        size: str | SandboxSize = "small",
        seed: int = 1,
        jira_port: int = 0,
        github_port: int = 0,
        faults: Faults | None = None,
        evolve_rate: float | None = None,
        jira_deployment: Deployment = "cloud",
        host: str = "127.0.0.1",
    ) -> None:
        self.size = SIZES[size] if isinstance(size, str) else size
        self.seed = seed
        self.evolve_rate = evolve_rate
        self.jira_deployment = jira_deployment
        self.jira_service = JiraService(self.size, seed, deployment=jira_deployment)
        self.jira_server = SandboxServer(
            self.jira_service, host=host, port=jira_port, faults=_copy(faults)
        )
        self.github_service: Any = None
        self.github_server: SandboxServer | None = None
        if GitHubService is not None:
            self.github_service = GitHubService(self.size, seed)
            self.github_server = SandboxServer(
                self.github_service, host=host, port=github_port, faults=_copy(faults)
            )
        self._stop = threading.Event()
        self._evolver: threading.Thread | None = None
        self.evolved: dict[str, dict[str, int]] = {"jira": {}, "github": {}}

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Sandbox:
        self.jira_server.start()
        if self.github_server is not None:
            self.github_server.start()
        if self.evolve_rate and self._evolver is None:
            self._stop.clear()
            self._evolver = threading.Thread(
                target=self._evolve_loop, name="sandbox-evolve", daemon=True
            )
            self._evolver.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._evolver is not None:
            self._evolver.join(timeout=5)
            self._evolver = None
        self.jira_server.stop()
        if self.github_server is not None:
            self.github_server.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _evolve_loop(self) -> None:
        """Apply ``evolve_rate`` changes per minute to each service, once a second."""
        assert self.evolve_rate
        owed = 0.0
        while not self._stop.wait(1.0):
            owed += self.evolve_rate / 60.0
            batch = int(owed)
            if batch <= 0:
                continue
            owed -= batch
            for name, server in (("jira", self.jira_server), ("github", self.github_server)):
                if server is None:
                    continue
                try:
                    applied = server.evolve(batch)
                except Exception:  # keep evolving the other service; the bug must show in logs
                    log.exception("sandbox: evolving %s failed", name)
                    continue
                totals = self.evolved[name]
                for kind, count in applied.items():
                    totals[kind] = totals.get(kind, 0) + count

    # -- what clients need -----------------------------------------------------------------

    @property
    def jira_url(self) -> str:
        return self.jira_server.url

    @property
    def github_url(self) -> str:
        return f"{self.github_server.url}/api/v3" if self.github_server else ""

    @property
    def jira_email(self) -> str:
        return self.jira_service.email

    @property
    def jira_token(self) -> str:
        if self.jira_deployment == "datacenter":
            return self.jira_service.personal_access_token
        return self.jira_service.api_token

    @property
    def github_token(self) -> str:
        return str(self.github_service.token) if self.github_service is not None else ""

    def describe(self) -> str:
        """What a person needs to point a client (or syncd) at the sandbox."""
        jira_kind = "Jira Cloud" if self.jira_deployment == "cloud" else "Jira Data Center"
        lines = [
            f"syncd sandbox — size {self.size.name}, seed {self.seed}",
            "",
            f"{jira_kind}: {self.jira_url}",
        ]
        if self.jira_deployment == "cloud":
            lines += [
                f"  email:      {self.jira_email}",
                f"  API token:  {self.jira_token}",
                "  auth:       Basic email:token",
            ]
        else:
            lines += [
                f"  personal access token: {self.jira_token}",
                "  auth:       Authorization: Bearer <token>",
            ]
        lines.append(f"  projects:   {', '.join(self.size.jira_projects)}")
        if self.github_server is not None:
            lines += [
                "",
                f"GitHub (REST, Enterprise-style base URL): {self.github_url}",
                f"  token:      {self.github_token}",
                f"  repos:      {', '.join(self.size.github_repos)}",
            ]
        else:
            lines += ["", "GitHub: not available (syncd.sandbox.github is not installed)"]
        lines += [
            "",
            "Control (on each server): GET/POST /_sandbox/faults, POST /_sandbox/evolve "
            '{"changes": N}, GET /_sandbox/requests, POST /_sandbox/requests/reset',
        ]
        if self.evolve_rate:
            lines.append(f"Evolving: {self.evolve_rate:g} changes per minute per service")
        faults = self.jira_server.faults
        if faults != Faults(seed=faults.seed):
            lines.append(f"Faults: {faults.to_dict()}")
        return "\n".join(lines)


def _copy(faults: Faults | None) -> Faults:
    return dataclasses.replace(faults) if faults is not None else Faults()
