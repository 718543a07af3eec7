"""Provides bounded-concurrency batch runs that stop submitting cleanly once told to."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def run_bounded(
    items: Iterable[Item],
    work: Callable[[Item], Result],
    concurrency: int,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[Item, Result | Exception]]:
    """Yield (item, result or raised exception) as each finishes, in the calling thread.

    At most `concurrency` items are in flight; items are started in the given order, and none is
    started once `stop()` is true (those already running finish and are yielded).
    """
    remaining = iter(items)
    pending: dict[Future, Item] = {}
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="enrich") as pool:

        def fill() -> None:
            while len(pending) < max(1, concurrency) and not stop():
                item = next(remaining, _END)
                if item is _END:
                    return
                pending[pool.submit(work, item)] = item

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                item = pending.pop(future)
                error = future.exception()
                yield item, (error if error is not None else future.result())
            fill()


_END = object()
