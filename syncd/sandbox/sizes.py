"""Named sandbox sizes. Both simulated services read these, so GitHub's texts can mention
Jira keys that exist (and some that don't) without either service importing the other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxSize:
    name: str
    jira_projects: tuple[str, ...]  # project keys
    issues_per_project: int
    github_repos: tuple[str, ...]  # "owner/repo"
    prs_per_repo: int
    commits_per_repo: int

    def jira_issue_keys(self, project: str) -> range:
        """Issue numbers that exist at generation time: PROJ-1 .. PROJ-N."""
        return range(1, self.issues_per_project + 1)


SIZES: dict[str, SandboxSize] = {
    "small": SandboxSize("small", ("PROJ", "OPS"), 150, ("acme/api", "acme/web"), 80, 400),
    "medium": SandboxSize(
        "medium", ("PROJ", "OPS", "MOB"), 2000, ("acme/api", "acme/web", "acme/mobile"), 800, 5000
    ),
    "large": SandboxSize(
        "large",
        ("PROJ", "OPS", "MOB", "DATA", "INFRA"),
        20000,
        ("acme/api", "acme/web", "acme/mobile", "acme/data", "acme/infra"),
        5000,
        40000,
    ),
}
