"""Fake AbuseIPDB, RDAP and Cymru-DNS servers on 127.0.0.1 for the enrichment tests, and test data helpers."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import polars as pl

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE_IPS = ["104.161.20.102", "20.232.202.245", "185.241.149.122"]
KEY = "SECRET-KEY-1234567890abcdef"


def fixture_name(ip: str) -> str:
    return ip.replace(":", "_") + ".json"


# ---------------------------------------------------------------- HTTP fakes


@dataclass
class Reply:
    """One scripted answer: body None means "the fixture for this address"."""

    status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    query: dict
    headers: dict


class _FakeServer:
    """A threaded HTTP server on 127.0.0.1:0 that records every request."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: dict[str, list[Reply]] = {}
        self.default: list[Reply] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                fake._handle(self)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_reply(self, key: str) -> Reply:
        with self._lock:
            queue = self.script.get(key) or self.default
            if not queue:
                return Reply()
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        seen = Seen(unquote(parts.path), parse_qs(parts.query, keep_blank_values=True), dict(handler.headers))
        with self._lock:
            self.requests.append(seen)
        status, body, headers, delay = self.answer(seen)
        if delay:
            time.sleep(delay)
        data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                handler.send_header(name, str(value))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def answer(self, seen: Seen) -> tuple[int, object, dict, float]:
        raise NotImplementedError


class FakeAbuseIPDB(_FakeServer):
    """`GET /api/v2/check` in AbuseIPDB's documented shapes, with X-RateLimit-* headers."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = self.remaining = limit
        super().__init__()

    @property
    def checked(self) -> list[str]:
        return [r.query["ipAddress"][0] for r in self.requests if "ipAddress" in r.query]

    def answer(self, seen: Seen):
        if seen.path != "/api/v2/check":
            return 404, {"errors": [{"detail": "Not found", "status": 404}]}, {}, 0
        if not seen.headers.get("Key"):
            return 401, {"errors": [{"detail": "Authentication failed.", "status": 401}]}, {}, 0
        ip = seen.query.get("ipAddress", [""])[0]
        reply = self.next_reply(ip)
        body = reply.body
        if reply.status == 200:
            with self._lock:
                self.remaining = max(self.remaining - 1, 0)
            if body is None:
                body = self.fixture(ip, verbose="verbose" in seen.query)
        headers = {"X-RateLimit-Limit": self.limit, "X-RateLimit-Remaining": self.remaining} | reply.headers
        return reply.status, body, headers, reply.delay

    @staticmethod
    def fixture(ip: str, verbose: bool = False) -> dict:
        folder = FIXTURES / "abuseipdb"
        name = fixture_name(ip)
        if verbose and (folder / name.replace(".json", "-verbose.json")).exists():
            name = name.replace(".json", "-verbose.json")
        if (folder / name).exists():
            return json.loads((folder / name).read_text())
        return {
            "data": {
                "ipAddress": ip,
                "isPublic": True,
                "ipVersion": 6 if ":" in ip else 4,
                "isWhitelisted": False,
                "abuseConfidenceScore": 0,
                "countryCode": "DE",
                "usageType": "Fixed Line ISP",
                "isp": "Example Broadband",
                "domain": "broadband.example",
                "hostnames": [],
                "isTor": False,
                "totalReports": 0,
                "numDistinctUsers": 0,
                "lastReportedAt": None,
            }
        }


class FakeRdap(_FakeServer):
    """An RFC 9082 server under `/rdap`: `/rdap/ip/<ip>` from fixtures, `/rdap/entity/<handle>` 404."""

    @property
    def url(self) -> str:
        return super().url + "/rdap"

    @property
    def queried(self) -> list[str]:
        return [r.path.removeprefix("/rdap/ip/") for r in self.requests if r.path.startswith("/rdap/ip/")]

    def answer(self, seen: Seen):
        not_found = {"errorCode": 404, "title": "Not Found", "description": ["no object found"]}
        if not seen.path.startswith("/rdap/ip/"):
            return 404, not_found, {}, 0
        ip = seen.path.removeprefix("/rdap/ip/")
        reply = self.next_reply(ip)
        if reply.status == 200 and reply.body is None:
            path = FIXTURES / "rdap" / fixture_name(ip)
            if not path.exists():
                return 404, not_found, {}, reply.delay
            return 200, path.read_text(), reply.headers, reply.delay
        return reply.status, reply.body if reply.body is not None else not_found, reply.headers, reply.delay


class FakeCymruDns:
    """A UDP DNS server answering Team Cymru TXT queries from `fixtures/cymru-dns.json`."""

    def __init__(self) -> None:
        self.answers = {
            k: v for k, v in json.loads((FIXTURES / "cymru-dns.json").read_text()).items() if k.endswith(".")
        }
        self.queries: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._socket.getsockname()[1]}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            name = query.question[0].name.to_text()
            self.queries.append(name)
            if name in self.answers:
                response.answer.append(
                    dns.rrset.from_text(name, 60, dns.rdataclass.IN, dns.rdatatype.TXT, f'"{self.answers[name]}"')
                )
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self._socket.sendto(response.to_wire(), peer)


def events_frame(rows: list[tuple[str, str, str, str]]) -> pl.DataFrame:
    """An events frame with the columns the enrichment reads: (client_ip, user_key, case, ISO time)."""
    return pl.DataFrame(
        {
            "client_ip": [r[0] for r in rows],
            "user_key": [r[1] for r in rows],
            "case": [r[2] for r in rows],
            "creation_time": [datetime.fromisoformat(r[3]).replace(tzinfo=UTC) for r in rows],
        },
        schema={
            "client_ip": pl.String,
            "user_key": pl.String,
            "case": pl.String,
            "creation_time": pl.Datetime("us", "UTC"),
        },
    )
