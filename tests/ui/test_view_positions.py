"""The events view finds the row under the cursor again after a change, and the time range of what is in view,
without a pass over every event: the same answers as the pass, sorted or not."""

from workbench.core.load import events_from_records
from workbench.core.store import CaseStore
from workbench.ui.view_state import EventsView

RECORDS = [{"Id": f"r{n}", "CreationTime": f"2024-03-04T10:{n:02d}:00", "Operation": "Send" if n % 3 else "HardDelete",
            "UserId": f"user{n % 4}@contoso.com", "Workload": "Exchange", "RecordType": 2} for n in range(40)]


def test_the_cursor_s_row_and_the_time_range_after_filters_pivots_and_sorts(tmp_path):
    view = EventsView(events_from_records(RECORDS), CaseStore(tmp_path / "case.sqlite"))
    assert view.time_range() == (view.events["creation_time"].min(), view.events["creation_time"].max())
    at = view.index_of("r13")
    assert at == 13 and view.page(at, 1)["record_id"][0] == "r13"
    view.set_filter("op:Send")
    found = view.index_of("r13", earlier_index=at)
    assert view.page(found, 1)["record_id"][0] == "r13" and found == view.index_of("r13")
    assert view.index_of("r12", earlier_index=12) is None  # a HardDelete: out of the view
    assert view.index_of("r13", earlier_index=0) == found  # a wrong hint: found by the pass over the record ids
    shown = view.column("creation_time")
    assert view.time_range() == (shown.min(), shown.max())
    before = found
    view.sort = ("user_id", True)
    view.refresh()
    again = view.index_of("r13", earlier_index=before)
    assert view.page(again, 1)["record_id"][0] == "r13" and again == view.index_of("r13")
    shown = view.column("creation_time")
    assert view.time_range() == (shown.min(), shown.max()) and shown.is_sorted() is False
    view.set_filter("op:nothing")
    assert view.time_range() == (None, None) and view.index_of("r13", earlier_index=again) is None
