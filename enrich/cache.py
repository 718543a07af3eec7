"""Provides the SQLite enrichment cache shared by all cases, and its JSON export/import for air-gapped hosts."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from enrich.addresses import parse_ip

SOURCES = ("rdap", "abuseipdb")
EXPORT_FORMAT = "m365-bec-workbench enrichment results"
EXPORT_VERSION = 1
DB_NAME = "enrichment.sqlite3"
_CHUNK = 500


class CacheFileError(ValueError):
    """An import file is unreadable or not an enrichment export; the message names file and problem."""


@dataclass(frozen=True)
class CachedResult:
    """One stored lookup result."""

    payload: dict
    fetched_at: datetime


class EnrichmentCache:
    """Lookup results per source, keyed by address; each write is its own transaction."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = directory / DB_NAME
        self._db = sqlite3.connect(self.path, timeout=30)
        # WAL: a commit per result stays cheap, readers in other processes are not blocked,
        # and a crash still leaves every committed result intact.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._db:
            for source in SOURCES:
                self._db.execute(
                    f"CREATE TABLE IF NOT EXISTS {source} "
                    "(ip TEXT PRIMARY KEY, fetched_at TEXT NOT NULL, payload TEXT NOT NULL)"
                )
            self._db.execute("CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, payload TEXT NOT NULL)")

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> EnrichmentCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_many(self, source: str, ips: Iterable[str]) -> dict[str, CachedResult]:
        """The stored results for those addresses that have one, whatever their age."""
        _check(source)
        ips = list(ips)
        found = {}
        for start in range(0, len(ips), _CHUNK):
            chunk = ips[start : start + _CHUNK]
            rows = self._db.execute(
                f"SELECT ip, fetched_at, payload FROM {source} WHERE ip IN ({','.join('?' * len(chunk))})", chunk
            )
            for ip, fetched_at, payload in rows:
                result = _decode(payload, fetched_at)
                if result is not None:
                    found[ip] = result
        return found

    def put(self, source: str, ip: str, payload: dict, fetched_at: datetime | None = None) -> None:
        """Store (replace) one result, stamped now unless `fetched_at` is given."""
        _check(source)
        stamp = _stamp(fetched_at or datetime.now(UTC))
        with self._db:
            self._db.execute(
                f"INSERT OR REPLACE INTO {source} (ip, fetched_at, payload) VALUES (?, ?, ?)",
                (ip, stamp, json.dumps(payload, sort_keys=True)),
            )

    def get_state(self, name: str) -> dict | None:
        """A small saved state (e.g. the AbuseIPDB quota), or None."""
        row = self._db.execute("SELECT payload FROM state WHERE name = ?", (name,)).fetchone()
        try:
            value = json.loads(row[0]) if row else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def put_state(self, name: str, payload: dict) -> None:
        """Save a small state."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO state (name, payload) VALUES (?, ?)", (name, json.dumps(payload)))

    def export_results(self, path: Path) -> int:
        """Write every stored result to a JSON file (atomically); return how many."""
        sources = {}
        for source in SOURCES:
            rows = self._db.execute(f"SELECT ip, fetched_at, payload FROM {source} ORDER BY ip")
            sources[source] = [
                {"ip": ip, "fetched_at": fetched_at, "result": json.loads(payload)} for ip, fetched_at, payload in rows
            ]
        document = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": datetime.now(UTC).isoformat(),
            "sources": sources,
        }
        _write_atomically(Path(path), json.dumps(document, indent=1, sort_keys=True) + "\n")
        return sum(len(rows) for rows in sources.values())

    def import_results(self, path: Path) -> int:
        """Merge an export into the cache (the newer result per address wins); return how many were taken."""
        path = Path(path)
        entries = _read_export(path)
        taken = 0
        with self._db:
            for source, ip, fetched_at, payload in entries:
                cursor = self._db.execute(
                    f"INSERT INTO {source} (ip, fetched_at, payload) VALUES (?, ?, ?) "
                    "ON CONFLICT(ip) DO UPDATE SET fetched_at = excluded.fetched_at, payload = excluded.payload "
                    "WHERE excluded.fetched_at > fetched_at",
                    (ip, _stamp(fetched_at), json.dumps(payload, sort_keys=True)),
                )
                taken += cursor.rowcount
        return taken


def _check(source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"unknown enrichment source {source!r}; expected one of {SOURCES}")


def _stamp(moment: datetime) -> str:
    """A fixed-width UTC ISO timestamp, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _decode(payload: str, fetched_at: str) -> CachedResult | None:
    try:
        value, stamp = json.loads(payload), datetime.fromisoformat(fetched_at)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    return CachedResult(value, stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC))


def _read_export(path: Path) -> list[tuple[str, str, datetime, dict]]:
    """Validate the whole file first, so a bad file imports nothing; list every problem."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise CacheFileError(f"{path}: cannot read ({error.strerror or error})") from None
    except ValueError as error:
        raise CacheFileError(f"{path}: not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise CacheFileError(f'{path}: not an enrichment export (expected "format": "{EXPORT_FORMAT}")')
    if document.get("version") != EXPORT_VERSION:
        version = document.get("version")
        raise CacheFileError(f"{path}: export version {version!r} is not supported (expected {EXPORT_VERSION})")
    sources = document.get("sources")
    if not isinstance(sources, dict):
        raise CacheFileError(f'{path}: "sources" must be an object')
    entries, problems = [], []
    for source, rows in sources.items():
        if source not in SOURCES:
            problems.append(f"sources.{source}: unknown source (expected one of {', '.join(SOURCES)})")
            continue
        for index, row in enumerate(rows if isinstance(rows, list) else [rows]):
            where = f"sources.{source}[{index}]"
            entry = _entry(row)
            if isinstance(entry, str):
                problems.append(f"{where}: {entry}")
            else:
                entries.append((source, *entry))
    if problems:
        raise CacheFileError(f"{path}: " + "; ".join(problems[:20]) + (" ..." if len(problems) > 20 else ""))
    return entries


def _entry(row: object) -> tuple[str, datetime, dict] | str:
    if not isinstance(row, dict):
        return "expected an object with ip, fetched_at and result"
    ip, result = row.get("ip"), row.get("result")
    if not isinstance(ip, str) or parse_ip(ip) is None:
        return f"ip {ip!r} is not an IP address"
    if not isinstance(result, dict) or result.get("ip") != ip:
        return "result must be an object for the same ip"
    try:
        stamp = datetime.fromisoformat(str(row.get("fetched_at")))
    except ValueError:
        return f"fetched_at {row.get('fetched_at')!r} is not an ISO timestamp"
    return ip, (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(UTC), result


def _write_atomically(path: Path, text: str) -> None:
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed into place below
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
    )
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
