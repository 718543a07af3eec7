"""Benchmark: exporting every event of a 1M-event case, as `workbench export --case NAME -o FILE` does.

Generates the events (`sample_logs/generate.py --events N`, JSON Lines) and loads them into a case once,
then times each export format in its own process: the case's activity read, the readable columns, the
annotations and the write, with the file's size and the process's peak RSS. The fastest of `--repeat` runs
counts. XLSX stops at Excel's 1,048,575 rows and is slow (XlsxWriter is pure Python), so it is timed on
`--xlsx-events` rows (default 100,000) and the rate is given.

    python bench/bench_export.py [--events 1000000] [--work DIR] [--repeat 1] [--formats csv,jsonl,...]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = {"csv": "csv", "json": "json", "jsonl": "jsonl", "timesketch-csv": "timesketch.csv",
            "timesketch-jsonl": "timesketch.jsonl", "xlsx": "xlsx"}


def measure(fmt: str, case_dir: Path, out_dir: Path, rows: int | None) -> dict:
    """Export the case's events (the first `rows` of them, if given) in `fmt` in this process; its figures."""
    import polars as pl  # noqa: F401  (imported here, after the product would set its options)

    from workbench.core.case import Case
    from workbench.core.export import export_case_events

    case = Case.named("bench-export", case_dir)
    out = out_dir / f"export.{SUFFIXES[fmt]}"
    start = time.perf_counter()
    events = case.activity()
    if rows is not None:
        events = events.head(rows)
    count = export_case_events(case, out, events)
    seconds = time.perf_counter() - start
    size = out.stat().st_size
    out.unlink()
    return {"format": fmt, "rows": count, "seconds": seconds, "mb": size / 1e6,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(fmt: str, case_dir: Path, out_dir: Path, rows: int | None, repeat: int) -> dict:
    """The fastest of `repeat` runs of one export, each in a new process."""
    runs = []
    for _ in range(repeat):
        command = [sys.executable, __file__, "--measure", fmt, "--case-dir", str(case_dir), "--out-dir", str(out_dir)]
        if rows is not None:
            command += ["--rows", str(rows)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda row: row["seconds"])


def prepare(events: int, work: Path) -> Path:
    """A case of `events` generated events under `work` (generated and loaded once, then reused)."""
    source = work / f"events-{events}.jsonl"
    case_dir = work / f"cases-{events}"
    if not source.exists():
        subprocess.run([sys.executable, str(ROOT / "sample_logs" / "generate.py"), "--events", str(events),
                        "--format", "jsonl", "--out", str(source)], check=True)
    from workbench.core.case import Case

    Case.named("bench-export", case_dir).open([source])
    return case_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--xlsx-events", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "workbench-bench-export")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--formats", default=",".join(SUFFIXES))
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--case-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.case_dir, args.out_dir, args.rows)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    case_dir = prepare(args.events, args.work)
    print(f"{'format':<18}{'rows':>11}{'seconds':>10}{'rows/s':>11}{'file MB':>10}{'peak RSS MB':>13}")
    for fmt in args.formats.split(","):
        rows = args.xlsx_events if fmt == "xlsx" else None
        figures = run_child(fmt, case_dir, args.work, rows, args.repeat)
        print(f"{fmt:<18}{figures['rows']:>11,}{figures['seconds']:>10.1f}{figures['rows'] / figures['seconds']:>11,.0f}"
              f"{figures['mb']:>10,.0f}{figures['peak_rss_mb']:>13,.0f}", flush=True)


if __name__ == "__main__":
    main()
