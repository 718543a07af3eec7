"""Offline geolocation in the views: the IPs view's location and database ASN beside RDAP's, the drill-down's
enrichment section, and the timeline's first-seen IPs."""

import json
from datetime import UTC, datetime

import polars as pl
from geo_db import write_geo_databases

from enrich.geo import GeoDatabases, geolocate
from tests.ui.conftest import settle
from tests.ui.view_app import ViewApp, case_loaded
from workbench.core.case import Case
from workbench.core.timeline import account_timeline, with_places
from workbench.ui.screens.ips import IpsScreen
from workbench.ui.screens.timeline import first_seen_text
from workbench.ui.widgets.event_detail import detail_text
from workbench.ui.widgets.ip_table import IpTable, ip_detail

LOGONS = [("a", "2023-02-20T08:00:00", "89.160.20.112"), ("b", "2023-02-20T09:00:00", "175.16.199.5"),
          ("c", "2023-02-20T09:30:00", "67.43.156.9")]


def geo_case(tmp_path) -> tuple[Case, dict]:
    """A case of three logons, and a config naming the test databases."""
    city, asn = write_geo_databases(tmp_path)
    log = tmp_path / "audit.jsonl"
    log.write_text("".join(json.dumps({"Id": i, "CreationTime": t, "Operation": "UserLoggedIn", "RecordType": 15,
                                       "Workload": "AzureActiveDirectory", "UserId": "x@example.com", "ClientIP": ip}) + "\n"
                           for i, t, ip in LOGONS))
    case = Case.named("geo", tmp_path / "cases")
    case.open([log])
    return case, {"enrich": {"geoip_city": str(city), "geoip_asn": str(asn), "cache_dir": str(tmp_path / "cache")}}


async def test_the_ips_view_shows_the_databases_location_and_asn_beside_rdaps(tmp_path):
    case, config = geo_case(tmp_path)
    app = ViewApp(case_loaded(case), IpsScreen, config, enrich_offline=True)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(IpTable)
        assert str(table.get_cell("175.16.199.5", "geo_city")) == "Changchun, CN"
        assert str(table.get_cell("67.43.156.9", "geo_city")) == "BT"  # the country only
        assert str(table.get_cell("175.16.199.5", "geo_asn")) == "4837"
        assert str(table.get_cell("175.16.199.5", "asn")) == ""  # nothing from RDAP offline
        assert [str(column.label) for column in table.columns.values()][7:10] == [
            "ASN (RDAP)", "organisation / AS", "location (geo db)"]


def test_ip_detail_and_drill_down_say_which_asn_is_rdaps_and_which_the_databases(tmp_path):
    located = geolocate(["81.2.69.142"], GeoDatabases(*write_geo_databases(tmp_path))).row(0, named=True)
    info = {"ip": "81.2.69.142", "asn": 20712, "as_name": "EXAMPLE-AS", "org": "Example Org", "country": "GB",
            "abuse_score": None, "total_reports": None, "usage_type": None, "domain": None, "hosting": False,
            "reasons": [], **{k: v for k, v in located.items() if k != "ip"}}

    line = ip_detail(info).plain
    assert "AS20712 (RDAP) EXAMPLE-AS" in line
    assert "London, GB 51.5142,-0.0931 ±10 km (geo db)" in line and "AS20712 Example Broadband London (geo db)" in line
    row = {"record_id": "r", "creation_time": datetime(2023, 2, 20, tzinfo=UTC), "operation": "UserLoggedIn",
           "client_ip": "81.2.69.142", "user_id": "x@example.com"}
    drill_down = detail_text(row, None, ip_info=info).plain
    assert "ASN (RDAP): 20712" in drill_down
    assert "location (geo db): London, GB 51.5142,-0.0931 ±10 km" in drill_down
    assert "ASN (geo db): AS20712 Example Broadband London" in drill_down


def test_the_timelines_first_seen_ips_carry_their_place(tmp_path):
    case, config = geo_case(tmp_path)
    events = case.events()
    places = geolocate(events["client_ip"], GeoDatabases(*write_geo_databases(tmp_path)))

    timeline = with_places(account_timeline(events, "x@example.com"), places)

    ips = timeline.first_seen["ips"]
    assert ips.filter(pl.col("value") == "175.16.199.5")["place"].to_list() == ["Changchun, CN · AS4837 Example Backbone China"]
    assert ips.filter(pl.col("value") == "67.43.156.9")["place"].to_list() == ["BT · AS35908 Example Transit Bhutan"]
    assert "89.160.20.112  Linköping, SE · AS29518 Example Fibre Sweden" in first_seen_text(timeline).plain
    assert with_places(account_timeline(events, "x@example.com"), None).first_seen["ips"].columns == [
        "value", "first_seen", "last_seen", "events"]
