"""Settings from the config file's [enrich] table with the environment on top."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import platformdirs
import pytest
from enrich_fakes import KEY

from enrich.hosting import Provider
from enrich.settings import (
    DEFAULT_ABUSEIPDB_URL,
    DEFAULT_RDAP_URL,
    EnrichSettings,
    Secret,
    SettingsError,
    parse_dns_server,
    settings_from_env,
)


def test_defaults_point_at_the_public_services():
    settings = settings_from_env({}, environ={})

    assert settings.api_key is None
    assert settings.abuseipdb_url == DEFAULT_ABUSEIPDB_URL == "https://api.abuseipdb.com"
    assert settings.rdap_url == DEFAULT_RDAP_URL
    assert settings.resolved_cache_dir == Path(platformdirs.user_cache_dir("m365-bec-workbench"))
    assert (settings.rdap_ttl, settings.abuseipdb_ttl, settings.daily_quota) == (
        timedelta(days=30),
        timedelta(days=1),
        1000,
    )


def test_environment_wins_over_the_config_file(tmp_path):
    config = {
        "enrich": {
            "abuseipdb_api_key": "from-config",
            "rdap_url": "https://rdap.config.example",
            "cache_dir": "/config/cache",
        }
    }
    environ = {
        "ABUSEIPDB_API_KEY": KEY,
        "WORKBENCH_ABUSEIPDB_URL": "http://127.0.0.1:9",
        "WORKBENCH_RDAP_URL": "https://rdap.mirror.example/rdap",
        "WORKBENCH_CACHE_DIR": str(tmp_path),
    }

    settings = settings_from_env(config, environ)

    assert settings.api_key.reveal() == KEY
    assert settings.abuseipdb_url == "http://127.0.0.1:9"
    assert settings.rdap_url == "https://rdap.mirror.example/rdap"
    assert settings.resolved_cache_dir == tmp_path


def test_config_values_are_read(tmp_path):
    config = {
        "enrich": {
            "abuseipdb_api_key": "from-config",
            "rdap_ttl_days": 7,
            "abuseipdb_ttl_days": 0.5,
            "concurrency": 8,
            "timeout_seconds": 3,
            "retries": 1,
            "backoff_seconds": 0.1,
            "daily_quota": 200,
            "max_age_days": 30,
            "verbose": True,
            "asn_methods": ["dns"],
            "asn_dns_server": "[::1]:5353",
            "cache_dir": str(tmp_path),
            "provider": [{"name": "Example Hosting", "kind": "VPS host", "asns": [64500], "domains": ["host.example"]}],
        }
    }

    settings = settings_from_env(config, environ={"ABUSEIPDB_API_KEY": ""})

    assert settings.api_key.reveal() == "from-config"
    assert settings.rdap_ttl == timedelta(days=7) and settings.abuseipdb_ttl == timedelta(hours=12)
    assert (settings.concurrency, settings.timeout, settings.retries, settings.daily_quota) == (8, 3.0, 1, 200)
    assert settings.verbose and settings.asn_methods == ("dns",) and settings.asn_dns_server == "[::1]:5353"
    assert [p.name for p in settings.extra_providers] == ["Example Hosting"]
    assert isinstance(settings.extra_providers[0], Provider)


def test_every_config_problem_is_listed():
    config = {
        "enrich": {
            "abuseipdb_api_key": 12345,
            "concurrency": 0,
            "timeout_seconds": "slow",
            "verbose": "yes",
            "asn_methods": ["carrier-pigeon"],
            "rdap_url": "ftp://rdap.example",
            "asn_dns_server": "resolver.example",
            "provider": [{"name": "X"}],
        }
    }

    with pytest.raises(SettingsError) as raised:
        settings_from_env(config, environ={})

    message = str(raised.value)
    for expected in (
        "enrich.abuseipdb_api_key: expected a string",
        "enrich.concurrency: must be at least 1",
        "enrich.timeout_seconds: expected a number",
        "enrich.verbose: expected true or false",
        "enrich.asn_methods: expected a list",
        "RDAP URL 'ftp://rdap.example'",
        "enrich.asn_dns_server: expected an IP address",
        "enrich.provider[0] (X): 'kind' must be",
    ):
        assert expected in message
    assert "12345" not in message


def test_the_key_is_hidden_in_repr_and_str():
    settings = EnrichSettings(api_key=KEY)

    assert KEY not in repr(settings) and KEY not in str(settings)
    assert "api_key=<hidden>" in repr(settings)
    assert f"{settings.api_key}" == "<hidden>"
    assert settings.api_key == Secret(KEY)


def test_providers_given_as_tables_are_validated():
    settings = EnrichSettings(extra_providers=[{"name": "Example", "kind": "VPN operator", "domains": ["vpn.example"]}])

    assert settings.extra_providers[0].matches_domain("exit1.vpn.example")
    with pytest.raises(ValueError, match="'kind' must be"):
        EnrichSettings(extra_providers=[{"name": "Example"}])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.53", ("10.0.0.53", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
    ],
)
def test_dns_server_forms(text, expected):
    assert parse_dns_server(text) == expected
