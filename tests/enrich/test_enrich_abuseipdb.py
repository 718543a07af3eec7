"""AbuseIPDB client against the fake server: documented answers, errors, retries, rate limits, quota."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from enrich_fakes import KEY, Reply

from enrich.abuseipdb import (
    AbuseIPDBAuthError,
    AbuseIPDBClient,
    AbuseIPDBError,
    AbuseIPDBQuotaExhausted,
    AbuseIPDBRateLimited,
    AbuseIPDBUnavailable,
    Quota,
)


@pytest.fixture
def client(abuse_server):
    with AbuseIPDBClient(api_key=KEY, base_url=abuse_server.url, timeout=0.5, retries=2, backoff=0.01) as c:
        yield c


def test_check_maps_the_documented_answer(client, abuse_server):
    record = client.check("104.161.20.102")

    assert record.abuse_score == 42
    assert record.total_reports == 7
    assert record.distinct_users == 6
    assert record.usage_type == "Data Center/Web Hosting/Transit"
    assert record.isp == "IOFlood.com"
    assert record.domain == "ioflood.com"
    assert record.is_tor is False
    assert record.country == "US"
    assert record.last_reported_at == datetime(2023, 9, 19, 11, 42, 10, tzinfo=UTC)
    request = abuse_server.requests[0]
    assert request.query == {"ipAddress": ["104.161.20.102"], "maxAgeInDays": ["90"]}
    assert request.headers["Key"] == KEY
    assert request.headers["Accept"] == "application/json"


def test_verbose_answer_with_reports_gives_the_same_record(abuse_server):
    with AbuseIPDBClient(api_key=KEY, base_url=abuse_server.url, verbose=True) as verbose:
        record = verbose.check("104.161.20.102")

    assert "verbose" in abuse_server.requests[0].query
    assert (record.abuse_score, record.total_reports, record.domain) == (42, 7, "ioflood.com")


def test_ipv6_address_is_url_encoded(client, abuse_server):
    record = client.check("2a01:4f8:c17:b8f::2")

    assert abuse_server.checked == ["2a01:4f8:c17:b8f::2"]
    assert record.hostnames == ("static.2.8f.b.0.7.1.c.0.8.f.4.0.1.0.a.2.clients.your-server.de",)


def test_null_fields_become_none(client, abuse_server):
    abuse_server.default = [Reply(body=abuse_server.fixture("null-fields"))]

    record = client.check("45.33.32.156")

    assert record.abuse_score is None and record.total_reports is None and record.is_tor is None
    assert record.usage_type is None and record.country is None and record.last_reported_at is None
    assert record.hostnames == ()


@pytest.mark.parametrize("body", ["{not json", "[]", '{"data": null}', '{"errors": []}'])
def test_malformed_answer_is_an_error_for_that_address(client, abuse_server, body):
    abuse_server.default = [Reply(body=body)]

    with pytest.raises(AbuseIPDBError, match="malformed answer"):
        client.check("45.33.32.156")
    assert client.stopped is None


def test_401_stops_the_run_with_a_clear_error(client, abuse_server):
    abuse_server.default = [
        Reply(
            401,
            {
                "errors": [
                    {
                        "detail": "Authentication failed. Your API key is either missing, incorrect, or revoked.",
                        "status": 401,
                    }
                ]
            },
        )
    ]

    with pytest.raises(AbuseIPDBAuthError, match=r"API key was rejected \(HTTP 401\): Authentication failed"):
        client.check("45.33.32.156")
    with pytest.raises(AbuseIPDBAuthError):
        client.check("45.33.32.157")
    assert len(abuse_server.requests) == 1


def test_422_is_an_error_for_that_address_only(client, abuse_server):
    abuse_server.script["45.33.32.156"] = [
        Reply(
            422,
            {
                "errors": [
                    {
                        "detail": "The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or 2001:4860:4860::8888).",
                        "status": 422,
                        "source": {"parameter": "ipAddress"},
                    }
                ]
            },
        )
    ]

    with pytest.raises(AbuseIPDBError, match="HTTP 422.*valid IPv4 or IPv6"):
        client.check("45.33.32.156")
    assert client.check("45.33.32.157").usage_type == "Fixed Line ISP"


def test_429_honours_retry_after_and_stops(client, abuse_server):
    abuse_server.default = [
        Reply(
            429,
            {
                "errors": [
                    {
                        "detail": "Daily rate limit of 1000 requests exceeded for this endpoint. See headers for additional details.",
                        "status": 429,
                    }
                ]
            },
            {
                "Retry-After": "29241",
                "X-RateLimit-Limit": "1000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "1545973200",
            },
        )
    ]

    before = datetime.now(UTC)
    with pytest.raises(AbuseIPDBRateLimited) as raised:
        client.check("45.33.32.156")

    assert before + timedelta(seconds=29240) <= raised.value.until <= datetime.now(UTC) + timedelta(seconds=29241)
    assert "daily limit 1000" in str(raised.value) and "can resume after" in str(raised.value)
    assert client.quota.blocked_until == raised.value.until
    with pytest.raises(AbuseIPDBRateLimited):
        client.check("45.33.32.157")
    assert len(abuse_server.requests) == 1


def test_rate_limit_headers_are_tracked_on_every_answer(client, abuse_server):
    abuse_server.remaining = 501

    client.check("45.33.32.156")

    assert client.quota.server_limit == 1000
    assert client.quota.server_remaining == 500
    assert client.quota.used == 1


def test_server_reporting_no_checks_left_stops_further_checks(client, abuse_server):
    abuse_server.remaining = 1

    client.check("45.33.32.156")
    with pytest.raises(AbuseIPDBQuotaExhausted, match="no checks left today of 1000"):
        client.check("45.33.32.157")
    assert len(abuse_server.requests) == 1


def test_own_daily_quota_is_respected(abuse_server):
    with AbuseIPDBClient(api_key=KEY, base_url=abuse_server.url, quota=Quota(daily_quota=1)) as limited:
        limited.check("45.33.32.156")
        with pytest.raises(AbuseIPDBQuotaExhausted, match="daily quota of 1 checks used up"):
            limited.check("45.33.32.157")
    assert len(abuse_server.requests) == 1


def test_5xx_is_retried_then_succeeds(client, abuse_server):
    abuse_server.default = [Reply(503, "<html>busy</html>"), Reply(500, "oops"), Reply()]

    record = client.check("104.161.20.102")

    assert record.total_reports == 7
    assert len(abuse_server.requests) == 3


def test_5xx_every_time_gives_up_after_the_retries(client, abuse_server):
    abuse_server.default = [Reply(502, "bad gateway")]

    with pytest.raises(AbuseIPDBError, match=r"server error 502 \(3 attempts\)"):
        client.check("45.33.32.156")
    assert len(abuse_server.requests) == 3
    assert client.stopped is None


def test_slow_answers_time_out_and_are_retried(abuse_server):
    abuse_server.default = [Reply(delay=0.6), Reply()]
    with AbuseIPDBClient(api_key=KEY, base_url=abuse_server.url, timeout=0.2, retries=1, backoff=0.01) as quick:
        assert quick.check("104.161.20.102").total_reports == 7

        abuse_server.default = [Reply(delay=0.6)]
        started = time.monotonic()
        with pytest.raises(AbuseIPDBError, match=r"timed out after 0.2 s \(2 attempts\)"):
            quick.check("45.33.32.156")
        assert time.monotonic() - started < 1.5


def test_unreachable_server_stops_the_run(abuse_server):
    port = abuse_server.url.rsplit(":", 1)[1]
    abuse_server.close()
    with AbuseIPDBClient(api_key=KEY, base_url=f"http://127.0.0.1:{port}", retries=1, backoff=0.01) as gone:
        with pytest.raises(AbuseIPDBUnavailable, match=r"cannot reach AbuseIPDB at 127.0.0.1:\d+ \(ConnectError"):
            gone.check("45.33.32.156")
        assert isinstance(gone.stopped, AbuseIPDBUnavailable)
        assert gone.quota.used == 0


def test_no_resolver_or_network_gives_a_clear_stop():
    with AbuseIPDBClient(api_key=KEY, retries=0) as public:
        with pytest.raises(
            AbuseIPDBUnavailable, match=r"cannot reach AbuseIPDB at api.abuseipdb.com .*Name or service not known"
        ):
            public.check("45.33.32.156")


def test_plain_http_to_a_remote_host_is_refused():
    with pytest.raises(ValueError, match="refusing to send the AbuseIPDB key over http to abuse.example"):
        AbuseIPDBClient(api_key=KEY, base_url="http://abuse.example")


def test_base_url_may_already_name_the_api_version(abuse_server):
    with AbuseIPDBClient(api_key=KEY, base_url=abuse_server.url + "/api/v2/") as c:
        c.check("104.161.20.102")
    assert abuse_server.requests[0].path == "/api/v2/check"


def test_quota_rolls_over_when_the_server_reset_time_passes():
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    quota = Quota(
        daily_quota=1000, used=990, day="2024-05-01", server_remaining=3, resets_at=now - timedelta(minutes=1)
    )

    quota.roll(now)

    assert (quota.used, quota.server_remaining, quota.left()) == (0, None, 1000)


def test_saved_block_is_honoured_without_a_request(abuse_server):
    until = datetime.now(UTC) + timedelta(hours=2)
    with AbuseIPDBClient(api_key=KEY, base_url=abuse_server.url, quota=Quota(blocked_until=until)) as c:
        with pytest.raises(AbuseIPDBRateLimited):
            c.check("45.33.32.156")
    assert abuse_server.requests == []
