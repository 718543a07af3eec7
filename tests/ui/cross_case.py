"""Cases A and B loaded once per session into one cases folder, and the `CaseLoaded` a two-case session holds."""

import contextlib
import shutil
from pathlib import Path

import polars as pl
import pytest

from workbench.core import hunting
from workbench.core.case import Case
from workbench.core.case_set import CaseSet
from workbench.ui.messages import CaseLoaded

NAMES = ("case-a", "case-b")
SHARED_IPS = ("104.161.20.102", "185.241.149.122", "20.232.202.245")


@pytest.fixture(scope="session")
def loaded_two_cases(tmp_path_factory, sample_logs) -> Path:
    """A cases folder holding case A and case B, loaded once from `sample_logs/`."""
    root = tmp_path_factory.mktemp("ui-two-cases")
    with contextlib.chdir(sample_logs.parent):  # source files recorded relative: snapshots hold no checkout path
        for name in NAMES:
            Case.named(name, root).open([Path("sample_logs") / name])
    return root


@pytest.fixture(scope="session")
def two_case_hits(loaded_two_cases) -> pl.DataFrame:
    """The bundled pack's hits over both cases (their audit logs, sign-ins and directory audits), as the views hunt."""
    cases = two_case_set(loaded_two_cases)
    cases.open()
    return hunting.case_hits(cases.events(), {}, case=cases)


@pytest.fixture
def empty_enrichment_cache(tmp_path, monkeypatch) -> None:
    """An enrichment cache of this test's own, empty: what other tests cached does not show."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "empty-cache"))


@pytest.fixture
def two_case_dir(loaded_two_cases, tmp_path) -> Path:
    """This test's own copy of the two loaded cases (marks start empty)."""
    target = tmp_path / "cases"
    shutil.copytree(loaded_two_cases, target)
    return target


def two_case_set(root: Path) -> CaseSet:
    """Case A and case B as a session opens them side by side (case A the case of record)."""
    return CaseSet([(Case.named(name, root), []) for name in NAMES])


def two_case_events(root: Path) -> pl.DataFrame:
    """Both cases' events in one frame, in time order, as a two-case session holds them."""
    return two_case_set(root).events()


def two_cases_loaded(root: Path, hits: pl.DataFrame | None = None) -> CaseLoaded:
    """The `CaseLoaded` of a session over case A and case B."""
    cases = two_case_set(root)
    report, reused = cases.open()
    return CaseLoaded(cases, cases.events(), report, cases.rejects().head(200), reused, hits)
