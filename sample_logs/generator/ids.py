"""Provides seed-stable identifiers (GUIDs, addresses) and the compact JSON of records."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import random


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def to_json(record: dict) -> str:
    """Serialise one record compactly, as the audit services do."""
    return _JSON.encode(record)


@functools.lru_cache(maxsize=1 << 16)
def stable_guid(*parts: object) -> str:
    """A version-4-shaped GUID derived from ``parts`` (stable across runs and Python versions)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return _guid_from_int(int.from_bytes(digest[:16], "big"))


def random_guid(rng: random.Random) -> str:
    """A version-4-shaped GUID drawn from ``rng``."""
    return _guid_from_int(rng.getrandbits(128))


def _guid_from_int(n: int) -> str:
    n = (n & ~(0xF << 76)) | (0x4 << 76)
    n = (n & ~(0x3 << 62)) | (0x2 << 62)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def random_address(rng: random.Random, cidr: str) -> str:
    """A host address inside ``cidr``."""
    net = ipaddress.ip_network(cidr)
    return str(net.network_address + rng.randrange(1, net.num_addresses - 1))
