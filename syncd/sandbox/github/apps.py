"""Endpoints of the GitHub App: authenticated with the App's JWT, not with a token.

``GET /app``, ``GET /app/installations[/{id}]``, ``GET /repos/{o}/{r}/installation``,
``GET /orgs/{org}/installation`` and ``POST /app/installations/{id}/access_tokens``, shaped
as docs.github.com "REST API endpoints for GitHub Apps" shows them.
"""

from __future__ import annotations

from typing import Any

from .app_auth import APP_ID, APP_SLUG, CLIENT_ID, INSTALLATION_ID, PERMISSIONS
from .errors import DOCS, not_found
from .handlers import Ctx, Reply, find_repo
from .model import User
from .render import iso

_APPS_DOCS = f"{DOCS}/apps/apps"


def _owner(ctx: Ctx) -> User:
    # Installed on the organization that owns the sandbox's repositories.
    return next(iter(ctx.data.repos.values())).owner


def _installation(ctx: Ctx) -> dict[str, Any]:
    owner = _owner(ctx)
    api = ctx.render.urls.api
    created = iso(ctx.data.now - 200 * 86400)
    return {
        "id": INSTALLATION_ID,
        "client_id": CLIENT_ID,
        "account": ctx.render.user(owner),
        "repository_selection": "all",
        "access_tokens_url": f"{api}/app/installations/{INSTALLATION_ID}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"{ctx.render.urls.web}/organizations/{owner.login}/settings/installations/"
        f"{INSTALLATION_ID}",
        "app_id": APP_ID,
        "app_slug": APP_SLUG,
        "target_id": owner.id,
        "target_type": owner.type,
        "permissions": dict(PERMISSIONS),
        "events": [],
        "created_at": created,
        "updated_at": created,
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def get_app(ctx: Ctx) -> Reply:
    owner = _owner(ctx)
    created = iso(ctx.data.now - 300 * 86400)
    return Reply(
        {
            "id": APP_ID,
            "slug": APP_SLUG,
            "node_id": f"A_kwDO{APP_ID:08X}",
            "client_id": CLIENT_ID,
            "owner": ctx.render.user(owner),
            "name": "syncd sandbox",
            "description": "Reads issues, pull requests and commits for syncd.",
            "external_url": ctx.render.urls.web,
            "html_url": f"{ctx.render.urls.web}/apps/{APP_SLUG}",
            "created_at": created,
            "updated_at": created,
            "permissions": dict(PERMISSIONS),
            "events": [],
            "installations_count": 1,
        }
    )


def list_installations(ctx: Ctx) -> Reply:
    return Reply([_installation(ctx)])


def get_installation(ctx: Ctx, installation_id: str) -> Reply:
    if installation_id != str(INSTALLATION_ID):
        raise not_found(f"{_APPS_DOCS}#get-an-installation-for-the-authenticated-app")
    return Reply(_installation(ctx))


def repo_installation(ctx: Ctx, o: str, r: str) -> Reply:
    find_repo(ctx.data, o, r)
    return Reply(_installation(ctx))


def org_installation(ctx: Ctx, org: str) -> Reply:
    if org.lower() != _owner(ctx).login.lower():
        raise not_found(f"{_APPS_DOCS}#get-an-organization-installation-for-the-authenticated-app")
    return Reply(_installation(ctx))


def create_access_token(ctx: Ctx, installation_id: str) -> Reply:
    try:
        wanted = int(installation_id)
    except ValueError as exc:
        raise not_found(f"{_APPS_DOCS}#create-an-installation-access-token-for-an-app") from exc
    token, expires = ctx.app.mint(wanted)
    return Reply(
        {
            "token": token,
            "expires_at": iso(int(expires)),
            "permissions": dict(PERMISSIONS),
            "repository_selection": "all",
        },
        status=201,
    )
