"""Provides the named value lists hunts test against (`listed = "NAME"`): `hunts/data/lists/NAME.tsv`, a header
row then one value a line in the first column (further columns document each value: name, reference)."""

from functools import cache
from pathlib import Path

LISTS_DIR = Path(__file__).parent / "data" / "lists"


def list_names() -> tuple[str, ...]:
    """The names of the lists there are."""
    return tuple(sorted(path.stem for path in LISTS_DIR.glob("*.tsv")))


@cache
def listed_values(name: str) -> tuple[str, ...]:
    """The values of list `name` (first column, header row skipped, blank lines ignored)."""
    lines = (LISTS_DIR / f"{name}.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return tuple(value for line in lines if (value := line.split("\t")[0].strip()))
