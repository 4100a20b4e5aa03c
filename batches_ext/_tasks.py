"""`run_each` for the async client: a coroutine function over items on a few tasks, results back as they finish.

The twin of `_threads.py` (same name and contract), so `_async_client.py` stays generated from `_client.py`.
A fixed set of worker tasks takes the items in turn (the bound a semaphore would give, without a task per item:
memory stays flat for 100,000 ids).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

__all__ = ["run_each"]

T = TypeVar("T")
R = TypeVar("R")


@asynccontextmanager
async def run_each(
    fn: Callable[[T], Awaitable[R]], items: Sequence[T], concurrency: int
) -> AsyncIterator[AsyncIterator[tuple[int, R | BaseException]]]:
    """Await `fn` on every item, at most `concurrency` at once; iterate `(index, result)` as each call finishes.

    A call that raised gives its exception as the result: the caller decides what stops the rest. A call starts
    only while fewer than `concurrency` results are running or waiting for the caller. Leaving the
    `async with` block, normally or not (an exception, or the calling task being cancelled), cancels the calls
    still running and starts no new one; it returns once they have ended.
    """
    import asyncio  # noqa: PLC0415 - deferred like every asyncio import in the package (import time)

    results: asyncio.Queue[tuple[int, R | BaseException]] = asyncio.Queue()
    indexes = iter(range(len(items)))  # shared by the workers: each takes the next item when it is free
    unseen = asyncio.Semaphore(concurrency)  # one permit per call running or result not yet taken by the caller

    async def work() -> None:
        while True:
            await unseen.acquire()
            index = next(indexes, None)
            if index is None:
                return
            try:
                result: R | BaseException = await fn(items[index])
            except asyncio.CancelledError as exc:
                task = asyncio.current_task()
                if task is None or task.cancelling():  # this worker is being stopped
                    raise
                result = exc  # a cancellation from inside the call: an outcome like any error, not a silent stop
            except BaseException as exc:  # handed to the caller, who re-raises what is not an outcome
                result = exc
            results.put_nowait((index, result))

    async def collect() -> AsyncIterator[tuple[int, R | BaseException]]:
        for _ in range(len(items)):
            result = await results.get()
            unseen.release()
            yield result

    workers = [asyncio.create_task(work()) for _ in range(min(concurrency, len(items)))]
    try:
        yield collect()
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
