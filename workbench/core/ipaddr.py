"""Provides client IP normalisation: no port, no brackets, IPv4-mapped IPv6 as IPv4, canonical IPv6."""

import ipaddress

import polars as pl

_NULLS = ("", "<null>", "null", "none", "-")


def normalise_client_ip(raw: str | None) -> str | None:
    """Return the canonical address in `raw` (`1.2.3.4:443`, `[::1]:80`, `::ffff:1.2.3.4`...), or None."""
    if raw is None:
        return None
    text = raw.strip().strip('"')
    if text.lower() in _NULLS:
        return None
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def normalise_client_ip_column(raw: pl.Series) -> pl.Series:
    """Normalise a column of raw IP text; the Python work runs once per distinct value, not per event."""
    # Ports vary per connection: drop them first so the distinct values stay few.
    without_port = raw.str.strip_chars().str.replace(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d+$", "$1")
    distinct = without_port.drop_nulls().unique()
    mapping = {value: normalise_client_ip(value) for value in distinct.to_list()}
    return without_port.replace_strict(mapping, default=None, return_dtype=pl.String).alias("client_ip")
