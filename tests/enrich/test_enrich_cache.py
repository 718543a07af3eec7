"""The shared enrichment cache: storage, state, and export/import for air-gapped hosts."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

import pytest

from enrich.cache import DB_NAME, CacheFileError, EnrichmentCache

RDAP = {"ip": "104.161.20.102", "asn": 53755, "network_name": "IOFLOOD"}
ABUSE = {"ip": "104.161.20.102", "abuse_score": 42, "total_reports": 7}


def test_results_are_stored_per_source_with_their_time(tmp_path):
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    with EnrichmentCache(tmp_path / "cache") as cache:
        cache.put("rdap", "104.161.20.102", RDAP, fetched_at=when)

        found = cache.get_many("rdap", ["104.161.20.102", "20.232.202.245"])

        assert list(found) == ["104.161.20.102"]
        assert found["104.161.20.102"].payload == RDAP
        assert found["104.161.20.102"].fetched_at == when
        assert cache.get_many("abuseipdb", ["104.161.20.102"]) == {}
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700


def test_many_addresses_are_read_in_chunks(tmp_path):
    ips = [f"45.33.{n // 256}.{n % 256}" for n in range(1200)]
    with EnrichmentCache(tmp_path) as cache:
        for ip in ips[::2]:
            cache.put("abuseipdb", ip, {"ip": ip})

        assert len(cache.get_many("abuseipdb", ips)) == 600


def test_unknown_source_is_refused(tmp_path):
    with EnrichmentCache(tmp_path) as cache, pytest.raises(ValueError, match="unknown enrichment source 'shodan'"):
        cache.put("shodan", "1.2.3.4", {})


def test_state_survives_reopening(tmp_path):
    with EnrichmentCache(tmp_path) as cache:
        cache.put_state("abuseipdb_quota", {"used": 3})
    with EnrichmentCache(tmp_path) as cache:
        assert cache.get_state("abuseipdb_quota") == {"used": 3}
        assert cache.get_state("other") is None


def test_export_then_import_into_a_fresh_cache(tmp_path):
    export = tmp_path / "lookups.json"
    with EnrichmentCache(tmp_path / "connected") as cache:
        cache.put("rdap", "104.161.20.102", RDAP)
        cache.put("abuseipdb", "104.161.20.102", ABUSE)
        cache.put_state("abuseipdb_quota", {"used": 3})
        assert cache.export_results(export) == 2
        original = {s: cache.get_many(s, ["104.161.20.102"]) for s in ("rdap", "abuseipdb")}

    with EnrichmentCache(tmp_path / "air-gapped") as fresh:
        assert fresh.import_results(export) == 2
        assert {s: fresh.get_many(s, ["104.161.20.102"]) for s in ("rdap", "abuseipdb")} == original
        assert fresh.get_state("abuseipdb_quota") is None
    assert json.loads(export.read_text())["format"] == "m365-bec-workbench enrichment results"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_import_keeps_the_newer_result(tmp_path):
    now = datetime.now(UTC)
    export = tmp_path / "lookups.json"
    with EnrichmentCache(tmp_path / "a") as other:
        other.put("rdap", "104.161.20.102", RDAP | {"network_name": "OLD"}, fetched_at=now - timedelta(days=5))
        other.put("rdap", "20.232.202.245", {"ip": "20.232.202.245"}, fetched_at=now)
        other.export_results(export)
    with EnrichmentCache(tmp_path / "b") as cache:
        cache.put("rdap", "104.161.20.102", RDAP, fetched_at=now - timedelta(days=1))

        assert cache.import_results(export) == 1
        assert cache.get_many("rdap", ["104.161.20.102"])["104.161.20.102"].payload == RDAP


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{oops", "not JSON"),
        ('{"format": "something else"}', "not an enrichment export"),
        (
            '{"format": "m365-bec-workbench enrichment results", "version": 9, "sources": {}}',
            "version 9 is not supported",
        ),
    ],
)
def test_unusable_import_files_are_named_with_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with EnrichmentCache(tmp_path / "cache") as cache, pytest.raises(CacheFileError, match=message) as raised:
        cache.import_results(path)
    assert str(path) in str(raised.value)


def test_bad_entries_are_all_listed_and_nothing_is_imported(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "format": "m365-bec-workbench enrichment results",
                "version": 1,
                "sources": {
                    "rdap": [
                        {"ip": "104.161.20.102", "fetched_at": "2024-01-01T00:00:00+00:00", "result": RDAP},
                        {"ip": "not-an-ip", "fetched_at": "2024-01-01T00:00:00+00:00", "result": {"ip": "not-an-ip"}},
                        {"ip": "20.232.202.245", "fetched_at": "yesterday", "result": {"ip": "20.232.202.245"}},
                    ],
                    "whois": [],
                },
            }
        )
    )
    with EnrichmentCache(tmp_path / "cache") as cache:
        with pytest.raises(CacheFileError) as raised:
            cache.import_results(path)
        assert cache.get_many("rdap", ["104.161.20.102"]) == {}
    message = str(raised.value)
    assert "sources.rdap[1]: ip 'not-an-ip' is not an IP address" in message
    assert "sources.rdap[2]: fetched_at 'yesterday' is not an ISO timestamp" in message
    assert "sources.whois: unknown source" in message


def test_missing_import_file(tmp_path):
    with EnrichmentCache(tmp_path) as cache, pytest.raises(CacheFileError, match="cannot read"):
        cache.import_results(tmp_path / "nope.json")


def test_database_is_in_the_given_folder(tmp_path):
    with EnrichmentCache(tmp_path) as cache:
        assert cache.path == tmp_path / DB_NAME
