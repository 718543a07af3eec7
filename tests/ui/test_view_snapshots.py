"""SVG snapshots of the ATT&CK matrix mode, its hunts list and coverage, and the IPs view (case A, fixed data)."""

import pytest

from enrich import EnrichmentCache
from tests.ui.conftest import SIZES, pressing
from tests.ui.ip_fakes import FIXTURES, offline_host  # noqa: F401 (fixture)
from tests.ui.view_app import ViewApp, case_a_hits, case_loaded  # noqa: F401 (fixture)
from workbench.core.case import Case
from workbench.ui.screens.ips import IpsScreen
from workbench.ui.screens.matrix import MatrixScreen


@pytest.fixture
def matrix_app(case_a_hits):
    case, hits = case_a_hits
    return ViewApp(case_loaded(case, hits=hits), MatrixScreen)


@pytest.fixture
def ips_app(case_dir, tmp_path, monkeypatch, offline_host):
    """The IPs view over case A with the reference case's recorded results in the cache, offline."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "enrich-cache"))
    with EnrichmentCache(tmp_path / "enrich-cache") as cache:
        cache.import_results(FIXTURES / "reference-case-enrichment.json")
    return ViewApp(case_loaded(Case.named("case-a", case_dir)), IpsScreen, enrich_offline=True)


@pytest.mark.parametrize("size", SIZES)
def test_matrix(snap_compare, matrix_app, size):
    """Cursor on Persistence › Additional Email Delegate Permissions (the attacker's FullAccess grant)."""
    keys = ("right", "right", "down", "down", "down", "down")
    assert snap_compare(matrix_app, terminal_size=size, run_before=pressing(*keys))


@pytest.mark.parametrize("size", SIZES)
def test_matrix_coverage(snap_compare, matrix_app, size):
    assert snap_compare(matrix_app, terminal_size=size, run_before=pressing("c"))


@pytest.mark.parametrize("size", SIZES)
def test_hunts_list(snap_compare, matrix_app, size):
    assert snap_compare(matrix_app, terminal_size=size, run_before=pressing("h", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_ips(snap_compare, ips_app, size):
    """Hosting first, the cursor on the ioflood address: the reference case's shared addresses with their reasons."""
    assert snap_compare(ips_app, terminal_size=size, run_before=pressing("3", "up"))
