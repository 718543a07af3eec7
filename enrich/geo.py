"""Provides offline geolocation of IP addresses from MaxMind-format databases the user supplies.

Two files, each optional, named in the config's `[enrich]` table: `geoip_city` (GeoLite2-City or DB-IP Lite
city, for country, city and coordinates) and `geoip_asn` (GeoLite2-ASN or DB-IP Lite ASN, for the autonomous
system). Nothing leaves the machine. Each distinct address is looked up once, never each event.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import maxminddb
import polars as pl

#: The geolocation columns of the enrichment frame. `geo_` marks what the offline database says, beside the
#: `asn` / `country` that RDAP and AbuseIPDB report.
GEO_SCHEMA = {
    "ip": pl.String,
    "geo_country": pl.String,  # ISO 3166-1 alpha-2 code
    "geo_country_name": pl.String,
    "geo_city": pl.String,
    "geo_latitude": pl.Float64,
    "geo_longitude": pl.Float64,
    "geo_accuracy_km": pl.Int64,  # the database's accuracy radius (GeoLite2; absent in DB-IP Lite)
    "geo_asn": pl.Int64,
    "geo_as_org": pl.String,
}
GEO_COLUMNS = tuple(name for name in GEO_SCHEMA if name != "ip")
#: Which database each config key expects, and the words of `database_type` that mark the other kind.
_KINDS = {"geoip_city": ("city or country", "asn"), "geoip_asn": ("ASN", "city")}


class GeoDatabaseError(ValueError):
    """A configured geolocation database cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class GeoDatabases:
    """The configured database files (either may be None)."""

    city: Path | None = None
    asn: Path | None = None

    @property
    def configured(self) -> bool:
        """Whether any database is configured."""
        return self.city is not None or self.asn is not None

    def describe(self) -> str:
        """Which databases answer, for messages and labels (e.g. `GeoLite2-City, GeoLite2-ASN`)."""
        return ", ".join(_database_type(path, key) for key, path in (("geoip_city", self.city),
                                                                      ("geoip_asn", self.asn)) if path is not None)


def _open(path: Path, key: str) -> maxminddb.Reader:
    """Open one database, checking that it is the kind its config key names."""
    if not path.is_file():
        raise GeoDatabaseError(f"enrich.{key} {path}: file not found")
    try:
        reader = maxminddb.open_database(str(path))
    except (OSError, maxminddb.InvalidDatabaseError, ValueError) as error:
        raise GeoDatabaseError(f"enrich.{key} {path}: not a MaxMind DB file ({error})") from None
    expected, other = _KINDS[key]
    kind = reader.metadata().database_type
    if other in kind.lower():
        reader.close()
        raise GeoDatabaseError(f"enrich.{key} {path}: a {kind} database; expected a {expected} database")
    return reader


def _database_type(path: Path, key: str) -> str:
    with _open(path, key) as reader:
        return reader.metadata().database_type


def _name(record: dict, key: str) -> str | None:
    names = (record.get(key) or {}).get("names") or {}
    return names.get("en") or next(iter(names.values()), None)


def _city_fields(record: dict | None) -> dict:
    if not record:
        return {}
    location = record.get("location") or {}
    country = record.get("country") or record.get("registered_country") or {}
    return {
        "geo_country": country.get("iso_code"),
        "geo_country_name": _name({"country": country}, "country"),
        "geo_city": _name(record, "city"),
        "geo_latitude": location.get("latitude"),
        "geo_longitude": location.get("longitude"),
        "geo_accuracy_km": location.get("accuracy_radius"),
    }


def _asn_fields(record: dict | None) -> dict:
    if not record:
        return {}
    return {"geo_asn": record.get("autonomous_system_number"), "geo_as_org": record.get("autonomous_system_organization")}


def geolocate(ips: list[str] | pl.Series, databases: GeoDatabases) -> pl.DataFrame:
    """One row per distinct address of `ips` (GEO_SCHEMA): what the databases say of it, nulls where they say
    nothing (private addresses, text that is no address). Raises GeoDatabaseError for an unusable file."""
    distinct = sorted({ip for ip in ips if ip})
    readers = {key: _open(path, key) for key, path in (("geoip_city", databases.city), ("geoip_asn", databases.asn))
               if path is not None}
    rows = []
    try:
        for ip in distinct:  # one lookup per distinct address (the reader has no batch call)
            row = {"ip": ip}
            try:
                address = ipaddress.ip_address(ip)
            except ValueError:
                rows.append(row)
                continue
            if "geoip_city" in readers:
                row |= _city_fields(_lookup(readers["geoip_city"], address))
            if "geoip_asn" in readers:
                row |= _asn_fields(_lookup(readers["geoip_asn"], address))
            rows.append(row)
    finally:
        for reader in readers.values():
            reader.close()
    return pl.DataFrame(rows, schema=GEO_SCHEMA)


def _lookup(reader: maxminddb.Reader, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> dict | None:
    """The record of `address`, or None (an IPv6 address in an IPv4-only database has none either)."""
    try:
        record = reader.get(address)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def place_text(row: dict) -> str | None:
    """Where the database places an enrichment row's IP, e.g. `London, GB 51.5142,-0.0931 ±10 km`; None if nowhere."""
    if row.get("geo_country") is None and row.get("geo_latitude") is None:
        return None
    where = ", ".join(part for part in (row.get("geo_city") or "(country only)", row.get("geo_country")) if part)
    if row.get("geo_latitude") is not None and row.get("geo_longitude") is not None:
        where += f" {row['geo_latitude']:.4f},{row['geo_longitude']:.4f}"
    if row.get("geo_accuracy_km") is not None:
        where += f" ±{row['geo_accuracy_km']} km"
    return where


def geo_asn_text(row: dict) -> str | None:
    """The database's autonomous system of an enrichment row's IP, e.g. `AS20712 Example Broadband`; None if unknown."""
    if row.get("geo_asn") is None:
        return None
    return " ".join(part for part in (f"AS{row['geo_asn']}", row.get("geo_as_org")) if part)
