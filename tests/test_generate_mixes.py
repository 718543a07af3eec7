"""Tests of the generator's workload mixes (`--mix exchange|sharepoint|directory|signin`), the benchmarks' other
shapes of audit log: given a mix and a seed, the file holds exactly the records asked for in every output shape,
loads into a case without a reject or a warning, is mostly the mix's own workload, carries the long tail of
top-level fields its workload has, and is the same bytes every time (also when written by several processes)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import load_generator
from workbench.core.case import Case

EVENTS = 2000
FORMATS = ("jsonl", "purview-csv", "legacy-csv", "mgmt-json", "graph-json")
ATTACKER_IPS = {"104.161.20.102", "20.232.202.245", "185.241.149.122"}


def _share(events: pl.DataFrame, condition: pl.Expr) -> float:
    return events.select(condition.mean()).item()


# mix -> (what most of its records are, the least share of them, fewest distinct top-level fields in EVENTS records)
MIXES = {
    "exchange": (pl.col("operation") == "MailItemsAccessed", 0.6, 60),
    "sharepoint": (pl.col("workload").is_in(["SharePoint", "OneDrive"]) & pl.col("operation").str.starts_with("File"),
                   0.7, 60),
    "directory": ((pl.col("record_type") == 8) & (pl.col("workload") == "AzureActiveDirectory"), 0.9, 25),
    "signin": (pl.col("record_type") == 15, 1.0, 25),
}


def generate(tmp: Path, mix: str, fmt: str, *extra: str) -> Path:
    out = tmp / f"{mix}-{'-'.join(extra)}.{fmt}"
    argv = ["--mix", mix, "--events", str(EVENTS), "--format", fmt, "--out", str(out), "--jobs", "1", *extra]
    assert load_generator().main(argv) == 0
    return out


@pytest.mark.parametrize("mix", sorted(MIXES))
def test_mix_file(mix, tmp_path):
    condition, least, fewest_fields = MIXES[mix]
    files = {fmt: generate(tmp_path, mix, fmt) for fmt in FORMATS}

    # every shape loads whole: the same records in each, so the first file loads them and the others repeat them
    case = Case.named(mix, tmp_path / "cases")
    report, _ = case.open(list(files.values()))
    for fmt, file in zip(files, report.files):
        assert (file.rows, file.rejected, file.warnings, file.conflicting) == (EVENTS, 0, 0, 0), fmt
        assert file.loaded + file.duplicates == EVENTS, fmt
    assert report.totals()["loaded"] == EVENTS
    events = case.events()
    assert _share(events, condition) >= least      # mostly the mix's own workload
    assert events["user_id"].null_count() == 0 and events["record_id"].n_unique() == EVENTS

    # a long tail of top-level fields, records of a realistic size in time order, no planted attacker
    records = [json.loads(line) for line in files["jsonl"].read_text(encoding="utf-8").splitlines()]
    fields = Counter(key for record in records for key in record)
    assert len(fields) >= fewest_fields
    assert [r["CreationTime"] for r in records] == sorted(r["CreationTime"] for r in records)
    assert 1000 < files["jsonl"].stat().st_size / len(records) < 2200
    assert not ATTACKER_IPS & {r.get("ClientIP") for r in records}

    # the same seed gives the same bytes, written by one process or two; another seed other bytes
    assert generate(tmp_path, mix, "jsonl", "--jobs", "2").read_bytes() == files["jsonl"].read_bytes()
    assert generate(tmp_path, mix, "jsonl", "--seed", "7").read_bytes() != files["jsonl"].read_bytes()


def test_exchange_mix_reads_mail_in_folders():
    stream = load_generator().MixStream("exchange", 20000)
    records = [r for day in stream.days()[:7] for r in stream.day_records(day)]
    binds = [r for r in records if r["Operation"] == "MailItemsAccessed"
             and r["OperationProperties"][0]["Value"] == "Bind"]
    syncs = [r for r in records if r["Operation"] == "MailItemsAccessed"
             and r["OperationProperties"][0]["Value"] == "Sync"]
    assert binds and syncs
    assert any(len(r["Folders"]) > 1 and all(len(f["FolderItems"]) > 1 for f in r["Folders"]) for r in binds)
    for r in binds:
        items = [item for folder in r["Folders"] for item in folder["FolderItems"]]
        assert r["OperationCount"] == len(items)
        assert all(set(item) == {"Id", "InternetMessageId", "SizeInBytes"} for item in items)
    assert all(len(r["Folders"]) == 1 and r["Folders"][0]["Path"].startswith("\\") for r in syncs)
    updates = [r for r in records if r["Operation"] == "Update"]
    assert updates and all(all(isinstance(name, str) for name in r["ModifiedProperties"]) for r in updates)


def test_directory_mix_changes_carry_json_in_strings():
    stream = load_generator().MixStream("directory", 20000)
    records = [r for r in stream.day_records(stream.days()[1]) if r["RecordType"] == 8]
    operations = Counter(r["Operation"] for r in records)
    assert {"Update user.", "Add member to group.", "Add service principal credentials.", "Update application.",
            "Reset user password.", "Consent to application."} <= set(operations)
    for r in records:
        assert {item["Type"] for item in r["Actor"]} and r["Target"]
        for changed in r["ModifiedProperties"]:
            assert set(changed) == {"Name", "NewValue", "OldValue"}
    assert any(p["NewValue"].startswith("[\r\n  ") for r in records for p in r["ModifiedProperties"])
