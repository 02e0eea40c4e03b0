"""GitHub App authentication against the simulated GitHub: JWT -> installation token, with
PyGithub's own App support and with raw requests for the refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github, GithubException, GithubIntegration

from syncd.sandbox.github.service import GitHubService
from syncd.sandbox.http import SandboxServer
from syncd.sandbox.sizes import SIZES


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[SandboxServer, GitHubService, Clock]]:
    clock = Clock()
    service = GitHubService(SIZES["small"], seed=2, now=1_750_000_000, clock=clock)
    with SandboxServer(service) as server:
        yield server, service, clock


def test_pygithub_app_installation_auth(
    sandbox: tuple[SandboxServer, GitHubService, Clock],
) -> None:
    server, service, _ = sandbox
    creds = service.app_credentials()
    app_auth = Auth.AppAuth(creds.app_id, creds.private_key_pem)
    base = f"{server.url}/api/v3"
    integration = GithubIntegration(auth=app_auth, base_url=base)
    assert integration.get_app().slug == "syncd-sandbox"
    assert [i.id for i in integration.get_installations()] == [creds.installation_id]
    assert integration.get_repo_installation("acme", "api").id == creds.installation_id
    minted = integration.get_access_token(creds.installation_id)
    assert minted.token.startswith("ghs_")
    assert minted.expires_at.timestamp() == pytest.approx(time.time() + 3600, abs=5)

    # PyGithub mints and renews the installation token itself.
    gh = Github(
        auth=app_auth.get_installation_auth(creds.installation_id),
        base_url=base,
        retry=None,
        seconds_between_requests=0,
    )
    repo = gh.get_repo("acme/web")
    assert repo.get_pulls(state="all").totalCount == len(service.data.repos["acme/web"].pulls)
    # An installation acts as the App, not as a user.
    with pytest.raises(GithubException) as refused:
        gh.get_user().login  # noqa: B018
    assert refused.value.status == 403


def test_installation_token_has_its_own_rate_limit_and_expires(
    sandbox: tuple[SandboxServer, GitHubService, Clock],
) -> None:
    server, service, clock = sandbox
    creds = service.app_credentials()
    token, _ = service.app.mint(creds.installation_id)
    url = f"{server.url}/api/v3/repos/acme/api"
    as_app = {"Authorization": f"token {token}"}
    first = requests.get(url, headers=as_app)
    assert first.status_code == 200
    for _ in range(3):  # the user's requests do not touch the installation's budget
        requests.get(url, headers={"Authorization": f"token {GitHubService.TOKEN}"})
    second = requests.get(url, headers=as_app)
    used = int(second.headers["X-RateLimit-Used"])
    assert used == int(first.headers["X-RateLimit-Used"]) + 1
    repos = requests.get(
        f"{server.url}/api/v3/installation/repositories",
        headers={"Authorization": f"token {token}"},
    ).json()
    assert repos["total_count"] == len(service.data.repos)
    clock.offset = 3601
    try:
        expired = requests.get(url, headers={"Authorization": f"token {token}"})
        assert expired.status_code == 401
        assert expired.json()["message"] == "Bad credentials"
    finally:
        clock.offset = 0


def _jwt(private_key: object, **claims: int | str) -> str:
    now = int(time.time())
    payload: dict[str, int | str] = {"iat": now - 60, "exp": now + 300, "iss": "424242"}
    payload.update(claims)
    return jwt.encode(payload, private_key, algorithm="RS256")  # type: ignore[arg-type]


def test_bad_jwts_are_refused_with_github_messages(
    sandbox: tuple[SandboxServer, GitHubService, Clock],
) -> None:
    server, service, _ = sandbox
    key = serialization.load_pem_private_key(
        service.app_credentials().private_key_pem.encode(), password=None
    )
    url = f"{server.url}/api/v3/app/installations/{service.app_credentials().installation_id}"
    url += "/access_tokens"

    def post(token: str) -> requests.Response:
        return requests.post(url, headers={"Authorization": f"Bearer {token}"}, data=b"{}")

    assert post(_jwt(key)).status_code == 201
    now = int(time.time())
    too_far = post(_jwt(key, exp=now + 3600))
    assert too_far.status_code == 401
    assert too_far.json()["message"] == "'Expiration time' claim ('exp') is too far in the future"
    expired = post(_jwt(key, iat=now - 900, exp=now - 300))
    assert expired.status_code == 401
    assert expired.json()["message"].startswith("'Expiration time' claim ('exp') must be")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = post(_jwt(other_key))
    assert forged.status_code == 401
    assert forged.json()["message"] == "A JSON web token could not be decoded"
    # A personal token is not an App's JWT.
    pat = requests.post(url, headers={"Authorization": f"token {GitHubService.TOKEN}"})
    assert pat.status_code == 401
    wrong_installation = requests.post(
        url.replace(str(service.app_credentials().installation_id), "1"),
        headers={"Authorization": f"Bearer {_jwt(key)}"},
    )
    assert wrong_installation.status_code == 404
