"""The sandbox's HTTP framework: one threaded HTTP/1.1 server per simulated service.

Why our own server instead of a mock library: syncd's clients (``jira``, ``PyGithub``,
``requests``) must be exercised over real sockets, with keep-alive, so that what breaks in
production (a reset connection, a body cut short, a client that ignores ``Retry-After``)
breaks here too. The framework owns everything that is not a service's business:

- **faults**, decided before a service sees the request (latency, 500/502/503, connection
  resets) or after it answered (truncated body), deterministic from ``Faults.seed``: the n-th
  request after the faults were set always meets the same fate;
- **the request log**: counts per endpoint template, rate-limit points consumed and
  **violations** — requests a client sent while an earlier response had told that same client
  to wait (``Retry-After`` header or ``Response.wait_until``). A client is identified by its
  ``Authorization`` header, since one client may use many connections;
- **control endpoints** under ``/_sandbox/``, answered before auth and faults:

  ====================================  ================================================
  ``GET  /_sandbox/faults``             current fault settings
  ``POST /_sandbox/faults``             update some of them (JSON object); restarts the
                                        fault sequence from the seed
  ``POST /_sandbox/evolve``             ``{"changes": N}`` -> the service's counts by kind
  ``GET  /_sandbox/counts``             the service's data sizes
  ``GET  /_sandbox/requests``           request log summary
  ``POST /_sandbox/requests/reset``     clear the log (and every client's wait window)
  ====================================  ================================================

Thread safety: the server calls ``Service.handle`` and ``Service.evolve`` under one lock per
server, so a service needs no locking of its own (evolve from a background thread included,
as long as it goes through :meth:`SandboxServer.evolve`).
"""

from __future__ import annotations

import contextlib
import json as _json
import logging
import random
import socket
import struct
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sandbox/"


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only view of request headers (HTTP field names are)."""

    def __init__(self, items: Mapping[str, str] | list[tuple[str, str]] | None = None) -> None:
        pairs = items.items() if isinstance(items, Mapping) else (items or [])
        self._data: dict[str, tuple[str, str]] = {k.lower(): (k, v) for k, v in pairs}

    def __getitem__(self, key: str) -> str:
        return self._data[key.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._data.values())

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._data

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass
class Faults:
    """What the server does to requests on top of the service's own answers."""

    latency_ms: float = 0  # added per request
    error_rate: float = 0  # share answered 500/502/503 (before the service sees it)
    reset_rate: float = 0  # share whose connection is reset (TCP RST after the request is read)
    truncate_rate: float = 0  # share whose body is cut short (Content-Length kept)
    rate_limit: bool = False  # the SERVICE enforces its own (tight) rate limiting when True
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: Mapping[str, Any]) -> Faults:
        """A copy with ``changes`` applied; unknown names and out-of-range values are refused,
        so a typo in a test or on the command line fails loudly instead of doing nothing."""
        known = {f.name: f.type for f in fields(self)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        values = self.to_dict()
        for name, raw in changes.items():
            if name == "rate_limit":
                values[name] = _parse_bool(raw)
            elif name == "seed":
                values[name] = int(raw)
            else:
                number = float(raw)
                if number < 0 or (name.endswith("_rate") and number > 1):
                    raise ValueError(f"{name} out of range: {raw!r}")
                values[name] = number
        result = Faults(**values)
        if result.error_rate + result.reset_rate > 1:
            raise ValueError("error_rate + reset_rate exceeds 1")
        return result

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        """Parse the command-line form ``latency_ms=50,error_rate=0.1,rate_limit=1,seed=3``."""
        if not spec:
            return cls()
        changes: dict[str, str] = {}
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, value = part.partition("=")
            if not sep:
                # A bare name switches a boolean on or is a mistake caught by updated().
                value = "true"
            changes[name.strip().replace("-", "_")] = value.strip()
        return cls().updated(changes)


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


@dataclass
class Request:
    """One request as a service sees it. Services must treat ``faults`` as read-only."""

    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: Headers
    body: bytes
    base_url: str  # "http://127.0.0.1:PORT" as the client reached the server
    faults: Faults

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The parsed JSON body (``None`` when the body is empty); ValueError when malformed."""
        if not self.body.strip():
            return None
        return _json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    endpoint: str = ""  # route template for the request log, e.g. "GET /repos/{o}/{r}/pulls"
    rate_limit_cost: int = 1  # points this request consumed (GitHub 304 -> 0)
    wait_until: float | None = None  # epoch seconds: client was told not to send before this

    @classmethod
    def json(
        cls,
        data: Any,
        status: int = 200,
        headers: dict[str, str] | None = None,
        endpoint: str = "",
    ) -> Response:
        body = _json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        merged = {"Content-Type": "application/json;charset=UTF-8"}
        merged.update(headers or {})
        return cls(status=status, body=body, headers=merged, endpoint=endpoint)


class Service(Protocol):
    name: str  # "jira" | "github"

    def handle(self, request: Request) -> Response:
        """Routing and auth; an unknown path is a 404 in the service's own error shape."""
        ...

    def evolve(self, changes: int) -> dict[str, int]:
        """Apply a batch of realistic changes now; return counts by kind."""
        ...

    def counts(self) -> dict[str, int]:
        """Sizes of the data, for summaries."""
        ...


@dataclass(frozen=True)
class LogEntry:
    at: float  # epoch seconds the request arrived
    method: str
    path: str
    endpoint: str  # service's route template; "" when a fault answered before the service
    status: int  # 0 when the connection was reset
    client: str
    rate_limit_cost: int
    fault: str | None  # "latency" is not recorded here; "error" | "reset" | "truncate"
    violation: bool
    duration_ms: float
    peer: str = ""  # "ip:port" of the TCP connection: equal peers mean a reused connection


class RequestLog:
    """What clients did, for tests and benchmarks. Thread-safe.

    Keeps counters for every request and the most recent ``max_entries`` entries in full
    (a large benchmark sends hundreds of thousands of requests)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._max_entries = max_entries
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._entries: deque[LogEntry] = deque(maxlen=self._max_entries)
            self._by_endpoint: Counter[str] = Counter()
            self._by_status: Counter[int] = Counter()
            self._by_fault: Counter[str] = Counter()
            self._total = 0
            self._cost = 0
            self._violations = 0
            self._wait_until: dict[str, float] = {}

    # -- recording (server side) ----------------------------------------------------------

    def is_violation(self, client: str, at: float) -> bool:
        """True when ``client`` was told to wait past ``at`` by an earlier response."""
        with self._lock:
            return at < self._wait_until.get(client, 0.0)

    def told_to_wait(self, client: str, until: float) -> None:
        with self._lock:
            self._wait_until[client] = max(until, self._wait_until.get(client, 0.0))

    def record(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            self._total += 1
            if entry.endpoint:
                self._by_endpoint[entry.endpoint] += 1
            self._by_status[entry.status] += 1
            if entry.fault:
                self._by_fault[entry.fault] += 1
            self._cost += entry.rate_limit_cost
            if entry.violation:
                self._violations += 1

    # -- reading --------------------------------------------------------------------------

    @property
    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    @property
    def total(self) -> int:
        with self._lock:
            return self._total

    @property
    def counts(self) -> dict[str, int]:
        """Requests answered by the service, per endpoint template."""
        with self._lock:
            return dict(self._by_endpoint)

    @property
    def rate_limit_cost(self) -> int:
        with self._lock:
            return self._cost

    @property
    def violations(self) -> int:
        with self._lock:
            return self._violations

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._total,
                "by_endpoint": dict(sorted(self._by_endpoint.items())),
                "by_status": {str(k): v for k, v in sorted(self._by_status.items())},
                "faults": dict(sorted(self._by_fault.items())),
                "rate_limit_cost": self._cost,
                "violations": self._violations,
            }


def retry_after_deadline(value: str, now: float) -> float | None:
    """Epoch seconds a ``Retry-After`` value (delta-seconds or HTTP-date, RFC 9110 §10.2.3)
    asks the client to wait until."""
    value = value.strip()
    try:
        return now + float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class _Fate:
    """What the fault injector decided for one request."""

    latency_s: float
    action: str | None  # None | "error" | "reset"
    error_status: int
    truncate: bool


class _FaultDice:
    """Deterministic fault decisions: the n-th request after a (re)seed gets the n-th draw."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(0)

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def roll(self, faults: Faults) -> _Fate:
        with self._lock:
            # Always draw the same number of values per request, so that changing one rate
            # does not shift which requests another rate hits.
            u_fail, u_status, u_trunc = self._rng.random(), self._rng.random(), self._rng.random()
        action = None
        if u_fail < faults.reset_rate:
            action = "reset"
        elif u_fail < faults.reset_rate + faults.error_rate:
            action = "error"
        status = (500, 502, 503)[min(int(u_status * 3), 2)]
        return _Fate(faults.latency_ms / 1000.0, action, status, u_trunc < faults.truncate_rate)


class SandboxServer:
    """Serves one :class:`Service` on loopback. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        service: Service,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
    ) -> None:
        self.service = service
        self.host = host
        self.port = port
        self._faults = faults or Faults()
        self._dice = _FaultDice()
        self._dice.reseed(self._faults.seed)
        self.log = RequestLog()
        self.url = ""
        self._service_lock = threading.RLock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- faults ---------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._faults = value
        self._dice.reseed(value.seed)

    def set_faults(self, **changes: Any) -> Faults:
        """Change some fault settings (validated); restarts the fault sequence."""
        self.faults = self._faults.updated(changes)
        return self._faults

    # -- service access -------------------------------------------------------------------

    def evolve(self, changes: int) -> dict[str, int]:
        with self._service_lock:
            return self.service.evolve(changes)

    def counts(self) -> dict[str, int]:
        with self._service_lock:
            return self.service.counts()

    def dispatch(self, request: Request) -> Response:
        with self._service_lock:
            return self.service.handle(request)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        httpd = _Server((self.host, self.port), _Handler)
        httpd.sandbox = self
        self._httpd = httpd
        host, port = httpd.server_address[:2]
        self.port = int(port)
        self.url = f"http://{host!s}:{self.port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"sandbox-{self.service.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_open_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control endpoints ----------------------------------------------------------------

    def control(self, request: Request) -> Response:
        path, method = request.path, request.method
        try:
            if path == "/_sandbox/faults" and method == "GET":
                return Response.json(self._faults.to_dict())
            if path == "/_sandbox/faults" and method == "POST":
                body = request.json() or {}
                if not isinstance(body, dict):
                    raise ValueError("expected a JSON object")
                return Response.json(self.set_faults(**body).to_dict())
            if path == "/_sandbox/evolve" and method == "POST":
                body = request.json() or {}
                changes = int(body.get("changes", 1)) if isinstance(body, dict) else -1
                if changes < 0:
                    raise ValueError("changes must be a non-negative integer")
                return Response.json({"applied": self.evolve(changes)})
            if path == "/_sandbox/counts" and method == "GET":
                return Response.json(self.counts())
            if path == "/_sandbox/requests" and method == "GET":
                return Response.json(self.log.summary())
            if path == "/_sandbox/requests/reset" and method == "POST":
                self.log.reset()
                return Response.json(self.log.summary())
        except (ValueError, TypeError) as exc:
            return Response.json({"error": str(exc)}, status=400)
        return Response.json({"error": f"no control endpoint {method} {path}"}, status=404)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Don't wait for keep-alive connections on close; stop() closes them itself.
    block_on_close = False
    sandbox: SandboxServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response is normal here (timeouts, resets we inject,
        # stop() closing keep-alive connections); anything else is a sandbox bug.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            log.debug("sandbox: client %s went away: %s", client_address, exc)
            return
        log.exception("sandbox: error while serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    server_version = "syncd-sandbox"
    sys_version = ""
    timeout = 60  # an idle keep-alive connection is closed after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK add ~40 ms to every keep-alive response.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        arrived = time.time()
        body = self._read_body()
        split = urlsplit(self.path)
        host = self.headers.get("Host") or f"{sandbox.host}:{sandbox.port}"
        faults = sandbox.faults
        request = Request(
            method=self.command,
            path=split.path or "/",
            query=parse_qs(split.query, keep_blank_values=True),
            headers=Headers(list(self.headers.items())),
            body=body,
            base_url=f"http://{host}",
            faults=faults,
        )
        if request.path.startswith(CONTROL_PREFIX):
            self._send(sandbox.control(request))
            return

        client = request.headers.get("Authorization") or f"anonymous@{self.client_address[0]}"
        violation = sandbox.log.is_violation(client, arrived)
        fate = sandbox._dice.roll(faults)
        if fate.latency_s:
            time.sleep(fate.latency_s)

        def record(response: Response | None, status: int, fault: str | None) -> None:
            sandbox.log.record(
                LogEntry(
                    at=arrived,
                    method=request.method,
                    path=request.path,
                    endpoint=response.endpoint if response else "",
                    status=status,
                    client=client,
                    rate_limit_cost=response.rate_limit_cost if response else 0,
                    fault=fault,
                    violation=violation,
                    duration_ms=(time.time() - arrived) * 1000.0,
                    peer=f"{self.client_address[0]}:{self.client_address[1]}",
                )
            )

        if fate.action == "reset":
            record(None, 0, "reset")
            self._reset()
            return
        if fate.action == "error":
            response = _fault_error(fate.error_status)
            record(None, response.status, "error")
            self._send(response)
            return

        try:
            response = sandbox.dispatch(request)
        except Exception:
            # A sandbox bug: answer like a broken server would, and make it loud in the log.
            log.exception(
                "sandbox %s: handler failed for %s %s",
                sandbox.service.name,
                request.method,
                request.path,
            )
            response = Response.json({"error": "sandbox handler failed"}, status=500)

        now = time.time()
        wait_until = response.wait_until
        retry_after = _header(response.headers, "Retry-After")
        if retry_after is not None:
            deadline = retry_after_deadline(retry_after, now)
            if deadline is not None:
                wait_until = max(wait_until or 0.0, deadline)
        if wait_until is not None:
            sandbox.log.told_to_wait(client, wait_until)

        truncate = fate.truncate and len(response.body) > 1 and request.method != "HEAD"
        record(response, response.status, "truncate" if truncate else None)
        self._send(response, truncate=truncate)

    def _send(self, response: Response, truncate: bool = False) -> None:
        self.send_response(response.status)
        has_length = False
        for name, value in response.headers.items():
            if name.lower() == "content-length":
                has_length = True
            self.send_header(name, value)
        if not has_length:
            self.send_header("Content-Length", str(len(response.body)))
        if truncate:
            # Keep the full Content-Length and send half the body, then hang up: the client
            # sees an incomplete read, as when a proxy drops a connection mid-response.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        body = response.body[: len(response.body) // 2] if truncate else response.body
        self.wfile.write(body)
        self.wfile.flush()

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0 then close), not a clean FIN."""
        self.close_connection = True
        conn = self.connection
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The socket's file descriptor is only released once its file objects are closed.
        self.rfile.close()
        self.wfile.close()
        conn.close()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _fault_error(status: int) -> Response:
    """An injected 5xx looks like what a load balancer in front of the service sends: HTML,
    not the service's JSON error shape — clients must not assume JSON on a 5xx."""
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    text = f"<html><body><h1>{status} {reason[status]}</h1></body></html>"
    return Response(
        status=status,
        body=text.encode(),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
