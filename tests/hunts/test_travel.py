"""Impossible travel: consecutive successful sign-ins or logons of one account too far apart for the time between."""

import json
from pathlib import Path

import polars as pl
from geo_db import write_geo_databases

import hunts
from enrich.geo import GeoDatabases, geolocate
from hunts.conditions import check_condition
from hunts.loader import parse_hunt
from workbench.core.load import events_from_records
from workbench.core.sources.exports import graph_records_frame

HEADER = '''
title = "t"
description = "d"
severity = "medium"
attack = ["Initial Access:T1078.004"]
runbook = "r"
fields = ["client_ip"]
references = ["x"]
'''


def travel_hunt(source: str = "sign_ins", travel: str = 'by = ["user_key"], speed_kmh = 900, min_km = 300') -> hunts.Hunt:
    where = 'source = "sign_ins"\nwhere = [{ field = "status_kind", equals = "success" }]\n' if source == "sign_ins" \
        else 'operations = ["UserLoggedIn"]\n'
    hunt, problems = parse_hunt(Path("travel.toml"), HEADER + f"[condition]\n{where}travel = {{ {travel} }}\n")
    assert problems == []
    return hunt


def sign_in(record_id: str, time: str, ip: str, user: str = "u@example.com", code: int = 0, **extra) -> dict:
    return {"id": record_id, "createdDateTime": time, "userPrincipalName": user, "ipAddress": ip,
            "status": {"errorCode": code}, **extra}


def sign_in_hits(records: list[dict], hunt: hunts.Hunt, places: pl.DataFrame | None = None) -> pl.DataFrame:
    """The hits of `hunt` over the sign-ins, with `places` as the enrichment (no hosting verdicts)."""
    enrichment = None if places is None else places.with_columns(hosting=pl.lit(None, pl.Boolean))
    return hunts.hunt_hits(events_from_records([]), [hunt], enrichment,
                           {"sign_ins": graph_records_frame(records, "sign_ins")})


def test_why_names_both_places_times_distance_and_speed(tmp_path):
    places = geolocate(["81.2.69.142", "175.16.199.5"], GeoDatabases(*write_geo_databases(tmp_path)))
    records = [sign_in("a", "2023-02-20T10:00:00Z", "81.2.69.142"), sign_in("b", "2023-02-20T10:30:00Z", "175.16.199.5")]

    hits = sign_in_hits(records, travel_hunt(), places)

    assert hits["record_id"].to_list() == ["b"]
    assert hits["why"][0] == (
        "status_kind=success; London, GB (81.2.69.142, AS20712) at 2023-02-20 10:00:00 -> Changchun, CN (175.16.199.5, "
        "AS4837) at 2023-02-20 10:30:00: 8182 km in 30 min = 16364 km/h (over 900)")  # haversine, mean Earth radius


def test_the_sign_ins_own_coordinates_win_over_the_database():
    own = {"location": {"city": "Sydney", "countryOrRegion": "AU",
                        "geoCoordinates": {"latitude": -33.8688, "longitude": 151.2093}}}
    records = [sign_in("a", "2023-02-20T10:00:00Z", "81.2.69.142", **own),
               sign_in("b", "2023-02-20T10:30:00Z", "81.2.69.143")]
    london = pl.DataFrame({"ip": ["81.2.69.142", "81.2.69.143"], "geo_city": ["London"] * 2, "geo_country": ["GB"] * 2,
                           "geo_latitude": [51.5142] * 2, "geo_longitude": [-0.0931] * 2})

    hits = sign_in_hits(records, travel_hunt(), london)

    assert hits["record_id"].to_list() == ["b"]
    assert "Sydney, AU (81.2.69.142) at 2023-02-20 10:00:00 -> London, GB (81.2.69.143)" in hits["why"][0]


def test_each_sign_in_is_compared_with_the_accounts_previous_located_one():
    london = {"location": {"city": "London", "countryOrRegion": "GB", "geoCoordinates": {"latitude": 51.51, "longitude": -0.09}}}
    paris = {"location": {"city": "Paris", "countryOrRegion": "FR", "geoCoordinates": {"latitude": 48.86, "longitude": 2.35}}}
    nowhere = {"location": {"countryOrRegion": "FR", "geoCoordinates": {"latitude": 46.0, "longitude": 2.0}}}
    records = [sign_in("a", "2023-02-20T08:00:00Z", "81.2.69.1", **london),
               sign_in("b", "2023-02-20T09:00:00Z", "81.2.69.2", **london),
               sign_in("c", "2023-02-20T09:05:00Z", "81.2.69.3", **nowhere),  # the country only: left out
               sign_in("d", "2023-02-20T09:10:00Z", "81.2.69.4", **paris),  # 344 km in 10 min since b
               sign_in("e", "2023-02-20T13:00:00Z", "81.2.69.5", **london)]  # back, hours later

    assert sign_in_hits(records, travel_hunt())["record_id"].to_list() == ["d"]
    slower = travel_hunt(travel='by = ["user_key"], speed_kmh = 2500, min_km = 300')
    assert sign_in_hits(records, slower).is_empty()
    farther = travel_hunt(travel='by = ["user_key"], min_km = 400')
    assert sign_in_hits(records, farther).is_empty()


def test_a_case_with_a_geolocation_database_flags_audit_log_logons(tmp_path, capsys):
    from workbench.cli import main

    city, asn = write_geo_databases(tmp_path)
    log = tmp_path / "audit.jsonl"
    logons = [("a", "2023-02-20T08:00:00", "89.160.20.112"), ("b", "2023-02-20T09:00:00", "175.16.199.5"),
              ("c", "2023-02-20T09:30:00", "10.0.0.7")]  # a private address: no place
    log.write_text("".join(json.dumps({"Id": i, "CreationTime": t, "Operation": "UserLoggedIn", "RecordType": 15,
                                       "Workload": "AzureActiveDirectory", "UserId": "x@example.com", "ClientIP": ip}) + "\n"
                           for i, t, ip in logons))
    config = tmp_path / "config.toml"
    config.write_text(f"[enrich]\ngeoip_city = '{city}'\ngeoip_asn = '{asn}'\n")
    common = [str(log), "--case", "travel", "--case-dir", str(tmp_path / "cases"), "--format", "json"]

    assert main(["hunt", *common, "--config", str(config)]) == 0
    travel = [hit for hit in json.loads(capsys.readouterr().out) if hit["hunt_id"] == "initial_aad_logon_impossible_travel"]
    assert [hit["record_id"] for hit in travel] == ["b"]
    assert travel[0]["why"].startswith("Linköping, SE (89.160.20.112, AS29518) at 2023-02-20 08:00:00 -> Changchun, CN")
    assert main(["hunt", *common]) == 0  # no database configured: the audit log has no places
    assert not [hit for hit in json.loads(capsys.readouterr().out) if "travel" in hit["hunt_id"]]


def test_the_travel_condition_is_checked():
    problems = check_condition({"operations": ["UserLoggedIn"],
                                "travel": {"by": ["nope"], "speed_kmh": 0, "min_km": "far", "mobile_as_orgs": [""], "x": 1}})

    assert sorted(problems) == [
        ("condition.travel.by[0]", "unknown column 'nope'"),
        ("condition.travel.min_km", "expected a number above 0, got 'far'"),
        ("condition.travel.mobile_as_orgs", "expected a list of words"),
        ("condition.travel.speed_kmh", "expected a number above 0, got 0"),
        ("condition.travel.x", "unknown key; expected one of by, speed_kmh, min_km, mobile_as_orgs"),
    ]
    assert check_condition({"source": "sign_ins", "travel": {}}) == []


def test_a_sign_in_travel_hunt_reads_the_sign_ins_own_places():
    read = hunts.columns_read([travel_hunt()], "sign_ins")

    assert {"latitude", "longitude", "city", "country", "asn", "client_ip", "user_key", "status_kind"} <= set(read)
