"""Provides the pinned MITRE ATT&CK data: the Office Suite platform matrix of ATT&CK v18.1.

The tactic/technique table is `data/attack-office-suite-v18.1.tsv` (copied from the project's
reference); tactic ids and Navigator short names are in `data/attack-tactics-v18.1.tsv`. Nothing is
downloaded at run time. A sub-technique the platform matrix does not list (e.g. T1562.001, whose
parent T1562 is listed) is shown in its parent's matrix cell while hits keep the precise id.
"""

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ATTACK_VERSION = "18.1"
PLATFORM = "Office Suite"
DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Tactic:
    """One ATT&CK tactic (a matrix column)."""

    id: str
    name: str
    shortname: str


#: The matrix cell (and, for pairs without a tactic, the column) of hits whose ATT&CK technique the platform matrix
#: does not list, or that name none (Sigma rules with tactic tags only, or no tags).
UNMAPPED = "unmapped"
UNMAPPED_TACTIC = Tactic(UNMAPPED, "Unmapped", UNMAPPED)


@dataclass(frozen=True)
class Technique:
    """One technique or sub-technique listed under a tactic in the platform matrix."""

    id: str
    name: str


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@cache
def tactics() -> tuple[Tactic, ...]:
    """The tactics in matrix order."""
    return tuple(Tactic(row["tactic_id"], row["tactic"], row["shortname"]) for row in _rows("attack-tactics-v18.1.tsv"))


@cache
def _matrix() -> dict[str, dict[str, Technique]]:
    by_tactic: dict[str, dict[str, Technique]] = {tactic.name: {} for tactic in tactics()}
    for row in _rows(f"attack-office-suite-v{ATTACK_VERSION}.tsv"):
        by_tactic[row["tactic"]][row["technique_id"]] = Technique(row["technique_id"], row["name"])
    return by_tactic


def tactic(name_or_id: str) -> Tactic | None:
    """The tactic with this name (case-insensitive) or id (TA0003)."""
    wanted = name_or_id.strip().lower()
    return next((t for t in tactics() if wanted in (t.name.lower(), t.id.lower(), t.shortname)), None)


def techniques(tactic_name: str) -> tuple[Technique, ...]:
    """The techniques listed under a tactic, in the data file's order."""
    return tuple(_matrix().get(tactic_name, {}).values())


def matrix_technique_id(tactic_name: str, technique_id: str) -> str | None:
    """The matrix cell id for a technique under a tactic: itself if listed, else its listed parent, else None."""
    listed = _matrix().get(tactic_name, {})
    if technique_id in listed:
        return technique_id
    parent = technique_id.split(".")[0]
    return parent if parent != technique_id and parent in listed else None


def technique_name(tactic_name: str, technique_id: str) -> str:
    """The technique's name; for an unlisted sub-technique its parent's name plus the precise id."""
    cell = matrix_technique_id(tactic_name, technique_id)
    if cell is None:
        return technique_id
    name = _matrix()[tactic_name][cell].name
    return name if cell == technique_id else f"{name} ({technique_id})"
