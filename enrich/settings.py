"""Provides the enrichment settings and how they are read from the config file and environment."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import platformdirs

from enrich.geo import GeoDatabases
from enrich.hosting import Provider, ProviderError, parse_providers

DEFAULT_ABUSEIPDB_URL = "https://api.abuseipdb.com"
# ARIN's public RDAP bootstrap service: `{url}/ip/{ip}` redirects to the right registry.
DEFAULT_RDAP_URL = "https://rdap-bootstrap.arin.net/bootstrap"
ASN_METHODS = ("dns", "whois", "http")
APP_NAME = "m365-bec-workbench"


class SettingsError(ValueError):
    """The `[enrich]` configuration is invalid; the message lists every problem."""


class Secret:
    """A string that never shows itself in repr, str or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class EnrichSettings:
    """Everything the enrichment needs.

    `api_key` is a `Secret` (a plain str is wrapped); `extra_providers` may be given as
    `[[provider]]`-shaped mappings, which are validated into `Provider`s.
    """

    api_key: Secret | None = None
    abuseipdb_url: str = DEFAULT_ABUSEIPDB_URL
    rdap_url: str = DEFAULT_RDAP_URL
    cache_dir: Path | None = None
    rdap_ttl: timedelta = timedelta(days=30)
    abuseipdb_ttl: timedelta = timedelta(days=1)
    concurrency: int = 4
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    daily_quota: int = 1000
    max_age_days: int = 90
    verbose: bool = False
    asn_methods: tuple[str, ...] = ASN_METHODS
    asn_dns_server: str | None = None
    extra_providers: tuple[Provider, ...] = ()
    #: MaxMind-format databases for offline geolocation (config `geoip_city`, `geoip_asn`).
    geo: GeoDatabases = GeoDatabases()

    def __post_init__(self) -> None:
        if isinstance(self.api_key, str):
            object.__setattr__(self, "api_key", Secret(self.api_key) if self.api_key else None)
        if self.cache_dir is not None and not isinstance(self.cache_dir, Path):
            object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        object.__setattr__(self, "asn_methods", tuple(self.asn_methods))
        raw = [p for p in self.extra_providers if not isinstance(p, Provider)]
        if raw:
            parsed = iter(parse_providers(raw, origin="enrich.provider"))
            providers = tuple(p if isinstance(p, Provider) else next(parsed) for p in self.extra_providers)
            object.__setattr__(self, "extra_providers", providers)

    @property
    def resolved_cache_dir(self) -> Path:
        """The cache folder: the configured one or the platform's user cache dir."""
        return self.cache_dir or Path(platformdirs.user_cache_dir(APP_NAME))


_NUMBERS = {
    # config key: (field, type, minimum)
    "concurrency": ("concurrency", int, 1),
    "timeout_seconds": ("timeout", float, 0.001),
    "retries": ("retries", int, 0),
    "backoff_seconds": ("backoff", float, 0.0),
    "daily_quota": ("daily_quota", int, 0),
    "max_age_days": ("max_age_days", int, 1),
}
_TTLS = {"rdap_ttl_days": "rdap_ttl", "abuseipdb_ttl_days": "abuseipdb_ttl"}
_STRINGS = {"abuseipdb_url": "abuseipdb_url", "rdap_url": "rdap_url", "asn_dns_server": "asn_dns_server"}


def settings_from_env(config: Mapping, environ: Mapping[str, str] | None = None) -> EnrichSettings:
    """Build settings from a parsed config file's `[enrich]` table, with the environment on top.

    Environment: ABUSEIPDB_API_KEY, WORKBENCH_ABUSEIPDB_URL, WORKBENCH_RDAP_URL, WORKBENCH_CACHE_DIR.
    Config keys (all optional): abuseipdb_api_key, abuseipdb_url, rdap_url, cache_dir,
    rdap_ttl_days, abuseipdb_ttl_days, concurrency, timeout_seconds, retries, backoff_seconds,
    daily_quota, max_age_days, verbose, asn_methods, asn_dns_server, geoip_city, geoip_asn (paths of
    MaxMind-format `.mmdb` files), and `[[enrich.provider]]` entries shaped like `enrich/providers.toml`.
    """
    environ = os.environ if environ is None else environ
    table = config.get("enrich", {})
    problems: list[str] = []
    if not isinstance(table, Mapping):
        raise SettingsError("enrich: expected a table")
    values: dict = {}

    key = table.get("abuseipdb_api_key")
    if key is not None and not isinstance(key, str):
        problems.append("enrich.abuseipdb_api_key: expected a string")
    elif key:
        values["api_key"] = key
    for name, attr in _STRINGS.items():
        value = table.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(f"enrich.{name}: expected a string, got {type(value).__name__}")
        elif value:
            values[attr] = value
    for name, (attr, kind, minimum) in _NUMBERS.items():
        value = table.get(name)
        if value is None:
            continue
        number = isinstance(value, int) if kind is int else isinstance(value, (int, float))
        if isinstance(value, bool) or not number:
            problems.append(f"enrich.{name}: expected {'an integer' if kind is int else 'a number'}, got {value!r}")
        elif value < minimum:
            problems.append(f"enrich.{name}: must be at least {minimum}, got {value!r}")
        else:
            values[attr] = kind(value)
    for name, attr in _TTLS.items():
        value = table.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            problems.append(f"enrich.{name}: expected a number of days >= 0, got {value!r}")
        else:
            values[attr] = timedelta(days=value)
    if "verbose" in table:
        if isinstance(table["verbose"], bool):
            values["verbose"] = table["verbose"]
        else:
            problems.append(f"enrich.verbose: expected true or false, got {table['verbose']!r}")
    if "asn_methods" in table:
        methods = table["asn_methods"]
        if not isinstance(methods, list) or any(m not in ASN_METHODS for m in methods):
            problems.append(f"enrich.asn_methods: expected a list drawn from {list(ASN_METHODS)}, got {methods!r}")
        else:
            values["asn_methods"] = tuple(methods)
    if "cache_dir" in table:
        if isinstance(table["cache_dir"], str) and table["cache_dir"]:
            values["cache_dir"] = Path(table["cache_dir"]).expanduser()
        else:
            problems.append("enrich.cache_dir: expected a folder path")
    geo = {}
    for name in ("geoip_city", "geoip_asn"):
        if name in table:
            if isinstance(table[name], str) and table[name]:
                geo[name.removeprefix("geoip_")] = Path(table[name]).expanduser()
            else:
                problems.append(f"enrich.{name}: expected the path of a .mmdb file")
    if geo:
        values["geo"] = GeoDatabases(**geo)
    providers = table.get("provider", [])
    if not isinstance(providers, list) or not all(isinstance(p, Mapping) for p in providers):
        problems.append("enrich.provider: expected a list of [[enrich.provider]] tables")
    else:
        try:
            values["extra_providers"] = parse_providers(providers, origin="enrich.provider")
        except ProviderError as error:
            problems.extend(line.strip() for line in str(error).splitlines()[1:])

    env_values = {
        "api_key": environ.get("ABUSEIPDB_API_KEY"),
        "abuseipdb_url": environ.get("WORKBENCH_ABUSEIPDB_URL"),
        "rdap_url": environ.get("WORKBENCH_RDAP_URL"),
        "cache_dir": environ.get("WORKBENCH_CACHE_DIR"),
    }
    values.update({k: v for k, v in env_values.items() if v})
    if "cache_dir" in values:
        values["cache_dir"] = Path(values["cache_dir"]).expanduser()

    for attr, label in (("abuseipdb_url", "AbuseIPDB URL"), ("rdap_url", "RDAP URL")):
        if attr in values and not values[attr].startswith(("http://", "https://")):
            problems.append(f"{label} {values[attr]!r}: expected an http:// or https:// address")
    if values.get("asn_dns_server"):
        try:
            parse_dns_server(values["asn_dns_server"])
        except ValueError as error:
            problems.append(f"enrich.asn_dns_server: {error}")
    if problems:
        raise SettingsError("invalid enrichment settings:\n  " + "\n  ".join(problems))
    return EnrichSettings(**values)


def parse_dns_server(text: str) -> tuple[str, int]:
    """Split `10.0.0.53`, `10.0.0.53:5353`, `::1` or `[::1]:5353` into (address, port)."""
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = _port(rest.removeprefix(":"), text)
    elif text.count(":") == 1:
        host, _, raw_port = text.partition(":")
        port = _port(raw_port, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"expected an IP address with an optional port, got {text!r}") from None
    return host, port


def _port(raw: str, text: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"bad port in {text!r}")
    return int(raw)
