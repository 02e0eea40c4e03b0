"""Endpoint handlers of the simulated Jira: one function per route, no routing or auth.

Paging behaviour, per endpoint, from the Jira REST references:

- ``search/jql`` (Cloud): ``nextPageToken`` + ``isLast``, no ``total``; ``maxResults``
  defaults to 50 and is capped silently at 100, or 5000 when only ``id``/``key`` are asked
  for; ``fields`` defaults to ``id`` only; an embedded changelog holds at most the 40 most
  recent histories (Atlassian's enhanced-search migration notes; faros-ai/airbyte-connectors
  #2003); a query without any restriction is refused ("Unbounded JQL queries...").
- ``search`` (legacy): Cloud answers 410 Gone since CHANGE-2046; Data Center pages with
  ``startAt``/``maxResults``/``total``, caps ``maxResults`` at 1000, defaults ``fields`` to
  ``*navigable`` and embeds complete changelogs.
- ``issue/{key}``: ``fields`` defaults to ``*all``; an embedded changelog is capped at the 100
  most recent histories on Cloud (pycontribs/jira#911).
- ``issue/{key}/changelog`` (Cloud only): ``startAt``/``maxResults`` (max 100), oldest first.
- ``changelog/bulkfetch`` (Cloud only): up to 1000 issues and 10 field ids, histories sorted
  by date then issue id, ``nextPageToken``.
- agile ``board`` / ``board/{id}/sprint``: ``startAt``/``maxResults`` (max 50), ``isLast``;
  the sprint list has no ``total``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from syncd.sandbox.http import Request, Response
from syncd.sandbox.jira import jql
from syncd.sandbox.jira.data import JiraData
from syncd.sandbox.jira.model import (
    ISSUE_TYPES,
    LINK_TYPES,
    PRIORITIES,
    RESOLUTIONS,
    STATUS_CATEGORIES,
    STATUSES,
    ChangeItem,
    History,
    Issue,
    Project,
)
from syncd.sandbox.jira.render import FieldSelection, Renderer

SEARCH_JQL_DEFAULT = 50
SEARCH_JQL_MAX = 100
SEARCH_JQL_MAX_IDS = 5000
SEARCH_JQL_CHANGELOG_CAP = 40
ISSUE_CHANGELOG_CAP = 100
LEGACY_SEARCH_MAX = 1000
CHANGELOG_PAGE_MAX = 100
BULKFETCH_MAX_ISSUES = 1000
BULKFETCH_MAX_FIELDS = 10
BULKFETCH_DEFAULT = 1000
BULKFETCH_MAX = 10000
AGILE_MAX = 50

REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)


def error(status: int, *messages: str, errors: dict[str, str] | None = None) -> Response:
    """Jira's error shape: ``{"errorMessages": [...], "errors": {...}}``."""
    return Response.json({"errorMessages": list(messages), "errors": errors or {}}, status=status)


class HandlerError(Exception):
    """Raised by a handler to answer with Jira's error shape."""

    status = 400

    def __init__(self, *messages: str, errors: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(messages))
        self.response = error(self.status, *messages, errors=errors)


class BadRequest(HandlerError):
    status = 400


class NotFound(HandlerError):
    status = 404


@dataclass
class Context:
    """What a handler may use: the request, the data, a renderer and the service's caches."""

    request: Request
    data: JiraData
    render: Renderer
    cloud: bool
    now_ms: int
    search_cache: OrderedDict[tuple[str, int, int], list[int]]

    @property
    def tz(self) -> ZoneInfo:
        return self.render.tz

    def params(self) -> dict[str, Any]:
        """Query parameters, or the JSON body for POST (the POST searches take a body)."""
        if self.request.method == "POST":
            try:
                body = self.request.json()
            except ValueError as exc:
                raise BadRequest(
                    f"Invalid request payload. Refer to the REST API documentation and try again. ({exc})"
                ) from exc
            if body is None:
                return {}
            if not isinstance(body, dict):
                raise BadRequest(
                    "Invalid request payload. Refer to the REST API documentation and try again."
                )
            return body
        return {k: (v if len(v) > 1 else v[0]) for k, v in self.request.query.items()}

    def int_param(self, params: dict[str, Any], name: str, default: int) -> int:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise BadRequest(
                f"The value '{raw}' is not valid for the parameter '{name}'."
            ) from None

    def run_query(self, text: str) -> list[Issue]:
        """Parse and run ``text``; results are cached per data revision, so paging through a
        large result does not re-filter every issue on every page."""
        # Keyed by minute too: relative dates ("-5d") move with the clock.
        key = (text, self.data.revision, self.now_ms // 60_000)
        ids = self.search_cache.get(key)
        if ids is None:
            try:
                query = jql.parse(text, self.data, self.tz, self.now_ms)
            except jql.JqlError as exc:
                raise BadRequest(*exc.messages) from None
            ids = [i.id for i in query.run(self.data)]
            self.search_cache[key] = ids
            while len(self.search_cache) > 16:
                self.search_cache.popitem(last=False)
        else:
            self.search_cache.move_to_end(key)
        return [self.data.issues[i] for i in ids if i in self.data.issues]


def _list_param(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _expand(value: Any) -> set[str]:
    out: set[str] = set()
    for part in _list_param(value) or []:
        out |= {p.strip() for p in part.split(",") if p.strip()}
    return out


def _token(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _untoken(token: str) -> dict[str, Any] | None:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _fingerprint(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:16]


# --- server / user / catalogues -------------------------------------------------------------


def server_info(ctx: Context, m: re.Match[str]) -> Response:
    build: dict[str, Any] = {
        "baseUrl": ctx.request.base_url,
        "displayUrl": ctx.request.base_url,
        "serverTitle": "Acme Jira (syncd sandbox)",
        "serverTime": ctx.render.dt(ctx.now_ms),
    }
    if ctx.cloud:
        build.update(
            version="1001.0.0-SNAPSHOT",
            versionNumbers=[1001, 0, 0],
            deploymentType="Cloud",
            buildNumber=100280,
            buildDate="2026-01-01T00:00:00.000+0000",
            scmInfo="0f7c0a0b0c0d0e0f",
            defaultLocale={"locale": "en_US"},
            serverTimeZone="Etc/UTC",
        )
    else:
        build.update(
            version="9.12.15",
            versionNumbers=[9, 12, 15],
            deploymentType="Server",  # Data Center reports "Server" here
            buildNumber=9120015,
            buildDate="2024-10-01T00:00:00.000+0000",
            scmInfo="a1b2c3d4e5f6",
            serverTitle="Acme Jira DC (syncd sandbox)",
        )
    return Response.json(build)


def myself(ctx: Context, m: re.Match[str]) -> Response:
    return Response.json(ctx.render.myself())


def user(ctx: Context, m: re.Match[str]) -> Response:
    q = ctx.request
    wanted = q.arg("accountId") if ctx.cloud else (q.arg("key") or q.arg("username"))
    if not wanted:
        return error(
            400,
            "The query parameter 'accountId' is required."
            if ctx.cloud
            else "Either the 'username' or the 'key' query parameters need to be provided",
        )
    for u in ctx.data.users:
        if wanted in ((u.account_id,) if ctx.cloud else (u.key, u.name)):
            return Response.json(ctx.render.user(u.index))
    return error(404, "Specified user does not exist or you do not have access to it.")


def fields(ctx: Context, m: re.Match[str]) -> Response:
    return Response.json(ctx.render.field_catalogue())


def statuses(ctx: Context, m: re.Match[str]) -> Response:
    return Response.json([ctx.render.status(n) for n in STATUSES])


def status_categories(ctx: Context, m: re.Match[str]) -> Response:
    return Response.json([ctx.render.status_category(c) for c in STATUS_CATEGORIES])


def priorities(ctx: Context, m: re.Match[str]) -> Response:
    return Response.json([ctx.render.priority(n) for n in PRIORITIES])


def issue_types(ctx: Context, m: re.Match[str]) -> Response:
    return Response.json([ctx.render.issuetype(n) for n in ISSUE_TYPES])


def resolutions(ctx: Context, m: re.Match[str]) -> Response:
    return Response.json([ctx.render.resolution(n) for n in RESOLUTIONS])


def link_types(ctx: Context, m: re.Match[str]) -> Response:
    return Response.json({"issueLinkTypes": [ctx.render.link_type(n) for n in LINK_TYPES]})


# --- projects and versions -------------------------------------------------------------------


def projects(ctx: Context, m: re.Match[str]) -> Response:
    expand = _expand(ctx.request.arg("expand"))
    return Response.json([ctx.render.project(p, expand) for p in ctx.data.projects.values()])


def project_search(ctx: Context, m: re.Match[str]) -> Response:
    params = ctx.params()
    start = max(0, ctx.int_param(params, "startAt", 0))
    size = min(max(1, ctx.int_param(params, "maxResults", 50)), 50)
    expand = _expand(params.get("expand"))
    wanted_keys = {k.upper() for k in _list_param(params.get("keys")) or []}
    query = str(params.get("query") or "").lower()
    items = [
        p
        for p in ctx.data.projects.values()
        if (not wanted_keys or p.key in wanted_keys)
        and (not query or query in p.key.lower() or query in p.name.lower())
    ]
    page = items[start : start + size]
    url = f"{ctx.render.rest}/project/search"
    body: dict[str, Any] = {
        "self": f"{url}?startAt={start}&maxResults={size}",
        "maxResults": size,
        "startAt": start,
        "total": len(items),
        "isLast": start + size >= len(items),
        "values": [ctx.render.project(p, expand) for p in page],
    }
    if not body["isLast"]:
        body["nextPage"] = f"{url}?startAt={start + size}&maxResults={size}"
    return Response.json(body)


def _project(ctx: Context, key: str) -> Project:
    project = ctx.data.find_project(key)
    if project is None:
        raise NotFound(f"No project could be found with key '{key}'.")
    return project


def project(ctx: Context, m: re.Match[str]) -> Response:
    return Response.json(ctx.render.project_full(_project(ctx, m["p"])))


def project_versions(ctx: Context, m: re.Match[str]) -> Response:
    found = _project(ctx, m["p"])
    return Response.json([ctx.render.version(v) for v in ctx.data.versions_of(found)])


def project_versions_paged(ctx: Context, m: re.Match[str]) -> Response:
    found = _project(ctx, m["p"])
    params = ctx.params()
    start = max(0, ctx.int_param(params, "startAt", 0))
    size = min(max(1, ctx.int_param(params, "maxResults", 50)), 50)
    versions = ctx.data.versions_of(found)
    url = f"{ctx.render.rest}/project/{found.key}/version"
    body: dict[str, Any] = {
        "self": f"{url}?maxResults={size}&startAt={start}",
        "maxResults": size,
        "startAt": start,
        "total": len(versions),
        "isLast": start + size >= len(versions),
        "values": [ctx.render.version(v) for v in versions[start : start + size]],
    }
    if not body["isLast"]:
        body["nextPage"] = f"{url}?maxResults={size}&startAt={start + size}"
    return Response.json(body)


# --- searches ---------------------------------------------------------------------------------


def search_removed(ctx: Context, m: re.Match[str]) -> Response:
    return error(410, REMOVED_SEARCH)


def search_jql(ctx: Context, m: re.Match[str]) -> Response:
    params = ctx.params()
    text = str(params.get("jql") or "")
    wanted = FieldSelection.parse(_list_param(params.get("fields")), default="id")
    expand = _expand(params.get("expand"))
    cap = SEARCH_JQL_MAX_IDS if wanted.only_ids_or_keys and not expand else SEARCH_JQL_MAX
    size = min(max(1, ctx.int_param(params, "maxResults", SEARCH_JQL_DEFAULT)), cap)
    try:
        query = jql.parse(text, ctx.data, ctx.tz, ctx.now_ms)
    except jql.JqlError as exc:
        return error(400, *exc.messages)
    if not query.bounded:
        return error(400, UNBOUNDED)
    fingerprint = _fingerprint(text)
    start = 0
    token = params.get("nextPageToken")
    if token:
        decoded = _untoken(str(token))
        if (
            decoded is None
            or decoded.get("q") != fingerprint
            or not isinstance(decoded.get("o"), int)
        ):
            return error(400, "The provided next page token is invalid or expired.")
        start = decoded["o"]
    issues = ctx.run_query(text)
    page = issues[start : start + size]
    body: dict[str, Any] = {
        "issues": [ctx.render.issue(i, wanted, expand, SEARCH_JQL_CHANGELOG_CAP) for i in page]
    }
    is_last = start + size >= len(issues)
    if not is_last:
        body["nextPageToken"] = _token({"o": start + size, "q": fingerprint})
    body["isLast"] = is_last
    _names_and_schema(ctx, body, expand)
    return Response.json(body)


def approximate_count(ctx: Context, m: re.Match[str]) -> Response:
    params = ctx.params()
    try:
        query = jql.parse(str(params.get("jql") or ""), ctx.data, ctx.tz, ctx.now_ms)
    except jql.JqlError as exc:
        return error(400, *exc.messages)
    if not query.bounded:
        return error(400, UNBOUNDED)
    return Response.json({"count": len(ctx.run_query(str(params.get("jql"))))})


def search_legacy(ctx: Context, m: re.Match[str]) -> Response:
    params = ctx.params()
    text = str(params.get("jql") or "")
    wanted = FieldSelection.parse(_list_param(params.get("fields")), default="*navigable")
    expand = _expand(params.get("expand"))
    start = max(0, ctx.int_param(params, "startAt", 0))
    size = min(max(0, ctx.int_param(params, "maxResults", 50)), LEGACY_SEARCH_MAX)
    issues = ctx.run_query(text)
    page = issues[start : start + size]
    as_full = FieldSelection(wanted.all, wanted.navigable, wanted.include, wanted.exclude, False)
    body: dict[str, Any] = {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": size,
        "total": len(issues),
        "issues": [ctx.render.issue(i, as_full, expand, None) for i in page],
    }
    _names_and_schema(ctx, body, expand)
    return Response.json(body)


def _names_and_schema(ctx: Context, body: dict[str, Any], expand: set[str]) -> None:
    if not expand & {"names", "schema"}:
        return
    present: set[str] = set()
    for issue in body["issues"]:
        present |= set(issue.get("fields", {}))
    catalogue = {e["id"]: e for e in ctx.render.field_catalogue()}
    if "names" in expand:
        body["names"] = {f: catalogue[f]["name"] for f in sorted(present) if f in catalogue}
    if "schema" in expand:
        body["schema"] = {f: catalogue[f]["schema"] for f in sorted(present) if f in catalogue}


# --- issues and changelogs --------------------------------------------------------------------

NO_ISSUE = "Issue does not exist or you do not have permission to see it."


def issue(ctx: Context, m: re.Match[str]) -> Response:
    found = ctx.data.find_issue(m["k"])
    if found is None:
        return error(404, NO_ISSUE)
    wanted = FieldSelection.parse(_list_param(ctx.request.query.get("fields")), default="*all")
    wanted = FieldSelection(wanted.all, wanted.navigable, wanted.include, wanted.exclude, False)
    expand = _expand(ctx.request.query.get("expand"))
    cap = ISSUE_CHANGELOG_CAP if ctx.cloud else None
    return Response.json(ctx.render.issue(found, wanted, expand, cap))


def issue_changelog(ctx: Context, m: re.Match[str]) -> Response:
    found = ctx.data.find_issue(m["k"])
    if found is None:
        return error(404, NO_ISSUE)
    params = ctx.params()
    start = max(0, ctx.int_param(params, "startAt", 0))
    size = min(max(1, ctx.int_param(params, "maxResults", CHANGELOG_PAGE_MAX)), CHANGELOG_PAGE_MAX)
    histories = found.history[start : start + size]
    url = f"{ctx.render.rest}/issue/{found.key}/changelog"
    is_last = start + size >= len(found.history)
    body: dict[str, Any] = {"self": f"{url}?maxResults={size}&startAt={start}"}
    if not is_last:
        body["nextPage"] = f"{url}?maxResults={size}&startAt={start + size}"
    body.update(
        maxResults=size,
        startAt=start,
        total=len(found.history),
        isLast=is_last,
        values=[ctx.render.history(h) for h in histories],
    )
    return Response.json(body)


def changelog_bulkfetch(ctx: Context, m: re.Match[str]) -> Response:
    params = ctx.params()
    ids_or_keys = _list_param(params.get("issueIdsOrKeys")) or []
    if not ids_or_keys:
        return error(400, "issueIdsOrKeys must not be empty.")
    if len(ids_or_keys) > BULKFETCH_MAX_ISSUES:
        return error(400, f"The number of issueIdsOrKeys must not exceed {BULKFETCH_MAX_ISSUES}.")
    field_ids = _list_param(params.get("fieldIds")) or []
    if len(field_ids) > BULKFETCH_MAX_FIELDS:
        return error(400, f"The number of fieldIds must not exceed {BULKFETCH_MAX_FIELDS}.")
    size = min(max(1, ctx.int_param(params, "maxResults", BULKFETCH_DEFAULT)), BULKFETCH_MAX)
    fingerprint = _fingerprint(",".join(ids_or_keys), ",".join(field_ids))
    start = 0
    if params.get("nextPageToken"):
        decoded = _untoken(str(params["nextPageToken"]))
        if (
            decoded is None
            or decoded.get("q") != fingerprint
            or not isinstance(decoded.get("o"), int)
        ):
            return error(400, "The provided next page token is invalid or expired.")
        start = decoded["o"]
    seen: set[int] = set()
    issues = []
    for value in ids_or_keys:
        found = ctx.data.find_issue(value)
        if found is not None and found.id not in seen:
            seen.add(found.id)
            issues.append(found)
    wanted_fields = set(field_ids)

    def matches(item: ChangeItem) -> bool:
        name, field_id = ctx.render.item_field(item)
        return field_id in wanted_fields or name in wanted_fields

    # Sort and page the raw histories; render only the page.
    entries: list[tuple[int, int, History]] = []
    for found in issues:
        for h in found.history:
            if wanted_fields:
                kept = tuple(i for i in h.items if matches(i))
                if not kept:
                    continue
                h = h._replace(items=kept)
            entries.append((h.created, found.id, h))
    entries.sort(key=lambda e: (e[0], e[1]))
    page = [(issue_id, ctx.render.history(h)) for _, issue_id, h in entries[start : start + size]]
    grouped: list[dict[str, Any]] = []
    for issue_id, rendered in page:
        if grouped and grouped[-1]["issueId"] == str(issue_id):
            grouped[-1]["changeHistories"].append(rendered)
        else:
            grouped.append({"issueId": str(issue_id), "changeHistories": [rendered]})
    body: dict[str, Any] = {"issueChangeLogs": grouped}
    if start + size < len(entries):
        body["nextPageToken"] = _token({"o": start + size, "q": fingerprint})
    return Response.json(body)


# --- agile ------------------------------------------------------------------------------------


def _agile_page(
    ctx: Context, items: list[Any], render: Callable[[Any], Any], total: bool
) -> Response:
    params = ctx.params()
    start = max(0, ctx.int_param(params, "startAt", 0))
    size = min(max(1, ctx.int_param(params, "maxResults", AGILE_MAX)), AGILE_MAX)
    page = items[start : start + size]
    body: dict[str, Any] = {"maxResults": size, "startAt": start}
    if total:
        body["total"] = len(items)
    body["isLast"] = start + size >= len(items)
    body["values"] = [render(i) for i in page]
    return Response.json(body)


def boards(ctx: Context, m: re.Match[str]) -> Response:
    q = ctx.request
    items = list(ctx.data.boards.values())
    if q.arg("type"):
        items = [b for b in items if b.type == q.arg("type")]
    if q.arg("name"):
        items = [b for b in items if str(q.arg("name")).lower() in b.name.lower()]
    if q.arg("projectKeyOrId"):
        wanted = ctx.data.find_project(str(q.arg("projectKeyOrId")))
        items = [b for b in items if wanted is not None and b.project_key == wanted.key]
    return _agile_page(ctx, items, lambda b: _board(ctx, b), total=True)


def _board(ctx: Context, b: Any) -> dict[str, Any]:
    project = ctx.data.projects[b.project_key]
    return {
        "id": b.id,
        "self": f"{ctx.request.base_url}/rest/agile/1.0/board/{b.id}",
        "name": b.name,
        "type": b.type,
        "location": {
            "projectId": project.id,
            "displayName": f"{project.name} ({project.key})",
            "projectName": project.name,
            "projectKey": project.key,
            "projectTypeKey": "software",
            "name": f"{project.name} ({project.key})",
        },
    }


def board(ctx: Context, m: re.Match[str]) -> Response:
    found = ctx.data.boards.get(int(m["b"]))
    if found is None:
        return error(
            404,
            "The requested board cannot be viewed because it either does not exist or you do not have permission to view it.",
        )
    return Response.json(_board(ctx, found))


def board_sprints(ctx: Context, m: re.Match[str]) -> Response:
    found = ctx.data.boards.get(int(m["b"]))
    if found is None:
        return error(
            404,
            "The requested board cannot be viewed because it either does not exist or you do not have permission to view it.",
        )
    states = {
        s.strip().lower() for s in str(ctx.request.arg("state") or "").split(",") if s.strip()
    }
    if states - {"future", "active", "closed"}:
        return error(400, f"The following sprint states are invalid: {', '.join(sorted(states))}")
    items = sorted(ctx.data.sprints_of(found.id), key=lambda s: s.sequence)
    if states:
        items = [s for s in items if s.state in states]
    return _agile_page(ctx, items, ctx.render.sprint, total=False)


def sprint(ctx: Context, m: re.Match[str]) -> Response:
    found = ctx.data.sprints.get(int(m["s"]))
    if found is None:
        return error(404, "Sprint does not exist or you do not have permission to view it.")
    return Response.json(ctx.render.sprint(found))
