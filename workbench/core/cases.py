"""Provides opening several cases at once: one events frame whose `case` column tells the cases apart.

`workbench correlate case-a/ case-b/` makes each PATH its own case (named as `case_name_for([path])`
would name it); `--case A --case B` reopens saved cases. One PATH or one `--case` gives one case.
"""

import argparse
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from workbench.core.case import Case, case_name_for
from workbench.core.case_index import resolve_name
from workbench.core.case_set import CaseSet
from workbench.core.config import cases_root, load_config
from workbench.core.load_report import Progress


class CasesUsageError(ValueError):
    """PATHs and `--case` names that do not name a set of cases."""


@dataclass
class OpenedCases:
    """The cases opened together and their rows of every source (activity.py), as one scan of their Parquet."""

    cases: list[Case]
    events: pl.LazyFrame

    @property
    def names(self) -> list[str]:
        """The case names, in the order given."""
        return [case.name for case in self.cases]


def add_cases_arguments(parser: argparse.ArgumentParser) -> None:
    """PATH..., a repeatable --case, --case-dir and --config."""
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="audit log files or folders; several PATHs are several cases, one case each")
    parser.add_argument("--case", action="append", default=[], metavar="NAME",
                        help="case name; repeat to reopen several saved cases (default: derived from each PATH)")
    parser.add_argument("--case-dir", metavar="DIR", help="folder holding the cases (default: user data dir)")
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file (default: user config dir)")


def plan_cases(paths: list[Path], names: list[str]) -> list[tuple[str, list[Path]]]:
    """(case name, input paths) for each case to open; raises CasesUsageError for an impossible mix."""
    if not paths and not names:
        raise CasesUsageError("give PATH... to load, or --case NAME (repeatable) to reopen cases")
    if names and paths and len(names) > 1:
        raise CasesUsageError("give PATH... with at most one --case, or reopen several saved cases with --case only")
    if names:
        return [(names[0], list(paths))] if paths else [(name, []) for name in dict.fromkeys(names)]
    if len(paths) == 1:
        return [(case_name_for(paths), list(paths))]
    return [(case_name_for([path]), [path]) for path in dict.fromkeys(paths)]


def open_cases(
    paths: list[Path],
    names: list[str],
    case_dir: str | Path | None = None,
    config: dict | None = None,
    progress: Progress | None = None,
) -> OpenedCases:
    """Open (loading or reusing) every planned case, with a scan of their rows of every source (activity.py)."""
    case_set = plan_case_set(paths, names, case_dir, config)
    case_set.open(progress)
    return OpenedCases(case_set.cases, case_set.activity_scan())


def plan_case_set(paths: list[Path], names: list[str], case_dir: str | Path | None = None,
                  config: dict | None = None) -> CaseSet:
    """The set of cases PATH... and --case NAME... name (nothing is opened yet)."""
    plan = []
    for name, inputs in plan_cases(paths, names):
        try:
            if not inputs:  # reopening: `--case case-a` finds the one case named case-a-<hash>
                name = resolve_name(name, cases_root(case_dir, config))
            plan.append((Case.named(name, case_dir, config), inputs))
        except ValueError as error:
            raise CasesUsageError(str(error)) from error
    return CaseSet(plan)


def open_cases_from_args(args: argparse.Namespace) -> OpenedCases:
    """`open_cases` for the arguments `add_cases_arguments` declared."""
    return open_cases(args.paths, args.case, args.case_dir, load_config(args.config))


def comparison_column(events: pl.DataFrame | pl.LazyFrame) -> str:
    """`case` when the events hold several cases, else `organization_id` (one case, several tenants)."""
    return "case" if events.lazy().select(pl.col("case").n_unique()).collect().item() > 1 else "organization_id"
