"""Issue 17's "done when" on the bundled samples: `workbench exposure --proposed` lists exactly what the generator
planted for the attacker (its answer key, `sample_logs/.answers/planted_exposure.json`) and none of the owners' own
activity, with the throttled periods flagged."""

import json
from collections import defaultdict

import pytest

from workbench.cli import main


@pytest.fixture(scope="module")
def exposure_rows(tmp_path_factory, sample_logs) -> list[dict]:
    output = tmp_path_factory.mktemp("exposure") / "exposure.json"
    cases = tmp_path_factory.mktemp("cases")
    assert main(["exposure", str(sample_logs), "--case-dir", str(cases), "--proposed", "-o", str(output)]) == 0
    return json.loads(output.read_text())["rows"]


@pytest.fixture(scope="module")
def planted(sample_logs) -> dict:
    return json.loads((sample_logs / ".answers/planted_exposure.json").read_text())["cases"]


def _found(rows: list[dict]) -> dict:
    """What the exposure says per mailbox, in the answer key's terms."""
    found: dict = defaultdict(lambda: defaultdict(set))
    for row in rows:
        box = found[row["mailbox"]]
        kind = row["kind"]
        if kind == "read":
            box["read"].add((row["message_id"], row["subject"], row["sender"], row["folder"]))
        elif kind == "sync":
            box["synced"].add(row["folder"])
        elif kind == "search":
            box["searched"].add(row["search_terms"])
        elif kind == "file":
            box["files"].add((row["operation"], row["file"]))
        elif kind == "sent":
            box["sent"].add((row["message_id"], row["subject"], row["recipient"].lower(), row["outside"],
                             row["status"].lower()))
        elif kind == "deleted":
            box["deleted"].add((row["operation"], row["message_id"], row["subject"]))
        elif kind == "throttled":
            box["throttled"].update(row["record_ids"])
    return found


def _wanted(mailbox: dict) -> dict:
    return {
        "read": {(r["message_id"], r["subject"], r["sender"], r["folder"]) for r in mailbox["read"]},
        "synced": {r["folder"] for r in mailbox["synced"]},
        "searched": {r["terms"] for r in mailbox["searched"]},
        "files": {(r["operation"], r["path"]) for r in mailbox["files"]},
        "sent": {(r["message_id"], r["subject"], p["address"].lower(), p["outside_tenant"], p["status"].lower())
                 for r in mailbox["sent"] for p in r["recipients"]},
        "deleted": {(r["operation"], r["message_id"], r["subject"]) for r in mailbox["deleted"]},
        "throttled": {r["record_id"] for r in mailbox["throttled"]},
    }


def test_exposure_lists_exactly_what_was_planted_for_the_attacker(exposure_rows, planted):
    found = _found(exposure_rows)
    mailboxes = {name: box for case in planted.values() for name, box in case["mailboxes"].items()}
    assert set(found) == set(mailboxes)
    for name, box in mailboxes.items():
        wanted = _wanted(box)
        for kind, expected in wanted.items():
            assert found[name][kind] == expected, (name, kind)


def test_exposure_holds_none_of_the_owners_activity(exposure_rows, planted):
    attacker_records = {record for case in planted.values() for record in case["record_ids"]}
    assert {row["attribution"] for row in exposure_rows} == {"attacker"}
    listed = {record for row in exposure_rows for record in row["record_ids"]}
    assert listed <= attacker_records
    assert any(row["kind"] == "throttled" for row in exposure_rows)


def test_the_exposure_over_the_cases_scan_is_the_exposure_over_the_frame(tmp_path, sample_logs):
    """`workbench exposure` gives the cases' scan (only the rows the exposure needs are read): the same rows, window
    and notes as over the activity in memory (the TUI's and the report's way)."""
    import polars as pl

    from workbench.core.case import Case
    from workbench.core.case_exposure import EXPOSURE_READS, attribution_in_force, case_exposure
    from workbench.core.case_set import CaseSet
    from workbench.core.hunting import hunt_case

    cases = CaseSet([(Case.named(name, tmp_path / "cases"), [sample_logs / name]) for name in ("case-a", "case-b")])
    cases.open()
    hits = hunt_case(cases, {})
    frame, scan = cases.activity(), cases.activity_scan().select(EXPOSURE_READS)
    attribution, _ = attribution_in_force(cases, frame, {}, use_proposal=True, hits=hits)
    assert attribution_in_force(cases, scan, {}, use_proposal=True, hits=hits)[0] == attribution
    whole, scanned = case_exposure(cases, attribution, frame), case_exposure(cases, attribution, scan)
    assert whole.rows.height > 20 and whole.rows.filter(pl.col("kind") == "read").height
    assert scanned.rows.equals(whole.rows)
    assert (scanned.start, scanned.end, scanned.notes) == (whole.start, whole.end, whole.notes)
