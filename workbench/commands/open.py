"""Provides `workbench [PATH...] [--case NAME]...`: open the case in the TUI; with neither, pick cases to reopen.

Several PATHs open several cases side by side, one per PATH (`workbench case-a/ case-b/`), as do
several `--case NAME`; PATH... with one `--case NAME` loads them all into that one case."""

import argparse
from functools import partial
from pathlib import Path

from workbench.commands.common import UsageError
from workbench.commands.hunt import add_hunts_argument
from workbench.core.case_index import case_folders
from workbench.core.cases import CasesUsageError, add_cases_arguments, plan_case_set
from workbench.core.config import cases_root, load_config
from workbench.core.hunting import hunt_case_apart, hunt_pack

HELP = "opens the case in the triage TUI (loading PATH..., one case each, or reopening --case NAME...)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of the default command: PATH... optional (reopen --case), --hunts, --offline."""
    add_cases_arguments(parser)
    add_hunts_argument(parser)
    parser.add_argument("--offline", action="store_true", help="IPs view: no network lookups, the cache only")


def run(args: argparse.Namespace) -> int:
    """Open the case (or cases) and run the app (Textual is imported only here)."""
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        raise UsageError(f"{', '.join(missing)}: no such file or folder")
    config = load_config(args.config)
    if not args.paths and not args.case:
        args.case = _picked_cases(cases_root(args.case_dir, config))
        if not args.case:
            return 0
    try:
        cases = plan_case_set(args.paths, args.case, args.case_dir, config)
    except CasesUsageError as error:
        raise UsageError(str(error)) from error
    for case, inputs in cases.plan:
        if not inputs and not case.exists:
            raise UsageError(f"no case named {case.name!r} in {case.root.parent}; give PATH... to load one")
    pack_dirs = tuple(args.hunts)
    hunt_pack(config, pack_dirs)  # a bad hunt file is a usage error before the screen opens
    from workbench.ui.app import WorkbenchApp

    hits = partial(hunt_case_apart, config=config, extra_dirs=pack_dirs)
    WorkbenchApp(cases, hits_provider=hits, config=config, enrich_offline=args.offline,
                 hunt_dirs=pack_dirs, opening=getattr(args, "opening", None)).run()
    return 0


def _picked_cases(root: Path) -> list[str] | None:
    """The cases chosen in the case picker (None when the user quits); a usage error when there are none."""
    if not case_folders(root):
        raise UsageError(f"no cases in {root} yet: give PATH... to load one (e.g. workbench sample_logs)")
    from workbench.ui.case_picker import CasePicker

    return CasePicker(root).run()
