"""Provides RDAP registration lookups through ipwhois, as typed records, against a configurable server."""

from __future__ import annotations

import errno
import re
import socket
import urllib.request
from dataclasses import asdict, dataclass
from urllib.error import HTTPError, URLError

import ipwhois.net
import ipwhois.rdap
from ipwhois import IPWhois
from ipwhois.exceptions import (
    ASNRegistryError,
    BaseIpwhoisException,
    HTTPLookupError,
    HTTPRateLimitError,
    IPDefinedError,
)

from enrich.settings import ASN_METHODS, DEFAULT_RDAP_URL, parse_dns_server

# Where ipwhois sends RDAP queries: each registry's base and the bootstrap service.
_IPWHOIS_BASES = tuple(
    sorted(
        {entry["ip_url"].removesuffix("/ip/{0}") for entry in ipwhois.rdap.RIR_RDAP.values()}
        | {ipwhois.rdap.BOOTSTRAP_URL},
        key=len,
        reverse=True,
    )
)
_REGISTRY_BY_PORT43 = {
    "whois.arin.net": "arin",
    "whois.ripe.net": "ripencc",
    "whois.apnic.net": "apnic",
    "whois.lacnic.net": "lacnic",
    "whois.afrinic.net": "afrinic",
}
_UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}
# ipwhois builds a dnspython resolver in IPWhois(); on a host without resolver configuration that
# raises this dnspython error. Reached through ipwhois so that enrich/ imports only ipwhois.
_NO_RESOLVER = ipwhois.net.dns.resolver.NoResolverConfiguration
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class RdapError(Exception):
    """The RDAP lookup of one address failed."""


class RdapUnavailable(RdapError):
    """RDAP cannot work from this host right now (no resolver, unreachable, rate limited)."""


@dataclass(frozen=True)
class RdapRecord:
    """What the registries say about an address: origin AS (Cymru) and registration (RDAP)."""

    ip: str
    asn: int | None = None
    asn_description: str | None = None
    asn_cidr: str | None = None
    asn_country: str | None = None
    network_name: str | None = None
    network_cidr: str | None = None
    registrant_org: str | None = None
    country: str | None = None
    abuse_email: str | None = None
    registry: str | None = None
    handles: tuple[str, ...] = ()
    remarks: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """A JSON-ready dict (the cache payload)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RdapRecord:
        """Rebuild a record from `to_dict` output; raise ValueError when it does not fit."""
        if not isinstance(data, dict) or not isinstance(data.get("ip"), str):
            raise ValueError("not an RDAP record")
        asn = data.get("asn")
        if asn is not None and (isinstance(asn, bool) or not isinstance(asn, int)):
            raise ValueError("bad asn in RDAP record")
        texts = {k: _optional_str(data.get(k)) for k in _TEXT_FIELDS}
        lists = {k: tuple(v for v in data.get(k) or () if isinstance(v, str)) for k in ("handles", "remarks")}
        return cls(ip=data["ip"], asn=asn, **texts, **lists)


_TEXT_FIELDS = (
    "asn_description",
    "asn_cidr",
    "asn_country",
    "network_name",
    "network_cidr",
    "registrant_org",
    "country",
    "abuse_email",
    "registry",
)


class RdapClient:
    """Looks addresses up with `IPWhois(ip).lookup_rdap()`; thread-safe, one IPWhois per lookup.

    `rdap_url` other than the default sends every RDAP query to `{rdap_url}/ip/{ip}` and
    `{rdap_url}/entity/{handle}` (a mirror, a proxy or a test server). `asn_methods` are
    ipwhois's (`dns`, `whois`, `http`, tried in order; empty skips the ASN step), and
    `asn_dns_server` ("host[:port]") chooses the resolver for the Cymru DNS queries.
    When the ASN step fails, the RDAP query still runs through the bootstrap URL.
    """

    def __init__(
        self,
        rdap_url: str = DEFAULT_RDAP_URL,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        asn_methods: tuple[str, ...] = ASN_METHODS,
        asn_dns_server: str | None = None,
    ) -> None:
        self.rdap_url = rdap_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.asn_methods = tuple(asn_methods)
        unknown = set(self.asn_methods) - set(ASN_METHODS)
        if unknown:
            raise ValueError(f"unknown ASN lookup methods {sorted(unknown)}; expected some of {list(ASN_METHODS)}")
        self.dns_server = parse_dns_server(asn_dns_server) if asn_dns_server else None

    def lookup(self, ip: str) -> RdapRecord:
        """Look up one public address; raise RdapError (or RdapUnavailable to stop a batch)."""
        opener = _opener(self.rdap_url)
        try:
            whois = IPWhois(ip, timeout=self.timeout, proxy_opener=opener)
        except _NO_RESOLVER:
            raise RdapUnavailable(
                "this host has no DNS resolver configuration, which ipwhois needs; "
                "look the addresses up elsewhere and import the results"
            ) from None
        except IPDefinedError:
            raise RdapError(f"{ip} is a special-purpose address; not looked up") from None
        except ValueError:
            raise RdapError(f"{ip!r} is not an IP address") from None
        if self.dns_server:
            whois.net.dns_resolver.nameservers = [self.dns_server[0]]
            whois.net.dns_resolver.port = self.dns_server[1]
        options = dict(retry_count=self.retries, rate_limit_timeout=self.backoff, inc_raw=True, inc_nir=False, depth=0)
        try:
            result = None
            if self.asn_methods:
                try:
                    result = whois.lookup_rdap(asn_methods=list(self.asn_methods), **options)
                except ASNRegistryError:
                    result = None
            if result is None:
                result = whois.lookup_rdap(bootstrap=True, **options)
            return _record(ip, result)
        except HTTPRateLimitError:
            raise RdapUnavailable("the server is rate-limiting this host; try again later") from None
        except HTTPLookupError as error:
            raise _lookup_failure(error, opener.last_error, self.retries) from None
        except (BaseIpwhoisException, KeyError, TypeError, ValueError, AttributeError) as error:
            raise RdapError(f"malformed RDAP answer ({type(error).__name__})") from None


def _lookup_failure(error: HTTPLookupError, cause: BaseException | None, retries: int) -> RdapError:
    if isinstance(cause, HTTPError):
        return RdapError(f"server answered HTTP {cause.code} for {cause.url}")
    reason = cause.reason if isinstance(cause, URLError) else cause
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return RdapError(f"timed out ({retries + 1} attempts)")
    if isinstance(reason, socket.gaierror):
        return RdapUnavailable(f"cannot resolve the server's name ({reason.strerror or reason})")
    if isinstance(reason, OSError) and reason.errno in _UNREACHABLE_ERRNOS:
        return RdapUnavailable(f"server unreachable ({reason.strerror or reason})")
    return RdapError(str(error))


class _RecordingOpener(urllib.request.OpenerDirector):
    """An opener that remembers the last HTTP or network failure, which ipwhois hides."""

    last_error: BaseException | None = None

    def open(self, fullurl, data=None, timeout=socket._GLOBAL_DEFAULT_TIMEOUT):  # noqa: D102
        try:
            return super().open(fullurl, data, timeout)
        except (URLError, OSError) as error:
            self.last_error = error
            raise


class _RedirectToBase(urllib.request.BaseHandler):
    """Sends ipwhois's registry and bootstrap RDAP URLs to the configured base URL instead."""

    handler_order = 50

    def __init__(self, base: str) -> None:
        self.base = base

    def _rewrite(self, request: urllib.request.Request):
        if hasattr(request, "redirect_dict"):  # a server redirect: follow it as given
            return None
        url = request.full_url
        prefix = next((p for p in _IPWHOIS_BASES if url.startswith(p + "/")), None)
        if prefix is None or prefix == self.base:
            return None
        moved = urllib.request.Request(self.base + url[len(prefix) :], headers=dict(request.headers))
        return self.parent.open(moved, timeout=request.timeout)

    http_open = https_open = _rewrite


def _opener(rdap_url: str) -> _RecordingOpener:
    opener = _RecordingOpener()
    handlers = [
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
    ]
    if rdap_url != DEFAULT_RDAP_URL:
        handlers.append(_RedirectToBase(rdap_url))
    for handler in handlers:
        opener.add_handler(handler)
    return opener


def _record(ip: str, result: dict) -> RdapRecord:
    raw = result.get("raw") or {}
    network = result.get("network") or {}
    entities = list(_walk(raw.get("entities")))
    objects = [o for o in (result.get("objects") or {}).values() if isinstance(o, dict)]
    cidrs = [
        f"{c.get('v4prefix') or c.get('v6prefix')}/{c['length']}"
        for c in raw.get("cidr0_cidrs") or ()
        if isinstance(c, dict) and (c.get("v4prefix") or c.get("v6prefix")) and "length" in c
    ]
    origin = raw.get("arin_originas0_originautnums") or raw.get("lacnic_originAutnum")
    handles = [e.get("handle") for e in entities] + [o.get("handle") for o in objects]
    remarks = [
        text
        for remark in network.get("remarks") or ()
        for text in (remark.get("title"), remark.get("description"))
        if isinstance(text, str)
    ]
    port43 = raw.get("port43") if isinstance(raw.get("port43"), str) else ""
    return RdapRecord(
        ip=ip,
        asn=_first_asn(result.get("asn")) or _first_asn(origin),
        asn_description=_clean(result.get("asn_description")),
        asn_cidr=_clean(result.get("asn_cidr")),
        asn_country=_clean(result.get("asn_country_code")),
        network_name=_clean(network.get("name")),
        network_cidr=", ".join(cidrs) or _clean(network.get("cidr")),
        registrant_org=_contact(entities, objects, "registrant", "fn"),
        country=_clean(network.get("country")),
        abuse_email=_contact(entities, objects, "abuse", "email"),
        registry=_clean(result.get("asn_registry")) or _REGISTRY_BY_PORT43.get(port43.strip().lower()),
        handles=tuple(dict.fromkeys(h for h in map(_clean, handles) if h))[:40],
        remarks=tuple(dict.fromkeys(r for r in map(_clean, remarks) if r))[:10],
    )


def _walk(entities) -> list[dict]:
    """Every entity, nested ones included (ARIN puts the abuse contact under the org)."""
    found = []
    for entity in entities if isinstance(entities, list) else ():
        if isinstance(entity, dict):
            found.append(entity)
            found.extend(_walk(entity.get("entities")))
    return found


def _contact(entities: list[dict], objects: list[dict], role: str, field: str) -> str | None:
    """The `fn` or `email` of the first entity with `role` (jCard first, ipwhois objects after)."""
    for entity in entities:
        if role in (entity.get("roles") or ()):
            value = _vcard(entity.get("vcardArray"), field)
            if value:
                return value
    for obj in objects:
        contact = obj.get("contact") or {}
        raw_roles = (obj.get("raw") or {}).get("roles") if isinstance(obj.get("raw"), dict) else None
        if role in (obj.get("roles") or raw_roles or ()):
            value = (
                contact.get("name")
                if field == "fn"
                else next((e.get("value") for e in contact.get("email") or () if isinstance(e, dict)), None)
            )
            if _clean(value):
                return _clean(value)
    return None


def _vcard(card, field: str) -> str | None:
    if not (isinstance(card, list) and len(card) == 2 and isinstance(card[1], list)):
        return None
    for item in card[1]:
        if isinstance(item, list) and len(item) >= 4 and item[0] == field and _clean(item[3]):
            return _clean(item[3])
    return None


def _first_asn(value) -> int | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value > 0 else None
    match = re.match(r"\s*(?:AS)?(\d+)", value) if isinstance(value, str) else None
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _clean(value) -> str | None:
    """A single line of text: whitespace runs collapsed, other control characters shown as escapes."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text or None


def _optional_str(value) -> str | None:
    return value if isinstance(value, str) else None
