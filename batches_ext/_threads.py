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
from typing import TypeVar

__all__ = ["run_each"]

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def run_each(
    fn: Callable[[T], R], items: Sequence[T], concurrency: int
) -> Iterator[Iterator[tuple[int, R | BaseException]]]:
    """Call `fn` on every item, at most `concurrency` at once; iterate `(index, result)` as each call finishes.

    A call that raised gives its exception as the result: the caller decides what stops the rest. Leaving the
    `with` block, normally or not (an exception, or a KeyboardInterrupt while waiting for a result), stops new
    calls at once. Calls already running finish on their threads (each bounded by its own request timeouts) and
    their results are dropped; the threads are daemons, so an interrupted program exits without waiting for them.
    """
    stop = threading.Event()
    taken = itertools.count()
    take_lock = threading.Lock()
    results: queue.SimpleQueue[tuple[int, R | BaseException]] = queue.SimpleQueue()

    def work() -> None:
        while not stop.is_set():
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
            yield results.get()  # a KeyboardInterrupt here reaches the caller (lock waits are interruptible)

    for number in range(min(concurrency, len(items))):
        threading.Thread(target=work, name=f"batches-ext-worker-{number}", daemon=True).start()
    try:
        yield collect()
    finally:
        stop.set()
