"""A sweep's output folder written by hand (the contract `workbench sweep -o OUT` writes): three tenants, one of
them sample case A's, with hunt, Sigma and indicator hits; attacker text in `why`, user and operation."""

import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

CASE_A_TENANT = "2ab04f98-6e9a-4dc2-8cab-317b054bad8d"  # sample case A's OrganizationId
FABRIKAM = "7f1c9e02-5b3d-4a8e-9c61-0d2e4f6a8b10"
QUIET = "c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b"  # swept, no hits
FULL_ACCESS = "1043ada7-a61b-46ec-8ae6-57b02ae09460"  # case A: the attacker's FullAccess grant
SPOOF_ALLOW = "9e35b53d-46f2-4dbd-b2b3-b3bd03434b9a"  # case A: New-TenantAllowBlockListSpoofItems
MARKUP_WHY = "[bold red]Operation[/] \x1b[31mSet-InboxRule[0m [link=https://evil.example]x[/link]"

PAIR = pl.Struct({"tactic_id": pl.String, "technique_id": pl.String})
SCHEMA = {
    "hunt_id": pl.String, "title": pl.String, "severity": pl.String, "source": pl.String, "tactic_id": pl.String,
    "tactic": pl.String, "technique_id": pl.String, "technique": pl.String, "techniques": pl.List(PAIR),
    "record_id": pl.String, "creation_time": pl.Datetime("us", "UTC"), "user_id": pl.String,
    "operation": pl.String, "client_ip": pl.String, "case": pl.String, "why": pl.String, "tenant": pl.String,
    "kind": pl.String,
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def _hit(tenant, kind, hunt_id, title, severity, pairs, record_id, when, user, operation, ip, why, case=None,
         source="events", tactic="", technique=""):
    first = pairs[0] if pairs else ("", "")
    return {"hunt_id": hunt_id, "title": title, "severity": severity, "source": source, "tactic_id": first[0],
            "tactic": tactic, "technique_id": first[1], "technique": technique,
            "techniques": [{"tactic_id": t, "technique_id": k} for t, k in pairs], "record_id": record_id,
            "creation_time": _at(when), "user_id": user, "operation": operation, "client_ip": ip, "case": case,
            "why": why, "tenant": tenant, "kind": kind}


HITS = [
    _hit(CASE_A_TENANT, "hunt", "persistence_exchange_delegate_full_access", "Mailbox FullAccess granted to another "
         "user", "high", [("TA0003", "T1098.002")], FULL_ACCESS, "2023-02-21T08:14:05", "TargetUser@example.com",
         "Add-MailboxPermission", "104.161.20.23", "AccessRights=FullAccess on TargetUser by the attacker",
         case="case-a", tactic="Persistence", technique="Additional Email Delegate Permissions"),
    _hit(CASE_A_TENANT, "hunt", "defense_evasion_exchange_spoof_allow", "Spoofed sender allowed in the tenant "
         "allow/block list", "critical", [("TA0005", "T1562.001")], SPOOF_ALLOW, "2023-02-21T09:02:44",
         "admin@example.com", "New-TenantAllowBlockListSpoofItems", "104.161.20.23", "SpoofedUser=*@example.net "
         "Action=Allow", case="case-a", tactic="Defense Evasion", technique="Disable or Modify Tools"),
    _hit(CASE_A_TENANT, "hunt", "collection_exchange_forward_rule", "Inbox rule forwards or hides mail", "medium",
         [("TA0009", "T1114.003"), ("TA0005", "T1564.008")], "5b0f1c22-0000-4000-8000-00000000a001",
         "2023-02-21T08:30:00", "TargetUser@example.com", "New-InboxRule", "104.161.20.23",
         "ForwardTo=drop@evil.example MarkAsRead=True", case="case-a", tactic="Collection",
         technique="Email Forwarding Rule"),
    _hit(CASE_A_TENANT, "ioc", "ioc:ip:104.161.20.23", "104.161.20.23", "high", [], FULL_ACCESS,
         "2023-02-21T08:14:05", "TargetUser@example.com", "Add-MailboxPermission", "104.161.20.23",
         "client_ip = 104.161.20.23", case="case-a"),
    _hit(FABRIKAM, "sigma", "sigma:5e2a1d4c", "Sign-in from an anonymising proxy", "low", [("TA0001", "T1078.004")],
         "f00d0001-0000-4000-8000-0000000000b1", "2024-05-02T17:45:12", "[red]ceo[/red]@fabrikam.example",
         "UserLoggedIn", "185.220.101.7", "ClientIP in tor exit list", source="sign_ins", tactic="Initial Access",
         technique="Cloud Accounts"),
    _hit(FABRIKAM, "hunt", "defense_evasion_exchange_hide_rule", "Inbox rule moves mail to an obscure folder",
         "medium", [("TA0005", "T1564.008")], "f00d0002-0000-4000-8000-0000000000b2", "2024-05-02T18:01:09",
         "[red]ceo[/red]@fabrikam.example", "Set-InboxRule [b]x[/b]", "185.220.101.7", MARKUP_WHY,
         tactic="Defense Evasion", technique="Email Hiding Rules"),
]


def summary(hits: pl.DataFrame, cases: dict[str, str | None]) -> dict:
    """The summary.json `workbench sweep` would write for these hits (every tenant of `cases`, hits or none)."""
    tenants = []
    for tenant, case in cases.items():
        own = hits.filter(pl.col("tenant") == tenant)
        records = own.select(pl.struct("source", "record_id").n_unique()).item() if own.height else 0
        tenants.append({
            "tenant": tenant, "hits": records,
            "by_severity": dict(own.group_by("severity").len().iter_rows()),
            "by_tactic": dict(own.filter(pl.col("tactic") != "").group_by("tactic").len().iter_rows()),
            "first_hit": own["creation_time"].min().isoformat() if own.height else None,
            "last_hit": own["creation_time"].max().isoformat() if own.height else None,
            "case": case,
        })
    return {"store": "/srv/tenant-store", "engine": "duckdb", "started": "2026-12-05T22:10:00Z",
            "finished": "2026-12-05T22:11:30Z", "tenants": tenants}


def write_sweep(out: Path, rows: list[dict] = HITS, cases: dict[str, str | None] | None = None) -> Path:
    """Write hits.parquet and summary.json of `rows` under `out` (tenants: case A's with its case, Fabrikam, and a
    quiet one)."""
    out.mkdir(parents=True, exist_ok=True)
    hits = pl.DataFrame(rows, schema=SCHEMA)
    hits.write_parquet(out / "hits.parquet")
    cases = cases if cases is not None else {CASE_A_TENANT: "case-a", FABRIKAM: None, QUIET: None}
    (out / "summary.json").write_text(json.dumps(summary(hits, cases), indent=2), encoding="utf-8")
    return out
