"""Tests of the sample-log generator: determinism, the planted story, and every output shape."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "sample_logs" / "generate.py"
COMMITTED = ROOT / "sample_logs"
SAMPLE_FILES = ("case-a/purview_audit_export.csv", "case-b/management_api.jsonl",
                "case-b/graph_audit_query.json", "broken/broken_rows.csv", "README.md",
                "case-a/message_trace.csv", "case-b/message_trace_enhanced_summary.csv",
                ".answers/planted_exposure.json")


def _load_generator():
    spec = importlib.util.spec_from_file_location("sample_logs_generate", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def run_generator(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          check=True, cwd=ROOT)


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    run_generator("--out-dir", str(out))
    return out


def read_records(path: Path, fmt: str) -> list[dict]:
    """The AuditData objects of a file written in shape ``fmt``."""
    text = path.read_text(encoding="utf-8-sig")
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    if fmt == "mgmt-json":
        return json.loads(text)
    if fmt == "graph-json":
        return [item["auditData"] for item in json.loads(text)["value"]]
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return [json.loads(row["AuditData"]) for row in rows]


def case_records(folder: Path) -> dict[str, list[dict]]:
    return {"a": read_records(folder / "case-a/purview_audit_export.csv", "purview-csv"),
            "b": read_records(folder / "case-b/management_api.jsonl", "jsonl")
            + read_records(folder / "case-b/graph_audit_query.json", "graph-json")}


def markdown_table(readme: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after ``heading``."""
    lines = readme.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return [[cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            for line in lines[start + 2:end]]


def planted_ids(case: str) -> set[str]:
    return {step.record["Id"] for step in gen.planted_steps(case)}


# ---------------------------------------------------------------------------------------------


def test_two_runs_write_identical_bytes_and_match_the_committed_files(samples, tmp_path):
    gen.write_samples(tmp_path)
    for name in SAMPLE_FILES:
        fresh = (samples / name).read_bytes()
        assert (tmp_path / name).read_bytes() == fresh, name
        assert (COMMITTED / name).read_bytes() == fresh, f"{name} is stale: run generate.py"


def test_purview_export_is_rfc4180_with_bom_crlf_and_json_audit_data(samples):
    raw = (samples / "case-a/purview_audit_export.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfRecordId,CreationDate,RecordType,Operation,UserId,"
                          b"AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) - 1 == len(gen.generate_case("a")) >= 3000
    for row in rows[1:]:
        record = json.loads(row[5])
        assert isinstance(record, dict)
        assert row[0] == record["Id"] and row[3] == record["Operation"]
        assert row[1] == record["CreationTime"] + ".0000000Z"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.0000000Z", row[1])
        assert row[2] == gen.RECORD_TYPES[record["RecordType"]]
    times = [row[1] for row in rows[1:]]
    assert times == sorted(times, reverse=True), "Purview exports list newest first"
    assert times[-1] >= "2022-12-01" and times[0] < "2023-02-25"


def test_every_planted_step_in_the_readme_is_in_the_files_with_its_id(samples):
    readme = (samples / "README.md").read_text(encoding="utf-8")
    table = markdown_table(readme, "## Planted attacker steps")
    records = {case: {r["Id"]: r for r in recs} for case, recs in case_records(samples).items()}
    for case in ("a", "b"):
        listed = {row[2] for row in table if row[0] == f"case-{case}"}
        assert listed == planted_ids(case)
    for case_label, when, rid, user, operation, *_ in table:
        record = records[case_label[-1]][rid]
        assert record["CreationTime"] == when.replace(" ", "T")
        assert (record["UserId"], record["Operation"]) == (user, operation)


@pytest.mark.parametrize("case", ["a", "b"])
def test_the_three_shared_ip_addresses_appear_in_both_tenants(samples, case):
    seen = {gen.Access(r.get("ClientIP") or r.get("ActorIpAddress", ""), "", gen.ATTACKER_DEVICE)
            .plain_ip for r in case_records(samples)[case]}
    assert set(gen.ATTACKER_IPS) <= seen


@pytest.mark.parametrize("case", ["a", "b"])
def test_background_holds_nothing_that_looks_like_the_attack(case):
    story = planted_ids(case)
    background = [r for r in gen.generate_case(case) if r["Id"] not in story]
    assert 3000 <= len(background) <= 6000
    for record in background:
        text = gen.to_json(record)
        assert not any(ip in text for ip in gen.ATTACKER_IPS), record["Id"]
        assert "Firefox" not in text and "StrongAuthentication" not in text
        assert record["Operation"] not in {
            "New-TenantAllowBlockListSpoofItems", "SiteCollectionAdminAdded", "SiteLocksChanged",
            "SharingPolicyChanged", "AnonymousLinkCreated", "Add member to role.", "SendAs",
            "Add-RecipientPermission", "HardDelete", "Set-TransportRule", "Enable-TransportRule"}
        names = {p["Name"] for p in record.get("Parameters", [])}
        assert not names & {"DeleteMessage", "RedirectMessageTo", "ModerateMessageByUser"}
        if record["RecordType"] == 3:
            assert record["LogonType"] == 0 and record["UserId"] == record["MailboxOwnerUPN"]
        if record["Operation"] == "Add-MailboxPermission":
            assert record["ObjectId"] in {"reception", "accounts"}
    users = {r["UserId"] for r in background}
    assert not any(u.lower().startswith(("compromisedadmin", "admin@")) for u in users)


@pytest.mark.parametrize("case", ["a", "b"])
def test_the_admin_account_lies_dormant_for_about_eighty_days(case):
    steps = [s.record for s in gen.planted_steps(case)]
    created = next(r for r in steps if r["Operation"] == "Add user."
                   and r["ObjectId"].startswith("CompromisedAdmin"))
    first_use = min(r["CreationTime"] for r in steps
                    if r["UserId"].lower().startswith("compromisedadmin"))
    assert created["CreationTime"] < "2022-12-08"
    gap = datetime.fromisoformat(first_use) - datetime.fromisoformat(created["CreationTime"])
    assert 75 <= gap.days <= 82


def test_story_records_carry_the_article_values():
    planted = [s.record for s in gen.planted_steps("a")]
    steps = {r["Operation"] + "/" + str(r.get("ObjectId")): r for r in planted}
    permission = steps["Add-MailboxPermission/TargetUser"]
    assert permission["Parameters"] == [
        {"Name": "Identity", "Value": "TargetUser"},
        {"Name": "User", "Value": "CompromisedAdmin@example.com"},
        {"Name": "AccessRights", "Value": "FullAccess"},
        {"Name": "InheritanceType", "Value": "All"}]
    site = "https://example-my.sharepoint.com/personal/targetuser_example_com"
    assert gen.to_json(steps[f"SiteLocksChanged/{site}"]["ModifiedProperties"]) == (
        '[{"OldValue":"True","NewValue":"False","Name":"SiteAccess"}]')
    assert gen.to_json(steps[f"SiteCollectionAdminAdded/{site}"]["ModifiedProperties"]) == (
        '[{"OldValue":"","NewValue":"CompromisedAdmin@example.com","Name":"SiteAdmin"}]')
    assert "Accepted: [BANK NAME REDACTED] Passcode" in {
        r["Item"]["Subject"] for r in planted if r["Operation"] == "SendAs"}
    spoofed = {p["Value"] for r in planted for p in r.get("Parameters", [])
               if p["Name"] == "SendingInfrastructure"}
    assert spoofed == {"botasso.cl", "iad3a.emailsrvr.com", "continental-database.com",
                       "104.161.20.102"}
    update = next(r for r in steps.values() if r["Operation"] == "Update")
    assert all(isinstance(name, str) for name in update["ModifiedProperties"])


def test_case_b_carries_the_inert_text_payloads(samples):
    records = case_records(samples)["b"]
    assert any(r.get("Item", {}).get("Subject") == "RE: Wire details [bold red]x[/]"
               for r in records)
    assert any(r.get("ObjectId") == "Junk cleanup\x1b[2J" for r in records)
    assert "\\u001b[2J" in (samples / "case-b/management_api.jsonl").read_text()


def test_case_b_exports_overlap_and_each_holds_records_the_other_lacks(samples):
    mgmt = {r["Id"] for r in read_records(samples / "case-b/management_api.jsonl", "jsonl")}
    graph = json.loads((samples / "case-b/graph_audit_query.json").read_text())
    assert graph["@odata.context"].startswith("https://graph.microsoft.com/")
    ids = [item["id"] for item in graph["value"]]
    assert 15 <= len(set(ids) & mgmt) <= 25 and set(ids) - mgmt
    assert set(ids) | mgmt >= planted_ids("b")
    for item in graph["value"]:
        data = item["auditData"]
        assert item["id"] == data["Id"] and item["createdDateTime"] == data["CreationTime"] + "Z"
        assert item["auditLogRecordType"] == "exchangeAdmin" and item["service"] == "Exchange"
        assert item["userPrincipalName"] == data["UserId"]
        assert item["userType"] in gen.GRAPH_USER_TYPES


def test_broken_rows_are_the_ones_the_readme_documents(samples):
    raw = (samples / "broken/broken_rows.csv").read_bytes()
    assert not raw.endswith(b"\n")
    lines = raw.decode("utf-8-sig").split("\r\n")
    readme = (samples / "README.md").read_text(encoding="utf-8")
    documented = {int(line): problem
                  for line, problem in markdown_table(readme, "## Broken rows")}
    assert sorted(documented) == [3, 4, 5, 6, 9] and len(lines) == 9

    def fields(line_number: int) -> list[str]:
        return next(csv.reader([lines[line_number - 1]]))

    with pytest.raises(json.JSONDecodeError):
        json.loads(fields(3)[5])
    unknown = json.loads(fields(4)[5])
    assert unknown["RecordType"] == 99999 and fields(4)[2] == "99999"
    assert fields(5)[1] == "" and "CreationTime" not in json.loads(fields(5)[5])
    assert fields(6)[5] == ""
    assert lines[8].count('"') % 2 == 1
    for good in (2, 7, 8):
        assert json.loads(fields(good)[5])["Id"] == fields(good)[0]


@pytest.mark.parametrize("fmt", ["jsonl", "purview-csv", "legacy-csv", "mgmt-json",
                                 "graph-json"])
def test_benchmark_mode_writes_n_events_plus_the_story(tmp_path, fmt):
    out = tmp_path / f"bench.{fmt}"
    run_generator("--events", "200", "--format", fmt, "--out", str(out), "--jobs", "2")
    records = read_records(out, fmt)
    stream = gen.iter_records("a", 200)
    # the owners' scripted mail comes with the story; a throttled mailbox's 24 hours lose their reads
    assert len(records) == len(stream) == 200 + len(planted_ids("a")) + stream.owners - sum(
        stream.dropped.values())
    assert planted_ids("a") <= {r["Id"] for r in records}
    sequential = tmp_path / "sequential"
    newest_first = fmt in ("purview-csv", "legacy-csv")
    gen.write(gen.iter_records("a", 200, newest_first=newest_first), fmt, sequential)
    assert sequential.read_bytes() == out.read_bytes()


def test_legacy_csv_has_search_unifiedauditlog_columns(tmp_path):
    records = gen.generate_case("b", background=50)
    out = tmp_path / "legacy.csv"
    gen.write(records, "legacy-csv", out)
    raw = out.read_bytes().decode("utf-8")
    assert raw.startswith('"RunspaceId","RecordType","CreationDate","UserIds","Operations",'
                          '"AuditData","ResultIndex","ResultCount","Identity","IsValid",'
                          '"ObjectState"\r\n')
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert [int(r["ResultIndex"]) for r in rows] == list(range(1, len(records) + 1))
    assert {r["ResultCount"] for r in rows} == {str(len(records))}
    for row, record in zip(rows, records):
        assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M", row["CreationDate"])
        assert json.loads(row["AuditData"]) == record and row["Identity"] == record["Id"]
    assert gen.legacy_date("2023-02-21T14:03:11") == "2/21/2023 2:03:11 PM"
    assert gen.legacy_date("2023-02-21T00:05:00") == "2/21/2023 12:05:00 AM"


@pytest.mark.parametrize("fmt", ["jsonl", "purview-csv", "mgmt-json", "graph-json"])
def test_write_round_trips_a_small_input(tmp_path, fmt):
    records = [step.record for step in gen.planted_steps("b")][:5]
    out = tmp_path / "small"
    gen.write(records, fmt, out)
    read = read_records(out, fmt)
    if fmt == "graph-json":
        assert {r.pop("@odata.type") for r in read} >= {
            "#microsoft.graph.security.azureActiveDirectoryAuditRecord"}
    assert read == records


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        gen.write([], "xml", tmp_path / "x")
