"""Benchmark of the events view at scale, headless: first paint and key-to-repaint latency.

    python bench/bench_tui.py [--events 1000000] [--mix story|exchange|sharepoint|directory|signin]
                              [--work DIR] [--repeat 30]

Generates N events of the chosen mix with `sample_logs/generate.py --mix` (JSON Lines; default the
story mix) unless the file is already in the work folder, loads them into a case there (reused on
later runs, one per mix and count), then runs the app with
`App.run_test` and prints: time from the app's start to the first painted table (the case's first rows,
read before the rest), and to the whole events frame in memory (the keys act from then); median and p95 latency from a key press to the table's repaint for page-down, a filter change and a
mark. "Repaint" is the moment the table has rendered the rows of the new state.
"""

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.core.case import Case  # noqa: E402
from workbench.core.case_set import CaseSet  # noqa: E402
from workbench.core.hunting import hunt_case_apart  # noqa: E402
from workbench.ui.app import WorkbenchApp  # noqa: E402
from workbench.ui.widgets.event_table import EventTable  # noqa: E402

MIXES = ("story", "exchange", "sharepoint", "directory", "signin")
FILTERS = ("op:MailItemsAccessed", "user:admin", "ip:104.161.20.102", "workload:SharePoint -op:FileAccessed")
FREE_TEXT = ('"invoice"', '"Inbox"', '"Sent Items"')


class PaintClock:
    """Records when the table last rendered a new page of rows (patched onto EventTable for the run)."""

    def __init__(self) -> None:
        self.last_paint = 0.0
        self.first_paint: float | None = None
        original = EventTable._visible_rows
        clock = self

        def timed(table, top, count, width):
            fresh = (table.view.generation if table.view else -1, top, count, width) != table._page_key
            rows = original(table, top, count, width)
            if fresh and table.view is not None:  # a view with no rows (a filter matching nothing) is painted too
                clock.last_paint = time.perf_counter()
                clock.first_paint = clock.first_paint or clock.last_paint
            return rows

        EventTable._visible_rows = timed


class RssByPhase:
    """Samples the process's resident memory every 50 ms from a thread and keeps the highest of each phase."""

    def __init__(self) -> None:
        self.phase, self.peaks = "app start", {}
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            with open("/proc/self/status") as status:
                kilobytes = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), kilobytes)
            time.sleep(0.05)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def key_latency(app, pilot, clock: PaintClock, keys: tuple[str, ...], before=None) -> float:
    """Seconds from pressing `keys[-1]` to the table's repaint (earlier keys are typed untimed)."""
    if before:
        await before()
    await pilot.press(*keys[:-1])
    previous = clock.last_paint
    start = time.perf_counter()
    await pilot.press(keys[-1])
    while clock.last_paint == previous:
        await asyncio.sleep(0.001)
        if time.perf_counter() - start > 10:
            raise RuntimeError(f"no repaint after {keys[-1]}")
    return clock.last_paint - start


def typed_filter(text: str) -> tuple[str, ...]:
    """The keys that replace the filter with `text`."""
    return ("slash", "end", "ctrl+u", *[{" ": "space", '"': "quotation_mark"}.get(c, c) for c in text], "enter")


async def run(case: Case, repeat: int, with_hunts: bool = False) -> dict:
    clock, rss = PaintClock(), RssByPhase()
    started = time.perf_counter()
    app = WorkbenchApp(CaseSet([(case, [])]), hits_provider=partial(hunt_case_apart, config={}) if with_hunts else None)
    results: dict[str, list[float]] = {"page-down": [], "filter change": [], "free-text filter": [], "mark": [],
                                       "drill-down read": []}
    async with app.run_test(size=(160, 48)) as pilot:
        while clock.first_paint is None:
            await asyncio.sleep(0.005)
        while getattr(app.screen, "view", None) is None:  # the whole frame in memory and shown
            await asyncio.sleep(0.005)
        opened, ready = clock.first_paint - started, time.perf_counter() - started
        events = app.screen.view.events
        rss.phase = "page-down"
        for _ in range(repeat):
            results["page-down"].append(await key_latency(app, pilot, clock, ("pagedown",)))
        rss.phase = "filters"
        for index in range(repeat):
            results["filter change"].append(await key_latency(app, pilot, clock, typed_filter(FILTERS[index % len(FILTERS)])))
        for index in range(max(3, repeat // 5)):
            results["free-text filter"].append(await key_latency(app, pilot, clock, typed_filter(FREE_TEXT[index % 3])))
        await pilot.press("escape")
        rss.phase = "mark and drill-down"
        for _ in range(repeat):
            results["mark"].append(await key_latency(app, pilot, clock, ("m",)))
        for index in range(repeat):  # what the drill-down's worker does for the row under the cursor
            row = events.row(index * (events.height // repeat), named=True)
            start = time.perf_counter()
            assert case.record_text(row)
            results["drill-down read"].append(time.perf_counter() - start)
    return {"rows": events.height, "opened": opened, "ready": ready, "latency": results, "rss": rss.peaks}


def prepare(mix: str, events: int, work: Path) -> Case:
    source = work / f"events-{mix}-{events}.jsonl"
    if not source.exists():
        print(f"generating {events:,} events of the {mix} mix into {source} …", file=sys.stderr)
        subprocess.run([sys.executable, str(ROOT / "sample_logs" / "generate.py"), "--mix", mix, "--events",
                        str(events), "--format", "jsonl", "--out", str(source)], check=True)
    case = Case.named(f"bench-{mix}-{events}", work / "cases")
    started = time.perf_counter()
    _report, reused = case.open([source])
    print(f"case {'reused' if reused else 'loaded'} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--mix", choices=MIXES, default="story", help="shape of the generated file (default story)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "workbench-bench")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--hunts", action="store_true", help="run the hunt pack as `workbench` opens a case (before "
                        "the first paint, as the app does)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    case = prepare(args.mix, args.events, args.work)
    result = asyncio.run(run(case, args.repeat, args.hunts))
    print(f"{f'events in the case ({args.mix}):':33}{result['rows']:,}")
    print(f"app start (case read) -> first paint: {result['opened']:6.2f} s   (issue 19: < 2 s)")
    print(f"app start -> every event in memory, keys act: {result['ready']:6.2f} s")
    targets = {"free-text filter": "< 1000 ms", "drill-down read": "< 200 ms"}
    for name, values in result["latency"].items():
        label = name if name == "drill-down read" else name + " key -> repaint"
        print(f"{label + ':':37} median {statistics.median(values) * 1000:6.1f} ms, "
              f"p95 {percentile(values, 0.95) * 1000:6.1f} ms   "
              f"(targets {targets.get(name, '< 50 / < 150 ms')}; n={len(values)})")
    print("peak RSS by phase: " + ", ".join(f"{phase} {kilobytes / 1024:.0f} MB" for phase, kilobytes in result["rss"].items()))
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (issue 19: <= 6144 MB)")


if __name__ == "__main__":
    main()
