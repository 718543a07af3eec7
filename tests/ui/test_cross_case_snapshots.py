"""SVG snapshots of the correlate and timeline modes over cases A and B (fixed data, no enrichment)."""

import pytest

from tests.ui.conftest import SIZES, pressing
from tests.ui.cross_case import empty_enrichment_cache, loaded_two_cases, two_case_hits  # noqa: F401 (fixtures)
from tests.ui.cross_case import two_cases_loaded
from tests.ui.view_app import ViewApp
from workbench.ui.screens.correlate import CorrelateScreen
from workbench.ui.screens.timeline import TimelineScreen

pytestmark = pytest.mark.usefixtures("empty_enrichment_cache")  # no enrichment flags, whatever others cached


@pytest.mark.parametrize("size", SIZES)
def test_correlate(snap_compare, loaded_two_cases, size):
    """The cursor on the second shared IP (under the two allow-list domains): its score's parts, accounts,
    fields and times under the table."""
    app = ViewApp(two_cases_loaded(loaded_two_cases), CorrelateScreen)
    assert snap_compare(app, terminal_size=size, run_before=pressing(*["down"] * 3))


@pytest.mark.parametrize("size", SIZES)
def test_timeline(snap_compare, loaded_two_cases, two_case_hits, size):
    """Case B's created admin, the cursor on its first own activity after the dormant gap."""
    app = ViewApp(two_cases_loaded(loaded_two_cases, two_case_hits), TimelineScreen)
    assert snap_compare(app, terminal_size=size, run_before=pressing("home", "shift+right", "shift+right"))
