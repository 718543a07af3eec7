"""A small case for the exposure mode and the attribution marks: test_exposure.py's mailbox (the owner's reading, the
attacker's Bind, Sync, throttled burst, search, SendAs, delete and download, two uncertain reads) plus one message read
whose subject is hostile, and a hunt that flags the attacker's first Bind as high severity (so the workbench proposes
the attacker's IP and session)."""

import polars as pl
import pytest

from hunts import HIT_SCHEMA
from tests.conftest import case_of_records
from tests.test_exposure import ATTACKER_IP, ATTACKER_SESSION, FIREFOX, _accessed, records
from workbench.core.case import Case
from workbench.core.case_set import CaseSet
from workbench.ui.app import WorkbenchApp

CASE = "exposure-ui"
HOSTILE_SUBJECT = "[bold red]x[/] \x1b[2J"
HOSTILE_SHOWN = "[bold red]x[/] \\x1b[2J"
#: The attacker's first Bind, flagged by the fake hunt.
FLAGGED = "00000000-0000-4000-8000-000000000003"
HOSTILE_READ = "00000000-0000-4000-8000-000000000013"


def ui_records() -> list[dict]:
    """test_exposure.py's records and the attacker reading a message whose subject is markup and an escape."""
    hostile = _accessed(13, "2023-02-20T09:40:00", ATTACKER_IP, ATTACKER_SESSION, "Bind",
                        [{"Path": "\\Inbox", "FolderItems": [{"InternetMessageId": "<hostile-1@contoso.com>",
                                                              "SizeInBytes": 1234, "Subject": HOSTILE_SUBJECT}]}],
                        agent=FIREFOX)
    return [*records(), hostile]


def hunt_flagging(record_id: str):
    """A hits provider: one high-severity hit on `record_id` (as a hunt of the pack would report it)."""

    def hits(case, enrichment=None) -> pl.DataFrame:
        row = case.activity().filter(pl.col("record_id") == record_id).row(0, named=True)
        return pl.DataFrame([{
            "hunt_id": "test.attacker_bind", "title": "The attacker's Bind", "severity": "high", "source": "events",
            "tactic_id": "TA0009", "tactic": "Collection", "technique_id": "T1114.002",
            "technique": "Remote Email Collection", "techniques": [], "record_id": record_id,
            "creation_time": row["creation_time"], "user_id": row["user_id"], "operation": row["operation"],
            "client_ip": row["client_ip"], "case": row["case"], "matrix_technique_id": "T1114", "why": "test",
        }], schema=HIT_SCHEMA)

    return hits


@pytest.fixture
def small_case(tmp_path, monkeypatch) -> Case:
    """The small case, loaded in this test's tmp dir, with an empty enrichment cache of its own."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "empty-cache"))
    return case_of_records(tmp_path, CASE, ui_records())


def workbench_of(case: Case, proposing: bool = True) -> WorkbenchApp:
    """The workbench over `case`; with `proposing`, a hunt flags the attacker's first Bind (high severity)."""
    return WorkbenchApp(CaseSet([(Case.named(case.name, case.root.parent), [])]),
                        hits_provider=hunt_flagging(FLAGGED) if proposing else None)
