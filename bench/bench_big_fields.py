"""Benchmark of the TUI over events holding huge fields: latency of each key and the process's memory.

    python bench/bench_big_fields.py [--sizes 5,50] [--events 2000] [--work DIR]

Writes a JSON Lines file of N ordinary events (`sample_logs/generate.py`) and, for each size S (MB),
an event whose Parameters hold an S MB value and one whose ObjectId and mail subject are S MB each
(base64 text, as an attachment would be; the parameters after the first are not ASCII), dated after
two small events so that they are the table's first rows; loads it into a case in the work folder
(reused on later runs); runs the app headless (`App.run_test`, 160x48) and, on each big event, times:
the cursor moving onto it, a key pressed while its record is read, Enter, a page down in the drill-down, `r` (the whole record), page
downs and End in it, Esc twice and `c`; the same keys on a small event first, as the reference.

Two figures per key: "handled", from the press until the screen has handled every message it caused
and its animations ended (Pilot's own wait, which includes Textual's idle waits: about 60 ms even for a
small table's cursor move on a busy machine); and "stall", the longest time the UI thread's event loop
did not run during that key (and the work it started in the background), measured by a 5 ms ticker:
what a key typed at the worst moment would wait. "ready" is when the background work (reading the
record, preparing the whole text) has been shown.
"""

import argparse
import asyncio
import base64
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.core.case import Case  # noqa: E402
from workbench.core.case_set import CaseSet  # noqa: E402
from workbench.ui.app import WorkbenchApp  # noqa: E402
from workbench.ui.screens.detail import DetailScreen  # noqa: E402
from workbench.ui.screens.raw_record import RawRecordScreen  # noqa: E402
from workbench.ui.widgets.text_pager import TextPager  # noqa: E402

MB = 1_000_000


def big_text(size: int, seed: int, ascii_only: bool = True) -> str:
    """`size` characters of base64 (or of accented words when not `ascii_only`), different for each seed."""
    if not ascii_only:
        words = ("café ", "naïve ", "Zürich ", "déjà vu ", "smörgåsbord ")
        return "".join(random.Random(seed).choices(words, k=size // 6 + 1))[:size]
    return base64.b64encode(random.Random(seed).randbytes(size * 3 // 4 + 3)).decode()[:size]


def big_events(sizes: list[int]) -> list[dict]:
    """Two small events first, then per size an event with a huge parameter and one with a huge object and subject."""
    base = {"OrganizationId": "bench", "RecordType": 1, "UserType": 0, "Version": 1, "Workload": "Exchange",
            "ResultStatus": "True", "ClientIP": "203.0.113.7", "UserId": "bench@example.com"}
    events = [{**base, "CreationTime": f"1999-12-31T23:59:5{second}", "Id": f"small-{name}", "Operation": "Set-Mailbox",
               "ObjectId": name, "Parameters": [{"Name": "Identity", "Value": name}]}
              for second, name in ((8, "first"), (9, "second"))]
    for number, size in enumerate(sizes):
        events.append({**base, "CreationTime": f"2000-01-01T00:00:{2 * number:02d}", "Id": f"big-parameter-{size}mb",
                       "Operation": "Set-Mailbox", "ObjectId": "mailbox",
                       "Parameters": [{"Name": "Identity", "Value": "mailbox"},
                                      {"Name": "Body", "Value": big_text(size * MB, number, ascii_only=number > 0)}]})
        subject = big_text(size * MB, 100 + number)
        events.append({**base, "CreationTime": f"2000-01-01T00:00:{2 * number + 1:02d}", "Id": f"big-object-{size}mb",
                       "Operation": "MailItemsAccessed", "RecordType": 50,
                       "ObjectId": big_text(size * MB, 200 + number),
                       "AffectedItems": [{"Subject": subject, "ParentFolder": {"Path": "\\Inbox"}}]})
    return events


def prepare(work: Path, events: int, sizes: list[int]) -> Case:
    source = work / f"big-fields-{events}-{'-'.join(map(str, sizes))}.jsonl"
    if not source.exists():
        print(f"writing {source} …", file=sys.stderr)
        ordinary = work / f"events-{events}.jsonl"
        subprocess.run([sys.executable, str(ROOT / "sample_logs" / "generate.py"), "--events", str(events),
                        "--format", "jsonl", "--out", str(ordinary)], check=True, capture_output=True)
        with source.open("w", encoding="utf-8") as out:
            out.write(ordinary.read_text(encoding="utf-8"))
            for event in big_events(sizes):
                out.write(json.dumps(event, ensure_ascii=False) + "\n")
    case = Case.named(source.stem, work / "cases")
    started = time.perf_counter()
    _report, reused = case.open([source])
    print(f"case {'reused' if reused else 'loaded'} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return case


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    current = int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()
    return current / MB, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB


class StallMeter:
    """The longest gap between ticks of a 5 ms ticker on the event loop since the last `take`."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            self.longest = max(self.longest, (time.perf_counter() - before) * 1000 - 5)

    def take(self) -> float:
        longest, self.longest = self.longest, 0.0
        return longest


async def timed(pilot, key: str) -> float:
    """Milliseconds from pressing `key` until the screen has handled it."""
    started = time.perf_counter()
    await pilot.press(key)
    return (time.perf_counter() - started) * 1000


async def until(condition, started: float, limit: float = 120) -> float:
    """Milliseconds since `started` once `condition()` holds."""
    while not condition():
        await asyncio.sleep(0.002)
        if time.perf_counter() - started > limit:
            raise RuntimeError("gave up waiting")
    return (time.perf_counter() - started) * 1000


async def walk(app, pilot, stalls: StallMeter, record_id: str) -> dict[str, tuple[float, float]]:
    """(handled, stall) per step on one event: move onto it, read it, open it, page it, the whole record, back, copy."""
    events, figures = app.screen, {}

    async def key(name: str, label: str, then=None) -> None:
        stalls.take()
        handled = await timed(pilot, name)
        if then is not None:
            started = time.perf_counter()
            figures[f"{label}: ready"] = (await until(then, started), 0.0)
        figures[label] = (handled, stalls.take())

    await key("down", "cursor onto it")
    await asyncio.sleep(0.08)  # the drill-down's read has started (it waits for the cursor to rest 60 ms)
    await key("up", "a key while it is read (up)")
    await key("down", "and back (down)", then=lambda: events.current_audit is not None)
    assert events.current["record_id"] == record_id, events.current["record_id"]
    await key("enter", "Enter")
    assert isinstance(app.screen, DetailScreen), app.screen
    await key("pagedown", "page down in the drill-down")
    await key("r", "r (whole record)", then=lambda: isinstance(app.screen, RawRecordScreen)
              and app.screen.query_one(TextPager).line_count > 1)
    await key("pagedown", "page down in the whole record")
    await key("end", "End in the whole record")
    await key("escape", "Esc (to the drill-down)")
    await key("escape", "Esc (to the events)")
    await key("c", "c (copy)")
    return figures


async def run(case: Case, sizes: list[int]) -> list[tuple[str, dict, tuple[float, float]]]:
    app = WorkbenchApp(CaseSet([(case, [])]))
    results = []
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: getattr(app.screen, "view", None) is not None, time.perf_counter())
        await app.workers.wait_for_complete()
        await pilot.pause()
        stalls = StallMeter()
        results.append(("small event (reference)", await walk(app, pilot, stalls, "small-second"), rss_mb()))
        for size in sizes:
            for kind in ("parameter", "object"):
                record_id = f"big-{kind}-{size}mb"
                results.append((record_id, await walk(app, pilot, stalls, record_id), rss_mb()))
                await app.workers.wait_for_complete()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,50", help="sizes of the huge fields in MB, comma-separated")
    parser.add_argument("--events", type=int, default=2000, help="ordinary events in the case")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "workbench-bench")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    case = prepare(args.work, args.events, sizes)
    print(f"after loading: RSS {rss_mb()[0]:,.0f} MB")
    for record_id, figures, (current, peak) in asyncio.run(run(case, sizes)):
        print(f"\n{record_id}  (RSS after: {current:,.0f} MB, peak so far {peak:,.0f} MB)")
        print(f"  {'':36} {'handled':>9} {'stall':>9}")
        for name, (handled, stall) in figures.items():
            print(f"  {name:36} {handled:6.0f} ms" + (f" {stall:6.0f} ms" if not name.endswith("ready") else ""))


if __name__ == "__main__":
    main()
