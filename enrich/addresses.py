"""Provides the rule for which client addresses are looked up and which never leave the machine."""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAMED_NETWORKS = [
    (ipaddress.ip_network("100.64.0.0/10"), "shared address space (CGNAT, RFC 6598)"),
    (ipaddress.ip_network("192.0.2.0/24"), "documentation address (RFC 5737)"),
    (ipaddress.ip_network("198.51.100.0/24"), "documentation address (RFC 5737)"),
    (ipaddress.ip_network("203.0.113.0/24"), "documentation address (RFC 5737)"),
    (ipaddress.ip_network("2001:db8::/32"), "documentation address (RFC 3849)"),
    (ipaddress.ip_network("3fff::/20"), "documentation address (RFC 9637)"),
    (ipaddress.ip_network("198.18.0.0/15"), "benchmarking address (RFC 2544)"),
]


def parse_ip(text: str) -> IPAddress | None:
    """Parse an address; IPv4-mapped IPv6 becomes IPv4. None when it is not an address."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def local_reason(address: IPAddress) -> str | None:
    """Why this address must not be sent to any lookup service, or None if it is public."""
    for network, reason in _NAMED_NETWORKS:
        if address.version == network.version and address in network:
            return reason
    checks = [
        (address.is_unspecified, "unspecified address"),
        (address.is_loopback, "loopback address"),
        (address.is_link_local, "link-local address"),
        (address.is_multicast, "multicast address"),
        (address.is_private, "private-use address"),
        (address.is_reserved, "reserved address"),
        (not address.is_global, "special-purpose address (not globally routable)"),
    ]
    return next((reason for matched, reason in checks if matched), None)
