"""Provides the memory check made before a frame of a case is read into memory: a case too big for the machine is
said in words (what it needs, what there is, what still works) instead of ending in the kernel's out-of-memory kill.
"""

import os
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

import polars as pl

SAMPLE_ROWS = 10_000
#: Events read at a time by the steps that go over every event of a case without holding them (correlate, the IOC
#: sweep, the text rarity of generic words): bounded memory at any size.
BATCH_ROWS = 500_000


def in_batches(rows: pl.DataFrame | pl.LazyFrame, columns: Iterable[str]) -> Iterator[pl.DataFrame]:
    """The rows (in memory, or a case's scan) `BATCH_ROWS` at a time, with only those of `columns` they have, as
    text where the events view holds categoricals."""
    rows = rows.lazy()
    names = [name for name in dict.fromkeys(columns) if name in rows.collect_schema()]
    return rows.select(names).with_columns(pl.col(pl.Categorical).cast(pl.String)).collect_batches(chunk_size=BATCH_ROWS)


class NotEnoughMemory(MemoryError):
    """A frame of a case needs more memory than the machine has available."""


def available_bytes() -> int | None:
    """Memory the process can still take: the kernel's `MemAvailable`, capped by the cgroup's limit (a container
    or a systemd slice); None where neither can be read."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    cgroup = Path("/sys/fs/cgroup")
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int((cgroup / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def frame_bytes(parts: list[Path], columns: list[str], categorical: Collection[str] = ()) -> int:
    """About how many bytes the given columns of the rows in `parts` take in memory: the first rows read, scaled to
    every row (Parquet's own sizes say little: its dictionaries are not kept in memory). A column held as a
    categorical (`categorical`) counts 4 bytes a row and its distinct values, new ones coming as often as in the
    first rows (an upper bound: the first rows meet most of a column's values for the first time)."""
    if not parts:
        return 0
    total = pl.scan_parquet(parts, glob=False).select(pl.len()).collect().item()  # from the footers
    first = pl.scan_parquet(parts[0], glob=False)  # a case folder may be named like a glob pattern
    sample = first.select([name for name in columns if name in first.collect_schema()]).head(SAMPLE_ROWS).collect()
    size = sum(4 * sample.height + sample[name].unique().estimated_size() if name in categorical
               else sample[name].estimated_size() for name in sample.columns)
    return int(size / max(sample.height, 1) * total)


def check_fits(what: str, parts: list[Path], columns: list[str], categorical: Collection[str] = ()) -> None:
    """Raise NotEnoughMemory when reading `what` (the columns of the rows in `parts`, those of `categorical` held as
    categoricals) would not fit in the memory available, with what it needs and what still works."""
    available = available_bytes()
    if available is None or os.environ.get("WORKBENCH_IGNORE_MEMORY") == "1":
        return
    # The estimate is near the peak of reading as measured (0.70-1.3 of it: the events view's frame of 10M events
    # is 2.5 GB estimated and 3.6 GB at its peak on the exchange mix, 5.5 and 4.2 GB on the directory mix); a margin
    # on top refused cases an 8 GB machine reads.
    need = frame_bytes(parts, columns, categorical)
    if need > available:
        raise NotEnoughMemory(
            f"{what} needs about {need / 2**30:.1f} GB of memory and {available / 2**30:.1f} GB is available: "
            "not read, rather than have the system stop the workbench. `workbench sql` works on any size (it reads "
            "the case from disk); close other programs or use a bigger machine for the rest "
            "(WORKBENCH_IGNORE_MEMORY=1 reads it anyway)")
