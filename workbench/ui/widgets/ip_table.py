"""Provides `IpTable` (one row per client IP with its counts and enrichment, keyed by IP, filled in place) and
`ip_detail` (everything known about one IP, for the line under the table)."""

from dataclasses import dataclass
from datetime import datetime

import polars as pl
from rich.text import Text
from textual.widgets import DataTable

from enrich.geo import geo_asn_text, place_text
from workbench.core.inert import visible
from workbench.ui.attribution_marks import Marks


@dataclass(frozen=True)
class IpColumn:
    """One column: the enrich frame column it shows (and sorts by) and its title."""

    key: str
    title: str
    width: int | None = None  # None: as wide as the widest value


COLUMNS = (
    IpColumn("attribution", "att", width=3),
    IpColumn("ip", "IP"),
    IpColumn("events", "events"),
    IpColumn("users", "users"),
    IpColumn("hosting", "hosting"),
    IpColumn("abuse_score", "abuse"),
    IpColumn("country", "cc"),
    IpColumn("asn", "ASN (RDAP)"),
    IpColumn("org", "organisation / AS", width=32),
    IpColumn("geo_city", "location (geo db)", width=24),
    IpColumn("geo_asn", "ASN (geo db)"),
    IpColumn("usage_type", "usage type", width=20),
    IpColumn("reasons", "hosting reasons", width=48),
    IpColumn("first_seen", "first seen (UTC)"),
    IpColumn("last_seen", "last seen (UTC)"),
    IpColumn("cases", "cases"),
)
#: The columns that arrive with enrichment (the others come from the events).
ENRICHED = ("hosting", "abuse_score", "country", "asn", "org", "geo_city", "geo_asn", "usage_type", "reasons")
HOSTING_TEXT = {True: Text("HOSTING", style="bold"), False: Text("no"), None: Text("?", style="dim")}


def cell(key: str, value: object, row: dict) -> Text:
    """One cell as inert text (every value may come from a log or a remote service)."""
    if key == "hosting":
        return HOSTING_TEXT[value].copy()
    if value is None and not (key == "geo_city" and row.get("geo_country")):
        return Text("")
    if isinstance(value, datetime):
        return Text(f"{value:%Y-%m-%d %H:%M}")
    if isinstance(value, list):
        return Text(visible("; ".join(value)))
    if key == "geo_city":  # the database's city and country code, or the country alone
        return Text(visible(", ".join(part for part in (value, row.get("geo_country")) if part)))
    if key == "org" and row.get("as_name") and row["as_name"] != value:
        return Text(visible(f"{value} / {row['as_name']}"))
    if key == "abuse_score":
        return Text(f"{value:>3}", style="bold" if value >= 50 else "")
    return Text(visible(str(value)), justify="right" if isinstance(value, int) else "left")


class IpTable(DataTable):
    """The IPs of the case; `show` lays out a (filtered, sorted) frame, `fill` updates enriched rows in place.

    The `att` column flags the IPs marked (or proposed) as the attacker's (attribution_marks.py).
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.fixed_columns = 2
        self.marks = Marks()

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(Text(column.title), key=column.key, width=column.width)

    def show(self, frame: pl.DataFrame) -> None:
        """Replace the rows with `frame`'s, keeping the cursor on the same IP when it is still listed."""
        keep = self.current_ip
        self.clear()
        for row in frame.iter_rows(named=True):
            self.add_row(*(self.marks.flag("ip", [row["ip"]]) if column.key == "attribution"
                           else cell(column.key, row[column.key], row) for column in COLUMNS), key=row["ip"])
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False)

    def fill(self, frame: pl.DataFrame) -> None:
        """Redraw the enrichment cells of the listed IPs that `frame` holds."""
        for row in frame.iter_rows(named=True):
            if row["ip"] not in self.rows:
                continue
            for key in ENRICHED:
                width = next(column.width for column in COLUMNS if column.key == key)
                self.update_cell(row["ip"], key, cell(key, row[key], row), update_width=width is None)

    def show_marks(self, marks: Marks) -> None:
        """Flag the listed IPs by `marks`."""
        self.marks = marks
        for key in self.rows:
            self.update_cell(key, "attribution", marks.flag("ip", [key.value]))

    @property
    def current_ip(self) -> str | None:
        """The IP under the cursor."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value


def ip_detail(row: dict) -> Text:
    """One IP in full: network (RDAP), registrant, country, abuse reports, usage, domain, where the geolocation
    database places it and its AS there, hosting and its reasons."""
    network = " ".join(str(part) for part in (f"AS{row['asn']} (RDAP)" if row["asn"] else None, row["as_name"]) if part)
    place, geo_asn = place_text(row), geo_asn_text(row)
    facts = [
        network,
        row["org"] if row["org"] != row["as_name"] else None,
        row["country"],
        f"abuse score {row['abuse_score']} ({row['total_reports'] or 0} reports)" if row["abuse_score"] is not None else None,
        row["usage_type"],
        row["domain"],
        f"{place} (geo db)" if place else None,
        f"{geo_asn} (geo db)" if geo_asn else None,
    ]
    known = [str(fact) for fact in facts if fact]
    hosting = {True: "HOSTING", False: "not hosting", None: "not enriched yet"}[row["hosting"]]
    reasons = f" ({'; '.join(row['reasons'])})" if row["reasons"] else ""
    return Text(visible(f"{row['ip']}: {hosting}{reasons} — {' · '.join(known) or 'no enrichment'}"))
