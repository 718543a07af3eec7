"""Provides the tactic x technique matrix of hits (for the CLI grid, the TUI and Navigator layers)."""

import json
from dataclasses import dataclass

import polars as pl

from hunts import attack
from hunts.engine import hit_pairs
from hunts.model import SEVERITIES, Hunt


@dataclass(frozen=True)
class MatrixCell:
    """One technique row under one tactic: hit count, highest hit severity, hunts that cover it."""

    technique_id: str
    technique: str
    hits: int
    severity: str | None
    has_hunt: bool
    hunt_ids: tuple[str, ...]
    hunt_titles: tuple[str, ...]


@dataclass(frozen=True)
class MatrixColumn:
    """One tactic with its technique cells, in the pinned matrix order."""

    tactic: attack.Tactic
    cells: tuple[MatrixCell, ...]


def matrix_cells(hits: pl.DataFrame, hunts: list[Hunt]) -> list[MatrixColumn]:
    """The matrix: every tactic (in order) with every listed technique, its hits and coverage; a tactic's
    `unmapped` cell, and an `Unmapped` column, only where hunts or hits have no technique of the matrix."""
    covering: dict[tuple[str, str], list[Hunt]] = {}
    for hunt in hunts:
        for pair in hunt.attack:
            covering.setdefault((pair.tactic_id, pair.matrix_id), []).append(hunt)
    counted = (  # per cell: the distinct events hit, and the highest severity
        hit_pairs(hits).with_columns(pl.col("severity").replace_strict(SEVERITIES, list(range(len(SEVERITIES))), return_dtype=pl.Int8).alias("_rank"))
        .group_by("tactic_id", "matrix_technique_id")
        .agg(pl.col("record_id").n_unique().alias("hits"), pl.col("_rank").max().alias("rank"))
    )
    found = {(row["tactic_id"], row["matrix_technique_id"]): row for row in counted.to_dicts()}
    columns = []
    for tactic in (*attack.tactics(), attack.UNMAPPED_TACTIC):
        cells = []
        listed = [(technique.id, technique.name) for technique in attack.techniques(tactic.name)]
        unmapped = (tactic.id, attack.UNMAPPED)
        if unmapped in found or unmapped in covering:  # hits or hunts without a technique of the matrix
            listed.append((attack.UNMAPPED, "no technique of the matrix"))
        for technique_id, name in listed:
            key = (tactic.id, technique_id)
            row = found.get(key)
            hunts_here = covering.get(key, [])
            cells.append(MatrixCell(
                technique_id, name, row["hits"] if row else 0, SEVERITIES[row["rank"]] if row else None,
                bool(hunts_here), tuple(h.id for h in hunts_here), tuple(h.title for h in hunts_here),
            ))
        if cells:
            columns.append(MatrixColumn(tactic, tuple(cells)))
    return columns


def navigator_layer(columns: list[MatrixColumn], name: str) -> str:
    """An ATT&CK Navigator layer (JSON text): score = hit count, comment = titles of the covering hunts."""
    techniques = [
        {"techniqueID": cell.technique_id, "tactic": column.tactic.shortname, "score": cell.hits,
         "comment": "; ".join(cell.hunt_titles), "enabled": True}
        for column in columns for cell in column.cells
        if (cell.has_hunt or cell.hits) and cell.technique_id != attack.UNMAPPED
    ]
    top = max((t["score"] for t in techniques), default=0)
    layer = {
        "name": name,
        "versions": {"attack": attack.ATTACK_VERSION.split(".")[0], "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "description": f"Hunt hits on the ATT&CK v{attack.ATTACK_VERSION} {attack.PLATFORM} matrix",
        "filters": {"platforms": [attack.PLATFORM]},
        "gradient": {"colors": ["#ffffff", "#ff6666"], "minValue": 0, "maxValue": max(top, 1)},
        "techniques": techniques,
    }
    return json.dumps(layer, indent=2)
