"""The tactic x technique matrix of hits and the ATT&CK Navigator layer."""

import json

import polars as pl

import hunts
from hunts import attack


def _cell(columns, tactic: str, technique: str) -> hunts.MatrixCell:
    column = next(c for c in columns if c.tactic.name == tactic)
    return next(cell for cell in column.cells if cell.technique_id == technique)


def test_attack_data_is_pinned_with_eleven_tactics_in_matrix_order():
    assert attack.ATTACK_VERSION == "18.1"
    assert [t.id for t in attack.tactics()] == ["TA0001", "TA0002", "TA0003", "TA0004", "TA0005", "TA0006", "TA0007", "TA0008", "TA0009", "TA0010", "TA0040"]
    assert attack.matrix_technique_id("Defense Evasion", "T1562.001") == "T1562"
    assert attack.matrix_technique_id("Defense Evasion", "T1562.008") == "T1562.008"
    assert attack.matrix_technique_id("Initial Access", "T1114.003") is None


def test_cells_count_hits_keep_the_highest_severity_and_map_unlisted_subtechniques(sample_events, pack):
    hits = hunts.hunt_hits(sample_events["case-a"], pack)
    columns = hunts.matrix_cells(hits, pack)
    assert [c.tactic.name for c in columns][0] == "Initial Access"
    spoof = _cell(columns, "Defense Evasion", "T1562")
    assert spoof.hits == hunts.hit_pairs(hits).filter(pl.col("matrix_technique_id") == "T1562")["record_id"].n_unique() == 4
    assert spoof.severity == "critical"
    assert "defense_exo_spoof_allow_item" in spoof.hunt_ids
    role = _cell(columns, "Persistence", "T1098.003")
    assert role.hits > 0 and role.has_hunt
    assert _cell(columns, "Execution", "T1648") == hunts.MatrixCell("T1648", "Serverless Execution", 0, None, False, (), ())
    pairs = hunts.hit_pairs(hits).select("tactic_id", "matrix_technique_id", "record_id").unique()
    assert sum(cell.hits for column in columns for cell in column.cells) == pairs.height  # distinct events per cell


def test_navigator_layer_scores_hits_and_comments_titles(sample_events, pack):
    hits = hunts.hunt_hits(sample_events["case-b"], pack)
    layer = json.loads(hunts.navigator_layer(hunts.matrix_cells(hits, pack), "case-b"))
    assert layer["domain"] == "enterprise-attack" and layer["versions"]["attack"] == "18"
    entries = {(t["tactic"], t["techniqueID"]): t for t in layer["techniques"]}
    forwarding = entries[("collection", "T1114.003")]
    assert forwarding["score"] == hunts.hit_pairs(hits).filter(pl.col("technique_id") == "T1114.003")["record_id"].n_unique()
    assert "Transport rule redirects, copies or adds recipients to mail" in forwarding["comment"]
    assert entries[("defense-evasion", "T1562")]["score"] == 2
