"""Cross-tool links and one identity per person, derived from the store.

``refresh(engine, people)`` brings both up to date; call it after syncs (it only reads what
changed since its previous run) and after the ``[people]`` configuration changed.
``queries`` answers ``syncd status`` (dangling keys, link and people counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from syncd.link.config import PeopleConfig
from syncd.link.links import LinkReport, refresh_links
from syncd.link.people import PeopleReport, refresh_people


@dataclass
class RefreshReport:
    links: LinkReport
    people: PeopleReport


def refresh(
    engine: Engine,
    people: PeopleConfig | Mapping[str, Any] | None = None,
    *,
    full: bool = False,
) -> RefreshReport:
    """Re-derive links (incrementally unless ``full``) and people (always all accounts)."""
    return RefreshReport(
        links=refresh_links(engine, full=full), people=refresh_people(engine, people)
    )


__all__ = ["PeopleConfig", "RefreshReport", "refresh"]
