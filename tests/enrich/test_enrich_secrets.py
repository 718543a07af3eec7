"""The AbuseIPDB key never shows up in anything the enrichment returns, logs, stores or exports."""

from __future__ import annotations

import logging
import traceback

import pytest
from enrich_fakes import KEY, REFERENCE_IPS, Reply

from enrich import EnrichmentCache, enrich, ip_summary
from enrich.abuseipdb import AbuseIPDBClient, AbuseIPDBError


def test_the_key_leaks_nowhere_even_on_error_paths(
    make_settings, abuse_server, reference_events, tmp_path, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    summary = ip_summary(reference_events)
    echo = {"errors": [{"detail": f"Authentication failed for key {KEY}", "status": 401}]}
    outputs: list[object] = []
    scenarios = {
        "timeouts and errors": {
            REFERENCE_IPS[0]: [Reply(delay=0.5)],
            REFERENCE_IPS[1]: [Reply(500, f"upstream {KEY}")],
            REFERENCE_IPS[2]: [Reply(422, {"errors": [{"detail": f"bad request {KEY}"}]})],
        },
        "unauthorised": {ip: [Reply(401, echo)] for ip in REFERENCE_IPS},
        "rate limited": {
            ip: [Reply(429, {"errors": [{"detail": f"limit for {KEY}"}]}, {"Retry-After": "60"})]
            for ip in REFERENCE_IPS
        },
    }
    for name, script in scenarios.items():
        abuse_server.script = {ip: list(replies) for ip, replies in script.items()}
        settings = make_settings(cache_dir=tmp_path / name, timeout=0.2, retries=1)
        result = enrich(summary, settings)
        outputs += [repr(result), result.messages, result.errors, result.records(), repr(settings), str(settings)]
        with EnrichmentCache(settings.resolved_cache_dir) as cache:
            cache.export_results(tmp_path / f"{name}.json")

    abuse_server.script = {}
    with AbuseIPDBClient(api_key=KEY, base_url=abuse_server.url, retries=0) as client:
        abuse_server.default = [Reply(401, echo)]
        with pytest.raises(AbuseIPDBError) as raised:
            client.check("45.33.32.156")
        outputs += [repr(client), str(raised.value), repr(raised.value), traceback.format_exception(raised.value)]
    port = abuse_server.url.rsplit(":", 1)[1]
    abuse_server.close()
    with AbuseIPDBClient(api_key=KEY, base_url=f"http://127.0.0.1:{port}", retries=0) as gone:
        with pytest.raises(AbuseIPDBError) as raised:
            gone.check("45.33.32.156")
        outputs += [str(raised.value), traceback.format_exception(raised.value)]

    assert any("Authentication failed for key <key>" in str(o) for o in outputs), "the error paths were not reached"
    assert any("rate limit reached" in str(o) for o in outputs)
    assert any("timed out" in str(o) for o in outputs)
    for output in outputs:
        assert KEY not in str(output)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite3" for p in files) and any(p.suffix == ".json" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    captured = capsys.readouterr()
    assert caplog.records, "expected debug logs from httpx/ipwhois to search"
    assert KEY not in caplog.text and KEY not in captured.out and KEY not in captured.err
