"""Benchmark: a case of 1M audit records (30 % `MailItemsAccessed`) and a 1M-row message trace: its cold load
beside a bare Polars read of the same two files, and the exposure of every mailbox from the loaded case.

Issue 17's target: "1M events of which 30% are `MailItemsAccessed` with several folders and items each, plus a
1M-row message trace: load and the exposure computation beside a bare Polars read of the same file in the same
run; targets: load <= 3x, exposure for all mailboxes < 2 s."

Data (generated here by a seeded plain-Python generator, records shaped as Microsoft documents them; written once
into `--work DIR` and reused), two mixes so that no figure is tuned to one generator, each with its own trace shape:
- `bind-heavy`: 30 % `MailItemsAccessed` Bind records, each naming 2-4 folders and 5-40 items in all
  (`Folders[].FolderItems[]` with InternetMessageId and SizeInBytes), a few throttled; the rest Exchange `Send` and
  `SendAs` (the `Item`), `MoveToDeletedItems`/`SoftDelete`/`HardDelete` (`AffectedItems`),
  `SearchQueryInitiatedExchange` and Entra ID `UserLoggedIn`/`UserLoginFailed`. Trace: `Get-MessageTraceV2 |
  Export-Csv` (PowerShell 7: UTF-8 without BOM, every field quoted, CRLF), 1M rows.
- `mixed`: 30 % `MailItemsAccessed`, 60 % of them Sync (folders without items) and the Binds 1-2 folders with 1-8
  items; a third SharePoint/OneDrive `FileAccessed`/`FileDownloaded`; `Send` with long subjects (200-900
  characters, non-ASCII), searches in Exchange and SharePoint, deletes, sign-ins. Trace: the Exchange admin
  center's enhanced summary report (UTF-16 LE with BOM, `origin_timestamp_utc, sender_address, recipient_status,
  ...`, every recipient of a message in one row as `address##Receive, Deliver;...`), 1M (message, recipient) rows.
The attacker (about 1 % of the records, from 4 IPs in 12 compromised mailboxes' own sessions) reads finance mail,
searches "invoice", "wire", "bank", sends to partners outside the tenant and deletes; the owners' own activity is
the rest. The message ids of the Bind items (90 % of them; the rest are older mail), the deleted items and the
sends are in the trace, so the exposure's joins do real work.

For each mix three steps, each in a process of its own (its peak RSS, `ru_maxrss`, is the step's own), the fastest
of `--repeat` runs (on a shared machine other work only ever slows a run):
- `bare`: Polars alone (the product not imported): `pl.read_ndjson` of the events with a declared String schema of
  the core fields (as bench_load.py), plus `pl.read_csv` of the trace with every column as String
  (`infer_schema=False`). Polars' CSV reader parses UTF-8 only; for the UTF-16 report `read_csv(encoding="utf16")`
  is what Polars allows: it reads the file into memory and decodes it with Python's codec before parsing.
- `floor`: the least any load of both files must do, with Polars alone: the fields the events frame is built from
  read (the mail records' folders and items left undecoded) and the trace read as `bare` reads it, each file's
  SHA-256 (the chain of custody) taken on a second thread (bench_load.py's floor);
- `load`: a cold load of both files into one new case, `Case.named(...).load([events, trace])`.
- `exposure`: the loaded case opened in a new process; `case.activity()` (timed apart: the TUI holds it already),
  then `case_exposure(case, attribution, activity)` with an `Attribution` of the attacker's 4 IPs and 3 of their
  sessions, timed as a whole and split into reading the mail items (`case_mail_items`: those of the records the
  exposure needs, decoded from their text, mail_item_frame.py), reading the trace (`case_messages`) and the rest (attribution, window, joins).
Wall and CPU time (user + system, every thread) are of the step itself, after the imports.

    python bench/bench_exposure.py [--events 1000000] [--trace-rows 1000000] [--mix bind-heavy|mixed|both]
                                   [--work DIR] [--repeat 2] [--seed 17]
"""

import argparse
import csv
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench_load import CORE_FIELDS, case_disk, read_floor, while_hashing  # this script's folder is on the path when it runs

LOAD_TARGET, EXPOSURE_TARGET_S = 3.0, 2.0
MIXES = ("bind-heavy", "mixed")
TRACE_SHAPE = {"bind-heavy": "cmdlet", "mixed": "eac-summary"}
CMDLET_COLUMNS = ("Received", "SenderAddress", "RecipientAddress", "Subject", "Status", "ToIP", "FromIP", "Size",
                  "MessageId", "MessageTraceId")
EAC_COLUMNS = ("origin_timestamp_utc", "sender_address", "recipient_status", "message_subject", "total_bytes",
               "message_id", "network_message_id", "original_client_ip", "directionality", "connector_id",
               "delivery_priority")

# --- generating (plain Python, seeded) --------------------------------------------------------------------------

TENANT, DOMAIN = "7b2d4e1a-5c3f-4e8d-9a1b-2c3d4e5f6a7b", "contoso.example"
MAILBOXES = 2_000
START = datetime(2024, 3, 1, tzinfo=timezone.utc)
SPAN = timedelta(days=7)
PARTNERS = ("fabrikam.example", "northwind.example", "adatum.example", "tailspin.example", "woodgrove.example")
ATTACKER_IPS = ("185.220.101.47", "45.137.21.9", "2a0b:f4c2:2::17", "102.89.47.202")
COMPROMISED = tuple(range(40, 2_000, 163))  # 12 mailboxes
EXCHANGE_APPS = (("00000002-0000-0ff1-ce00-000000000000", "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                  "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36 Edg/121.0.2277.128;"),
                 ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Client=MSExchangeRPC"),
                 ("27922004-5251-4030-b22d-91ecd9a37ea4", "Client=REST;Client=RESTSystem;Outlook-iOS/2.0;"),
                 ("5d661950-3475-41cd-a2c3-d671a3162bc1", "Client=REST;Client=RESTSystem;Outlook-Android/2.0;"))
ATTACKER_AGENT = ("00000002-0000-0ff1-ce00-000000000000", "Client=OWA;Mozilla/5.0 (X11; Linux x86_64) "
                  "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36;")
FOLDERS = ("\\Inbox", "\\Archive", "\\Sent Items", "\\Inbox\\Finance", "\\Inbox\\Projects", "\\Deleted Items",
           "\\Inbox\\Customers", "\\Conversation History", "\\Drafts", "\\Inbox\\HR")
ATTACKER_FOLDERS = ("\\Inbox", "\\Inbox\\Finance", "\\Archive", "\\Sent Items")
SUBJECTS = ("Quarterly review", "Invoice 2024-{n} due", "Updated bank details for remittance", "Lunch on Friday?",
            "RE: Project Falcon timeline", "Your MFA code", "Wire transfer approval {n}", "FW: Contract draft v{n}",
            "Payroll changes for March", "Meeting notes", "Welcome aboard", "Shipping confirmation #{n}",
            "Déjà vu: résumé des dépenses", "Überweisung bestätigt {n}", "Re: 見積書の件")
SEARCHES = ("invoice", "bank details", "wire transfer", "payroll", "project falcon", "password", "W-2",
            "from:ceo@contoso.example", "IBAN", "urgent payment")
LONG = ("Follow-up on the outstanding remittance for the consolidated supplier agreements, including the revised "
        "payment schedule, the IBAN change requested by accounts receivable, the signed purchase orders for Q2 and "
        "the reconciliation of credit notes — merci de confirmer avant vendredi; 請求書の確認をお願いします ")
SITES = ("Finance", "HR", "Projects", "Legal", "Sales")


def _guid(rng: random.Random) -> str:
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:32]}"


def _upn(u: int) -> str:
    return f"user{u:04d}@{DOMAIN}"


def _owner_ip(u: int) -> str:
    return f"{20 + u % 180}.{(u * 7) % 250 + 1}.{(u * 13) % 250 + 1}.{u % 200 + 10}"


def _session(u: int, day: int) -> str:
    text = f"{(u * 1_000_003 + day * 7_919 + 17) * 2_654_435_761 % 2**128:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-b{text[17:20]}-{text[20:32]}"


def _attacker_session(u: int) -> str:
    return f"a77ac4e5-0000-4bad-9bad-{u:012d}"


def inbound_id(m: int) -> str:
    """The InternetMessageId of inbound message m (received by mailbox m % MAILBOXES)."""
    return f"<DM6PR11MB{m:08d}E{m % 97:02d}@DM6PR11MB{4000 + m % 997}.namprd11.prod.outlook.com>"


def sent_id(s: int) -> str:
    return f"<SN7PR04MB{s:08d}A{s % 89:02d}@SN7PR04MB{8000 + s % 991}.namprd04.prod.outlook.com>"


def _subject(rng: random.Random, long: bool) -> str:
    text = rng.choice(SUBJECTS).format(n=rng.randrange(100, 999))
    return (text + " — " + LONG[: rng.randrange(200, 900) - len(text)]) if long else text


class Mix:
    """What one mix draws: the share of each operation and the shape of its records."""

    def __init__(self, name: str):
        self.name = name
        if name == "bind-heavy":
            self.operations = [("MailItemsAccessed", 30), ("Send", 15), ("SendAs", 2), ("MoveToDeletedItems", 8),
                               ("SoftDelete", 5), ("HardDelete", 2), ("SearchQueryInitiatedExchange", 8),
                               ("UserLoggedIn", 25), ("UserLoginFailed", 5)]
            self.sync_share, self.folders, self.items, self.long_subjects = 0.0, (2, 4), (5, 40), False
        else:
            self.operations = [("MailItemsAccessed", 30), ("FileAccessed", 20), ("FileDownloaded", 13), ("Send", 10),
                               ("SearchQueryInitiatedExchange", 2), ("SearchQueryInitiatedSharePoint", 1),
                               ("MoveToDeletedItems", 3), ("SoftDelete", 2), ("UserLoggedIn", 17), ("UserLoginFailed", 2)]
            self.sync_share, self.folders, self.items, self.long_subjects = 0.6, (1, 2), (1, 8), True
        self.names = [name for name, _ in self.operations]
        self.weights = [weight for _, weight in self.operations]


class Generator:
    """Audit records (JSON Lines) and the message trace of one mix, consistent with each other."""

    def __init__(self, mix: Mix, events: int, trace_rows: int, seed: int):
        self.mix, self.events, self.trace_rows = mix, events, trace_rows
        self.rng = random.Random(f"{seed}-{mix.name}")
        # Inbound messages fill what the sends leave of the trace; Binds draw from the first `pool` of them.
        self.pool = max(MAILBOXES, int(trace_rows * 0.55))
        self.sends: list[tuple[int, int, str, str, bool, str]] = []  # (s, mailbox, time, subject, attacker, ip)

    def _base(self, i: int, operation: str, workload: str, record_type: int, u: int, when: datetime) -> dict:
        return {"CreationTime": when.strftime("%Y-%m-%dT%H:%M:%S"), "Id": _guid(self.rng), "Operation": operation,
                "OrganizationId": TENANT, "RecordType": record_type, "ResultStatus": "Succeeded",
                "UserKey": f"1003200{u:09d}", "UserType": 0, "Version": 1, "Workload": workload,
                "UserId": _upn(u) if u % 10 else _upn(u).capitalize()}

    def _mailbox(self, record: dict, u: int, ip: str, session: str, app: tuple[str, str]) -> dict:
        record.update({"ClientIP": ip, "ClientIPAddress": ip, "ClientInfoString": app[1], "AppId": app[0],
                       "ClientAppId": app[0], "ExternalAccess": False, "InternalLogonType": 0, "LogonType": 0,
                       "LogonUserSid": f"S-1-5-21-1234567890-123456789-1234567890-{1000 + u}",
                       "MailboxGuid": f"4b1c2d3e-0000-4000-8000-{u:012d}", "MailboxOwnerUPN": _upn(u),
                       "MailboxOwnerSid": f"S-1-5-21-1234567890-123456789-1234567890-{1000 + u}",
                       "OrganizationName": "contoso.onmicrosoft.com",
                       "OriginatingServer": f"DM6PR11MB{4000 + u % 997} (15.20.7316.039)", "SessionId": session,
                       "AppAccessContext": {"AADSessionId": session, "ClientAppId": app[0],
                                            "UniqueTokenId": f"{self.rng.getrandbits(64):016x}AA"}})
        return record

    def _inbound_item(self, u: int, attacker: bool) -> dict:
        rng = self.rng
        if rng.random() < 0.1 and not attacker:  # older mail, not in the trace's days
            return {"InternetMessageId": f"<OLD{rng.getrandbits(48):012X}@archive.{DOMAIN}>",
                    "SizeInBytes": rng.randrange(2_000, 200_000)}
        m = u + MAILBOXES * rng.randrange(self.pool // MAILBOXES)
        return {"InternetMessageId": inbound_id(m), "SizeInBytes": 5_000 + m % 90_000}

    def _mail_items_accessed(self, record: dict, u: int, attacker: bool) -> None:
        rng, mix = self.rng, self.mix
        sync = rng.random() < mix.sync_share
        throttled = rng.random() < 0.001
        record["OperationProperties"] = [{"Name": "MailAccessType", "Value": "Sync" if sync else "Bind"},
                                         {"Name": "IsThrottled", "Value": "True" if throttled else "False"}]
        folders = rng.sample(ATTACKER_FOLDERS if attacker else FOLDERS, rng.randint(*mix.folders))
        if sync:
            record["Folders"] = [{"Id": f"LgAAAAB{rng.getrandbits(96):024X}AQ", "Path": path} for path in folders[:1]]
            record["OperationCount"] = 1
            return
        total = max(len(folders), rng.randint(*mix.items))
        counts = [total // len(folders) + (k < total % len(folders)) for k in range(len(folders))]
        record["Folders"] = [{"FolderItems": [self._inbound_item(u, attacker) for _ in range(count)],
                              "Id": f"LgAAAAB{rng.getrandbits(96):024X}AQ", "Path": path}
                             for path, count in zip(folders, counts)]
        record["OperationCount"] = total

    def _send(self, record: dict, u: int, when: datetime, attacker: bool, ip: str) -> None:
        s = len(self.sends)
        subject = _subject(self.rng, self.mix.long_subjects)
        if attacker:
            subject = "Updated banking information for outstanding invoices"
        record["Item"] = {"Id": f"RgAAAAD{self.rng.getrandbits(128):032X}AAAJ", "InternetMessageId": sent_id(s),
                          "ParentFolder": {"Id": f"LgAAAAB{self.rng.getrandbits(96):024X}AQ", "Path": "\\Sent Items"},
                          "SizeInBytes": self.rng.randrange(3_000, 80_000), "Subject": subject}
        if record["Operation"] == "SendAs":
            record["SendAsUserSmtp"] = _upn((u + 1) % MAILBOXES)
            record["SendAsUserMailboxGuid"] = f"4b1c2d3e-0000-4000-8000-{(u + 1) % MAILBOXES:012d}"
        self.sends.append((s, u, when, subject, attacker, ip))

    def _delete(self, record: dict, u: int) -> None:
        rng = self.rng
        path = rng.choice(("\\Inbox", "\\Sent Items", "\\Inbox\\Finance"))
        folder = {"Id": f"LgAAAAB{rng.getrandbits(96):024X}AQ", "Path": path}
        items = []
        for _ in range(rng.randint(1, 3)):
            item = self._inbound_item(u, False)
            items.append({"Id": f"RgAAAAD{rng.getrandbits(128):032X}AAAJ", "ImmutableId": f"LgAAAAA{rng.getrandbits(96):024X}",
                          "InternetMessageId": item["InternetMessageId"], "ParentFolder": folder,
                          "Subject": _subject(rng, False)})
        record["AffectedItems"], record["Folder"] = items, folder
        if record["Operation"] == "MoveToDeletedItems":
            record["DestFolder"] = {"Id": f"LgAAAAB{rng.getrandbits(96):024X}AQ", "Path": "\\Deleted Items"}
        record["CrossMailboxOperation"] = False

    def _file(self, record: dict, u: int, ip: str, session: str, agent: str, attacker: bool) -> None:
        rng = self.rng
        site = "Finance" if attacker else rng.choice(SITES)
        personal = rng.random() < 0.4 and not attacker
        name = f"{rng.choice(('Budget', 'Invoice', 'Payroll', 'Contract', 'Roadmap'))}_{rng.randrange(1, 999):03d}" \
               f".{rng.choice(('xlsx', 'docx', 'pdf', 'pptx'))}"
        if personal:
            base = f"https://contoso-my.sharepoint.com/personal/user{u:04d}_contoso_example"
            folder, record["Workload"] = "Documents", "OneDrive"
        else:
            base, folder = f"https://contoso.sharepoint.com/sites/{site}", "Shared Documents/2024"
        record.update({"ClientIP": ip, "ObjectId": f"{base}/{folder}/{name}", "SiteUrl": f"{base}/",
                       "SourceFileName": name, "SourceRelativeUrl": folder, "SourceFileExtension": name.rsplit(".", 1)[1],
                       "ItemType": "File", "EventSource": "SharePoint", "UserAgent": agent,
                       "ListId": _guid(rng), "ListItemUniqueId": _guid(rng), "Site": _guid(rng), "WebId": _guid(rng),
                       "ApplicationId": "00000003-0000-0ff1-ce00-000000000000", "CorrelationId": _guid(rng),
                       "AppAccessContext": {"AADSessionId": session, "CorrelationId": _guid(rng),
                                            "UniqueTokenId": f"{rng.getrandbits(64):016x}AA"},
                       "GeoLocation": "EUR", "IsManagedDevice": not attacker, "DeviceDisplayName": ip})

    def _sign_in(self, record: dict, u: int, ip: str, session: str, agent: str, failed: bool) -> None:
        record.update({"ClientIP": ip, "ActorIpAddress": ip, "ObjectId": "00000002-0000-0ff1-ce00-000000000000",
                       "AzureActiveDirectoryEventType": 1, "ApplicationId": "00000002-0000-0ff1-ce00-000000000000",
                       "Actor": [{"ID": f"{u:08d}-0000-4000-8000-000000000000", "Type": 0}, {"ID": _upn(u), "Type": 5}],
                       "ActorContextId": TENANT, "InterSystemsId": _guid(self.rng), "IntraSystemId": _guid(self.rng),
                       "Target": [{"ID": "00000002-0000-0ff1-ce00-000000000000", "Type": 0}], "TargetContextId": TENANT,
                       "ExtendedProperties": [{"Name": "ResultStatusDetail", "Value": "Success" if not failed else "Redirect"},
                                              {"Name": "UserAgent", "Value": agent},
                                              {"Name": "RequestType", "Value": "OAuth2:Authorize"}],
                       "ModifiedProperties": [], "SupportTicketId": "",
                       "DeviceProperties": [{"Name": "OS", "Value": "Windows 10"}, {"Name": "BrowserType", "Value": "Edge"},
                                            {"Name": "SessionId", "Value": session}],
                       "ErrorNumber": "50126" if failed else "0"})
        if failed:
            record["LogonError"] = "InvalidUserNameOrPassword"
            record["ResultStatus"] = "Success"  # as seen in real exports: failure comes from the operation

    def record(self, i: int) -> dict:
        rng = self.rng
        when = START + SPAN * (i / self.events) + timedelta(milliseconds=rng.randrange(500))
        attacker = rng.random() < 0.01
        if attacker:
            u = rng.choice(COMPROMISED)
            ip, session = rng.choice(ATTACKER_IPS), _attacker_session(u)
            app = ATTACKER_AGENT
            choices = ["MailItemsAccessed"] * 6 + ["SearchQueryInitiatedExchange"] * 2 + ["Send", "HardDelete",
                                                                                           "MoveToDeletedItems"]
            if "FileDownloaded" in self.mix.names:
                choices += ["FileDownloaded"] * 2
            operation = rng.choice(choices)
        else:
            u = rng.randrange(MAILBOXES)
            ip, session = _owner_ip(u), _session(u, (when - START).days)
            app = EXCHANGE_APPS[u % len(EXCHANGE_APPS)]
            operation = rng.choices(self.mix.names, self.mix.weights)[0]
        agent = app[1].split(";")[1] if app[1].startswith("Client=OWA") else "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
        if operation in ("UserLoggedIn", "UserLoginFailed"):
            record = self._base(i, operation, "AzureActiveDirectory", 15, u, when)
            self._sign_in(record, u, ip, session, agent, operation == "UserLoginFailed")
        elif operation.startswith("File") or operation == "SearchQueryInitiatedSharePoint":
            record = self._base(i, operation, "SharePoint", 6 if operation.startswith("File") else 102, u, when)
            self._file(record, u, ip, session, agent, attacker)
            if operation == "SearchQueryInitiatedSharePoint":
                record["QueryText"] = rng.choice(SEARCHES)
        else:
            record_type = {"MailItemsAccessed": 50, "SearchQueryInitiatedExchange": 101}.get(operation, 2)
            record = self._mailbox(self._base(i, operation, "Exchange", record_type, u, when), u, ip, session, app)
            if operation == "MailItemsAccessed":
                self._mail_items_accessed(record, u, attacker)
            elif operation in ("Send", "SendAs"):
                self._send(record, u, when, attacker, ip)
            elif operation == "SearchQueryInitiatedExchange":
                record["QueryText"] = rng.choice(SEARCHES[:5] if attacker else SEARCHES)
                record["QuerySource"] = "Outlook for Web"
            else:
                self._delete(record, u)
        return record

    def write_events(self, out: Path) -> None:
        with open(out, "w", encoding="utf-8", newline="\n") as handle:
            lines = []
            for i in range(self.events):
                lines.append(json.dumps(self.record(i), ensure_ascii=False, separators=(",", ":")))
                if len(lines) == 10_000:
                    handle.write("\n".join(lines) + "\n")
                    lines = []
            if lines:
                handle.write("\n".join(lines) + "\n")

    def trace(self):
        """The trace as (received, sender, [(recipient, outside)], subject, size, message id, from IP, outbound),
        one a message: the sends first (1-3 recipients, the attacker's to partners), then inbound messages until
        `trace_rows` (message, recipient) rows."""
        rng, rows = self.rng, 0
        for s, u, when, subject, attacker, ip in self.sends:
            count = rng.randint(1, 3)
            recipients = {}
            for k in range(count):
                outside = attacker or rng.random() < 0.4
                address = (f"{rng.choice(('accounts', 'billing', 'ap', 'cfo'))}@{rng.choice(PARTNERS)}" if outside
                           else _upn(rng.randrange(MAILBOXES)))
                recipients[address] = outside
            recipients, count = list(recipients.items()), len(recipients)
            if rows + count > self.trace_rows:
                break
            rows += count
            yield (when + timedelta(seconds=2), _upn(u), recipients, subject, rng.randrange(3_000, 80_000), sent_id(s),
                   ip, True)
        m = 0
        while rows < self.trace_rows:
            when = START + SPAN * (m / max(self.pool, 1)) if m < self.pool else START + SPAN * rng.random()
            sender = (f"{rng.choice(('noreply', 'invoices', 'ceo', 'support', 'news'))}@{rng.choice(PARTNERS)}"
                      if m % 3 else _upn(rng.randrange(MAILBOXES)))
            yield (when, sender, [(_upn(m % MAILBOXES), False)], _subject(rng, False), 5_000 + m % 90_000, inbound_id(m),
                   f"40.107.{m % 250}.{m % 199 + 1}", False)
            rows += 1
            m += 1

    def write_trace(self, out: Path, shape: str) -> None:
        buffer = io.StringIO()
        if shape == "cmdlet":  # Get-MessageTraceV2 | Export-Csv (PowerShell 7): UTF-8, no BOM, all quoted, CRLF
            writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
            writer.writerow(CMDLET_COLUMNS)
            handle = open(out, "w", encoding="utf-8", newline="")
        else:  # the admin center's enhanced summary report: UTF-16 LE with BOM
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(EAC_COLUMNS)
            handle = open(out, "w", encoding="utf-16", newline="")
        rng = self.rng
        with handle:
            for n, (when, sender, recipients, subject, size, message_id, ip, outbound) in enumerate(self.trace()):
                status = "Delivered" if rng.random() < 0.97 else rng.choice(("Failed", "FilteredAsSpam", "Pending"))
                if shape == "cmdlet":
                    for recipient, outside in recipients:
                        writer.writerow((f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond:06d}0Z", sender, recipient, subject,
                                         status, "" if not outside else f"198.51.100.{n % 250 + 1}", ip, size,
                                         message_id if n % 2 else message_id.strip("<>"), _guid(rng)))
                else:
                    events = {"Delivered": "Receive, Deliver", "Failed": "Receive, Defer, Fail",
                              "FilteredAsSpam": "Receive, Quarantine", "Pending": "Receive, Defer"}[status]
                    listed = ";".join(f"{recipient}##{events.replace('Deliver', 'Send') if outside else events}"
                                      for recipient, outside in recipients)
                    writer.writerow((f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond:06d}0Z", sender, listed, subject, size,
                                     message_id, _guid(rng), ip, "2" if outbound else "1", "", "Normal"))
                if n % 10_000 == 0:
                    handle.write(buffer.getvalue())
                    buffer.seek(0)
                    buffer.truncate()
            handle.write(buffer.getvalue())


def generate(mix: str, events: int, trace_rows: int, seed: int, events_out: Path, trace_out: Path) -> None:
    """Write a mix's events and trace (each to a `.partial` file renamed when complete)."""
    generator = Generator(Mix(mix), events, trace_rows, seed)
    for out, write in ((events_out, generator.write_events),
                       (trace_out, lambda path: generator.write_trace(path, TRACE_SHAPE[mix]))):
        partial = out.with_name(out.name + ".partial")
        write(partial)
        os.replace(partial, out)


def attribution_of_bench():
    """What the analyst marked: the attacker's 4 IPs and 3 of their 12 sessions."""
    from workbench.core.attribution import Attribution

    return Attribution(frozenset(ATTACKER_IPS), frozenset(_attacker_session(u) for u in COMPROMISED[:3]))


# --- measuring --------------------------------------------------------------------------------------------------


def bare_read(events: Path, trace: Path, shape: str) -> dict:
    """Polars alone: the events with a declared String schema of the core fields, the trace's columns as String."""
    import polars as pl

    rows = pl.read_ndjson(events, schema={name: pl.String for name in CORE_FIELDS}).height
    return {"rows": rows, "trace_rows": read_trace(trace, shape)}


def read_trace(trace: Path, shape: str) -> int:
    """The trace's rows read by Polars, every column as String."""
    import polars as pl

    if shape == "cmdlet":
        return pl.read_csv(trace, infer_schema=False).height
    # Polars parses UTF-8 only: "utf16" makes read_csv decode the whole file in memory with Python's codec first
    return pl.read_csv(trace, infer_schema=False, encoding="utf16").height


def floor_read(events: Path, trace: Path, shape: str) -> dict:
    """The least a load of both files must do, with Polars alone: bench_load.py's floor of the events (the fields
    their frame is built from read, the file hashed beside), then the trace read and hashed beside."""
    return {"rows": read_floor("floor-jsonl", events),
            "trace_rows": while_hashing(trace, lambda: read_trace(trace, shape))}


class _Timed:
    """A function of a module replaced by one that adds its wall time to `seconds` (and restores it on exit)."""

    def __init__(self, module, name: str):
        self.module, self.name, self.seconds = module, name, 0.0
        self.original = getattr(module, name)

    def __enter__(self):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *exc):
        setattr(self.module, self.name, self.original)


def exposure_step(case_dir: Path, name: str) -> dict:
    """Open the loaded case, hold its activity, and compute the exposure of all mailboxes, timed in parts."""
    import polars as pl

    import workbench.core.case_exposure as case_exposure_module
    from workbench.core.case import Case

    case = Case.named(name, case_dir)
    start, cpu = time.perf_counter(), time.process_time()
    activity = case.activity()
    activity_s, activity_cpu = time.perf_counter() - start, time.process_time() - cpu
    attribution = attribution_of_bench()
    start, cpu = time.perf_counter(), time.process_time()
    with _Timed(case_exposure_module, "case_mail_items") as items, _Timed(case_exposure_module, "case_messages") as trace:
        found = case_exposure_module.case_exposure(case, attribution, activity)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rows = found.rows
    kinds = dict(rows.group_by("kind").len().iter_rows())
    sent = rows.filter(pl.col("kind") == "sent")
    read = rows.filter(pl.col("kind") == "read")
    return {"rows": activity.height, "seconds": seconds, "cpu": cpu, "activity_s": activity_s, "activity_cpu": activity_cpu,
            "items_read_s": items.seconds, "trace_s": trace.seconds,
            "rest_s": seconds - items.seconds - trace.seconds, "exposure_rows": rows.height, "kinds": kinds,
            "read_with_sender": read.filter(pl.col("sender").is_not_null()).height, "read": read.height,
            "sent_with_recipient": sent.filter(pl.col("recipient").is_not_null()).height, "sent": sent.height,
            "mailboxes": rows["mailbox"].n_unique(), "attacker_rows": rows.filter(pl.col("attribution") == "attacker").height}


def measure(kind: str, events: Path, trace: Path, shape: str, case_dir: Path, name: str) -> dict:
    """One step in this process: its wall and CPU time from after the imports, and the process's peak RSS."""
    if kind not in ("bare", "floor"):
        import workbench  # noqa: F401  (before Polars: the product sets Polars' allocator options, as its command does)
    import polars as pl  # noqa: F401

    if kind == "load":
        from workbench.core.case import Case
    usage, cpu, start = resource.getrusage(resource.RUSAGE_SELF), time.process_time(), time.perf_counter()
    if kind == "bare":
        extra = bare_read(events, trace, shape)
    elif kind == "floor":
        extra = floor_read(events, trace, shape)
    elif kind == "load":
        report = Case.named(name, case_dir).load([events, trace])
        totals = report.totals()
        extra = {"rows": totals["loaded"], "totals": totals}
    else:
        extra = exposure_step(case_dir, name)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_SELF)
    figures = {"kind": kind, "seconds": seconds, "cpu": cpu, "user": after.ru_utime - usage.ru_utime,
               "sys": after.ru_stime - usage.ru_stime, "peak_rss_mb": after.ru_maxrss / 1024}
    return figures | {key: value for key, value in extra.items() if key not in ("seconds", "cpu")} | (
        {"exposure_s": extra["seconds"], "exposure_cpu": extra["cpu"]} if kind == "exposure" else {})


def run_child(kind: str, events: Path, trace: Path, shape: str, case_dir: Path, name: str, repeat: int) -> dict:
    """The fastest of `repeat` runs of one step, each in a new process (a load into a case folder made anew)."""
    runs = []
    for _ in range(repeat):
        if kind == "load":
            shutil.rmtree(case_dir / name, ignore_errors=True)
        result = subprocess.run([sys.executable, __file__, "--measure", kind, "--source", str(events), "--trace", str(trace),
                                 "--shape", shape, "--case-dir", str(case_dir), "--name", name],
                                capture_output=True, text=True)
        if result.returncode:
            sys.exit(f"{kind} of {events.name} + {trace.name} failed:\n{result.stderr}")
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    key = "exposure_s" if kind == "exposure" else "seconds"
    return min(runs, key=lambda run: run[key])


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--trace-rows", type=int, default=1_000_000, help="(message, recipient) rows of the trace")
    parser.add_argument("--mix", choices=(*MIXES, "both"), default="both")
    parser.add_argument("--work", type=Path, metavar="DIR",
                        help="keep the generated files and cases in DIR (files already there are reused)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each step, each in its own process; the fastest counts")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    parser.add_argument("--case-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.measure:
        print(json.dumps(measure(args.measure, args.source, args.trace, args.shape, args.case_dir, args.name), default=str))
        return
    if args.generate:
        generate(args.generate, args.events, args.trace_rows, args.seed, args.source, args.trace)
        return

    import polars as pl

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-exposure-"))
    work.mkdir(parents=True, exist_ok=True)
    mixes = MIXES if args.mix == "both" else (args.mix,)
    print(f"{args.events:,} audit records and {args.trace_rows:,} trace rows a mix; {os.cpu_count()} CPUs, "
          f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB; Python {sys.version.split()[0]}, "
          f"Polars {pl.__version__}; each step in its own process, fastest of {args.repeat}; work folder {work}"
          f"{'' if args.work else ' (removed at the end)'}", flush=True)
    files = {}
    for mix in mixes:
        stem = f"{mix}-{args.events}-{args.trace_rows}-s{args.seed}"
        files[mix] = (work / f"events-{stem}.jsonl", work / f"trace-{stem}.csv")
    # The mixes are generated at once, one process each (the generator is plain Python, one core a mix).
    started = {mix: (time.perf_counter(), subprocess.Popen(
        [sys.executable, __file__, "--generate", mix, "--source", str(events), "--trace", str(trace), "--events",
         str(args.events), "--trace-rows", str(args.trace_rows), "--seed", str(args.seed)]))
        for mix, (events, trace) in files.items() if not (events.exists() and trace.exists())}
    for mix, (start, process) in started.items():
        if process.wait():
            sys.exit(f"generating {mix} failed")
        events, trace = files[mix]
        print(f"generated {mix}: {events.stat().st_size / 2**20:,.0f} MB JSON Lines, {trace.stat().st_size / 2**20:,.0f} MB "
              f"trace in {time.perf_counter() - start:.0f} s", flush=True)
    if started:
        os.sync()  # their pages written back now, not during the measurements
    results = []
    try:
        for mix in mixes:
            events, trace = files[mix]
            for path in (events, trace):  # every step reads from the page cache, not the disk
                with open(path, "rb") as handle:
                    while handle.read(1 << 24):
                        pass
            case_dir, name, shape = work / "cases", f"bench-{mix}", TRACE_SHAPE[mix]
            steps = {kind: run_child(kind, events, trace, shape, case_dir, name, args.repeat)
                     for kind in ("bare", "floor", "load", "exposure")}
            steps["case_bytes"] = case_disk(case_dir / name, events, trace)
            results.append((mix, shape, events.stat().st_size, trace.stat().st_size, steps))
            report_one(mix, shape, events.stat().st_size, trace.stat().st_size, steps)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(results)


def report_one(mix: str, shape: str, events_size: int, trace_size: int, steps: dict) -> None:
    bare, load, exposure = steps["bare"], steps["load"], steps["exposure"]
    ratio = load["seconds"] / bare["seconds"]
    print(f"\n{mix}: events {events_size / 2**20:,.0f} MB JSON Lines, trace {trace_size / 2**20:,.0f} MB "
          f"({'Get-MessageTraceV2 CSV' if shape == 'cmdlet' else 'EAC enhanced summary, UTF-16'}); "
          f"case on disk {steps['case_bytes'] / 2**20:,.0f} MB (a hard link to an input not counted)")
    print(f"  {'step':<10}{'wall s':>8}{'CPU s':>8}{'user s':>8}{'sys s':>7}{'peak RSS':>11}  notes")
    for kind, step in (("bare", bare), ("floor", steps["floor"]), ("load", load), ("exposure", exposure)):
        if kind == "bare":
            note = f"{step['rows']:,} events, {step['trace_rows']:,} trace lines"
        elif kind == "floor":
            note = f"{step['seconds'] / bare['seconds']:.2f}x bare: no load can be faster"
        elif kind == "load":
            note = f"{ratio:.2f}x bare (<= {LOAD_TARGET}x {_verdict(ratio <= LOAD_TARGET)}); {step['totals']}"
        else:
            note = f"process total (opening the case and its activity: {step['activity_s']:.2f} s)"
        print(f"  {kind:<10}{step['seconds']:>8.2f}{step['cpu']:>8.2f}{step['user']:>8.2f}{step['sys']:>7.2f}"
              f"{step['peak_rss_mb']:>8,.0f} MB  {note}")
    ok = exposure["exposure_s"] < EXPOSURE_TARGET_S
    print(f"  exposure of all mailboxes: {exposure['exposure_s']:.2f} s wall, {exposure['exposure_cpu']:.2f} s CPU "
          f"(< {EXPOSURE_TARGET_S} s {_verdict(ok)}): mail items read {exposure['items_read_s']:.2f} s, "
          f"trace read {exposure['trace_s']:.2f} s, rest {exposure['rest_s']:.2f} s")
    print(f"  found: {exposure['exposure_rows']:,} rows over {exposure['mailboxes']} mailboxes {exposure['kinds']}; "
          f"{exposure['attacker_rows']:,} the attacker's; reads with a sender from the trace "
          f"{exposure['read_with_sender']:,}/{exposure['read']:,}; sent rows with a recipient "
          f"{exposure['sent_with_recipient']:,}/{exposure['sent']:,}", flush=True)


def print_table(results: list) -> None:
    """The figures as a Markdown table (as bench/README.md shows them): wall / CPU / peak RSS."""
    print("| mix | inputs | bare read | cold load | load / bare | exposure (all mailboxes) | of which mail items read "
          "/ trace / rest | exposure process peak RSS | case on disk | targets |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mix, shape, events_size, trace_size, steps in results:
        bare, load, exposure = steps["bare"], steps["load"], steps["exposure"]
        ratio = load["seconds"] / bare["seconds"]

        def cell(step: dict) -> str:
            return f"{step['seconds']:.2f} s / {step['cpu']:.1f} s / {step['peak_rss_mb']:,.0f} MB"

        trace = "V2 CSV" if shape == "cmdlet" else "EAC UTF-16"
        print(f"| {mix} | {events_size / 2**20:,.0f} MB JSONL + {trace_size / 2**20:,.0f} MB {trace} | {cell(bare)} | "
              f"{cell(load)} | {ratio:.2f}x | {exposure['exposure_s']:.2f} s / {exposure['exposure_cpu']:.1f} s | "
              f"{exposure['items_read_s']:.2f} / {exposure['trace_s']:.2f} / "
              f"{exposure['rest_s']:.2f} s | {exposure['peak_rss_mb']:,.0f} MB | {steps['case_bytes'] / 2**20:,.0f} MB | "
              f"load {_verdict(ratio <= LOAD_TARGET)}, exposure {_verdict(exposure['exposure_s'] < EXPOSURE_TARGET_S)} |")


if __name__ == "__main__":
    main()
