"""Accuracy on the bundled samples: every planted step found with its techniques, no benign event flagged."""

import polars as pl
import pytest

import hunts


@pytest.fixture(scope="module")
def hits(sample_events, pack) -> dict[str, pl.DataFrame]:
    return {name: hunts.hunt_hits(events, pack) for name, events in sample_events.items()}


@pytest.mark.parametrize("case", ["case-a", "case-b"])
def test_every_planted_step_is_found_with_its_techniques(case, hits, readme_tables):
    found: dict[str, set[str]] = {}
    for record_id, technique in hunts.hit_pairs(hits[case]).select("record_id", "technique_id").iter_rows():
        found.setdefault(record_id, set()).add(technique)
    missing = {
        record_id: sorted(techniques - found.get(record_id, set()))
        for (name, record_id), techniques in readme_tables["planted"].items()
        if name == case and techniques - found.get(record_id, set()) and (name, record_id) not in readme_tables["unhunted"]
    }
    assert missing == {}
    assert sum(1 for name, _ in readme_tables["planted"] if name == case) >= 35


@pytest.mark.parametrize("case", ["case-a", "case-b"])
def test_no_event_outside_the_planted_steps_is_flagged(case, hits, readme_tables):
    planted = [record_id for name, record_id in readme_tables["planted"] if name == case]
    flagged = hits[case].filter(~pl.col("record_id").is_in(planted))
    assert flagged.select("hunt_id", "record_id", "operation").rows() == []


@pytest.mark.parametrize("case", ["case-a", "case-b"])
def test_benign_look_alikes_are_quiet(case, hits, readme_tables, sample_events):
    look_alikes = [record_id for name, record_id in readme_tables["benign"] if name == case]
    assert len(look_alikes) == 10
    assert sample_events[case].filter(pl.col("record_id").is_in(look_alikes)).height == 10
    assert hits[case].filter(pl.col("record_id").is_in(look_alikes)).height == 0


def test_both_cases_together_show_the_shared_addresses_across_tenants(sample_events, pack):
    both = pl.concat(list(sample_events.values()))
    across = hunts.hunt_hits(both, [h for h in pack if h.id == "initial_aad_signin_ip_across_tenants"])
    assert set(across["client_ip"]) == {"104.161.20.102", "20.232.202.245", "185.241.149.122"}
    assert set(across["user_id"].str.to_lowercase()) >= {"compromisedadmin@example.com", "compromisedadmin@example.net"}


def test_hosting_enrichment_brings_the_hosting_hunt_alive(sample_events, pack):
    hunt = [h for h in pack if h.id == "initial_aad_signin_hosting_ip"]
    events = sample_events["case-a"]
    assert hunts.hunt_hits(events, hunt).height == 0
    enrichment = pl.DataFrame(
        {"ip": ["20.232.202.245", "50.237.205.113"], "hosting": [True, False], "reasons": [["ASN 8075 Microsoft Azure"], []]}
    )
    flagged = hunts.hunt_hits(events, hunt, enrichment)
    assert set(flagged["client_ip"]) == {"20.232.202.245"}
    assert set(flagged["record_id"]) == {"bb2a7063-e85d-4d65-88d8-9c4a1aea9fef"}
