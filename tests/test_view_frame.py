"""The events view's frame (`Case.activity(view=True)`) holds the text columns whose values repeat as categoricals:
the same rows as the activity in text, and every command the views run over it gives what it gives over text."""

import polars as pl
import pytest

from enrich.service import ip_summary
from hunts.model import as_text
from workbench.core.activity import DRILL_DOWN_ONLY, MOSTLY_DISTINCT
from workbench.core.case import Case
from workbench.core.case_exposure import attribution_in_force, case_exposure
from workbench.core.case_set import CaseSet
from workbench.core.correlate import correlate, tenant_labels
from workbench.core.export import export_case_events
from workbench.core.hunting import hunt_case
from workbench.core.ioc import ioc_matches, parse_iocs
from workbench.core.timeline import account_timeline, ip_timeline

ADMIN = "CompromisedAdmin@example.com"
ATTACKER_IP = "104.161.20.102"


@pytest.fixture(scope="module")
def cases(tmp_path_factory, sample_logs) -> CaseSet:
    root = tmp_path_factory.mktemp("view-cases")
    both = CaseSet([(Case.named(name, root), [sample_logs / name]) for name in ("case-a", "case-b")])
    both.open()
    return both


@pytest.fixture(scope="module")
def frames(cases) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the view's frame, the activity as text without the drill-down's columns)."""
    return cases.activity(view=True), cases.activity().drop(DRILL_DOWN_ONLY)


def test_the_view_holds_repeated_texts_as_categoricals_and_the_same_rows(frames):
    view, text = frames
    assert view.height == text.height > 9_000
    assert {"user_id", "operation", "client_ip", "object_id", "case", "source"} <= {
        name for name, dtype in view.schema.items() if dtype == pl.Categorical}
    assert all(view.schema[name] == pl.String for name in MOSTLY_DISTINCT)
    assert as_text(view).equals(text)
    assert view.estimated_size() < 0.8 * text.estimated_size()


def test_timelines_over_the_view_are_those_over_text(frames):
    view, text = frames
    for build, subject in ((account_timeline, ADMIN), (ip_timeline, ATTACKER_IP)):
        over_view, over_text = build(view, subject), build(text, subject)
        assert over_text.days["events"].sum() > 0
        assert over_view.days.equals(over_text.days) and over_view.coverage.equals(over_text.coverage)
        assert all(over_view.first_seen[kind].equals(over_text.first_seen[kind]) for kind in over_text.first_seen)
        assert (over_view.dormant, over_view.lanes) == (over_text.dormant, over_text.lanes)
        assert over_view.failures_before_success.equals(over_text.failures_before_success)


def test_ips_tenants_correlation_and_iocs_over_the_view_are_those_over_text(frames):
    view, text = frames
    assert ip_summary(view).equals(ip_summary(text)) and ip_summary(text).height > 10
    assert tenant_labels(view) == tenant_labels(text) and len(tenant_labels(text)) == 2
    shared = correlate(text, "case")
    assert correlate(view, "case").equals(shared) and ATTACKER_IP in shared["value"].to_list()
    iocs = parse_iocs(f"{ATTACKER_IP}\n185.241.149.0/24\n")
    assert ioc_matches(view, iocs).equals(ioc_matches(text, iocs)) and ioc_matches(text, iocs).height > 5


def test_exposure_over_the_view_is_that_over_text(cases, frames):
    view, text = frames
    hits = hunt_case(cases, {})
    attribution, _ = attribution_in_force(cases, text, {}, use_proposal=True, hits=hits)
    assert attribution_in_force(cases, view, {}, use_proposal=True, hits=hits)[0] == attribution
    over_view, over_text = case_exposure(cases, attribution, view), case_exposure(cases, attribution, text)
    assert over_text.rows.filter(pl.col("kind") == "read").height
    assert over_view.rows.equals(over_text.rows) and over_view.notes == over_text.notes


def test_an_export_of_the_view_is_that_of_text(cases, frames, tmp_path):
    view, text = frames
    rows = [pl.col("client_ip") == ATTACKER_IP, pl.lit(True)]
    for where in rows:
        from_view, from_text = tmp_path / "view.csv", tmp_path / "text.csv"
        assert export_case_events(cases, from_view, view.filter(where)) == export_case_events(cases, from_text, text.filter(where))
        assert from_view.read_bytes() == from_text.read_bytes()
