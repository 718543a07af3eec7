"""Fixtures for the hunt tests: the bundled pack and the sample cases loaded into tmp case folders."""

import re

import polars as pl
import pytest

import hunts
from workbench.core.case import Case


@pytest.fixture(scope="session")
def pack() -> list[hunts.Hunt]:
    """The bundled hunt pack."""
    return hunts.load_hunts()


@pytest.fixture(scope="session")
def sample_events(tmp_path_factory, sample_logs) -> dict[str, pl.DataFrame]:
    """case-a and case-b, each loaded through the real loader into a tmp case folder."""
    root = tmp_path_factory.mktemp("hunt-cases")
    frames = {}
    for name in ("case-a", "case-b"):
        case = Case.named(name, root)
        case.open([sample_logs / name])
        frames[name] = case.events()
    return frames


@pytest.fixture(scope="session")
def readme_tables(sample_logs) -> dict[str, dict[tuple[str, str], set[str]]]:
    """From sample_logs/README.md: planted steps {(case, record id): techniques}, the planted steps no bundled hunt
    is meant to flag (`hunted` no: exposure evidence such as searches and lures) and benign look-alikes."""
    planted, unhunted, benign, section = {}, {}, {}, ""
    for line in (sample_logs / "README.md").read_text(encoding="utf-8").splitlines():
        section = line if line.startswith("## ") else section
        step = re.match(r"\| (case-[ab]) \| [^|]+ \| ([0-9a-f-]{36}) \| [^|]+ \| [^|]+ \| [^|]+ \| (T[0-9., T]+) \|", line)
        if step:
            planted[(step[1], step[2])] = {technique.strip() for technique in step[3].split(",")}
            if line.rstrip().endswith("| no |"):
                unhunted[(step[1], step[2])] = planted[(step[1], step[2])]
            continue
        look_alike = re.match(r"\| (case-[ab]) \| [^|]+ \| ([0-9a-f-]{36}) \|", line)
        if look_alike and section == "## Benign look-alikes":
            benign[(look_alike[1], look_alike[2])] = set()
    return {"planted": planted, "unhunted": unhunted, "benign": benign}
