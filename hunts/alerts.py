"""Provides the table of Microsoft's alert names and the ATT&CK technique each means (`data/alert_techniques.toml`):
the hunts keyed on alert names (`rules/*_alert_*.toml`) cover exactly its rows, and the drill-down of an alert
record names the technique and hunt."""

import tomllib
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "alert_techniques.toml"


@dataclass(frozen=True)
class AlertMapping:
    """One alert name: the `Tactic:Txxxx` it means, the hunt keyed on it, and where Microsoft documents the alert."""

    name: str
    attack: str
    hunt: str
    reference: str


def _table() -> dict[str, AlertMapping]:
    rows = tomllib.loads(TABLE.read_text(encoding="utf-8"))["alert"]
    return {row["name"].lower(): AlertMapping(row["name"], row["attack"], row["hunt"], row["reference"]) for row in rows}


#: Alert name (lower-cased) -> its mapping.
ALERT_TECHNIQUES = _table()


def alert_mapping(name: str) -> AlertMapping | None:
    """The mapping of an alert's name (case-insensitive), or None for an alert the table does not list."""
    return ALERT_TECHNIQUES.get(name.strip().lower())
