"""Offline geolocation: MaxMind-format city and ASN databases the user names in the config, read without network."""

from __future__ import annotations

import json

import polars as pl
import pytest
from enrich_fakes import events_frame
from geo_db import write_geo_databases

from enrich import enrich, ip_summary
from enrich.geo import GeoDatabaseError, GeoDatabases, geolocate
from enrich.settings import EnrichSettings, SettingsError, settings_from_env
from workbench.core.enrichment import cached_enrichment


@pytest.fixture
def databases(tmp_path) -> GeoDatabases:
    city, asn = write_geo_databases(tmp_path)
    return GeoDatabases(city, asn)


def test_each_distinct_address_gets_country_city_coordinates_and_asn(databases):
    located = geolocate(["81.2.69.142", "81.2.69.142", "2001:db9:1::5", "67.43.156.9"], databases)

    rows = {row["ip"]: row for row in located.to_dicts()}
    assert located.height == 3
    assert rows["81.2.69.142"] | {} == {
        "ip": "81.2.69.142", "geo_country": "GB", "geo_country_name": "United Kingdom", "geo_city": "London",
        "geo_latitude": 51.5142, "geo_longitude": -0.0931, "geo_accuracy_km": 10, "geo_asn": 20712,
        "geo_as_org": "Example Broadband London"}
    assert (rows["2001:db9:1::5"]["geo_city"], rows["2001:db9:1::5"]["geo_country"]) == ("Sydney", "AU")
    assert rows["67.43.156.9"]["geo_city"] is None and rows["67.43.156.9"]["geo_accuracy_km"] == 1000


def test_unknown_private_and_malformed_addresses_are_rows_of_nulls(databases):
    located = geolocate(["10.0.0.1", "8.8.8.8", "not-an-ip", "", None], databases)

    assert located["ip"].to_list() == ["10.0.0.1", "8.8.8.8", "not-an-ip"]
    assert located.drop("ip").null_count().row(0) == (3,) * (located.width - 1)


def test_one_database_alone_fills_only_its_columns(databases):
    only_asn = geolocate(["89.160.20.112"], GeoDatabases(asn=databases.asn)).row(0, named=True)

    assert (only_asn["geo_asn"], only_asn["geo_as_org"]) == (29518, "Example Fibre Sweden")
    assert only_asn["geo_city"] is None and only_asn["geo_latitude"] is None


def test_a_database_of_the_other_kind_or_no_database_is_refused_naming_the_file(tmp_path, databases):
    with pytest.raises(GeoDatabaseError, match=r"enrich.geoip_city .*asn.mmdb: a GeoLite2-ASN database; expected a city"):
        geolocate(["81.2.69.142"], GeoDatabases(city=databases.asn))
    with pytest.raises(GeoDatabaseError, match=r"enrich.geoip_asn .*missing.mmdb: file not found"):
        geolocate(["81.2.69.142"], GeoDatabases(asn=tmp_path / "missing.mmdb"))
    (tmp_path / "junk.mmdb").write_bytes(b"not a database")
    with pytest.raises(GeoDatabaseError, match=r"junk.mmdb: not a MaxMind DB file"):
        geolocate(["81.2.69.142"], GeoDatabases(city=tmp_path / "junk.mmdb"))


def test_db_ip_lite_databases_read_the_same(tmp_path):
    city, asn = write_geo_databases(tmp_path, city_type="DBIP-City-Lite", asn_type="DBIP-ASN-Lite (compat=GeoLite2-ASN)")

    row = geolocate(["89.160.20.112"], GeoDatabases(city, asn)).row(0, named=True)

    assert (row["geo_city"], row["geo_asn"]) == ("Linköping", 29518)


def test_the_config_names_the_databases(tmp_path):
    settings = settings_from_env({"enrich": {"geoip_city": str(tmp_path / "c.mmdb"), "geoip_asn": "~/a.mmdb"}}, {})

    assert settings.geo.city == tmp_path / "c.mmdb"
    assert settings.geo.asn.name == "a.mmdb" and "~" not in str(settings.geo.asn)
    assert not settings_from_env({}, {}).geo.configured
    with pytest.raises(SettingsError, match="enrich.geoip_city: expected the path of a .mmdb file"):
        settings_from_env({"enrich": {"geoip_city": 3}}, {})


def test_offline_enrichment_keeps_rdap_and_database_asns_apart(tmp_path, databases):
    events = events_frame([("81.2.69.142", "a@example.com", "c", "2023-02-20T10:00:00"),
                           ("10.1.2.3", "a@example.com", "c", "2023-02-20T10:01:00")])

    result = enrich(ip_summary(events), EnrichSettings(cache_dir=tmp_path / "cache", geo=databases), offline=True)

    row = result.frame.filter(pl.col("ip") == "81.2.69.142").row(0, named=True)
    assert row["asn"] is None and row["geo_asn"] == 20712  # nothing from RDAP yet; the database's own ASN
    assert (row["geo_city"], row["geo_latitude"]) == ("London", 51.5142)
    assert any(m.startswith("geolocation: 1 of 2 addresses located offline (GeoLite2-City, GeoLite2-ASN)")
               for m in result.messages)


def test_an_unusable_database_is_said_and_the_rest_of_the_enrichment_goes_on(tmp_path):
    events = events_frame([("81.2.69.142", "a@example.com", "c", "2023-02-20T10:00:00")])
    settings = EnrichSettings(cache_dir=tmp_path, geo=GeoDatabases(city=tmp_path / "gone.mmdb"))

    result = enrich(ip_summary(events), settings, offline=True)

    assert result.frame["geo_city"].to_list() == [None]
    assert any("gone.mmdb: file not found; not located" in m for m in result.messages)


def test_the_case_enrichment_is_known_from_the_databases_alone(databases, tmp_path):
    events = events_frame([("81.2.69.142", "a@example.com", "c", "2023-02-20T10:00:00")])
    config = {"enrich": {"geoip_city": str(databases.city), "geoip_asn": str(databases.asn)}}

    assert cached_enrichment(events, {}) is None
    assert cached_enrichment(events, config)["geo_country"].to_list() == ["GB"]


def test_sql_and_enrich_commands_show_the_location(databases, tmp_path, capsys):
    from workbench.cli import main

    log = tmp_path / "audit.jsonl"
    log.write_text(json.dumps({"Id": "r1", "CreationTime": "2023-02-20T10:00:00", "Operation": "UserLoggedIn",
                               "Workload": "AzureActiveDirectory", "RecordType": 15, "UserId": "a@example.com",
                               "ClientIP": "81.2.69.142"}) + "\n")
    config = tmp_path / "config.toml"
    config.write_text(f"[enrich]\ngeoip_city = '{databases.city}'\ngeoip_asn = '{databases.asn}'\n")
    common = ["--case", "geo", "--case-dir", str(tmp_path / "cases"), "--config", str(config)]

    assert main(["sql", str(log), "SELECT e.record_id, g.geo_city, g.geo_asn, g.geo_latitude FROM events e "
                 "JOIN ip_enrichment g ON e.client_ip = g.ip", "--format", "json", *common]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"record_id": "r1", "geo_city": "London", "geo_asn": 20712, "geo_latitude": 51.5142}]
    assert main(["enrich", str(log), "--offline", "--format", "json", *common]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["ip"], row["geo_country"], row["geo_as_org"], row["asn"]) == (
        "81.2.69.142", "GB", "Example Broadband London", None)
    assert main(["enrich", str(log), "--offline", "--format", "csv", *common]) == 0
    header, line = capsys.readouterr().out.splitlines()[:2]
    assert header.endswith("geo_country,geo_city,geo_asn,geo_as_org")
    assert line.endswith("GB,London,20712,Example Broadband London")
