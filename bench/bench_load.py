"""Benchmark: loading 1M generated events, beside a bare `polars.read_ndjson` of the same file.

Prints, in one run: cold load of JSON Lines and of a Purview CSV (events/s, seconds, peak RSS),
reopening the case from Parquet, and the reference read with a declared schema of the core fields.
Also, without a target, the floor of each shape: the least any load of it must do, with Polars alone: read the fields
the events frame is built from (for a Purview CSV, the `AuditData` cells decoded to their scalar fields only) while
the input's SHA-256 (the chain of custody) is taken on a second thread. The floor writes nothing, keeps no record and
removes no duplicate, so a load cannot be faster than it.
Each measurement runs in its own process so that its peak RSS is its own, and is repeated (three times
by default); the fastest run counts, as with `timeit`: on a shared machine other work only ever slows a run.

`--mix` chooses the shape of the generated file (`sample_logs/generate.py --mix`): the story mix (default:
the load generator's background plus a planted attack), or a workload mix of the benign tenant:
Exchange-heavy (MailItemsAccessed with folders and items), SharePoint-heavy, directory-heavy or sign-ins.
Generated files are named by mix and count and reused from `--work`.

    python bench/bench_load.py [--events 1000000] [--mix story|exchange|sharepoint|directory|signin]
                               [--work DIR] [--repeat 3]
"""

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIXES = ("story", "exchange", "sharepoint", "directory", "signin")
CORE_FIELDS = ("Id", "CreationTime", "Operation", "Workload", "RecordType", "UserId", "ClientIP", "ObjectId",
               "Parameters", "ModifiedProperties", "Item", "AffectedItems", "ExtendedProperties")


def measure(kind: str, source: Path, case_dir: Path) -> dict:
    """Run one measurement in this process and return its figures.

    The reference is a bare Polars process; the others import the product first, as its command does
    (the product sets Polars' allocator options before Polars is loaded).
    """
    if kind != "reference":
        import workbench  # noqa: F401
        from workbench.core.case import Case  # imported before the clock starts, as Polars is for the reference
    import polars as pl

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime  # the imports are not the measurement's
    start = time.perf_counter()
    rows = 0
    memory = None
    if kind == "reference":
        rows = pl.read_ndjson(source, schema={name: pl.String for name in CORE_FIELDS}).height
    elif kind in ("jsonl", "csv"):
        case = Case.named(f"bench-{kind}", case_dir)
        report = case.load([source])
        rows = report.totals()["loaded"]
    elif kind.startswith("floor-"):
        rows = read_floor(kind, source)
    elif kind == "reopen":
        case = Case.named("bench-jsonl", case_dir)
        _, reused = case.open([source])
        assert reused, "reopen parsed the inputs again"
        events = case.events()
        rows = events.height
        memory = events.estimated_size() / 2**20
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {"kind": kind, "rows": rows, "seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,
               "peak_rss_mb": usage.ru_maxrss / 1024}
    if kind in ("jsonl", "csv"):
        figures["disk_mb"] = case_disk(case.root, source) / 2**20
        figures["kept"] = report.files[0].kept
    if memory is not None:
        figures["events_frame_mb"] = memory
    return figures


def while_hashing(source: Path, read: Callable[[], int]) -> int:
    """What `read()` returns; the SHA-256 of `source` is taken on a second thread meanwhile, as a load takes it."""
    with ThreadPoolExecutor(1) as pool, open(source, "rb") as handle:
        digest = pool.submit(hashlib.file_digest, handle, "sha256")
        rows = read()
        digest.result()
    return rows


def read_floor(kind: str, source: Path) -> int:
    """Read what the events frame is built from and hash the input beside it; return the rows read."""
    import polars as pl

    from workbench.core.schema import AUDIT_FIELDS, AUDIT_SCHEMA

    if kind == "floor-jsonl":
        return while_hashing(source, lambda: pl.read_ndjson(source, schema=AUDIT_SCHEMA).height)
    # Polars cannot decode a JSON array or object into text: the nested fields are left out
    nested = {"Parameters", "ModifiedProperties", "AffectedItems", "Item", "ExtendedProperties", "DeviceProperties",
              "Actor", "Target", "AppAccessContext"}
    scalars = pl.Struct({name: pl.String for name in AUDIT_FIELDS if name not in nested})
    return while_hashing(source, lambda: pl.read_csv(source, columns=["AuditData"], infer_schema=False)
                         .select(pl.col("AuditData").str.json_decode(scalars)).height)


def case_disk(root: Path, *inputs: Path) -> int:
    """Bytes the case takes on disk (allocated blocks), not counting a hard link to one of its inputs (the same
    file)."""
    seen, total = {(source.stat().st_dev, source.stat().st_ino) for source in inputs}, 0
    for path in root.rglob("*"):
        stat = path.lstat()
        if path.is_file() and (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            total += stat.st_blocks * 512
    return total


def run_child(kind: str, source: Path, case_dir: Path, repeat: int) -> dict:
    """The fastest of `repeat` runs of one measurement, each in a new process."""
    runs = []
    for _ in range(repeat):
        result = subprocess.run(
            [sys.executable, __file__, "--measure", kind, "--source", str(source), "--case-dir", str(case_dir)],
            capture_output=True, text=True, check=True,
        )
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda row: row["seconds"])


def generate(mix: str, events: int, fmt: str, out: Path) -> None:
    if not out.exists():
        subprocess.run([sys.executable, str(ROOT / "sample_logs" / "generate.py"), "--mix", mix,
                        "--events", str(events), "--format", fmt, "--out", str(out)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--mix", choices=MIXES, default="story", help="shape of the generated file (default story)")
    parser.add_argument("--work", type=Path, help="folder for the generated inputs (kept for reuse)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the fastest counts")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--case-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.source, args.case_dir)))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-load-"))
    work.mkdir(parents=True, exist_ok=True)
    stem = f"events-{args.mix}-{args.events}"
    jsonl, csv = work / f"{stem}.jsonl", work / f"{stem}.csv"
    generate(args.mix, args.events, "jsonl", jsonl)
    generate(args.mix, args.events, "purview-csv", csv)
    case_dir = work / "cases" / args.mix
    for path in (jsonl, csv):  # every measurement reads from the page cache, not the disk
        with open(path, "rb") as handle:
            while handle.read(1 << 24):
                pass
    rows = [run_child(kind, source, case_dir, args.repeat)
            for kind, source in (("reference", jsonl), ("jsonl", jsonl), ("csv", csv), ("reopen", jsonl),
                                 ("floor-jsonl", jsonl), ("floor-csv", csv))]
    reference = rows[0]
    targets = {"reference": None, "jsonl": 1.5, "csv": 2.0, "reopen": 0.2, "floor-jsonl": None, "floor-csv": None}
    print(f"inputs ({args.mix} mix): {jsonl.stat().st_size / 2**30:.2f} GiB JSONL, "
          f"{csv.stat().st_size / 2**30:.2f} GiB Purview CSV")
    print(f"{'measurement':<12}{'rows':>10}{'seconds':>9}{'CPU s':>8}{'events/s':>11}{'peak RSS':>10}{'disk':>9}"
          f"{'x ref':>7}  target")
    for row in rows:
        ratio = row["seconds"] / reference["seconds"]
        target = targets[row["kind"]]
        verdict = "" if target is None else f"<= {target}x {'ok' if ratio <= target else 'MISSED'}"
        disk = f"{row['disk_mb']:>7.0f}MB" if "disk_mb" in row else " " * 9
        print(f"{row['kind']:<12}{row['rows']:>10,}{row['seconds']:>9.2f}{row['cpu_seconds']:>8.2f}"
              f"{row['rows'] / row['seconds']:>11,.0f}{row['peak_rss_mb']:>8.0f}MB{disk}{ratio:>7.2f}  {verdict}")
    print("disk: the case folder's allocated blocks; the input it keeps: "
          + ", ".join(f"{row['kind']} {row['kept'] or 'none (records in the Parquet)'}" for row in rows[1:3]))
    reopen = rows[3]
    print(f"loaded case in memory (events frame without audit_data): {reopen['events_frame_mb']:.0f} MB")
    print(f"peak RSS: loading {max(rows[1]['peak_rss_mb'], rows[2]['peak_rss_mb']):.0f} MB, reopening "
          f"{reopen['peak_rss_mb']:.0f} MB (issue 19: <= 6144 MB in every step at 10M)")


if __name__ == "__main__":
    main()
