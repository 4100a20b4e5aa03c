"""`run_each` for the sync client: a function over items on a few threads, results back in the calling thread.

The async client's twin is `_tasks.py` (same name and contract, with tasks), so `cancel_many` is written once in
`_client.py` and its async twin stays generated. httpx's `Client` is thread-safe, so the threads share the
client's connection pool.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Final, TypeVar

__all__ = ["run_each"]

_STOP_CHECK_S: Final = 0.1  # how often a worker waiting for the caller to catch up checks whether to stop
T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def run_each(
    fn: Callable[[T], R], items: Sequence[T], concurrency: int
) -> Iterator[Iterator[tuple[int, R | BaseException]]]:
    """Call `fn` on every item, at most `concurrency` at once; iterate `(index, result)` as each call finishes.

    A call that raised gives its exception as the result: the caller decides what stops the rest. A call starts
    only while fewer than `concurrency` results are running or waiting for the caller, so the calls never run ahead
    of what the caller has seen by more than that. Leaving the `with` block, normally or not (an exception, or a
    KeyboardInterrupt while waiting for a result), stops new calls at once. Calls already running finish on their
    threads (each bounded by its own request timeouts) and their results are dropped; the threads are daemons, so
    an interrupted program exits without waiting for them.
    """
    stop = threading.Event()
    taken = itertools.count()
    take_lock = threading.Lock()
    unseen = threading.Semaphore(concurrency)  # one permit per call running or result not yet taken by the caller
    results: queue.SimpleQueue[tuple[int, R | BaseException]] = queue.SimpleQueue()

    def work() -> None:
        while True:
            while not unseen.acquire(timeout=_STOP_CHECK_S):
                if stop.is_set():
                    return
            if stop.is_set():
                return
            with take_lock:
                index = next(taken)
            if index >= len(items):
                return
            try:
                result: R | BaseException = fn(items[index])
            except BaseException as exc:  # handed to the caller, who re-raises what is not an outcome
                result = exc
            results.put((index, result))

    def collect() -> Iterator[tuple[int, R | BaseException]]:
        for _ in range(len(items)):
            result = results.get()  # a KeyboardInterrupt here reaches the caller (lock waits are interruptible)
            unseen.release()
            yield result

    for number in range(min(concurrency, len(items))):
        threading.Thread(target=work, name=f"batches-ext-worker-{number}", daemon=True).start()
    try:
        yield collect()
    finally:
        stop.set()
