"""Provides the generated sample_logs README, whose ids and counts always match the files."""

from __future__ import annotations

from collections.abc import Iterable

from .attacker import ATTACKER_IPS
from .benign import benign_script
from .records import iso
from .story import planted_steps
from .tenants import GRAPH_WINDOW, build_tenant
from .writers import FORMATS


def _cell(text: object) -> str:
    """Markdown table cell text: pipes escaped, control characters shown as escapes."""
    out = str(text).replace("|", "\\|")
    return "".join(f"\\u{ord(ch):04x}" if ord(ch) < 32 else ch for ch in out)


def _table(header: list[str], rows: Iterable[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _span(records: list[dict]) -> str:
    times = [r["CreationTime"] for r in records]
    return f"{min(times)} .. {max(times)}"


def render_readme(seed: int, rows: dict[str, int], cases: dict[str, list[dict]],
                  mgmt: list[dict], graph: list[dict], problems: list[tuple[int, str]]) -> str:
    """The sample_logs README, generated so that every id in it matches the files."""
    tenants = {key: build_tenant(key, seed) for key in ("a", "b")}
    mgmt_ids = {r["Id"] for r in mgmt}
    graph_ids = {r["Id"] for r in graph}
    overlap = len(graph_ids & mgmt_ids)
    lines = [
        "# Sample logs",
        "",
        "Synthetic Microsoft 365 unified audit logs of the reference case: one actor attacking two",
        "tenants the way the Sophos X-Ops article \"Investigator, API Yourself\" describes, inside",
        "benign background activity. Written by `python sample_logs/generate.py` (seed "
        f"{seed}); do not edit by hand: change the generator and run it again. This README is "
        "generated too.",
        "",
        "## Files",
        "",
    ]
    lines += _table(["file", "format", "tenant", "records", "time range (UTC)", "notes"], [
        ["case-a/purview_audit_export.csv", "Purview audit search CSV export", "A (example.com)",
         rows["case-a/purview_audit_export.csv"], _span(cases["a"]),
         "UTF-8 with BOM, CRLF, RFC 4180, AuditData JSON in one quoted field, newest first"],
        ["case-b/management_api.jsonl", "Management Activity API, JSON Lines", "B (example.net)",
         rows["case-b/management_api.jsonl"], _span(mgmt),
         "one AuditData object per line, LF, oldest first"],
        ["case-b/graph_audit_query.json", "Microsoft Graph audit log query result",
         "B (example.net)", rows["case-b/graph_audit_query.json"], _span(graph),
         f"Exchange admin records from {iso(GRAPH_WINDOW[0])[:10]}; {overlap} of them are also "
         f"in management_api.jsonl (same id), {len(graph_ids - mgmt_ids)} only here"],
        ["broken/broken_rows.csv", "Purview CSV with bad rows", "A", rows["broken/broken_rows.csv"],
         "2023-02-21", "see below"],
    ])
    lines += ["", "Case B's full story needs both of its files: the Graph query holds records the "
              "Management API export lacks, and repeats others (deduplicate on the record id).",
              "", "## Tenants", ""]
    lines += _table(["case", "domain", "OrganizationId", "time zone of staff", "staff"], [
        [f"case-{k}", t.spec.domain, t.org_id, f"UTC{t.spec.utc_offset:+d}", len(t.spec.staff)]
        for k, t in tenants.items()])
    lines += [
        "",
        "Accounts that matter: `CompromisedAdmin@` (attacker-created Global Administrator),",
        "`TargetUser@` (victim mailbox and OneDrive), `admin@<tenant>.onmicrosoft.com` (the",
        "tenant's original admin account, compromised before the logs begin), `FinanceUser@`",
        "(case B: second compromised account), `NewHelpdesk@example.com` / `ServiceDesk2@example.net`",
        "(created by the attacker), `ITAdmin@` and `HelpdeskAdmin@` (the real admins),",
        "`reception@example.com` / `accounts@example.net` (shared mailboxes).",
        "",
        "The attacker's three shared addresses are " + ", ".join(f"`{ip}`" for ip in ATTACKER_IPS)
        + ". The attacker always uses Firefox 110 on Windows (no staff member does).",
        "",
        "## Planted attacker steps",
        "",
        "Every attacker record in the samples, and nothing else. Techniques follow the article;",
        "T1562.001 is not in the Office Suite matrix v18.1 (its parent T1562 is).",
        "",
    ]
    story_rows = []
    for key in ("a", "b"):
        for step in planted_steps(key, seed):
            r = step.record
            if key == "a":
                where = "purview_audit_export.csv"
            else:
                where = " + ".join(name for name, ids in (("management_api.jsonl", mgmt_ids),
                                                          ("graph_audit_query.json", graph_ids))
                                   if r["Id"] in ids)
            story_rows.append([f"case-{key}", r["CreationTime"].replace("T", " "), r["Id"],
                               r["UserId"], r["Operation"], step.what, step.technique, where])
    lines += _table(["case", "time (UTC)", "record id", "user", "operation", "what it shows",
                     "ATT&CK", "file"], story_rows)
    lines += ["", "## Benign look-alikes", "",
              "Routine records that resemble attack steps; a hunt that flags them needs a reason.",
              ""]
    lines += _table(["case", "time (UTC)", "record id", "user", "operation", "why it is benign"],
                    [[f"case-{k}", b.record["CreationTime"].replace("T", " "), b.record["Id"],
                      b.record["UserId"], b.record["Operation"], b.why]
                     for k, t in tenants.items() for b in benign_script(t)])
    lines += [
        "",
        "Also in the background: delegates reading the shared mailbox (LogonType 2), staff",
        "deleting their own newsletters (LogonType 0), system accounts (`NT AUTHORITY\\SYSTEM`,",
        "service principals) changing mailboxes and users, one failed sign-in now and then.",
        "",
        "## Broken rows (`broken/broken_rows.csv`)",
        "",
        "Line numbers count the header as line 1; every record is one line. Lines not listed are "
        "good records.",
        "",
    ]
    lines += _table(["line", "problem"], [[line, problem] for line, problem in problems])
    lines += [
        "",
        "## Quirks kept on purpose (as in real exports)",
        "",
        "- `ResultStatus` varies: `Success`, `Succeeded`, `Failed`, `True`; some `UserLoginFailed` "
        "say `Success`.",
        "- Client IP shapes: `1.2.3.4`, `1.2.3.4:53211`, `::ffff:1.2.3.4`, `[2601:…]:51234`, bare "
        "IPv6, empty, `<null>`.",
        "- User case differs by workload: `TargetUser@example.com` in Azure AD and Exchange,",
        "  `targetuser@example.com` in SharePoint. One joiner is created with `Add User.`.",
        "- Exchange mailbox `Update` records list ModifiedProperties as plain strings; directory",
        "  records as `{Name, NewValue, OldValue}` with JSON-in-string values.",
        "- Mailbox LogonType: 0 owner, 1 admin (the attacker, a Global Admin with FullAccess), 2",
        "  delegate (staff on the shared mailbox).",
        "- Graph `auditData` carries an `@odata.type` member the other shapes lack.",
        "- Exchange mailbox records have both `SessionId` (Exchange's) and",
        "  `AppAccessContext.AADSessionId` (the sign-in's `DeviceProperties` `SessionId`).",
        "",
        "## Benchmark files",
        "",
        "```",
        "python sample_logs/generate.py --events 1000000 --format purview-csv --out /tmp/big.csv",
        "```",
        "",
        "writes N background events plus case A's story (`--tenant b` for case B, `--seed N`) in",
        f"one of: {', '.join(FORMATS)}. Rows are streamed a day at a time.",
        "",
    ]
    return "\n".join(lines)
