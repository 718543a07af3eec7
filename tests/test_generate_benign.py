"""Tests of the generator's benign mix (`--mix benign`), the hunt benchmark's noise tenant: exact audit record
count, about as many sign-ins, the same bytes on every run, files the loader takes without a reject, each person
on a few stable addresses of ISPs (travel aside), no planted attacker, and the routine the hunts must stay quiet on
(MFA interrupts, mistyped passwords, anonymous links, users' own inbox rules, admin work, platform activity)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.conftest import load_generator
from workbench.core.case import Case

EVENTS = 6000


@pytest.fixture(scope="module")
def benign(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("benign")
    assert load_generator().main(["--mix", "benign", "--events", str(EVENTS), "--out", str(out)]) == 0
    return out


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_counts_and_same_bytes_every_run(benign, tmp_path):
    audit, sign_ins = lines(benign / "audit.jsonl"), lines(benign / "sign_ins.jsonl")
    assert len(audit) == EVENTS
    assert abs(len(sign_ins) - EVENTS) < EVENTS * 0.05
    assert [r["CreationTime"] for r in audit] == sorted(r["CreationTime"] for r in audit)
    load_generator().main(["--mix", "benign", "--events", str(EVENTS), "--out", str(tmp_path)])
    for name in ("audit.jsonl", "sign_ins.jsonl", "directory_audits.jsonl"):
        assert (tmp_path / name).read_bytes() == (benign / name).read_bytes()


def test_loads_without_rejects(benign, tmp_path):
    case = Case.named("benign", tmp_path)
    report, _ = case.open([benign / "audit.jsonl", benign / "sign_ins.jsonl", benign / "directory_audits.jsonl"])
    assert report.totals()["rejected"] == 0 and report.totals()["warnings"] == 0
    assert case.events().height == EVENTS
    assert case.frame("directory_audits").height > 0
    kinds = Counter(case.frame("sign_ins")["status_kind"])
    assert kinds["success"] > kinds["interrupt"] > kinds["failure"] > 0  # interrupts are not failures


def test_people_stay_on_few_addresses_of_isps(benign):
    by_user: dict[str, set[str]] = defaultdict(set)
    asns = set()
    for s in lines(benign / "sign_ins.jsonl"):
        by_user[s["userPrincipalName"]].add(s["ipAddress"])
        asns.add(s["autonomousSystemNumber"])
    assert max(len(ips) for ips in by_user.values()) <= 7  # office, homes, mobiles, a hotel and a phone abroad
    assert asns <= {7922, 701, 7018, 21928, 22394, 20712, 206067, 3215, 51207, 812, 8151, 28403}
    assert not {"104.161.20.102", "20.232.202.245", "185.241.149.122"} & set().union(*by_user.values())


def test_routine_that_looks_like_attacks(benign):
    audit = lines(benign / "audit.jsonl")
    operations = Counter(r["Operation"] for r in audit)
    for operation in ("UserLoginFailed", "AnonymousLinkCreated", "MailItemsAccessed", "Add-MailboxPermission",
                      "Update user.", "Set-Mailbox"):
        assert operations[operation] > 0, operation
    rules = [r for r in audit if r["Operation"] == "New-InboxRule"]
    assert all(r["UserId"] == r["ObjectId"].split("\\")[0] for r in rules)  # made by the mailbox's owner
    system = [r for r in audit if r["UserType"] in (3, 4)]
    assert system and all(r["UserId"].startswith(("NT AUTHORITY", "ServicePrincipal_")) for r in system)
    codes = Counter(s["status"]["errorCode"] for s in lines(benign / "sign_ins.jsonl"))
    assert codes[50074] > codes[50126] > 0 and codes[0] > 0.9 * sum(codes.values())
