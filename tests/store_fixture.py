"""The sample cases A and B loaded and published into one tenant store, shared by the store, sweep and Spark tests,
and the local answers a sweep must equal: `workbench hunt` and `workbench ioc` on each case."""

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from workbench.core.case import Case
from workbench.core.hunting import case_hits, hunt_pack
from workbench.core.ioc import ioc_matches, parse_iocs
from workbench.core.tenant_store import publish

ROOT = Path(__file__).resolve().parent.parent
TENANT_A = "2ab04f98-6e9a-4dc2-8cab-317b054bad8d"
TENANT_B = "e5da9a31-b6d2-429c-8d52-5977a06cda40"
CASE_OF = {TENANT_A: "case-a", TENANT_B: "case-b"}
#: The attacker's address (defanged), network, agent and account, a mail domain and a transport rule's name (case B).
IOC_CSV = """indicator,type
104.161.20[.]102,ip
example.net,domain
185.241.149.0/24,cidr
Firefox/110.0,user_agent
CompromisedAdmin@example.com,email
External sender warning,rule_name
"""


@dataclass
class SampleStore:
    """Both sample cases, the store they were published to, and what publishing added."""

    cases: dict[str, Case]
    store: Path
    added: dict[str, dict[str, int]]


def sample_store(root: Path) -> SampleStore:
    """Load sample cases A and B under `root / "cases"` and publish both into `root / "store"`."""
    cases, added = {}, {}
    for name in ("case-a", "case-b"):
        case = Case.named(name, root / "cases")
        case.open([ROOT / "sample_logs" / name])
        cases[name] = case
        added[name] = publish(case, root / "store")
    return SampleStore(cases, root / "store", added)


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> SampleStore:
    """The sample store, made once per test process for the sweep tests of both engines (which only read it)."""
    return sample_store(tmp_path_factory.mktemp("sample_store"))


def local_hunt_hits(case: Case, pack: "list | None" = None) -> pl.DataFrame:
    """`workbench hunt` on one case (the bundled pack, or `pack`; no enrichment cache)."""
    return case_hits(case.activity(), {}, hunt_pack({}) if pack is None else pack, case=case)


def local_ioc_matches(case: Case) -> pl.DataFrame:
    """`workbench ioc` on one case with the CSV indicators."""
    return ioc_matches(case.activity(), parse_iocs(IOC_CSV))


def hunt_keys(hits: pl.DataFrame) -> set[tuple]:
    """(hunt, source, record, techniques) of each hunt hit."""
    techniques = pl.col("techniques").list.eval(pl.element().struct.field("technique_id")).list.join(",")
    return set(hits.select("hunt_id", "source", "record_id", techniques).iter_rows())
