"""The GitHub client: conditional requests, Link paging, errors, rate limits, App tokens."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from responses import matchers

from connectors.github.config import GitHubSourceConfig
from syncd.errors import AuthError, ConfigError, RateLimited
from tests.unit.github.conftest import TOKEN, FakeTime, make_client, make_config

# PyGithub's connection names the port, so the mock must too.
API = "https://api.github.com:443"
MINT = "https://api.github.com/app/installations/77/access_tokens"


def test_conditional_get_sends_the_etag_and_a_304_has_no_data(
    mocked: responses.RequestsMock, client_and_runtime
) -> None:
    client, _ = client_and_runtime
    mocked.get(
        f"{API}/repos/acme/api",
        status=304,
        headers={"ETag": '"abc"', "X-RateLimit-Remaining": "4999", "X-RateLimit-Limit": "5000"},
        match=[matchers.header_matcher({"If-None-Match": '"abc"'})],
    )
    page = client.get("/repos/acme/api", etag='"abc"')
    assert page.not_modified and page.data is None and page.etag == '"abc"'
    sent = mocked.calls[0].request
    assert sent.headers["Authorization"] == f"token {TOKEN}"
    assert sent.headers["Accept"] == "application/vnd.github+json"


def test_pages_follow_the_link_header(mocked: responses.RequestsMock, client_and_runtime) -> None:
    client, _ = client_and_runtime
    next_url = f"{API}/repositories/500/issues?page=2&per_page=2"
    mocked.get(
        f"{API}/repos/acme/api/issues",
        json=[{"number": 1}, {"number": 2}],
        headers={"ETag": '"p1"', "Link": f'<{next_url}>; rel="next", <{next_url}>; rel="last"'},
        match=[matchers.query_param_matcher({"per_page": "2", "state": "all"})],
    )
    mocked.get(next_url, json=[{"number": 3}], headers={"ETag": '"p2"'})
    pages = list(client.pages("/repos/acme/api/issues", {"per_page": 2, "state": "all"}))
    assert [[i["number"] for i in page.data] for page in pages] == [[1, 2], [3]]
    assert pages[0].etag == '"p1"'


def test_enterprise_server_is_reached_under_api_v3(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    config = make_config(url="https://ghe.acme.example")
    assert config.url == "https://ghe.acme.example/api/v3"
    client, _ = make_client(fake_time, config)
    mocked.get("https://ghe.acme.example:443/api/v3/repos/acme/api", json={"id": 1})
    assert client.get("/repos/acme/api").data == {"id": 1}


@pytest.mark.parametrize(
    ("written", "api"),
    [
        ("https://github.com", "https://api.github.com"),
        ("https://api.github.com/", "https://api.github.com"),
        ("https://ghe.acme.example/", "https://ghe.acme.example/api/v3"),
        ("http://127.0.0.1:8080/api/v3", "http://127.0.0.1:8080/api/v3"),
        # GitHub Enterprise Cloud with data residency: an API host, no /api/v3
        ("https://octocorp.ghe.com", "https://api.octocorp.ghe.com"),
        ("https://octocorp.ghe.com/", "https://api.octocorp.ghe.com"),
        ("https://api.octocorp.ghe.com", "https://api.octocorp.ghe.com"),
        ("https://OctoCorp.GHE.com/api/v3", "https://api.octocorp.ghe.com"),
        ("https://octocorp.ghe.com/octocorp/api", "https://api.octocorp.ghe.com"),
    ],
)
def test_api_url_from_what_users_write(written: str, api: str) -> None:
    assert make_config(url=written).url == api


def test_data_residency_tenant_is_reached_at_its_api_host(
    mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    client, _ = make_client(fake_time, make_config(url="https://octocorp.ghe.com"))
    mocked.get("https://api.octocorp.ghe.com:443/repos/acme/api", json={"id": 1})
    assert client.get("/repos/acme/api").data == {"id": 1}


def test_refused_token_is_an_auth_error_naming_the_source_not_the_token(
    mocked: responses.RequestsMock, client_and_runtime, caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = client_and_runtime
    mocked.get(
        f"{API}/repos/acme/api/issues",
        status=401,
        json={"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as exc:
        client.get("/repos/acme/api/issues", {"per_page": 100})
    assert "'gh'" in str(exc.value)
    assert TOKEN not in str(exc.value)
    assert TOKEN not in caplog.text
    assert len(mocked.calls) == 1  # not retried


def test_secondary_limit_with_retry_after_waits_that_long(
    mocked: responses.RequestsMock, client_and_runtime, fake_time: FakeTime
) -> None:
    client, runtime = client_and_runtime
    url = f"{API}/repos/acme/api/pulls"
    mocked.get(
        url,
        status=403,
        headers={"Retry-After": "30"},
        json={"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
    )
    mocked.get(url, json=[])
    start = fake_time.now
    assert client.get("/repos/acme/api/pulls").data == []
    first, second = runtime.budget.send_times
    assert second - first >= 30.0
    assert fake_time.now - start >= 30.0


def test_secondary_limit_without_retry_after_waits_at_least_a_minute_then_longer(
    mocked: responses.RequestsMock, client_and_runtime, fake_time: FakeTime
) -> None:
    client, runtime = client_and_runtime
    url = f"{API}/repos/acme/api/pulls"
    limited = {"message": "You have exceeded a secondary rate limit."}
    mocked.get(url, status=429, json=limited)
    mocked.get(url, status=403, json=limited)
    mocked.get(url, json=[])
    client.get("/repos/acme/api/pulls")
    t0, t1, t2 = runtime.budget.send_times
    assert t1 - t0 >= 60.0
    assert t2 - t1 > t1 - t0  # backs off: the second wait is longer than the first


def test_primary_limit_spent_waits_for_the_reset(
    mocked: responses.RequestsMock, client_and_runtime, fake_time: FakeTime
) -> None:
    client, runtime = client_and_runtime
    url = f"{API}/repos/acme/api/pulls"
    reset = int(fake_time.now) + 900
    mocked.get(
        url,
        status=403,
        headers={
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset),
        },
        json={"message": "API rate limit exceeded for user ID 1."},
    )
    mocked.get(url, json=[])
    client.get("/repos/acme/api/pulls")
    assert runtime.budget.send_times[1] >= reset


def test_a_truncated_page_is_read_again(mocked: responses.RequestsMock, client_and_runtime) -> None:
    client, _ = client_and_runtime
    url = f"{API}/repos/acme/api/issues"
    mocked.get(url, body='[{"number": 1}, {"numb', content_type="application/json")
    mocked.get(url, json=[{"number": 1}])
    assert client.get("/repos/acme/api/issues").data == [{"number": 1}]


def test_rate_limit_gives_up_after_its_attempts(
    mocked: responses.RequestsMock, client_and_runtime
) -> None:
    client, _ = client_and_runtime
    url = f"{API}/repos/acme/api/issues"
    for _ in range(4):
        mocked.get(url, status=429, headers={"Retry-After": "1"})
    with pytest.raises(RateLimited):
        client.get("/repos/acme/api/issues")


# -- GitHub App --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_key() -> tuple[str, object]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


def _app_config(pem: str, **extra: object) -> GitHubSourceConfig:
    return make_config(token=None, app_id=4242, private_key=pem, installation_id=77, **extra)


def test_app_mints_an_installation_token_and_renews_it(
    mocked: responses.RequestsMock, fake_time: FakeTime, app_key
) -> None:
    pem, public = app_key
    client, _ = make_client(fake_time, _app_config(pem))
    expires = datetime.fromtimestamp(fake_time.now, UTC) + timedelta(hours=1)
    mint = MINT
    for token in ("ghs_first", "ghs_second"):
        mocked.post(
            mint,
            status=201,
            json={"token": token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
    mocked.get(f"{API}/repos/acme/api", json={"id": 1})
    mocked.get(f"{API}/repos/acme/api", json={"id": 1})
    mocked.get(f"{API}/repos/acme/api", json={"id": 1})

    client.get("/repos/acme/api")
    client.get("/repos/acme/api")  # same token: no second mint
    fake_time.now += 3600 - 200  # within the renewal margin
    client.get("/repos/acme/api")

    methods = [(c.request.method, c.request.url.split("?")[0]) for c in mocked.calls]
    assert methods == [
        ("POST", mint),
        ("GET", f"{API}/repos/acme/api"),
        ("GET", f"{API}/repos/acme/api"),
        ("POST", mint),
        ("GET", f"{API}/repos/acme/api"),
    ]
    bearer = mocked.calls[0].request.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(bearer, public, algorithms=["RS256"], options={"verify_exp": False})
    assert claims["iss"] == "4242"
    assert mocked.calls[1].request.headers["Authorization"] == "token ghs_first"
    assert mocked.calls[4].request.headers["Authorization"] == "token ghs_second"


def _minted(mocked: responses.RequestsMock, token: str, now: float) -> None:
    expires = datetime.fromtimestamp(now, UTC) + timedelta(hours=1)
    mocked.post(
        MINT,
        status=201,
        json={"token": token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )


def _with_token(token: str) -> list:
    return [matchers.header_matcher({"Authorization": f"token {token}"})]


def _within(seconds: float, fn, *args):  # type: ignore[no-untyped-def]
    """Run ``fn`` in a thread and fail (instead of hanging) if it does not return: minting
    while holding the non-reentrant request slot would deadlock."""
    import threading

    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # handed to the test thread
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the request never returned (deadlock?)"
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out.get("value")


def test_app_token_that_expires_while_the_request_waits_in_the_budget_is_renewed(
    mocked: responses.RequestsMock, fake_time: FakeTime, app_key
) -> None:
    pem, _ = app_key
    client, runtime = make_client(fake_time, _app_config(pem))
    _minted(mocked, "ghs_first", fake_time.now)
    mocked.get(f"{API}/repos/acme/api", json={"id": 1}, match=_with_token("ghs_first"))
    _within(10, client.get, "/repos/acme/api")

    # A rate-limit reset 58 minutes away: the request waits in the budget, and by the time
    # it may be sent the token it was about to use has two minutes left.
    runtime.budget.block_for(3480, "primary rate limit spent")
    _minted(mocked, "ghs_second", fake_time.now + 3480)
    mocked.get(f"{API}/repos/acme/api", json={"id": 1}, match=_with_token("ghs_second"))
    _within(10, client.get, "/repos/acme/api")
    assert [c.request.method for c in mocked.calls] == ["POST", "GET", "POST", "GET"]


def test_app_token_that_expires_between_retries_is_renewed(
    mocked: responses.RequestsMock, fake_time: FakeTime, app_key
) -> None:
    pem, _ = app_key
    client, _ = make_client(fake_time, _app_config(pem))
    _minted(mocked, "ghs_first", fake_time.now)
    mocked.get(
        f"{API}/repos/acme/api/pulls",
        status=429,
        headers={"Retry-After": "3500"},
        match=_with_token("ghs_first"),
    )
    _minted(mocked, "ghs_second", fake_time.now + 3500)
    mocked.get(f"{API}/repos/acme/api/pulls", json=[], match=_with_token("ghs_second"))
    assert _within(10, client.get, "/repos/acme/api/pulls").data == []


def test_after_minting_a_request_waits_out_a_limit_learned_meanwhile(
    mocked: responses.RequestsMock, fake_time: FakeTime, app_key
) -> None:
    """The request slot is given up while minting; another request may be told to wait
    meanwhile (here: during the mint), and this one must not be sent inside that window."""
    pem, _ = app_key
    client, runtime = make_client(fake_time, _app_config(pem))
    start = fake_time.now
    expires = datetime.fromtimestamp(start, UTC) + timedelta(hours=1)

    def mint(request: object) -> tuple[int, dict, str]:
        runtime.budget.block_for(45, "secondary rate limit (another thread)")
        body = f'{{"token": "ghs_x", "expires_at": "{expires:%Y-%m-%dT%H:%M:%SZ}"}}'
        return 201, {}, body

    sent_at: list[float] = []

    def answer(request: object) -> tuple[int, dict, str]:
        sent_at.append(fake_time.now)
        return 200, {}, '{"id": 1}'

    mocked.add_callback(responses.POST, MINT, callback=mint)
    mocked.add_callback(responses.GET, f"{API}/repos/acme/api", callback=answer)
    _within(10, client.get, "/repos/acme/api")
    assert sent_at[0] >= start + 45


def test_app_token_refused_with_401_is_minted_anew_once(
    mocked: responses.RequestsMock, fake_time: FakeTime, app_key
) -> None:
    pem, _ = app_key
    client, _ = make_client(fake_time, _app_config(pem))
    url = f"{API}/repos/acme/api"
    refused = {"message": "Bad credentials"}
    _minted(mocked, "ghs_revoked", fake_time.now)
    mocked.get(url, status=401, json=refused, match=_with_token("ghs_revoked"))
    _minted(mocked, "ghs_fresh", fake_time.now)
    mocked.get(url, json={"id": 1}, match=_with_token("ghs_fresh"))
    assert _within(10, client.get, "/repos/acme/api").data == {"id": 1}

    # Refused again right after a new token: the credentials themselves are wrong.
    fake_time.now += 3600
    _minted(mocked, "ghs_third", fake_time.now)
    mocked.get(url, status=401, json=refused, match=_with_token("ghs_third"))
    _minted(mocked, "ghs_fourth", fake_time.now)
    mocked.get(url, status=401, json=refused, match=_with_token("ghs_fourth"))
    with pytest.raises(AuthError, match="credentials were refused"):
        _within(10, client.get, "/repos/acme/api")
    assert [c.request.method for c in mocked.calls][4:] == ["POST", "GET", "POST", "GET"]


def test_app_with_unknown_installation_is_a_config_error(
    mocked: responses.RequestsMock, fake_time: FakeTime, app_key
) -> None:
    pem, _ = app_key
    client, _ = make_client(fake_time, _app_config(pem))
    mocked.post(MINT, status=404, json={"message": "x"})
    with pytest.raises(ConfigError, match="installation 77"):
        client.get("/repos/acme/api")


def test_app_key_that_is_not_a_key_is_a_config_error(fake_time: FakeTime) -> None:
    client, _ = make_client(fake_time, _app_config("-----BEGIN NONSENSE-----"))
    with pytest.raises(ConfigError, match="private key") as exc:
        client.get("/repos/acme/api")
    assert "NONSENSE" not in str(exc.value)


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"token": None}, "needs token"),
        ({"app_id": 1}, "not both"),
        ({"token": None, "app_id": 1}, "also needs"),
        ({"repos": ["not a repo"]}, "owner/name"),
        ({"repos": []}, "at least 1"),
        ({"branches": ["bad..name"]}, "branch"),
    ],
)
def test_broken_configs_say_what_is_wrong(extra: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        make_config(**extra)


def test_config_normalizes_repos() -> None:
    config = make_config(repos=["acme/api.git", "/acme/web/", "ACME/api"])
    assert config.repos == ["acme/api", "acme/web"]


@pytest.mark.parametrize(("max_in_flight", "expected"), [(1, 1), (3, 3)])
def test_requests_of_a_source_go_one_at_a_time_unless_allowed_more(
    mocked: responses.RequestsMock, fake_time: FakeTime, max_in_flight: int, expected: int
) -> None:
    import threading
    import time

    client, _ = make_client(fake_time, make_config(max_in_flight=max_in_flight))
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def answer(request: object) -> tuple[int, dict, str]:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return 200, {}, "[]"

    mocked.add_callback(responses.GET, f"{API}/repos/acme/api/issues", callback=answer)
    threads = [
        threading.Thread(target=client.get, args=("/repos/acme/api/issues",)) for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["peak"] == expected if expected == 1 else 1 < state["peak"] <= expected
