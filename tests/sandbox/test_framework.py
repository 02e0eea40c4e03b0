"""The sandbox HTTP framework: keep-alive, control endpoints, faults, request log."""

from __future__ import annotations

import http.client
import time

import pytest
import requests

from syncd.sandbox.http import Faults, Request, Response, SandboxServer


class EchoService:
    """A minimal service: echoes the request, and asks for a wait on /limited."""

    name = "echo"

    def __init__(self) -> None:
        self.evolved = 0

    def handle(self, request: Request) -> Response:
        if request.path == "/limited":
            return Response.json(
                {"error": "slow down"},
                status=429,
                headers={"Retry-After": "30"},
                endpoint="GET /limited",
            )
        if request.path == "/told":
            resp = Response.json({}, endpoint="GET /told")
            resp.wait_until = time.time() + 30
            return resp
        if request.path == "/boom":
            raise RuntimeError("a sandbox bug")
        if request.path == "/free":
            resp = Response.json({}, endpoint="GET /free")
            resp.rate_limit_cost = 0
            return resp
        return Response.json(
            {
                "method": request.method,
                "path": request.path,
                "q": request.arg("q"),
                "auth": request.headers.get("authorization"),
                "base_url": request.base_url,
                "body": request.json(),
                "blob": "x" * 5000,
            },
            endpoint=f"{request.method} /echo",
        )

    def evolve(self, changes: int) -> dict[str, int]:
        self.evolved += changes
        return {"changed": changes}

    def counts(self) -> dict[str, int]:
        return {"evolved": self.evolved}


@pytest.fixture
def server():
    with SandboxServer(EchoService()) as srv:
        yield srv


def test_request_fields_and_keep_alive(server):
    with requests.Session() as s:
        r1 = s.post(f"{server.url}/echo?q=1&q=2", json={"a": "é"}, headers={"AUTHORIZATION": "x"})
        r2 = s.get(f"{server.url}/echo")
    assert r1.json()["q"] == "1"
    assert r1.json()["auth"] == "x"  # headers are case-insensitive
    assert r1.json()["body"] == {"a": "é"}
    assert r1.json()["base_url"] == server.url
    assert r2.json()["method"] == "GET"
    # one TCP connection served both requests (HTTP/1.1 keep-alive)
    peers = [e.peer for e in server.log.entries]
    assert peers[0] == peers[1]
    conn = http.client.HTTPConnection(server.url.removeprefix("http://"))
    conn.request("GET", "/echo")
    conn.getresponse().read()
    conn.request("GET", "/echo")  # would fail with a closed connection
    assert conn.getresponse().status == 200
    conn.close()
    assert server.log.counts == {"POST /echo": 1, "GET /echo": 3}
    assert server.log.total == 4


def test_control_endpoints(server):
    r = requests.post(f"{server.url}/_sandbox/faults", json={"latency_ms": 5, "seed": 9})
    assert r.json()["latency_ms"] == 5 and r.json()["seed"] == 9
    assert server.faults.latency_ms == 5
    assert requests.get(f"{server.url}/_sandbox/faults").json()["seed"] == 9
    bad = requests.post(f"{server.url}/_sandbox/faults", json={"latncy": 5})
    assert bad.status_code == 400 and "latncy" in bad.json()["error"]
    assert requests.post(f"{server.url}/_sandbox/evolve", json={"changes": 7}).json() == {
        "applied": {"changed": 7}
    }
    assert requests.get(f"{server.url}/_sandbox/counts").json() == {"evolved": 7}
    requests.get(f"{server.url}/echo")
    summary = requests.get(f"{server.url}/_sandbox/requests").json()
    assert summary["total"] == 1  # control requests are not logged
    assert summary["by_endpoint"] == {"GET /echo": 1}
    requests.post(f"{server.url}/_sandbox/requests/reset")
    assert server.log.total == 0


def test_latency(server):
    server.set_faults(latency_ms=150)
    started = time.monotonic()
    requests.get(f"{server.url}/echo")
    assert time.monotonic() - started >= 0.15


def test_error_share_is_deterministic_and_html(server):
    server.set_faults(error_rate=0.3, seed=4)
    with requests.Session() as s:
        first = [s.get(f"{server.url}/echo").status_code for _ in range(200)]
    server.set_faults(seed=4)  # restarts the same sequence
    with requests.Session() as s:
        second = [s.get(f"{server.url}/echo").status_code for _ in range(200)]
    assert first == second
    errors = [c for c in first if c != 200]
    assert 40 <= len(errors) <= 80
    assert set(errors) == {500, 502, 503}
    assert server.log.summary()["faults"] == {"error": len(errors) * 2}
    r = requests.get(f"{server.url}/echo")
    while r.status_code == 200:
        r = requests.get(f"{server.url}/echo")
    assert r.headers["Content-Type"].startswith("text/html")


def test_connection_reset(server):
    server.set_faults(reset_rate=1)
    with pytest.raises(requests.ConnectionError) as err:
        requests.get(f"{server.url}/echo")
    assert "reset" in str(err.value).lower() or "aborted" in str(err.value).lower()
    raw = http.client.HTTPConnection(server.url.removeprefix("http://"))
    raw.request("GET", "/echo")
    with pytest.raises(ConnectionResetError):
        raw.getresponse()
    assert server.log.summary()["faults"] == {"reset": 2}


def test_truncated_body(server):
    server.set_faults(truncate_rate=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{server.url}/echo")
    raw = http.client.HTTPConnection(server.url.removeprefix("http://"))
    raw.request("GET", "/echo")
    resp = raw.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        resp.read()


def test_violations_from_retry_after_and_wait_until(server):
    alice = {"Authorization": "Bearer alice"}
    bob = {"Authorization": "Bearer bob"}
    assert requests.get(f"{server.url}/limited", headers=alice).status_code == 429
    requests.get(f"{server.url}/echo", headers=alice)  # too early: a violation
    requests.get(f"{server.url}/echo", headers=bob)  # another client: fine
    assert server.log.violations == 1
    requests.get(f"{server.url}/told", headers=bob)
    requests.get(f"{server.url}/echo", headers=bob)
    assert server.log.violations == 2
    assert [e.violation for e in server.log.entries] == [False, True, False, False, True]


def test_rate_limit_cost_is_summed(server):
    requests.get(f"{server.url}/echo")
    requests.get(f"{server.url}/free")
    requests.get(f"{server.url}/echo")
    assert server.log.rate_limit_cost == 2


def test_faults_parse():
    f = Faults.parse("latency_ms=20, error-rate=0.1,rate_limit,seed=3")
    assert f == Faults(latency_ms=20, error_rate=0.1, rate_limit=True, seed=3)
    with pytest.raises(ValueError):
        Faults.parse("error_rate=2")
    with pytest.raises(ValueError):
        Faults.parse("bogus=1")


def test_stop_closes_keep_alive_connections():
    srv = SandboxServer(EchoService()).start()
    s = requests.Session()
    s.get(f"{srv.url}/echo")
    srv.stop()
    with pytest.raises(requests.ConnectionError):
        s.get(f"{srv.url}/echo", timeout=2)


def test_a_failing_service_answers_500_and_keeps_serving(server, caplog):
    r = requests.get(f"{server.url}/boom")
    assert r.status_code == 500
    assert "a sandbox bug" in caplog.text
    assert requests.get(f"{server.url}/echo").status_code == 200


def test_unknown_control_endpoint_is_404(server):
    r = requests.get(f"{server.url}/_sandbox/nothing")
    assert r.status_code == 404 and "no control endpoint" in r.json()["error"]
