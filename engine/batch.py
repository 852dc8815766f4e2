"""Run a per-case function over a stream of cases, in this process or in worker processes,
with results in input order and memory bounded however long the stream is.

Workers are forked: each inherits the compiled policy sets (and, for the rete engine, a
durable_rules host of its own after the fork) instead of loading them again. Problems in
the stream (cases that failed validation) pass through in place."""
from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Any, Callable, Iterable, Iterator, TypeVar

from .errors import EngineError, Problem
from .model import Case

__all__ = ["run_cases", "default_workers"]

T = TypeVar("T")

_task: Callable[[Case], Any] | None = None        # set before forking; the workers inherit them
_prepare: Callable[[Any], Case | Problem] | None = None


def _call(item: Any) -> Any:
    if _prepare is not None:
        item = _prepare(item)
    if isinstance(item, Problem):
        return item
    try:
        return _task(item)  # type: ignore[misc]
    except EngineError as e:
        return Problem("<engine>", None, f"case {item.id}", str(e))


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_cases(task: Callable[[Case], T], items: Iterable[Any], workers: int = 1,
              chunksize: int = 500) -> Iterator[T | Problem]:
    """`task(case)` for every case, in input order. A case the engine fails on becomes a
    Problem; the run goes on. `items` may be a CatalogStream, whose raw items are then
    parsed and validated in the workers too."""
    global _task, _prepare
    _task = task
    _prepare = getattr(items, "prepare", None)
    if _prepare is not None:
        items = items.raw
    if workers <= 1:
        for item in items:
            yield _call(item)
        return
    # Pool.imap reads its whole input ahead; a semaphore keeps at most `window` cases in
    # flight, so memory stays flat while the workers never wait for a window to drain.
    window = threading.BoundedSemaphore(workers * chunksize * 4)

    def feed() -> Iterator[Any]:
        for item in items:
            window.acquire()
            yield item

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        for result in pool.imap(_call, feed(), chunksize):
            window.release()
            yield result
