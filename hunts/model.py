"""Provides the typed form of a hunt: its ATT&CK pairs, inline tests and condition data."""

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

SEVERITIES = ("informational", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class AttackPair:
    """One `tactic:technique` pair of a hunt; `matrix_id` is the cell it shows in (a listed parent if needed)."""

    tactic_id: str
    tactic: str
    technique_id: str
    technique: str
    matrix_id: str


@dataclass(frozen=True)
class InlineTest:
    """Raw records of the hunt's source (audit records, or Graph sign-ins or directory audits), optional enrichment
    rows, records of the other sources beside them (`others`: (source, records) pairs, for sets and sequence steps
    drawn from another source), and the record ids the hunt must hit (none: negative)."""

    name: str
    records: tuple[dict, ...]
    expect: tuple[str, ...]
    enrichment: tuple[dict, ...] = ()
    others: tuple[tuple[str, tuple[dict, ...]], ...] = ()

    @property
    def positive(self) -> bool:
        """True when the test expects hits."""
        return bool(self.expect)


@dataclass(frozen=True)
class Hunt:
    """One declarative hunt, loaded from `<id>.toml`; `condition` is engine-neutral data (see conditions.py)."""

    id: str
    title: str
    description: str
    severity: str
    attack: tuple[AttackPair, ...]
    runbook: str
    fields: tuple[str, ...]
    references: tuple[str, ...]
    condition: dict
    tests: tuple[InlineTest, ...] = ()
    path: Path | None = field(default=None, compare=False)

    @property
    def reads_enrichment(self) -> bool:
        """Whether a predicate of the condition reads the IP enrichment (silent until the IPs are looked up)."""
        return has_key(self.condition, "enrichment")

    @property
    def severity_rank(self) -> int:
        """0 (informational) .. 4 (critical)."""
        return SEVERITIES.index(self.severity)


def has_key(data: object, key: str) -> bool:
    """Whether `key` is a key of `data` or of any dict nested in it."""
    if isinstance(data, dict):
        return key in data or any(has_key(value, key) for value in data.values())
    return isinstance(data, list) and any(has_key(item, key) for item in data)


def key_values(data: object, key: str, kind: type) -> list:
    """The values of `key` that are of type `kind`, in `data` and in every dict nested in it, in order."""
    if isinstance(data, list):
        return [value for item in data for value in key_values(item, key, kind)]
    if not isinstance(data, dict):
        return []
    own = [data[key]] if isinstance(data.get(key), kind) else []
    return own + [value for nested in data.values() for value in key_values(nested, key, kind)]


def without_key(data: object, key: str) -> object:
    """A copy of `data` without `key` in it or in any dict nested in it."""
    if isinstance(data, list):
        return [without_key(item, key) for item in data]
    if not isinstance(data, dict):
        return data
    return {name: without_key(value, key) for name, value in data.items() if name != key}


def as_text(rows: pl.DataFrame) -> pl.DataFrame:
    """The rows with their categorical columns as text: a hunted frame and the events view's frame hold texts that
    repeat as categories (less memory a row); the rows selected from them (a hunt's tests and hits, a timeline's
    rows, an export's batch) are read as text."""
    return rows.with_columns(pl.col(pl.Categorical).cast(pl.String))
