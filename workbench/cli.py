"""Provides the `workbench` command line: `workbench [PATH...]` opens the case, subcommands do the rest.

Each subcommand is a module of `workbench.commands` with `HELP`, `add_arguments(parser)` and
`run(args) -> int`; the module `open` is also what runs when no subcommand is named.
"""

import argparse
import os
import pkgutil
import sys
from importlib import import_module
from pathlib import Path

import workbench.commands
from workbench import __version__
from workbench.commands.common import UsageError
from workbench.core.config import ConfigError
from workbench.core.formats import NotAnAuditLog
from workbench.core.hunting import HuntSetupError
from workbench.core.inert import visible
from workbench.core.memory import NotEnoughMemory

DEFAULT_COMMAND = "open"
#: Options whose value is free text that may start with `-` (`--filter -op:UserLoggedIn`, `--user -x@example.com`).
TEXT_OPTIONS = ("--filter", "--user")


def command_names() -> list[str]:
    """The subcommands: every module of workbench.commands except the shared one."""
    return sorted(m.name for m in pkgutil.iter_modules(workbench.commands.__path__) if m.name != "common")


def _parser(command: str, named: bool) -> tuple[argparse.ArgumentParser, object]:
    module = import_module(f"workbench.commands.{command}")
    if named:
        parser = argparse.ArgumentParser(prog=f"workbench {command}", description=module.HELP)
    else:
        parser = argparse.ArgumentParser(
            prog="workbench",
            description=f"Microsoft 365 BEC workbench. `workbench PATH...` {module.HELP}. "
            f"Subcommands (each with --help): {', '.join(command_names())}.",
        )
        parser.add_argument("--version", action="version", version=f"workbench {__version__}")
        parser.add_argument("--sweep", type=Path, metavar="OUT",
                            help="open a sweep's output folder (`workbench sweep ... -o OUT`) in the TUI")
    module.add_arguments(parser)
    return parser, module


def _joined_text_options(argv: list[str]) -> list[str]:
    """Each `TEXT_OPTIONS` pair `--filter VALUE` as `--filter=VALUE`, so that a value starting with `-` is not
    read as an option."""
    joined, index = [], 0
    while index < len(argv):
        if argv[index] in TEXT_OPTIONS and index + 1 < len(argv):
            joined.append(f"{argv[index]}={argv[index + 1]}")
            index += 2
        else:
            joined.append(argv[index])
            index += 1
    return joined


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad usage or input, 1 other failure)."""
    argv = _joined_text_options(sys.argv[1:] if argv is None else argv)
    named = bool(argv) and argv[0] in command_names()
    parser, module = _parser(argv[0] if named else DEFAULT_COMMAND, named)
    args = parser.parse_intermixed_args(argv[1:] if named else argv)
    try:
        if not named and args.sweep is not None:
            from workbench.ui.sweep_view import run_sweep_view

            return run_sweep_view(args)
        return module.run(args)
    except (UsageError, NotAnAuditLog, ConfigError, HuntSetupError, NotEnoughMemory) as error:
        print(f"workbench: {visible(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # a user sees one line, never a traceback
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(visible(f"workbench: failed: {type(error).__name__}: {error}") + " (set WORKBENCH_DEBUG=1 for details)",
              file=sys.stderr)
        return 1
