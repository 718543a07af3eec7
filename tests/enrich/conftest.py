"""Fixtures for the enrichment tests: fake servers, settings pointing at them, and a guard that keeps tests offline."""

from __future__ import annotations

import errno
import ipaddress
import socket

import polars as pl
import pytest
from enrich_fakes import KEY, FakeAbuseIPDB, FakeCymruDns, FakeRdap, events_frame

from enrich.settings import EnrichSettings

# ---------------------------------------------------------------- no internet


def _is_loopback(host) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Refuse name lookups and connections to anything but loopback, as on an air-gapped host."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex, real_sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto

    def getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host if not isinstance(host, bytes) else host.decode()):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (tests are offline)")
        return real_getaddrinfo(host, *args, **kwargs)

    def guard(address):
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise OSError(errno.ENETUNREACH, "Network is unreachable (tests are offline)")

    def connect(self, address):
        guard(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        guard(address)
        return real_connect_ex(self, address)

    def sendto(self, data, *args):
        guard(args[-1])
        return real_sendto(self, data, *args)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", sendto)
    for name in (
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def abuse_server():
    server = FakeAbuseIPDB()
    yield server
    server.close()


@pytest.fixture
def rdap_server():
    server = FakeRdap()
    yield server
    server.close()


@pytest.fixture
def cymru_dns():
    server = FakeCymruDns()
    yield server
    server.close()


@pytest.fixture
def make_settings(tmp_path, abuse_server, rdap_server, cymru_dns):
    """Settings pointing at the fakes, with small timeouts and delays."""

    def make(**overrides) -> EnrichSettings:
        values = dict(
            api_key=KEY,
            abuseipdb_url=abuse_server.url,
            rdap_url=rdap_server.url,
            cache_dir=tmp_path / "cache",
            asn_methods=("dns",),
            asn_dns_server=cymru_dns.address,
            timeout=1.0,
            retries=2,
            backoff=0.01,
            concurrency=4,
        )
        return EnrichSettings(**(values | overrides))

    return make


@pytest.fixture
def reference_events() -> pl.DataFrame:
    """The reference case's three attacker addresses, most events first, plus a few local ones."""
    rows = []
    for index, (ip, count) in enumerate([("104.161.20.102", 5), ("185.241.149.122", 3), ("20.232.202.245", 2)]):
        rows += [(ip, "compromisedadmin@example.com", "case-a", f"2023-09-20T0{index}:0{n}:00") for n in range(count)]
    rows += [("10.1.2.3", "targetuser@example.com", "case-b", "2023-09-20T05:00:00")]
    rows += [("100.64.7.9", "targetuser@example.com", "case-b", "2023-09-20T05:01:00")]
    rows += [("", "targetuser@example.com", "case-b", "2023-09-20T05:02:00")]
    return events_frame(rows)
