"""Provides the hosting/VPN/cloud/leasing provider list and the rule that flags an address as hosting."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from enrich.abuseipdb import AbuseRecord
    from enrich.rdap import RdapRecord

HOSTING_USAGE_TYPES = frozenset({"Data Center/Web Hosting/Transit"})
_LEASE_WORDS = re.compile(r"(?<![a-z])(leased?|leasing)(?![a-z])", re.IGNORECASE)
_COUNTRY_SUFFIX = re.compile(r",\s*[A-Z]{2}$")
_GENERIC_WORDS = frozenset(
    "as asn co corp corporation gmbh inc limited llc ltd network networks sa sas bv srl "
    "technologies technology the of and services service internet holdings group us".split()
)


class ProviderError(ValueError):
    """A provider entry is malformed; the message lists every problem with the entry's position."""


@dataclass(frozen=True)
class Provider:
    """One operator on the providers list."""

    name: str
    kind: str
    asns: frozenset[int] = frozenset()
    domains: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    leasing: bool = False

    @cached_property
    def _pattern(self) -> re.Pattern | None:
        words = [rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])" for n in self.names]
        return re.compile("|".join(words), re.IGNORECASE) if words else None

    def matches_domain(self, host: str) -> bool:
        """True when `host` is one of the provider's domains or a name under one."""
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def matches_name(self, text: str) -> bool:
        """True when one of the provider's names appears in `text` as a whole word."""
        return bool(self._pattern and self._pattern.search(text))


def parse_providers(entries: Iterable[Mapping], origin: str = "provider") -> tuple[Provider, ...]:
    """Validate `[[provider]]` tables into providers; raise ProviderError naming every bad entry."""
    providers, problems = [], []
    for index, entry in enumerate(entries):
        where = f"{origin}[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: expected a table")
            continue
        entry_problems = _entry_problems(entry)
        if entry_problems:
            label = f"{where} ({entry['name']})" if isinstance(entry.get("name"), str) else where
            problems.extend(f"{label}: {p}" for p in entry_problems)
            continue
        providers.append(
            Provider(
                name=entry["name"],
                kind=entry["kind"],
                asns=frozenset(entry.get("asns", ())),
                domains=tuple(d.lower().rstrip(".") for d in entry.get("domains", ())),
                names=tuple(entry.get("names", ())),
                leasing=entry.get("leasing", False),
            )
        )
    if problems:
        raise ProviderError("invalid provider entries:\n  " + "\n  ".join(problems))
    return tuple(providers)


def _entry_problems(entry: Mapping) -> list[str]:
    problems = []
    for key in ("name", "kind"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            problems.append(f"'{key}' must be a non-empty string")
    unknown = set(entry) - {"name", "kind", "asns", "domains", "names", "leasing"}
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}")
    asns = entry.get("asns", [])
    if not isinstance(asns, list) or not all(isinstance(a, int) and not isinstance(a, bool) and a > 0 for a in asns):
        problems.append("'asns' must be a list of positive integers")
    for key in ("domains", "names"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"'{key}' must be a list of non-empty strings")
    if not isinstance(entry.get("leasing", False), bool):
        problems.append("'leasing' must be true or false")
    return problems


@lru_cache(maxsize=1)
def builtin_providers() -> tuple[Provider, ...]:
    """The list shipped in `enrich/providers.toml`."""
    text = resources.files(__package__).joinpath("providers.toml").read_text(encoding="utf-8")
    return parse_providers(tomllib.loads(text).get("provider", []), origin="providers.toml provider")


def load_providers(extra: Iterable[Provider] = ()) -> tuple[Provider, ...]:
    """The shipped list followed by the user's extra providers."""
    return builtin_providers() + tuple(extra)


def as_name(rdap: RdapRecord | None) -> str | None:
    """The origin AS name without Cymru's trailing country code ("IOFLOOD, US" -> "IOFLOOD")."""
    if rdap is None or not rdap.asn_description:
        return None
    return _COUNTRY_SUFFIX.sub("", rdap.asn_description.strip()) or None


def classify(
    rdap: RdapRecord | None,
    abuse: AbuseRecord | None,
    providers: Sequence[Provider] | None = None,
) -> tuple[bool, list[str]]:
    """Decide whether an address belongs to hosting/cloud/VPN/leased space, and say why."""
    providers = builtin_providers() if providers is None else providers
    reasons: list[str] = []
    if abuse is not None:
        if abuse.usage_type in HOSTING_USAGE_TYPES:
            reasons.append(f"AbuseIPDB usageType: {abuse.usage_type}")
        if abuse.is_tor:
            reasons.append("AbuseIPDB: Tor exit node")
    name = as_name(rdap)
    matched: set[str] = set()
    if rdap is not None and rdap.asn is not None:
        for provider in providers:
            if rdap.asn in provider.asns:
                matched.add(provider.name)
                suffix = "" if provider.name.lower() in (name or "").lower() else f" ({provider.name})"
                reasons.append(f"origin AS{rdap.asn} ({name or 'name unknown'}) is {_article(provider.kind)}{suffix}")
    for provider in providers:
        for label, host in _host_candidates(rdap, abuse):
            if provider.matches_domain(host):
                matched.add(provider.name)
                reasons.append(f"{label} {host} on providers list ({provider.name}, {provider.kind})")
                break
    for provider in providers:
        if provider.name in matched or provider.leasing:
            continue
        for label, text in _name_candidates(rdap, abuse, name):
            if provider.matches_name(text):
                reasons.append(f"{label} {text} matches {provider.name} ({provider.kind})")
                break
    leased = _leased_space(rdap, abuse, providers, name)
    if leased:
        reasons.append(leased)
    return bool(reasons), reasons


def _article(kind: str) -> str:
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def _host_candidates(rdap: RdapRecord | None, abuse: AbuseRecord | None) -> list[tuple[str, str]]:
    hosts = []
    if abuse is not None and abuse.domain:
        hosts.append(("domain", abuse.domain))
    if rdap is not None and rdap.abuse_email and "@" in rdap.abuse_email:
        hosts.append(("abuse contact", rdap.abuse_email.rpartition("@")[2]))
    if abuse is not None:
        hosts.extend(("hostname", h) for h in abuse.hostnames)
    return hosts


def _name_candidates(rdap: RdapRecord | None, abuse: AbuseRecord | None, name: str | None) -> list[tuple[str, str]]:
    texts = []
    if rdap is not None:
        texts += [("registrant", rdap.registrant_org), ("network", rdap.network_name), ("AS name", name)]
        texts += [("registry handle", h) for h in rdap.handles]
        texts += [("registry remark", r) for r in rdap.remarks]
    if abuse is not None:
        texts.append(("ISP", abuse.isp))
    return [(label, text) for label, text in texts if text]


def _leased_space(
    rdap: RdapRecord | None, abuse: AbuseRecord | None, providers: Sequence[Provider], name: str | None
) -> str | None:
    """Name both parties when the registry holder leases the space to whoever announces it."""
    if rdap is None:
        return None
    brokers = [p for p in providers if p.leasing]
    broker = next(
        (
            p
            for p in brokers
            if any(p.matches_name(text) for _, text in _name_candidates(rdap, None, None))
            or any(p.matches_domain(host) for _, host in _host_candidates(rdap, abuse))
        ),
        None,
    )
    texts = [rdap.network_name, rdap.registrant_org, *rdap.remarks]
    says_leased = any(_LEASE_WORDS.search(t) for t in texts if t)
    if broker is None and not says_leased:
        return None
    holder = rdap.registrant_org or rdap.network_name or "unknown holder"
    details = [f"network {rdap.network_name}"] if rdap.network_name and rdap.network_name != holder else []
    if broker is not None:
        details.append(f"broker {broker.name}")
    held = f"registrant {holder}" + (f" ({', '.join(details)})" if details else "")
    if rdap.asn is None:
        return f"leased space: {held}; origin AS unknown"
    origin = f"AS{rdap.asn} ({rdap.asn_description or 'name unknown'})"
    different = "" if _same_party(holder, name) else ", a different party"
    return f"leased space: {held} announced by {origin}{different}"


def _same_party(a: str | None, b: str | None) -> bool:
    words = [set(re.findall(r"[a-z0-9]+", (t or "").lower())) - _GENERIC_WORDS for t in (a, b)]
    return bool(words[0] & words[1])
