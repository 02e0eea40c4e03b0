"""Configuration of one Jira source (Cloud or Data Center)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from connectors.base import SourceConfig
from syncd.durations import Duration

_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,254}$")
_FIELD_ID = re.compile(r"^(customfield_\d+|[a-z][A-Za-z0-9_]*)$")


class JiraSourceConfig(SourceConfig):
    """A Jira site and the projects to sync from it.

    Authentication follows the deployment: Jira Cloud takes an account email plus an API
    token (HTTP Basic); Data Center takes a personal access token alone (Bearer). With
    ``deployment = "auto"`` the presence of ``email`` decides the scheme and the server's
    ``serverInfo`` decides which search API is used.
    """

    kind: Literal["jira"] = "jira"
    email: str | None = None
    projects: list[str] = Field(min_length=1)
    deployment: Literal["auto", "cloud", "datacenter"] = "auto"

    # Custom field ids differ between instances; by default they are found by name/type in
    # /rest/api/2/field. Set one here when discovery picks the wrong field.
    story_points_field: str | None = None
    sprint_field: str | None = None
    epic_link_field: str | None = None

    # JQL dates are read in the Jira user's time zone (from /myself); override only when the
    # account has none set.
    time_zone: str | None = None

    # Look-back subtracted from the stored watermark: covers JQL's minute granularity, clock
    # skew and Jira Cloud's search index lag (search is eventually consistent).
    overlap: Duration = Field(default="5m", validate_default=True)
    # How often issue ids are listed to find deleted issues (also on every full sync).
    reconcile_every: Duration = Field(default="6h", validate_default=True)
    # How often project details, versions, boards/sprints and field ids are re-read.
    refresh_every: Duration = Field(default="30m", validate_default=True)

    # Issues per search page; by default the most each deployment serves with fields and
    # changelogs: 100 on Cloud's search/jql, 1000 on Data Center's search.
    page_size: int | None = Field(default=None, ge=1, le=1000)
    id_page_size: int = Field(default=1000, ge=1, le=5000)  # ids per reconciliation page
    changelog_page_size: int = Field(default=100, ge=1, le=1000)

    # Jira Cloud addresses belong to verified Atlassian accounts; Data Center directories are
    # maintained by administrators. Either way syncd treats them as the person's address.
    trust_emails: bool = True

    @field_validator("projects")
    @classmethod
    def _project_keys(cls, value: list[str]) -> list[str]:
        keys = []
        for raw in value:
            key = raw.strip().upper()
            if not _PROJECT_KEY.match(key):
                raise ValueError(
                    f"{raw!r} is not a Jira project key (letters, digits and _, starting "
                    "with a letter, e.g. PROJ)"
                )
            if key not in keys:
                keys.append(key)
        return keys

    @field_validator("story_points_field", "sprint_field", "epic_link_field")
    @classmethod
    def _field_id(cls, value: str | None) -> str | None:
        if value is not None and not _FIELD_ID.match(value):
            raise ValueError(f"{value!r} is not a Jira field id such as customfield_10016")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
        return value

    @field_validator("overlap")
    @classmethod
    def _overlap(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("must be at least 1m: JQL dates have minute granularity")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> JiraSourceConfig:
        if self.token is None and self.token_env is None:
            raise ValueError(
                "a Jira source needs token (or token_env): an API token with email for "
                "Jira Cloud, a personal access token for Data Center"
            )
        if self.deployment == "cloud" and not self.email:
            raise ValueError("Jira Cloud authenticates with email + API token: set email")
        return self
