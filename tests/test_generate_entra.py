"""Tests of the generator's Entra ID samples: determinism, agreement with the unified audit log
story (same second, address and session), the replayed session, the planted directory audits, and
that every written file parses in its shape."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import load_generator

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "sample_logs"
ATTACKER_IPS = ("104.161.20.102", "20.232.202.245", "185.241.149.122")
DOWNLOADS = ("case-a/entra_signins_interactive.csv", "case-a/entra_signins_noninteractive.csv")
GRAPH_AUDITS = "case-a/graph_directory_audits.json"
PT1H = {"case-b/PT1H_signinlogs.json": "SignInLogs",
        "case-b/PT1H_noninteractiveusersigninlogs.json": "NonInteractiveUserSignInLogs",
        "case-b/PT1H_auditlogs.json": "AuditLogs"}
LA_CSV = "case-b/loganalytics_signinlogs.csv"
ENTRA_FILES = (*DOWNLOADS, GRAPH_AUDITS, *PT1H, LA_CSV)
UAL_FILES = ("case-a/purview_audit_export.csv", "case-b/management_api.jsonl",
             "case-b/graph_audit_query.json", "broken/broken_rows.csv")


gen = load_generator()


@pytest.fixture
def samples(generated_samples) -> Path:
    return generated_samples


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def download_sign_ins(folder: Path) -> list[dict]:
    """Case A's two downloads as dicts (the first of the repeated `Incoming token type` kept)."""
    out = []
    for name in DOWNLOADS:
        header, *rows = csv_rows(folder / name)
        for row in rows:
            record = {}
            for key, value in zip(header, row):
                record.setdefault(key.strip(), value)
            record["interactive"] = "noninteractive" not in name
            out.append(record)
    return out


def azure_sign_ins(folder: Path) -> list[dict]:
    return [json.loads(line) for name in list(PT1H)[:2]
            for line in (folder / name).read_text(encoding="utf-8").splitlines()]


def la_sign_ins(folder: Path) -> list[dict]:
    header, *rows = csv_rows(folder / LA_CSV)
    return [dict(zip(header, row)) for row in rows]


def la_time(text: str) -> str:
    return datetime.strptime(text, "%m/%d/%Y, %I:%M:%S.%f %p").strftime("%Y-%m-%dT%H:%M:%S")


def sign_in_index(folder: Path, case: str) -> list[tuple[str, str, str, str, bool]]:
    """(upn, time to the second, ip, session, interactive) of every sign-in of ``case``."""
    if case == "a":
        return [(r["Username"], r["Date (UTC)"].rstrip("Z"), r["IP address"], r["Session ID"],
                 r["interactive"]) for r in download_sign_ins(folder)]
    out = [(r["properties"]["userPrincipalName"], r["time"][:19], r["callerIpAddress"],
            r["properties"]["sessionId"], r["category"] == "SignInLogs")
           for r in azure_sign_ins(folder)]
    out += [(r["UserPrincipalName"], la_time(r["TimeGenerated [UTC]"]), r["IPAddress"],
             r["SessionId"], True) for r in la_sign_ins(folder)]
    return out


def session_of(record: dict) -> str:
    return next((d["Value"] for d in record.get("DeviceProperties", []) if d["Name"] == "SessionId"),
                "")


# ---------------------------------------------------------------------------------------------


def test_regenerating_is_byte_identical_to_the_committed_files(samples, tmp_path):
    gen.write_samples(tmp_path)
    for name in (*ENTRA_FILES, *UAL_FILES, "README.md"):
        fresh = (samples / name).read_bytes()
        assert (tmp_path / name).read_bytes() == fresh, name
        assert (COMMITTED / name).read_bytes() == fresh, f"{name} is stale: run generate.py"


@pytest.mark.parametrize("case", ["a", "b"])
def test_every_attacker_ual_sign_in_has_its_entra_sign_in(samples, case):
    index = sign_in_index(samples, case)
    steps = [s.record for s in gen.planted_steps(case)]
    logons = [r for r in steps if r["Operation"] in ("UserLoggedIn", "UserLoginFailed")]
    assert len(logons) >= 5
    for rec in logons:
        found = [entry for entry in index
                 if entry[:3] == (rec["UserId"].lower(), rec["CreationTime"], rec["ClientIP"])
                 and entry[4]]
        assert found, rec["Id"]
        if session_of(rec):
            assert {entry[3] for entry in found} == {session_of(rec)}, rec["Id"]
    sessions = {entry[3] for entry in index}
    mailbox = {r["AppAccessContext"]["AADSessionId"] for r in steps if "AppAccessContext" in r}
    assert mailbox and mailbox <= sessions


@pytest.mark.parametrize("case", ["a", "b"])
def test_a_sample_of_staff_sign_ins_joins_the_unified_audit_log(samples, case):
    index = {entry[:4] for entry in sign_in_index(samples, case)}
    staff = [r for r in gen.generate_case(case) if r["Operation"] == "UserLoggedIn"
             and r["ClientIP"] not in ATTACKER_IPS
             and not r["UserId"].lower().startswith(("compromisedadmin", "admin@"))]
    joined = [r for r in staff
              if (r["UserId"].lower(), r["CreationTime"], r["ClientIP"], session_of(r)) in index]
    assert 80 <= len(joined) < len(staff) / 3


@pytest.mark.parametrize("case, victim, hosting", [("a", "targetuser@example.com", "20.232.202.245"),
                                                   ("b", "financeuser@example.net", "104.161.20.102")])
def test_the_replayed_session_is_genuine_interactive_then_non_interactive_from_hosting(
        samples, case, victim, hosting):
    index = sign_in_index(samples, case)
    replays = [e for e in index if e[0] == victim and e[2] == hosting and not e[4]]
    assert len(replays) >= 3
    session = {e[3] for e in replays}
    assert len(session) == 1
    (session,) = session
    genuine = [e for e in index if e[0] == victim and e[3] == session and e[4]]
    assert genuine and all(e[2] not in ATTACKER_IPS for e in genuine)
    assert max(e[1] for e in genuine) < min(e[1] for e in replays)
    # the genuine sign-in is also in the unified audit log, from the same address
    ual = [r for r in gen.generate_case(case) if session_of(r) == session]
    assert {(r["CreationTime"], r["ClientIP"]) for r in ual} & {(e[1], e[2]) for e in genuine}
    if case == "a":
        rows = [r for r in download_sign_ins(samples) if r["Session ID"] == session
                and r["IP address"] == hosting]
        assert {r["Incoming token type"] for r in rows} == {"Refresh Token"}
        assert all("Firefox" in r["User agent"] for r in rows)
        staff = [r for r in download_sign_ins(samples) if not r["interactive"]
                 and r["IP address"] not in ATTACKER_IPS]
        assert staff and {r["Incoming token type"] for r in staff} == {"Refresh Token"}, \
            "the token type alone must not give the replay away"
    else:
        rows = [r["properties"] for r in azure_sign_ins(samples)
                if r["properties"]["sessionId"] == session and r["callerIpAddress"] == hosting]
        assert {r["incomingTokenType"] for r in rows} == {"refreshToken"}
        assert {r["isInteractive"] for r in rows} == {False}
        assert {r["originalTransferMethod"] for r in rows} == {"none"}


def graph_audits(folder: Path) -> list[dict]:
    lines = (folder / GRAPH_AUDITS).read_text(encoding="utf-8").splitlines()
    pages = [json.loads(line) for line in lines]
    assert len(pages) == 2 and "@odata.nextLink" in pages[0] and "@odata.nextLink" not in pages[1]
    assert all(p["@odata.context"].endswith("#auditLogs/directoryAudits") for p in pages)
    return [record for page in pages for record in page["value"]]


def azure_audits(folder: Path) -> list[dict]:
    records = [json.loads(line) for line in
               (folder / "case-b/PT1H_auditlogs.json").read_text(encoding="utf-8").splitlines()]
    for record in records:
        assert record["category"] == "AuditLogs" and record["time"] == record["properties"][
            "activityDateTime"].replace("+00:00", "Z")
    return [record["properties"] for record in records]


def find_audit(audits: list[dict], activity: str, target: str, when: str) -> dict:
    found = [a for a in audits if a["activityDisplayName"] == activity
             and a["activityDateTime"][:19] == when
             and target in [t["userPrincipalName"] for t in a["targetResources"]]]
    assert len(found) == 1, (activity, target, when)
    return found[0]


@pytest.mark.parametrize("case", ["a", "b"])
def test_directory_audits_hold_the_planted_changes_at_the_ual_times(samples, case):
    audits = graph_audits(samples) if case == "a" else azure_audits(samples)
    domain = "example.com" if case == "a" else "example.net"
    steps = [s.record for s in gen.planted_steps(case)]
    for rec in steps:
        if rec["RecordType"] != 8:
            continue
        activity = rec["Operation"].rstrip(".").capitalize()
        audit = find_audit(audits, activity, rec["ObjectId"], rec["CreationTime"])
        user = audit["initiatedBy"]["user"]
        assert user["userPrincipalName"] == rec["UserId"]
        assert user["ipAddress"] in ATTACKER_IPS
        assert audit["result"] == "success" and audit["loggedByService"] == "Core Directory"
    created = [a for a in audits if a["activityDisplayName"] == "Add user"
               and a["targetResources"][0]["userPrincipalName"] == f"CompromisedAdmin@{domain}"]
    assert len(created) == 1 and created[0]["activityDateTime"] < "2022-12-08"
    role = [a for a in audits if a["activityDisplayName"] == "Add member to role"]
    assert len(role) == 1
    props = {p["displayName"]: p for p in role[0]["targetResources"][0]["modifiedProperties"]}
    assert json.loads(props["Role.DisplayName"]["newValue"]) == "Global Administrator"
    assert {t["type"] for t in role[0]["targetResources"]} == {"User", "Role"}
    registered = [a for a in audits if a["activityDisplayName"] == "User registered security info"]
    assert [a["initiatedBy"]["user"]["userPrincipalName"] for a in registered] == [
        f"CompromisedAdmin@{domain}"]


def test_the_phone_change_has_json_in_string_old_and_new_values(samples):
    audit = find_audit(graph_audits(samples), "Update user", "TargetUser@example.com",
                       "2023-01-31T21:13:40")
    props = {p["displayName"]: p for p in audit["targetResources"][0]["modifiedProperties"]}
    details = props["StrongAuthenticationUserDetails"]
    assert isinstance(details["oldValue"], str) and isinstance(details["newValue"], str)
    assert json.loads(details["oldValue"])[0]["PhoneNumber"] == "+1 6175550143"
    assert json.loads(details["newValue"])[0]["PhoneNumber"] == "+1 2025550186"
    assert json.loads(props["MobilePhone"]["oldValue"]) == ["+1 617 555 0143"]
    assert json.loads(props["MobilePhone"]["newValue"]) == ["+1 202 555 0186"]
    assert json.loads(props["Included Updated Properties"]["newValue"]) == (
        "StrongAuthenticationUserDetails, MobilePhone")
    assert audit["initiatedBy"]["user"] == {
        "id": audit["initiatedBy"]["user"]["id"], "displayName": None,
        "userPrincipalName": "admin@example.onmicrosoft.com", "ipAddress": "185.241.149.122",
        "userType": None, "homeTenantId": None, "homeTenantName": None}


def test_every_csv_parses_and_every_json_line_parses(samples):
    for name in (*DOWNLOADS, LA_CSV):
        raw = (samples / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n"), name
        header, *rows = csv_rows(samples / name)
        assert rows and all(len(row) == len(header) for row in rows), name
    header = csv_rows(samples / DOWNLOADS[0])[0]
    assert len(header) == 55 and header[0] == "Date (UTC)"
    assert {"Application ID ", "Autonomous system  number", "Session ID", "Conditional Access",
            "Original transfer method", "Unique token identifier"} <= set(header)
    assert header.count("Incoming token type") == 2
    for name, category in PT1H.items():
        lines = (samples / name).read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines]
        assert records and {r["category"] for r in records} == {category}, name
        assert all(r["time"].endswith("Z") and len(r["time"]) == 28 for r in records)
        assert [r["time"] for r in records] == sorted(r["time"] for r in records)
    for line in (samples / GRAPH_AUDITS).read_text(encoding="utf-8").splitlines():
        json.loads(line)
    la = la_sign_ins(samples)
    assert {r["Type"] for r in la} == {"SigninLogs"} and {r["IsInteractive"] for r in la} == {"true"}
    for row in la:
        for column in ("DeviceDetail", "LocationDetails", "Status", "ConditionalAccessPolicies",
                       "AuthenticationDetails"):
            json.loads(row[column])
        assert row["TenantId"] != row["AADTenantId"]


def test_case_b_log_analytics_export_overlaps_the_storage_records(samples):
    stored = {r["properties"]["id"] for r in azure_sign_ins(samples) if r["category"] == "SignInLogs"}
    la = la_sign_ins(samples)
    ids = {r["Id"] for r in la}
    assert len(ids) == len(la)
    assert 20 <= len(ids & stored) < len(ids)
    only_here = [r for r in la if r["Id"] not in stored]
    assert {(r["UserPrincipalName"], la_time(r["TimeGenerated [UTC]"])) for r in only_here} >= {
        ("financeuser@example.net", "2023-02-20T08:13:17")}
    for r in la:
        if r["Id"] in stored:
            record = next(x for x in azure_sign_ins(samples) if x["properties"]["id"] == r["Id"])
            assert record["time"][:19] == la_time(r["TimeGenerated [UTC]"])
            assert record["properties"]["sessionId"] == r["SessionId"]


@pytest.mark.parametrize("case", ["a", "b"])
def test_benign_noise_is_a_few_hundred_varied_sign_ins(samples, case):
    if case == "a":
        rows = [(r["Username"], r["IP address"], r["Sign-in error code"], r["Client app"],
                 r["User agent"], r["interactive"], r["Location"].rsplit(", ", 1)[-1])
                for r in download_sign_ins(samples)]
    else:
        rows = [(p["userPrincipalName"], p["ipAddress"], str(p["status"]["errorCode"]),
                 p["clientAppUsed"], p["userAgent"], p["isInteractive"],
                 p["location"]["countryOrRegion"])
                for p in (r["properties"] for r in azure_sign_ins(samples))]
    assert 200 <= len(rows) <= 1000
    benign = [r for r in rows if r[1] not in ATTACKER_IPS and not r[0].startswith(
        ("compromisedadmin", "admin@"))]
    assert not any("Firefox" in r[4] for r in benign)
    codes = {r[2] for r in benign}
    assert {"50126", "50140"} <= codes and ("50074" in codes if case == "a" else True)
    assert {"Browser", "Mobile Apps and Desktop clients", "Exchange ActiveSync"} <= {r[3] for r in benign}
    assert any("Outlook-iOS" in r[4] or "Outlook-Android" in r[4] for r in benign)
    assert sum(1 for r in benign if not r[5]) >= 50
    home = "US" if case == "a" else "GB"
    assert {r[6] for r in benign} - {home}, "a trip abroad"
