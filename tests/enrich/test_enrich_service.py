"""The analyst's flow: summarise the events' client IPs, enrich them, and see the reference case flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from enrich_fakes import REFERENCE_IPS, Reply, events_frame

from enrich import EnrichmentCache, Progress, enrich, ip_summary
from enrich.geo import GEO_COLUMNS
from enrich.service import ENRICHMENT_SCHEMA, SUMMARY_COLUMNS

DESIGN_KEYS = [
    "ip",
    "events",
    "users",
    "cases",
    "first_seen",
    "last_seen",
    "asn",
    "as_name",
    "org",
    "country",
    "abuse_score",
    "total_reports",
    "usage_type",
    "domain",
    "hosting",
    "reasons",
]
#: The DESIGN keys first, then the offline geolocation (null without a configured database).
FRAME_COLUMNS = [*DESIGN_KEYS, *GEO_COLUMNS]


def test_ip_summary_groups_distinct_addresses_most_events_first():
    events = events_frame(
        [
            ("104.161.20.102", "admin@example.com", "case-a", "2023-09-20T04:05:03"),
            ("104.161.20.102", "user@example.com", "case-b", "2023-09-21T01:00:00"),
            ("104.161.20.102", "admin@example.com", "case-a", "2023-09-19T23:00:00"),
            ("20.232.202.245", "admin@example.com", "case-a", "2023-09-20T05:00:00"),
            ("", "admin@example.com", "case-a", "2023-09-20T05:00:00"),
            (None, "admin@example.com", "case-a", "2023-09-20T05:00:00"),
        ]
    )

    summary = ip_summary(events)

    assert summary.columns == SUMMARY_COLUMNS
    assert summary.schema["first_seen"] == pl.Datetime("us", "UTC")
    assert summary.to_dicts() == [
        {
            "ip": "104.161.20.102",
            "events": 3,
            "users": 2,
            "cases": ["case-a", "case-b"],
            "first_seen": datetime(2023, 9, 19, 23, tzinfo=UTC),
            "last_seen": datetime(2023, 9, 21, 1, tzinfo=UTC),
        },
        {
            "ip": "20.232.202.245",
            "events": 1,
            "users": 1,
            "cases": ["case-a"],
            "first_seen": datetime(2023, 9, 20, 5, tzinfo=UTC),
            "last_seen": datetime(2023, 9, 20, 5, tzinfo=UTC),
        },
    ]


def test_reference_addresses_are_flagged_as_the_article_describes(make_settings, reference_events):
    result = enrich(ip_summary(reference_events), make_settings())

    rows = {row["ip"]: row for row in result.records()}
    assert list(result.records()[0]) == FRAME_COLUMNS
    ioflood, azure, leased = (rows[ip] for ip in REFERENCE_IPS)
    assert ioflood["hosting"] and ioflood["asn"] == 53755 and ioflood["total_reports"] == 7
    assert "origin AS53755 (IOFLOOD) is a dedicated-server host" in ioflood["reasons"]
    assert any(r.startswith("domain ioflood.com on providers list") for r in ioflood["reasons"])
    assert azure["hosting"] and azure["asn"] == 8075 and azure["org"] == "Microsoft Corporation"
    assert any("is a cloud provider (Microsoft Azure)" in r for r in azure["reasons"])
    assert leased["hosting"] and leased["total_reports"] == 25 and leased["domain"] == "ipxo.com"
    assert any(
        r.startswith("leased space: registrant Internet Utilities Europe and Asia Limited")
        and "broker IPXO" in r
        and "announced by AS397423 (TIER-NET, US)" in r
        for r in leased["reasons"]
    )
    assert rows["10.1.2.3"]["hosting"] is False
    assert rows["10.1.2.3"]["reasons"] == ["not looked up: private-use address"]
    assert result.errors == {}
    assert result.quota_left == 997
    assert result.frame.schema["reasons"] == pl.List(pl.String)
    assert {k: result.frame.schema[k] for k in ENRICHMENT_SCHEMA} == ENRICHMENT_SCHEMA


@pytest.mark.parametrize(
    "ip",
    [
        "10.0.0.1",
        "192.168.1.9",
        "172.16.0.1",
        "127.0.0.1",
        "169.254.10.10",
        "100.64.0.1",
        "100.127.255.254",
        "224.0.0.251",
        "192.0.2.10",
        "198.51.100.7",
        "203.0.113.200",
        "240.0.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "2001:db8::1",
        "::",
    ],
)
def test_special_addresses_never_leave_the_machine(make_settings, abuse_server, rdap_server, cymru_dns, ip):
    summary = ip_summary(events_frame([(ip, "u@example.com", "case-a", "2023-09-20T00:00:00")]))

    result = enrich(summary, make_settings())

    assert abuse_server.requests == [] and rdap_server.requests == [] and cymru_dns.queries == []
    row = result.records()[0]
    assert row["hosting"] is False and row["reasons"][0].startswith("not looked up: ")


def test_offline_makes_no_request_and_uses_the_cache(
    make_settings, reference_events, abuse_server, rdap_server, cymru_dns
):
    summary = ip_summary(reference_events)
    online = enrich(summary, make_settings())
    requests_online = len(abuse_server.requests) + len(rdap_server.requests) + len(cymru_dns.queries)

    offline = enrich(summary, make_settings(), offline=True)

    assert len(abuse_server.requests) + len(rdap_server.requests) + len(cymru_dns.queries) == requests_online
    assert offline.frame.equals(online.frame)
    assert any(m.startswith("offline: no lookups made") for m in offline.messages)
    assert not any("have no lookups" in m for m in offline.messages)  # every address was looked up before


def test_offline_with_an_empty_cache_gives_unknowns(make_settings, reference_events, abuse_server, rdap_server):
    result = enrich(ip_summary(reference_events), make_settings(), offline=True)

    assert abuse_server.requests == [] and rdap_server.requests == []
    assert result.frame.filter(pl.col("ip") == "104.161.20.102")["hosting"].to_list() == [None]
    advice = [m for m in result.messages if "have no lookups" in m]  # says why the flags are unknown, and what to do
    assert len(advice) == 1 and "hosting hunts cannot fire" in advice[0] and "--import FILE" in advice[0]


def test_cached_results_are_reused_until_their_ttl_expires(
    make_settings, reference_events, abuse_server, rdap_server, tmp_path
):
    summary = ip_summary(reference_events)
    enrich(summary, make_settings())
    enrich(summary, make_settings())
    assert len(abuse_server.checked) == 3 and len(rdap_server.queried) == 3

    with EnrichmentCache(tmp_path / "cache") as cache:
        old = datetime.now(UTC) - timedelta(days=2)
        record = cache.get_many("abuseipdb", ["104.161.20.102"])["104.161.20.102"].payload
        cache.put("abuseipdb", "104.161.20.102", record, fetched_at=old)
    enrich(summary, make_settings())

    assert len(abuse_server.checked) == 4 and abuse_server.checked[-1] == "104.161.20.102"
    assert len(rdap_server.queried) == 3


def test_quota_is_spent_on_the_addresses_with_most_events(make_settings, abuse_server):
    events = events_frame(
        [(f"45.33.32.{n}", "u@example.com", "c", "2023-09-20T00:00:00") for n in range(1, 6) for _ in range(n)]
    )

    result = enrich(ip_summary(events), make_settings(daily_quota=2, concurrency=1))

    assert abuse_server.checked == ["45.33.32.5", "45.33.32.4"]
    assert result.frame["abuse_score"].to_list() == [0, 0, None, None, None]
    assert result.quota_left == 0
    assert any("daily quota of 2 checks used up" in m and "3 addresses not checked" in m for m in result.messages)

    again = enrich(ip_summary(events), make_settings(daily_quota=2))
    assert len(abuse_server.checked) == 2
    assert again.quota_left == 0


def test_rate_limit_stops_the_batch_and_says_when_to_resume(make_settings, abuse_server):
    events = events_frame(
        [(f"45.33.32.{n}", "u@example.com", "c", "2023-09-20T00:00:00") for n in range(1, 6) for _ in range(n)]
    )
    abuse_server.script["45.33.32.4"] = [
        Reply(
            429,
            {"errors": [{"detail": "Daily rate limit of 1000 requests exceeded for this endpoint.", "status": 429}]},
            {"Retry-After": "3600", "X-RateLimit-Remaining": "0"},
        )
    ]

    result = enrich(ip_summary(events), make_settings(concurrency=1))

    assert abuse_server.checked == ["45.33.32.5", "45.33.32.4"]
    assert result.rate_limited_until is not None
    assert timedelta(minutes=59) < result.rate_limited_until - datetime.now(UTC) <= timedelta(hours=1)
    assert any(
        "rate limit reached" in m and "can resume after" in m and "4 addresses not checked" in m
        for m in result.messages
    )

    later = enrich(ip_summary(events), make_settings())
    assert len(abuse_server.checked) == 2
    assert later.rate_limited_until == result.rate_limited_until


def test_failures_are_reported_per_address_and_the_rest_goes_on(make_settings, abuse_server, rdap_server):
    events = events_frame(
        [("104.161.20.102", "u", "c", "2023-09-20T00:00:00"), ("45.33.32.7", "u", "c", "2023-09-20T00:00:00")]
    )
    abuse_server.script["45.33.32.7"] = [Reply(500, "boom")]

    result = enrich(ip_summary(events), make_settings())

    assert result.errors["45.33.32.7"] == (
        f"RDAP: server answered HTTP 404 for {rdap_server.url}/ip/45.33.32.7",
        "AbuseIPDB: server error 500 (3 attempts)",
    )
    assert result.records()[0]["hosting"] is True


def test_without_network_every_source_says_so_once(tmp_path, reference_events):
    from enrich import EnrichSettings

    settings = EnrichSettings(api_key="k", cache_dir=tmp_path, timeout=0.5, retries=0, asn_methods=())

    result = enrich(ip_summary(reference_events), settings)

    assert any(
        m.startswith("RDAP: looked up 0 of 3; stopped: cannot resolve the server's name") for m in result.messages
    )
    assert any(
        m.startswith("AbuseIPDB: checked 0 of 3; stopped: cannot reach AbuseIPDB at api.abuseipdb.com")
        for m in result.messages
    )
    assert result.errors == {}


def test_without_api_key_only_rdap_is_used(make_settings, reference_events, abuse_server):
    result = enrich(ip_summary(reference_events), make_settings(api_key=None))

    assert abuse_server.requests == []
    assert "AbuseIPDB: no API key (set ABUSEIPDB_API_KEY); not checked" in result.messages
    assert result.quota_left is None
    assert result.records()[0]["hosting"] is True


def test_progress_is_reported_per_source(make_settings, reference_events):
    seen: list[Progress] = []

    enrich(ip_summary(reference_events), make_settings(), progress=seen.append)

    assert [p for p in seen if p.done == p.total] == [Progress("rdap", 3, 3), Progress("abuseipdb", 3, 3)]
    assert Progress("rdap", 0, 3) in seen


def test_ipv6_addresses_are_enriched(make_settings):
    summary = ip_summary(events_frame([("2a01:4f8:c17:b8f::2", "u@example.com", "c", "2023-09-20T00:00:00")]))

    row = enrich(summary, make_settings()).records()[0]

    assert (row["asn"], row["as_name"], row["org"], row["hosting"]) == (
        24940,
        "HETZNER-AS",
        "Hetzner Online GmbH",
        True,
    )
    assert "origin AS24940 (HETZNER-AS) is a hosting provider" in row["reasons"]


def test_bad_direct_settings_give_a_message_not_a_crash(make_settings, reference_events, rdap_server):
    result = enrich(
        ip_summary(reference_events),
        make_settings(asn_methods=("carrier-pigeon",), abuseipdb_url="http://abuse.example"),
    )

    assert rdap_server.requests == []
    assert any(m.startswith("RDAP: unknown ASN lookup methods ['carrier-pigeon']") for m in result.messages)
    assert "AbuseIPDB: refusing to send the AbuseIPDB key over http to abuse.example; use https" in result.messages


def test_empty_events_give_an_empty_frame(make_settings):
    result = enrich(ip_summary(events_frame([])), make_settings())

    assert result.frame.is_empty()
    assert result.frame.columns == FRAME_COLUMNS
