"""Fake AbuseIPDB, RDAP and Cymru-DNS servers on 127.0.0.1 for the IPs view (from tests/enrich), and an offline guard."""

import errno
import importlib.util
import ipaddress
import socket
import sys
from pathlib import Path

import pytest

_FAKES = Path(__file__).resolve().parent.parent / "enrich" / "enrich_fakes.py"


def _load_fakes():
    """tests/enrich/enrich_fakes.py, imported by path (tests/enrich is not a package)."""
    if "enrich_fakes" not in sys.modules:
        spec = importlib.util.spec_from_file_location("enrich_fakes", _FAKES)
        module = importlib.util.module_from_spec(spec)
        sys.modules["enrich_fakes"] = module
        spec.loader.exec_module(module)
    return sys.modules["enrich_fakes"]


fakes = _load_fakes()
KEY, Reply, REFERENCE_IPS = fakes.KEY, fakes.Reply, fakes.REFERENCE_IPS
FIXTURES = fakes.FIXTURES


def _loopback(host) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def offline_host(monkeypatch):
    """No name lookup or connection leaves loopback (an air-gapped host)."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if not _loopback(host.decode() if isinstance(host, bytes) else host):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (tests are offline)")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if isinstance(address, tuple) and not _loopback(address[0]):
            raise OSError(errno.ENETUNREACH, "Network is unreachable (tests are offline)")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_services(offline_host, monkeypatch, tmp_path):
    """Fake AbuseIPDB, RDAP and Cymru DNS, named by the environment; returns (abuse, rdap, config for the app)."""
    abuse, rdap, dns = fakes.FakeAbuseIPDB(), fakes.FakeRdap(), fakes.FakeCymruDns()
    monkeypatch.setenv("WORKBENCH_ABUSEIPDB_URL", abuse.url)
    monkeypatch.setenv("WORKBENCH_RDAP_URL", rdap.url)
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "enrich-cache"))
    monkeypatch.setenv("ABUSEIPDB_API_KEY", KEY)
    config = {"enrich": {"asn_methods": ["dns"], "asn_dns_server": dns.address, "timeout_seconds": 2.0,
                         "retries": 1, "backoff_seconds": 0.01}}
    yield abuse, rdap, config
    for server in (abuse, rdap, dns):
        server.close()
