"""Deterministic issue texts, with the awkward strings real trackers hold.

Summaries and descriptions are untrusted input for syncd: reports render them as HTML,
Slack messages and JSON. So a share of them carry what breaks naive code: markup and script
tags, entities, emoji (astral code points), combining characters, right-to-left text, CJK,
the 255-character maximum Jira allows for a summary, and descriptions of tens of kilobytes.

Descriptions are not stored: ``description(seed, issue_id)`` regenerates the same text on
demand, which keeps the ``large`` size in memory.
"""

from __future__ import annotations

import random
from typing import Any

_AREAS = (
    "login", "checkout", "search", "billing", "export", "notifications", "onboarding",
    "dashboard", "API gateway", "rate limiter", "audit log", "SSO", "webhooks", "reporting",
    "mobile sync", "CSV import", "permissions", "invoice PDF", "cache layer", "job scheduler",
)  # fmt: skip
_STORY = (
    "As a {role}, I can {action} in {area}",
    "Allow {role}s to {action} from {area}",
    "Support {action} in {area}",
    "{area}: let {role}s {action}",
)
_ROLES = ("admin", "project manager", "customer", "developer", "auditor", "guest")
_ACTIONS = (
    "filter by date", "export results", "undo changes", "see history", "bulk edit",
    "share a link", "subscribe to updates", "pin favourites", "set a due date",
)  # fmt: skip
_TASK = (
    "Upgrade {lib} in {area}",
    "Add metrics for {area}",
    "Document the {area} runbook",
    "Remove dead code from {area}",
    "Migrate {area} to {lib}",
)
_LIBS = ("PostgreSQL 16", "Python 3.12", "React 18", "OpenTelemetry", "Redis 7", "Kafka")
_BUG = (
    "{area} fails with 500 when {cond}",
    "Timeout in {area} when {cond}",
    "{area} shows wrong totals when {cond}",
    "Crash in {area} after {cond}",
)
_CONDS = (
    "the list is empty", "the user has no email", "two tabs are open", "DST ends",
    "the name contains an apostrophe", "the upload exceeds 2 GB", "the session expires",
)  # fmt: skip
_EPIC = ("{area} revamp", "{area} v2", "Self-service {area}", "{area} reliability")
_SPIKE = ("Spike: evaluate {lib} for {area}", "Investigate {area} latency")

# The awkward ones. Each is used as-is or with a suffix; none is longer than 255 characters
# except LONG_SUMMARY, which is exactly 255 (Jira's limit).
AWKWARD_SUMMARIES = (
    "<script>alert('xss')</script> in the {area} title",
    "Render <b>bold</b> & <i>italic</i> in {area} — &amp; entities &lt;ok&gt;",
    "🚀 Ship {area} before the launch 🎉🔥",
    "Ünïcödé: handle 日本語, Ελληνικά and emoji 👩‍💻 in {area}",
    "تحسين أداء {area} (right-to-left text)",
    "Cafe\u0301 vs Café: normalise combining accents in {area}",
    "\"Quoted\" 'names' and back\\slashes in {area}",
    "Zero\u200bwidth space and tab\tin {area}",
)
LONG_SUMMARY = ("Very long summary about the {area} that keeps going " * 10)[:255]


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    return options[rng.randrange(len(options))]


def summary(rng: random.Random, issue_type: str) -> str:
    """A summary for an issue of ``issue_type``; about 4% are awkward on purpose."""
    area = _pick(rng, _AREAS)
    roll = rng.random()
    if roll < 0.005:
        return LONG_SUMMARY.replace("{area}", area)[:255]
    if roll < 0.04:
        return _pick(rng, AWKWARD_SUMMARIES).format(area=area)
    templates = {
        "Epic": _EPIC,
        "Story": _STORY,
        "Task": _TASK,
        "Sub-task": _TASK,
        "Bug": _BUG,
        "Spike": _SPIKE,
    }[issue_type]
    return _pick(rng, templates).format(
        area=area,
        role=_pick(rng, _ROLES),
        action=_pick(rng, _ACTIONS),
        lib=_pick(rng, _LIBS),
        cond=_pick(rng, _CONDS),
    )


def description_paragraphs(seed: int, issue_id: int) -> list[str]:
    """The description of issue ``issue_id`` as paragraphs (empty list: no description)."""
    rng = random.Random(f"jira-description:{seed}:{issue_id}")
    roll = rng.random()
    if roll < 0.15:
        return []
    paragraphs = [
        f"Context: customers reported problems with {_pick(rng, _AREAS)}.",
        "Acceptance criteria:",
        f"* {_pick(rng, _ACTIONS)} works for every {_pick(rng, _ROLES)}",
        "* no regression in p95 latency",
    ]
    if roll < 0.2:
        paragraphs.append("Pasted from the support ticket: <img src=x onerror=alert(1)> 💥")
    if roll > 0.99:
        # Tens of kilobytes, like a pasted log.
        line = "2024-03-01T12:00:00Z ERROR worker-7 job failed: connection reset by peer"
        paragraphs.append("\n".join(f"{line} #{i}" for i in range(400)))
    return paragraphs


def description_wiki(paragraphs: list[str]) -> str | None:
    """API v2 renders descriptions as wiki markup text (null when empty)."""
    return "\n\n".join(paragraphs) if paragraphs else None


def description_adf(paragraphs: list[str]) -> dict[str, Any] | None:
    """API v3 renders descriptions as Atlassian Document Format (null when empty).

    ADF: a ``doc`` node (version 1) whose content is block nodes; bullet items are
    ``bulletList`` > ``listItem`` > ``paragraph``.
    (developer.atlassian.com/cloud/jira/platform/apis/document/structure/)"""
    if not paragraphs:
        return None
    content: list[dict[str, Any]] = []
    bullets: list[dict[str, Any]] = []

    def flush() -> None:
        if bullets:
            content.append({"type": "bulletList", "content": list(bullets)})
            bullets.clear()

    for text in paragraphs:
        if text.startswith("* "):
            bullets.append(
                {"type": "listItem", "content": [_adf_paragraph(text[2:])]},
            )
            continue
        flush()
        if "\n" in text:
            content.append(
                {"type": "codeBlock", "attrs": {}, "content": [{"type": "text", "text": text}]}
            )
        else:
            content.append(_adf_paragraph(text))
    flush()
    return {"type": "doc", "version": 1, "content": content}


def _adf_paragraph(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": text}]}


SPRINT_GOALS = (
    "",
    "Finish the checkout revamp",
    "Stabilise search 🔍",
    "Pay down tech debt & <b>fix</b> flaky tests",
    "",
)

LABELS = (
    "backend", "frontend", "tech-debt", "customer-reported", "security", "needs-triage",
    "performance", "ux",
)  # fmt: skip
