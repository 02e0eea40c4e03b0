"""The ``[people]`` section: who is who across Jira and GitHub, where e-mail cannot tell.

Accounts whose verified e-mail addresses match are one person without any configuration.
This section adds what e-mail cannot know: a GitHub login that shows no public e-mail, a
Jira account whose address is hidden, a person with different addresses in each tool.
Each entry maps a Jira account (its account id, Data Center user name, or e-mail address)
to one GitHub login or a list of them::

    [people]
    "noah.williams@acme.example" = "zz-top-dev"
    "5b10ac8d82e05b22cc7d4ef5" = ["lina-dev", "lina-dev-alt"]
    "helen.carter@acme.example" = []          # a person with no GitHub account
    "jane@acme.example" = ["github:janedoe"]  # a "github:" prefix is accepted too

A GitHub login may belong to one person only; the file is rejected otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, RootModel, field_validator, model_validator

_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")


def _strip_prefix(value: Any) -> Any:
    """``"github:janedoe"`` is accepted for ``"janedoe"`` (the login is a GitHub one)."""

    def one(login: Any) -> Any:
        if isinstance(login, str) and login.lower().startswith("github:"):
            return login[len("github:") :]
        return login

    return [one(v) for v in value] if isinstance(value, list) else one(value)


class PersonLink(BaseModel):
    """One entry: a Jira side and the GitHub logins that are the same person."""

    model_config = ConfigDict(frozen=True)

    jira: str  # account id, Data Center user name, or e-mail
    github: tuple[str, ...]

    @property
    def jira_is_email(self) -> bool:
        return "@" in self.jira


class PeopleConfig(RootModel[dict[str, str | list[str]]]):
    """``[people]``: Jira account or e-mail -> GitHub login(s)."""

    root: dict[str, str | list[str]] = {}

    @field_validator("root", mode="before")
    @classmethod
    def _table(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValueError(
                "must be a table of Jira account or e-mail = GitHub login, e.g. "
                '"noah.williams@acme.example" = "zz-top-dev"'
            )
        return {str(k): _strip_prefix(v) for k, v in value.items()}

    @model_validator(mode="after")
    def _logins(self) -> PeopleConfig:
        owner: dict[str, str] = {}
        for jira, github in self.root.items():
            if not jira.strip():
                raise ValueError("an entry has an empty Jira account / e-mail")
            for login in [github] if isinstance(github, str) else github:
                if not _LOGIN.match(login):
                    raise ValueError(f"{jira!r}: {login!r} is not a GitHub login")
                previous = owner.setdefault(login.lower(), jira)
                if previous != jira:
                    raise ValueError(
                        f"GitHub login {login!r} is mapped to both {previous!r} and {jira!r}"
                    )
        return self

    def links(self) -> list[PersonLink]:
        out = []
        for jira, github in sorted(self.root.items()):
            logins = (github,) if isinstance(github, str) else tuple(github)
            out.append(PersonLink(jira=jira.strip(), github=logins))
        return out


def people_config(value: PeopleConfig | Mapping[str, Any] | None) -> PeopleConfig:
    """Accepts the validated model, the raw ``[people]`` table, or nothing."""
    if isinstance(value, PeopleConfig):
        return value
    return PeopleConfig.model_validate(value or {})
