"""Run a per-case function over a stream of cases, in this process or in worker processes,
with results in input order and memory bounded however long the stream is.

The task and the parsing step are handed to each worker once, when it starts (a pool
initializer): forked workers inherit them as they are, spawned ones (macOS, Windows, or
`start_method="spawn"`) receive them pickled, which compiled policy sets and evaluators
support. Problems in the stream (cases that failed validation) pass through in place."""
from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
import signal
import threading
from contextlib import contextmanager
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, TypeVar

from .errors import EngineError, Problem, RunError
from .case import Case

__all__ = ["run_cases", "default_workers"]

T = TypeVar("T")

_task: Callable[[Case], Any] | None = None        # set in each worker by _start
_prepare: Callable[[Any], Case | Problem] | None = None
_combine: Callable[[list], Any] | None = None
_halt: Any = None                                  # shared flag: the run ended early, skip what is queued


def _start(halt: Any, task: Callable[[Case], Any], prepare: Callable[[Any], Case | Problem] | None,
           combine: Callable[[list], Any] | None = None) -> None:
    global _task, _prepare, _combine, _halt
    _task, _prepare, _combine, _halt = task, prepare, combine, halt
    # Ctrl-C reaches the whole process group: the parent alone handles it (and ends the
    # pool), so the workers print no tracebacks. The worker was started with SIGINT
    # blocked (_sigint_held), so a Ctrl-C during start-up waits here and is dropped.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _call_chunk(items: list[Any]) -> Any:
    results = []
    for item in items:
        if _halt.value:
            return None
        results.append(_call_with(_task, _prepare, item))
    return _combine(results)


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


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def run_cases(task: Callable[[Case], T], items: Iterable[Any], workers: int = 1,
              chunksize: int = 500, start_method: str | None = None,
              combine: Callable[[list[T | Problem]], Any] | None = None) -> Iterator[Any]:
    """`task(case)` for every case, in input order. A case the engine fails on becomes a
    Problem; the run goes on. `items` may be a CatalogStream, whose raw items are then
    parsed and validated in the workers too. `start_method`: how workers start ("fork"
    where the platform has it, else "spawn"; with "spawn" `task` must pickle).

    With `combine`, the results of each run of `chunksize` consecutive cases (Problems in
    place) go to `combine(results)` where they were computed, and its value is what is
    yielded, one per chunk, in input order: a worker hands back one object per chunk (its
    rows already encoded), not one per case. With workers, a CatalogStream with `blocks`
    is handed to them block by block (each block one chunk)."""
    prepare = getattr(items, "prepare", None)
    blocks = getattr(items, "blocks", None)
    if prepare is not None:
        items = items.raw
    if workers <= 1:
        if combine is not None:
            for chunk in _chunks(items, chunksize):
                yield combine([_call_with(task, prepare, item) for item in chunk])
            return
        for item in items:
            yield _call_with(task, prepare, item)
        return
    # A catalog read in blocks of lines: the parent hands each worker bytes, which the
    # worker splits and parses (the parent would otherwise split every line and pickle it,
    # work the workers then wait on).
    chunks = blocks(chunksize) if blocks is not None else _chunks(items, chunksize)
    if combine is not None:
        yield from _run_in_pool((task, prepare, combine), chunks, workers, start_method)
        return
    for results in _run_in_pool((task, prepare, list), chunks, workers, start_method):
        yield from results


def _run_in_pool(initargs: tuple, chunks: Iterable[Any], workers: int, start_method: str | None) -> Iterator[Any]:
    """_call_chunk over each chunk in worker processes, its values in order."""
    # Pool.imap reads its whole input ahead; a semaphore keeps at most `window` chunks in
    # flight, so memory stays flat while the workers never wait for a window to drain.
    window = threading.BoundedSemaphore(workers * 4)

    stop = threading.Event()

    def feed() -> Iterator[Any]:
        for item in chunks:
            while not window.acquire(timeout=0.1):
                if stop.is_set():   # the run ended early (Ctrl-C, a closed pipe): let the pool end
                    return
            yield item

    if start_method is None:
        start_method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(start_method)
    halt = ctx.RawValue("b", 0)
    with _sigint_held() as release:
        pool = _Pool(workers, initializer=_start, initargs=(halt, *initargs), context=ctx)
        lost = False
        try:
            release()   # a Ctrl-C during start-up is raised here, with the pool whole
            # multiprocessing's Pool replaces a worker that dies and waits for ever for the
            # work it held: the workers it started are watched, and a death ends the run.
            started = list(pool._pool)
            results = pool.imap(_call_chunk, feed())
            while True:
                try:
                    result = results.next(timeout=_WATCH)
                except StopIteration:
                    break
                except multiprocessing.TimeoutError:
                    _check_alive(started)
                    continue
                window.release()
                yield result
        except RunError:
            lost = True
            raise
        finally:
            stop.set()
            (_abandon if lost else _end)(pool, halt)


class _Pool(multiprocessing.pool.Pool):
    """multiprocessing's Pool whose worker-maintenance thread wakes when a worker exits or
    the pool changes state, not whenever results wait in the result pipe: with large
    results that thread spun for as long as each one was being read (about a tenth of
    a core, taken from the workers)."""

    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]


# How long ending a run early waits for the workers to finish the case in hand.
_END_GRACE = 30.0
_WATCH = 1.0   # seconds without a result after which the workers are checked


def _check_alive(workers: list[Any]) -> None:
    for p in workers:
        code = p.exitcode
        if code not in (None, 0):
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            hint = " (out of memory?)" if code == -signal.SIGKILL else ""
            raise RunError(f"a worker process {how}{hint} before handing back its cases; the run stopped")


def _abandon(pool: Any, halt: Any) -> None:
    """End a pool one of whose workers died. Its work is lost, so the pool never drains,
    and a worker killed while handing back a result dies holding the result queue's lock,
    which Pool.terminate() (and its finaliser at exit) would wait on for ever. So: no more
    workers are started, the others are killed (the run has failed; what they hold would
    be thrown away), and the pool's finaliser is cancelled."""
    halt.value = 1
    pool._worker_handler._state = multiprocessing.pool.TERMINATE
    pool._change_notifier.put(None)   # wakes the maintenance thread, which then stops
    pool._worker_handler.join(5.0)
    for p in list(pool._pool):
        if p.exitcode is None:
            p.kill()
    for p in list(pool._pool):
        p.join(5.0)
    pool._terminate.cancel()


def _end(pool: Any, halt: Any) -> None:
    """End the pool without killing a busy worker. Pool.terminate() on busy workers can
    deadlock: its result thread stops reading while a worker is still writing a large
    result, and the worker holds the result queue's lock that terminate then needs.
    So the workers skip what is queued (halt), finish the case in hand, hand it back
    and exit; terminate() only then, on an idle pool, or after _END_GRACE seconds (a
    worker stuck in one case), or on a second Ctrl-C."""
    halt.value = 1
    try:
        pool.close()
        joiner = threading.Thread(target=pool.join, daemon=True)
        joiner.start()
        joiner.join(_END_GRACE)
    finally:
        pool.terminate()


@contextmanager
def _sigint_held() -> Iterator[Callable[[], None]]:
    """SIGINT blocked in this thread until `release()` (or the end): a Ctrl-C while the
    pool starts can neither leave a half-built pool behind (Pool() cleans up only on
    Exception) nor reach a forked worker before its initializer ignores it (workers
    inherit the blocked mask, and so do the pool's threads, which never need it)."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    held = [signal.SIGINT not in before]

    def release() -> None:
        if held[0]:
            held[0] = False
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    try:
        yield release
    finally:
        release()
