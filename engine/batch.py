"""Run a per-case function over a stream of cases, in this process or in worker processes,
with results in input order and memory bounded however long the stream is.

The task and the parsing step are handed to each worker once, when it starts (a pool
initializer): forked workers inherit them as they are, spawned ones (macOS, Windows, or
`start_method="spawn"`) receive them pickled, which compiled policy sets and evaluators
support. Problems in the stream (cases that failed validation) pass through in place."""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from typing import Any, Callable, Iterable, Iterator, TypeVar

from .errors import EngineError, Problem
from .model import Case

__all__ = ["run_cases", "default_workers"]

T = TypeVar("T")

_task: Callable[[Case], Any] | None = None        # set in each worker by _start
_prepare: Callable[[Any], Case | Problem] | None = None


def _start(task: Callable[[Case], Any], prepare: Callable[[Any], Case | Problem] | None) -> None:
    global _task, _prepare
    _task, _prepare = task, prepare
    # Ctrl-C reaches the whole process group: the parent alone handles it (and ends the
    # pool), so the workers print no tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
              chunksize: int = 500, start_method: str | None = None) -> Iterator[T | Problem]:
    """`task(case)` for every case, in input order. A case the engine fails on becomes a
    Problem; the run goes on. `items` may be a CatalogStream, whose raw items are then
    parsed and validated in the workers too. `start_method`: how workers start ("fork"
    where the platform has it, else "spawn"; with "spawn" `task` must pickle)."""
    prepare = getattr(items, "prepare", None)
    if prepare is not None:
        items = items.raw
    if workers <= 1:
        for item in items:
            yield _call_with(task, prepare, item)
        return
    # Pool.imap reads its whole input ahead; a semaphore keeps at most `window` cases in
    # flight, so memory stays flat while the workers never wait for a window to drain.
    window = threading.BoundedSemaphore(workers * chunksize * 4)

    stop = threading.Event()

    def feed() -> Iterator[Any]:
        for item in items:
            while not window.acquire(timeout=0.1):
                if stop.is_set():   # the run ended early (Ctrl-C, a closed pipe): let the pool end
                    return
            yield item

    if start_method is None:
        start_method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(start_method)
    with ctx.Pool(workers, initializer=_start, initargs=(task, prepare)) as pool:
        try:
            for result in pool.imap(_call, feed(), chunksize):
                window.release()
                yield result
        finally:
            stop.set()
