"""The committed export of the reference case's lookups: an air-gapped analyst imports it and sees the flags.

Regenerate `fixtures/reference-case-enrichment.json` after changing fixtures or records with
`UPDATE_ENRICH_FIXTURES=1 python -m pytest tests/enrich/test_enrich_reference_export.py`.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime

from enrich_fakes import FIXTURES, REFERENCE_IPS

from enrich import EnrichmentCache, EnrichSettings, enrich, ip_summary

EXPORT = FIXTURES / "reference-case-enrichment.json"
FETCHED_AT = datetime(2023, 9, 21, tzinfo=UTC)


def test_committed_export_is_what_the_fake_servers_give(make_settings, reference_events, tmp_path):
    settings = make_settings()
    enrich(ip_summary(reference_events), settings)
    fresh = tmp_path / "export.json"
    with EnrichmentCache(settings.resolved_cache_dir) as cache:
        for source in ("rdap", "abuseipdb"):
            for ip, cached in cache.get_many(source, REFERENCE_IPS).items():
                cache.put(source, ip, cached.payload, fetched_at=FETCHED_AT)
        cache.export_results(fresh)
    if os.environ.get("UPDATE_ENRICH_FIXTURES"):
        shutil.copyfile(fresh, EXPORT)

    assert json.loads(fresh.read_text())["sources"] == json.loads(EXPORT.read_text())["sources"]


def test_air_gapped_host_flags_the_reference_addresses_from_the_import(tmp_path, reference_events):
    settings = EnrichSettings(cache_dir=tmp_path / "air-gapped")
    with EnrichmentCache(settings.resolved_cache_dir) as cache:
        assert cache.import_results(EXPORT) == 6

    result = enrich(ip_summary(reference_events), settings, offline=True)

    rows = {row["ip"]: row for row in result.records()}
    assert [rows[ip]["hosting"] for ip in REFERENCE_IPS] == [True, True, True]
    assert "origin AS53755 (IOFLOOD) is a dedicated-server host" in rows["104.161.20.102"]["reasons"]
    assert any("(Microsoft Azure)" in r for r in rows["20.232.202.245"]["reasons"])
    assert any(r.startswith("leased space:") and "IPXO" in r for r in rows["185.241.149.122"]["reasons"])
    assert (rows["104.161.20.102"]["total_reports"], rows["185.241.149.122"]["total_reports"]) == (7, 25)
