"""Run a per-case function over a stream of cases, in this process or in worker processes,
with results in input order and memory bounded however long the stream is.

Workers are forked: each inherits the compiled policy sets (and, for the rete engine, a
durable_rules host of its own after the fork) instead of loading them again. Problems in
the stream (cases that failed validation) pass through in place."""
from __future__ import annotations

import itertools
import multiprocessing
import os
from typing import Any, Callable, Iterable, Iterator, TypeVar

from .errors import EngineError, Problem
from .model import Case

__all__ = ["run_cases", "default_workers"]

T = TypeVar("T")

_task: Callable[[Case], Any] | None = None  # set before forking; the workers inherit it


def _call(item: Case | Problem) -> Any:
    if isinstance(item, Problem):
        return item
    try:
        return _task(item)  # type: ignore[misc]
    except EngineError as e:
        return Problem("<engine>", None, f"case {item.id}", str(e))


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_cases(task: Callable[[Case], T], items: Iterable[Case | Problem], workers: int = 1,
              chunksize: int = 200) -> Iterator[T | Problem]:
    """`task(case)` for every case, in input order. A case the engine fails on becomes a
    Problem; the run goes on."""
    global _task
    _task = task
    if workers <= 1:
        for item in items:
            yield _call(item)
        return
    # Feed the pool a window at a time: Pool.imap would otherwise read the whole input ahead.
    window = workers * chunksize * 4
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        it = iter(items)
        while True:
            batch = list(itertools.islice(it, window))
            if not batch:
                break
            yield from pool.imap(_call, batch, chunksize)
