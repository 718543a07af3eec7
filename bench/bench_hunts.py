"""Benchmark: every hunt over 1M generated events, beside one bare Polars filter pass over the same frame.

Generates `--events` background events plus case A's story as JSON Lines with the project's
generator, loads them through `workbench.core.case.Case`, then times in one run: the shared
preparation (lower-cased operations, actor kind), each hunt, all hunts through `hunt_hits`, and a
bare `frame.filter(operation == ...)` pass. Targets: all hunts < 3 s, no hunt > 0.5 s.

    python bench/bench_hunts.py [--events 1000000] [--work DIR] [--repeat 3]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

import hunts
from hunts.engine import Context, matching_events
from workbench.core.case import Case

ROOT = Path(__file__).resolve().parent.parent


def best_of(repeat: int, action) -> tuple[float, object]:
    """The fastest of `repeat` runs of `action()` in seconds, with its result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def load_events(events: int, work: Path) -> pl.DataFrame:
    """Generate (once) and load the benchmark file; the events frame in memory."""
    source = work / f"bench-{events}.jsonl"
    if not source.exists():
        subprocess.run([sys.executable, str(ROOT / "sample_logs" / "generate.py"), "--events", str(events),
                        "--format", "jsonl", "--out", str(source)], check=True)
    case = Case.named(f"bench-hunts-{events}", work / "cases")
    case.open([source])
    return case.events()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, help="folder for the generated file and case (default: a temp dir)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        events = load_events(args.events, work)
        print(f"events: {events.height:,} (generated and loaded in {time.perf_counter() - started:.1f} s)")
        pack = hunts.load_hunts()
        bare, matched = best_of(args.repeat, lambda: events.filter(pl.col("operation") == "New-InboxRule").height)
        prepare, context = best_of(args.repeat, lambda: Context(events))
        timings = []
        for hunt in pack:
            seconds, flagged = best_of(args.repeat, lambda hunt=hunt: matching_events(hunt, context).height)
            timings.append((seconds, hunt.id, flagged))
        total, hits = best_of(args.repeat, lambda: hunts.hunt_hits(events, pack))
        print(f"bare Polars filter pass (operation == 'New-InboxRule', {matched} rows): {bare * 1000:.1f} ms")
        print(f"shared preparation (Context): {prepare * 1000:.1f} ms")
        print(f"all {len(pack)} hunts via hunt_hits: {total:.2f} s, {hits.height:,} hits"
              f" (target < 3 s; {total / bare:.0f}x the bare pass)")
        print(f"sum of per-hunt times: {sum(t for t, _, _ in timings):.2f} s; slowest (target < 0.5 s each):")
        for seconds, hunt_id, flagged in sorted(timings, reverse=True):
            print(f"  {seconds * 1000:8.1f} ms  {flagged:6d} events  {hunt_id}")


if __name__ == "__main__":
    main()
