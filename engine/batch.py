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
    return _call_with(_task, _prepare, item)


def _call_with(task: Callable[[Case], Any], prepare: Callable[[Any], Case | Problem] | None, item: Any) -> Any:
    if prepare is not None:
        item = prepare(item)
    if isinstance(item, Problem):
        return item
    try:
        return task(item)
    except EngineError as e:
        return Problem("<engine>", None, f"case {item.id}", str(e))


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_cases(task: Callable[[Case], T], items: Iterable[Any], workers: int = 1,
              chunksize: int = 500) -> Iterator[T | Problem]:
    """`task(case)` for every case, in input order. A case the engine fails on becomes a
    Problem; the run goes on. `items` may be a CatalogStream, whose raw items are then
    parsed and validated in the workers too."""
    prepare = getattr(items, "prepare", None)
    if prepare is not None:
        items = items.raw
    if workers <= 1:
        for item in items:
            yield _call_with(task, prepare, item)
        return
    global _task, _prepare   # read by the forked workers only
    _task, _prepare = task, prepare
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
