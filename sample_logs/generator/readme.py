"""Provides the generated sample_logs README, whose ids and counts always match the files."""

from __future__ import annotations

from collections.abc import Iterable

from .attacker import ATTACKER_IPS
from .benign import benign_script
from .entra_shapes import EntraInfo
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
                  mgmt: list[dict], graph: list[dict], problems: list[tuple[int, str]],
                  entra: EntraInfo | None = None, messages: dict | None = None,
                  keys: dict | None = None) -> str:
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
        *([f.name, f.format, f.tenant, f.records, f.span, f.notes] for f in
          (entra.files if entra else ())),
        *_trace_files(rows, messages),
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
        "T1562.001 is not in the Office Suite matrix v18.1 (its parent T1562 is). `hunted`: yes when",
        "a bundled hunt flags the record with these techniques; no for exposure evidence that no",
        "hunt flags (searches, lures sent to partners: T1534), found through attribution instead.",
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
                               r["UserId"], r["Operation"], step.what, step.technique, where,
                               "yes" if step.hunted else "no"])
    lines += _table(["case", "time (UTC)", "record id", "user", "operation", "what it shows",
                     "ATT&CK", "file", "hunted"], story_rows)
    if keys is not None:
        from .exposure import render_exposure
        lines += [""] + render_exposure(keys)[:-1]
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
    ]
    if entra is not None:
        lines += render_entra(entra, cases)
    lines += [
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
        "Other shapes for the benchmarks, none with a planted attack:",
        "",
        "```",
        "python sample_logs/generate.py --mix benign --events 1000000 --out /tmp/benign/",
        "python sample_logs/generate.py --mix exchange --events 1000000 --format jsonl --out /tmp/exchange-1m.jsonl",
        "```",
        "",
        "- `--mix benign`: a month of an ordinary tenant (about 1,100 people per 1M records) as three JSON",
        "  Lines files: audit log, Graph sign-ins and directory audits.",
        "- `--mix exchange`: that tenant's mailboxes: mostly `MailItemsAccessed` (Bind records with several",
        "  folders of items, Sync records, a few throttled mailboxes), mail sent, moved, deleted and",
        "  updated, searches, mailbox logins, inbox rules, folder permissions, a few cmdlets.",
        "- `--mix sharepoint`: its SharePoint and OneDrive: file access in the browser, Office, phones and",
        "  the sync app, copies, moves, pages, lists, sharing and anonymous links, searches, a backup app.",
        "- `--mix directory`: its Entra ID directory changes: sync, licences, devices, groups, roles,",
        "  passwords, applications and service principals, consents, domain authentication.",
        "- `--mix signin`: its sign-ins: `UserLoggedIn` and `UserLoginFailed` (interrupts and failures).",
        "",
        "The workload mixes write exactly N records in any of the formats above; the exchange and",
        "sharepoint mixes carry 60 to 80 distinct top-level fields.",
        "",
    ]
    return "\n".join(lines)


def _trace_files(rows: dict[str, int], messages: dict | None) -> list[list[object]]:
    """The Files table rows of the message trace exports and the answer key."""
    if messages is None:
        return []
    from .exposure import TRACE_FILES

    def span(key: str) -> str:
        times = [m.received for m in messages[key]]
        return f"{min(times).isoformat()} .. {max(times).isoformat()}"

    return [
        [TRACE_FILES["a"], "Get-MessageTraceV2 | Export-Csv -NoTypeInformation", "A (example.com)",
         rows[TRACE_FILES["a"]], span("a"),
         f"{len(messages['a'])} messages, one row per recipient; UTF-8 with BOM, CRLF, every field "
         "quoted, newest first; `Received` as `M/d/yyyy h:mm:ss tt` (UTC); StartDate/EndDate are "
         "the 10-day window of each query"],
        [TRACE_FILES["b"], "Exchange admin center message trace, enhanced summary report",
         "B (example.net)", rows[TRACE_FILES["b"]], span("b"),
         "one row per message, recipients in `recipient_status` (`addr##Receive, Deliver`, "
         "`##Receive, Send`, `##Receive, Fail`); UTF-16 LE with BOM, CRLF, every field quoted, "
         "oldest first; `directionality` Originating / Incoming"],
        [".answers/planted_exposure.json", "answer key (JSON; in a hidden folder, so loading the folder skips it)", "A and B", rows[".answers/planted_exposure.json"],
         "2023-02-20 .. 2023-02-22", "what the attacker read, synced, searched, sent and deleted "
         "per case and mailbox, with record and message ids: see Planted exposure"],
    ]


def render_entra(entra: EntraInfo, cases: dict[str, list[dict]]) -> list[str]:
    """The README section on the Entra ID samples."""
    from .entra import display_name

    a, b = entra.cases["a"], entra.cases["b"]
    logged = {k: sum(1 for r in cases[k] if r["Operation"] in ("UserLoggedIn", "UserLoginFailed"))
              for k in cases}
    lines = [
        "## Entra ID sign-ins and directory audits",
        "",
        "Both tenants also have Entra ID logs over the same period, in the shapes listed under Files:",
        "case A as the Entra admin center's sign-in downloads (interactive and non-interactive) and",
        "Microsoft Graph directoryAudits pages; case B as Azure Monitor diagnostic records from a",
        "storage account (one file per category) and a Log Analytics export of `SigninLogs`.",
        "",
        "Every attacker `UserLoggedIn` / `UserLoginFailed` above has its sign-in at the same second,",
        "from the same address, in the same session: the sign-in's `Session ID` / `sessionId` /",
        "`SessionId` is the unified audit log's `DeviceProperties` `SessionId` and the",
        "`AppAccessContext.AADSessionId` of the mailbox and SharePoint records that follow (failed",
        "attempts carry the session of the success they lead to). So do a share of the staff's",
        f"logged sign-ins (case A: {_mirrored(a, cases['a'])} of {logged['a']}, case B: "
        f"{_mirrored(b, cases['b'])} of {logged['b']}). Entra shows more than the unified audit",
        "log: the interrupts of each sign-in flow (50074 MFA required, 50079 MFA registration",
        "required, 50140 keep me signed in), single sign-on to the Azure portal and Exchange Online",
        "PowerShell before the attacker's admin work, background token refreshes, a replayed session,",
        "and directory changes only Entra logs (MFA registration, password resets, app consent).",
        "Sign-in logs write the UPN in lower case; directory audits keep its case.",
        "",
        "Conditional Access (all sign-ins list every policy with its result):",
        "",
    ]
    lines += _table(["case", "policy", "grant", "applies to", "state"], [
        [f"case-{c.key}", p.name, p.grant, {"admins": "CompromisedAdmin, ITAdmin, HelpdeskAdmin",
                                           "outside-office": "everyone outside the office address",
                                           "all-users": "everyone", "legacy":
                                           "Exchange ActiveSync and other legacy clients"}[p.scope]
         + " (not the original admin@ account: break-glass exclusion)",
         "on" if p.enabled else "off (notEnabled)"]
        for c in (a, b) for p in _policies(c)])
    lines += ["", "Risk fields say `hidden` (no Entra ID P2). The attacker passes MFA by text message "
              "to +1 202 555 0186 (masked `+X XXXXXXXX86`), the number put on TargetUser in case A.",
              "", "### Planted Entra records", "",
              "Every Entra record of the attacker (and of the replayed session), and nothing else.", ""]
    rows = []
    for c in (a, b):
        for s in c.sign_ins:
            if s.what:
                rows.append([f"case-{c.key}", str(s.when).replace("T", " "), s.id,
                             s.user_principal_name, s.ip, s.code,
                             "sign-in" if s.interactive else "non-interactive sign-in", s.what,
                             entra.where.get(s.id, "")])
        for x in c.audits:
            if x.what:
                user = x.record["initiatedBy"]["user"]
                rows.append([f"case-{c.key}", str(x.when), x.record["id"],
                             user["userPrincipalName"], user["ipAddress"], x.record["result"],
                             x.record["activityDisplayName"], x.what,
                             entra.where.get(x.record["id"], "")])
    rows.sort(key=lambda row: (row[0], row[1], row[2]))
    lines += _table(["case", "time (UTC)", "id", "user", "IP", "status", "record", "what it shows",
                     "file"], rows)
    lines += ["", "### The replayed session", ""]
    for c in (a, b):
        replays = [s for s in c.non_interactive if s.key.startswith("replay-")]
        genuine = [s for s in c.interactive if s.session == c.replay_session and s.code == 0]
        first = genuine[0]
        lines.append(
            f"- case-{c.key}: {display_name(first.person)}'s interactive sign-in of "
            f"{first.when} from {first.ip} (AS{first.net.asn}, {first.net.city}; request "
            f"`{first.id}`, also a `UserLoggedIn` in the unified audit log) opened session "
            f"`{c.replay_session}`. {len(replays)} non-interactive sign-ins in that session come from "
            f"{replays[0].ip} (AS{replays[0].net.asn}, {replays[0].net.city}) between "
            f"{replays[0].when} and {replays[-1].when}, with the attacker's Firefox user agent: the "
            "stolen session replayed. Like every token refresh they present a refresh token ("
            + ("`Incoming token type` Refresh Token in the non-interactive download" if c.key == "a"
               else "`properties.incomingTokenType` refreshToken")
            + ", `originalTransferMethod` none); what gives them away is the session reused from "
            "another address, ASN and browser. The unified audit log sample has none of them.")
    lines += [
        "",
        "### Overlap between shapes",
        "",
        f"- case-b: `loganalytics_signinlogs.csv` is a `SigninLogs` query over {_day(b, 'la')}; "
        f"{entra.la_overlap} of its rows are records of `PT1H_signinlogs.json` again (same `Id`: "
        "deduplicate on it), and "
        f"{entra.la_only} are only there: the storage account lacks the blob of the hour "
        "2023-02-20 08:00 (FinanceUser's attacker sign-ins among them).",
        "- A session spans shapes and files: the interactive sign-in that opened it, the non-interactive "
        "refreshes in it (the other download / category file) and the unified audit log records that "
        "name it.",
        "- Sign-in ids (`Request ID`, `id`, `Id`) are unique across files except for the overlap above; "
        "directory audit ids look like `Directory_<correlationId>_<5 letters>_<number>`.",
        "",
        "### Benign Entra activity",
        "",
        "- Staff MFA: in case A a home, mobile or travel sign-in needs MFA (50074 and a Microsoft "
        "Authenticator notification, or the MFA claim of the session), the office is a trusted named "
        "location; in case B only admin roles need MFA. Keep-me-signed-in prompts (50140) before some "
        "browser sign-ins, failed passwords (50126) from the unified audit log.",
        "- Background token refreshes of Office clients (Microsoft Office, Outlook Mobile, Teams, "
        "One Outlook Web) in the sessions of the sampled sign-ins.",
        f"- A trip: {_trip(a)}; {_trip(b)}.",
        f"- Legacy mail: {_legacy(a)}; {_legacy(b)}.",
        "- Directory audits of the unified audit log's background and scripted admin work (licences by "
        "Microsoft service principals, department and group changes, the joiner and the job title "
        "change), plus only-in-Entra changes: an admin password reset, a self-service password reset, "
        "an admin consent to an application, a group membership.",
        "",
        "### Format notes",
        "",
        "- The admin center download's columns are not documented by Microsoft; the 55 headers follow "
        "public scripts that parse real downloads, and value words (`Interrupted`, `Not Applied`, "
        "`OAuth 2.0`, `Refresh Token`, lower-case `false`) are inferred.",
        "- A real storage account writes one `PT1H.json` blob per category and hour "
        "(`insights-logs-<category>/.../y=/m=/d=/h=/m=00/PT1H.json`); each file here joins the blobs "
        "of one category. `AuditLogs` records carry no `resultType` (as in Microsoft's example); "
        "sign-in records carry it as a string.",
        "- `SessionId` as a `SigninLogs` column is newer than the table reference of early 2024; the "
        "export keeps the documented columns in the table's order and adds `SessionId` before `Type`.",
        "- Entra keeps sign-ins and audits for 30 days (7 without a P1 licence): real downloads and "
        "Graph queries made in late February 2023 would not reach December 2022. The samples cover the "
        "whole period so that the account creations are in them.",
        "",
    ]
    return lines


def _policies(case) -> list:
    seen: dict[str, object] = {}
    for s in case.sign_ins:
        for p, _ in s.ca:
            seen.setdefault(p.name, p)
    return list(seen.values())


def _mirrored(case, records: list[dict]) -> int:
    """How many logged staff sign-ins have their Entra sign-in (same user, second, address)."""
    keys = {(s.person.upn, s.when.isoformat(), s.ip) for s in case.interactive if s.code in (0, 50126)}
    return sum(1 for r in records if r["Operation"] in ("UserLoggedIn", "UserLoginFailed")
               and not r["UserId"].lower().startswith(("compromisedadmin", "admin@"))
               and r["ClientIP"] not in ATTACKER_IPS
               and (r["UserId"], r["CreationTime"], r["ClientIP"]) in keys)


def _day(case, which: str) -> str:
    from .entra_shapes import LA_WINDOW
    return f"{LA_WINDOW[0]:%Y-%m-%d} .. {LA_WINDOW[1]:%Y-%m-%d}"


def _trip(case) -> str:
    from .entra import TRIPS
    from .entra_net import TRIP_NETS
    role, start, days, _ = TRIPS[case.key]
    ip, net = TRIP_NETS[case.key]
    return (f"case-{case.key} {role} in {net.city} ({net.country}) from {start} for {days} days, "
            f"{ip} AS{net.asn}")


def _legacy(case) -> str:
    from .entra import LEGACY
    role, days = LEGACY[case.key]
    rows = [s for s in case.interactive if s.client.client_app == "Exchange ActiveSync"]
    outcome = "blocked by Conditional Access (53003)" if rows and rows[0].code else "allowed, single-factor"
    return (f"case-{case.key} {role}'s phone mail app on Exchange ActiveSync, {len(rows)} sign-ins "
            f"on {', '.join(str(d) for d in days)}, {outcome}")
