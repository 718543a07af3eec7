"""Provides AbuseIPDB v2 `check` lookups as typed records, with retries, rate limits and a daily quota.

The API key is sent in the `Key` header only; no message, repr or record built here contains it.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

import httpx

from enrich.settings import DEFAULT_ABUSEIPDB_URL


class AbuseIPDBError(Exception):
    """The check of one address failed."""


class AbuseIPDBStop(AbuseIPDBError):
    """No further check can succeed in this run (bad key, rate limit, quota, unreachable)."""


class AbuseIPDBAuthError(AbuseIPDBStop):
    """AbuseIPDB refused the API key (401/403) or the plan (402)."""


class AbuseIPDBRateLimited(AbuseIPDBStop):
    """AbuseIPDB answered 429 (or an earlier run was told to wait); `until` is when to resume."""

    def __init__(self, until: datetime, limit: int | None = None) -> None:
        self.until = until
        limit_text = f" (daily limit {limit})" if limit else ""
        super().__init__(f"rate limit reached{limit_text}; can resume after {until:%Y-%m-%d %H:%M:%S} UTC")


class AbuseIPDBQuotaExhausted(AbuseIPDBStop):
    """The daily quota (ours or the server's X-RateLimit-Remaining) is used up."""


class AbuseIPDBUnavailable(AbuseIPDBStop):
    """The AbuseIPDB server cannot be reached from this host."""


@dataclass(frozen=True)
class AbuseRecord:
    """AbuseIPDB's view of an address (`data` of a `check` answer)."""

    ip: str
    abuse_score: int | None = None
    total_reports: int | None = None
    distinct_users: int | None = None
    usage_type: str | None = None
    isp: str | None = None
    domain: str | None = None
    hostnames: tuple[str, ...] = ()
    is_tor: bool | None = None
    country: str | None = None
    last_reported_at: datetime | None = None

    def to_dict(self) -> dict:
        """A JSON-ready dict (the cache payload)."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["hostnames"] = list(self.hostnames)
        data["last_reported_at"] = self.last_reported_at.isoformat() if self.last_reported_at else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> AbuseRecord:
        """Rebuild a record from `to_dict` output; raise ValueError when it does not fit."""
        if not isinstance(data, dict) or not isinstance(data.get("ip"), str):
            raise ValueError("not an AbuseIPDB record")
        return cls(
            ip=data["ip"],
            abuse_score=_int(data.get("abuse_score")),
            total_reports=_int(data.get("total_reports")),
            distinct_users=_int(data.get("distinct_users")),
            usage_type=_str(data.get("usage_type")),
            isp=_str(data.get("isp")),
            domain=_str(data.get("domain")),
            hostnames=tuple(h for h in data.get("hostnames") or () if isinstance(h, str)),
            is_tor=data.get("is_tor") if isinstance(data.get("is_tor"), bool) else None,
            country=_str(data.get("country")),
            last_reported_at=_timestamp(data.get("last_reported_at")),
        )


def parse_check(ip: str, payload: object) -> AbuseRecord:
    """Map a `check` answer's JSON to a record; null or missing fields become None."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise AbuseIPDBError("malformed answer from AbuseIPDB (no 'data' object)")
    return AbuseRecord(
        ip=ip,
        abuse_score=_int(data.get("abuseConfidenceScore")),
        total_reports=_int(data.get("totalReports")),
        distinct_users=_int(data.get("numDistinctUsers")),
        usage_type=_str(data.get("usageType")),
        isp=_str(data.get("isp")),
        domain=_str(data.get("domain")),
        hostnames=tuple(h for h in data.get("hostnames") or () if isinstance(h, str)),
        is_tor=data.get("isTor") if isinstance(data.get("isTor"), bool) else None,
        country=_str(data.get("countryCode")),
        last_reported_at=_timestamp(data.get("lastReportedAt")),
    )


@dataclass
class Quota:
    """The daily `check` quota as this host knows it; kept in the cache between runs."""

    daily_quota: int = 1000
    used: int = 0
    day: str = ""
    server_limit: int | None = None
    server_remaining: int | None = None
    resets_at: datetime | None = None
    blocked_until: datetime | None = None

    def roll(self, now: datetime) -> None:
        """Start a new quota day when the server's reset time (or the UTC date) has passed."""
        if (self.resets_at and now >= self.resets_at) or (not self.resets_at and self.day != now.date().isoformat()):
            self.used, self.server_remaining, self.resets_at = 0, None, None
        self.day = now.date().isoformat()
        if self.blocked_until and now >= self.blocked_until:
            self.blocked_until = None

    def left(self) -> int:
        """Checks still allowed today: our own quota and the server's count, whichever is lower."""
        left = self.daily_quota - self.used
        if self.server_remaining is not None:
            left = min(left, self.server_remaining)
        return max(left, 0)

    def to_dict(self) -> dict:
        """A JSON-ready dict (without the configured quota, which comes from settings)."""
        return {
            "used": self.used,
            "day": self.day,
            "server_limit": self.server_limit,
            "server_remaining": self.server_remaining,
            "resets_at": self.resets_at.isoformat() if self.resets_at else None,
            "blocked_until": self.blocked_until.isoformat() if self.blocked_until else None,
        }

    @classmethod
    def from_dict(cls, data: dict | None, daily_quota: int) -> Quota:
        """Rebuild the saved state, tolerating anything malformed as 'nothing known'."""
        data = data if isinstance(data, dict) else {}
        return cls(
            daily_quota=daily_quota,
            used=_int(data.get("used")) or 0,
            day=_str(data.get("day")) or "",
            server_limit=_int(data.get("server_limit")),
            server_remaining=_int(data.get("server_remaining")),
            resets_at=_timestamp(data.get("resets_at")),
            blocked_until=_timestamp(data.get("blocked_until")),
        )


@dataclass
class AbuseIPDBClient:
    """Checks addresses against `GET {base_url}/api/v2/check`; thread-safe; `close()` when done.

    Timeouts, transport errors and 5xx are retried `retries` times with exponential backoff
    starting at `backoff` seconds. A 401/402/403, a 429, a used-up quota or an unreachable
    server sets `stopped`, after which every `check` raises that same error at once.
    """

    api_key: str = field(repr=False)
    base_url: str = DEFAULT_ABUSEIPDB_URL
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    max_age_days: int = 90
    verbose: bool = False
    quota: Quota = field(default_factory=Quota)
    stopped: AbuseIPDBStop | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        base = self.base_url.rstrip("/")
        self._url = base + ("/check" if base.endswith("/api/v2") else "/api/v2/check")
        parts = urlsplit(self._url)
        if parts.scheme != "https" and not _is_loopback(parts.hostname or ""):
            scheme = parts.scheme or "an unknown scheme"
            raise ValueError(f"refusing to send the AbuseIPDB key over {scheme} to {parts.hostname}; use https")
        self._host = parts.netloc
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=self.timeout, follow_redirects=False, headers={"Accept": "application/json"})
        now = datetime.now(UTC)
        self.quota.roll(now)
        if self.quota.blocked_until:
            self.stopped = AbuseIPDBRateLimited(self.quota.blocked_until, self.quota.server_limit)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def check(self, ip: str) -> AbuseRecord:
        """Check one address; raise AbuseIPDBError, or an AbuseIPDBStop subclass for the whole run."""
        self._reserve()
        query = f"?ipAddress={quote(ip, safe='')}&maxAgeInDays={self.max_age_days}"
        query += "&verbose" if self.verbose else ""
        problem, unreachable = "no attempt", False
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._http.get(self._url + query, headers={"Key": self.api_key})
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                problem, unreachable = self._redact(f"{type(error).__name__}: {error}"), True
                continue
            except httpx.TimeoutException:
                problem, unreachable = f"timed out after {self.timeout:g} s", False
                continue
            except httpx.TransportError as error:
                problem, unreachable = f"network error ({type(error).__name__})", False
                continue
            self._note(response)
            if response.status_code >= 500:
                problem, unreachable = f"server error {response.status_code}", False
                continue
            return self._answer(ip, response)
        self._refund()
        if unreachable:
            raise self._stop(AbuseIPDBUnavailable(f"cannot reach AbuseIPDB at {self._host} ({problem})"))
        raise AbuseIPDBError(f"{problem} ({self.retries + 1} attempts)")

    def _reserve(self) -> None:
        with self._lock:
            if self.stopped:
                raise self.stopped
            if self.quota.left() <= 0:
                raise self._stop_locked(AbuseIPDBQuotaExhausted(self._quota_text()))
            self.quota.used += 1

    def _refund(self) -> None:
        with self._lock:
            self.quota.used -= 1

    def _stop(self, error: AbuseIPDBStop) -> AbuseIPDBStop:
        with self._lock:
            return self._stop_locked(error)

    def _stop_locked(self, error: AbuseIPDBStop) -> AbuseIPDBStop:
        if self.stopped is None:
            self.stopped = error
        return self.stopped

    def _quota_text(self) -> str:
        when = f"; resets at {self.quota.resets_at:%Y-%m-%d %H:%M} UTC" if self.quota.resets_at else ""
        if self.quota.server_remaining == 0:
            limit = f" of {self.quota.server_limit}" if self.quota.server_limit else ""
            return f"AbuseIPDB reports no checks left today{limit}{when}"
        return f"daily quota of {self.quota.daily_quota} checks used up{when}"

    def _note(self, response: httpx.Response) -> None:
        """Track the server's rate-limit headers, which come with every answer."""
        limit = _int(response.headers.get("X-RateLimit-Limit"))
        remaining = _int(response.headers.get("X-RateLimit-Remaining"))
        reset = _int(response.headers.get("X-RateLimit-Reset"))
        with self._lock:
            if limit is not None:
                self.quota.server_limit = limit
            if remaining is not None:
                self.quota.server_remaining = remaining
            if reset is not None:
                self.quota.resets_at = datetime.fromtimestamp(reset, UTC)

    def _answer(self, ip: str, response: httpx.Response) -> AbuseRecord:
        status = response.status_code
        if status == 200:
            try:
                payload = response.json()
            except ValueError:
                raise AbuseIPDBError("malformed answer from AbuseIPDB (not JSON)") from None
            return parse_check(ip, payload)
        detail = self._detail(response)
        if status == 429:
            self._refund()
            until = datetime.now(UTC) + _retry_after(response.headers.get("Retry-After"))
            with self._lock:
                self.quota.blocked_until = until
                self.quota.server_remaining = 0
            raise self._stop(AbuseIPDBRateLimited(until, self.quota.server_limit))
        if status in (401, 402, 403):
            self._refund()
            what = "the plan does not include this" if status == 402 else "the API key was rejected"
            raise self._stop(AbuseIPDBAuthError(f"{what} (HTTP {status}): {detail}"))
        if status == 422:
            raise AbuseIPDBError(f"AbuseIPDB refused the request (HTTP 422): {detail}")
        raise AbuseIPDBError(f"unexpected answer HTTP {status}: {detail}")

    def _detail(self, response: httpx.Response) -> str:
        """`errors[0].detail` of a JSON:API error body, shortened and with the key removed."""
        try:
            errors = response.json().get("errors")
            detail = errors[0]["detail"]
        except (ValueError, AttributeError, LookupError, TypeError):
            detail = None
        if not isinstance(detail, str) or not detail.strip():
            return "no details given"
        return self._redact(" ".join(detail.split()))[:200]

    def _redact(self, text: str) -> str:
        return text.replace(self.api_key, "<key>") if self.api_key else text

    def __enter__(self) -> AbuseIPDBClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _retry_after(value: str | None) -> timedelta:
    """Retry-After as seconds or an HTTP date; an hour when missing or unreadable."""
    if value is not None and value.strip().isdigit():
        return timedelta(seconds=int(value.strip()))
    try:
        return max(parsedate_to_datetime(value) - datetime.now(UTC), timedelta(0))
    except (TypeError, ValueError):
        return timedelta(hours=1)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
