"""One measurement of one client, in a fresh process: `python -m devtools.bench.worker KIND CLIENT URL [options]`.

A process per measurement keeps the clients from disturbing each other: importing the openai SDK leaves ~100 MB
of objects that slow every later garbage collection, and memory can only be compared from a clean baseline.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from devtools.bench import clients
from devtools.bench.server import BATCH_BODY

KINDS: Final = ("cpu", "async", "parse", "hold", "results")
_WARMUP_CALLS: Final = 200  # connection set up, lazy imports and caches filled before the clock starts
_PARSE_REPEATS: Final = 7


def cpu_per_call(name: str, base_url: str, calls: int, rounds: int) -> dict[str, Any]:
    """Client CPU time per sequential `cancel` on one keep-alive client, in µs, one sample per round."""
    with clients.sync_cancel(name, base_url) as cancel:
        for _ in range(min(_WARMUP_CALLS, calls)):
            cancel()
        cpu_us, wall_us = [], []
        for _ in range(rounds):
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for _ in range(calls):
                cancel()
            cpu_us.append((time.process_time() - cpu0) / calls * 1e6)
            wall_us.append((time.perf_counter() - wall0) / calls * 1e6)
    return {"cpu_us": cpu_us, "wall_us": wall_us, "calls": calls}


def async_throughput(name: str, base_url: str, calls: int, rounds: int, concurrency: int) -> dict[str, Any]:
    """Requests per second for `calls` cancels, `concurrency` at a time, one sample per round."""

    async def run() -> list[float]:
        async with clients.async_cancel(name, base_url, concurrency) as cancel:

            async def burst(total: int) -> float:
                todo = iter(range(total))  # shared by the workers: each takes the next call until none is left

                async def work() -> None:
                    for _ in todo:
                        await cancel()

                start = time.perf_counter()
                await asyncio.gather(*(work() for _ in range(concurrency)))
                return total / (time.perf_counter() - start)

            await burst(min(_WARMUP_CALLS, calls))
            return [await burst(calls) for _ in range(rounds)]

    return {"rps": asyncio.run(run()), "calls": calls, "concurrency": concurrency}


def parse_cost(name: str) -> dict[str, Any]:
    """µs to turn the 922-byte wire body into the client's object (median of `_PARSE_REPEATS` timeit runs)."""
    parse = parser_checked(name)
    timer = timeit.Timer(lambda: parse(BATCH_BODY))
    number, _ = timer.autorange()  # enough loops for about 0.2 s per run
    runs = timer.repeat(_PARSE_REPEATS, number)
    return {"us": [run / number * 1e6 for run in runs], "number": number, "payload_bytes": len(BATCH_BODY)}


def parser_checked(name: str) -> Callable[[bytes], object]:
    """The client's parser, after checking it really parses (a benchmark of a failing call measures nothing)."""
    parse = clients.parser(name)
    parsed = parse(BATCH_BODY)
    status = parsed["status"] if isinstance(parsed, dict) else parsed.status  # type: ignore[attr-defined]
    if status != "cancelling":
        raise AssertionError(f"{name} parsed the payload to {parsed!r}")
    return parse


def hold_memory(name: str, count: int) -> dict[str, Any]:
    """RSS growth while holding `count` parsed batches, each parsed from its own copy of the wire bytes."""
    parse = parser_checked(name)
    gc.collect()
    before = _rss_bytes()
    held = [parse(bytes(BATCH_BODY)) for _ in range(count)]
    gc.collect()
    after = _rss_bytes()
    del held
    return {"mb": (after - before) / 1e6, "bytes_per_object": (after - before) / count, "count": count}


def results_memory(name: str, base_url: str, expected: int) -> dict[str, Any]:
    """Peak RSS growth while iterating the server's results file; None when the client cannot stream one."""
    if not clients.results_available(name):
        return {"mb": None, "reason": "iter_results not yet available"}
    clients.preload(name, base_url)  # imports and SSL setup are not part of iterating
    gc.collect()
    _reset_peak_rss()
    before = _rss_bytes()
    start = time.perf_counter()
    records = sum(1 for _ in clients.iter_results(name, base_url))
    seconds = time.perf_counter() - start
    peak = _peak_rss_bytes()
    if records != expected:
        raise AssertionError(f"{name} yielded {records} records, the file has {expected}")
    return {"mb": (peak - before) / 1e6, "records": records, "seconds": seconds}


# --- RSS from /proc (Linux): peak and current, in bytes -------------------------------------------------------


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _rss_bytes() -> int:
    return _status_kb("VmRSS")


def _peak_rss_bytes() -> int:
    return _status_kb("VmHWM")


def _reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS, so the peak seen later is this measurement's (Linux >= 4.0)."""
    # Where that is not allowed, VmHWM keeps the start-up peak, below the baseline: the growth is an upper bound.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("client", choices=clients.CLIENTS)
    parser.add_argument("base_url", nargs="?", default="")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args(argv)
    if args.kind == "cpu":
        result = cpu_per_call(args.client, args.base_url, args.calls, args.rounds)
    elif args.kind == "async":
        result = async_throughput(args.client, args.base_url, args.calls, args.rounds, args.concurrency)
    elif args.kind == "parse":
        result = parse_cost(args.client)
    elif args.kind == "hold":
        result = hold_memory(args.client, args.count)
    else:
        result = results_memory(args.client, args.base_url, args.count)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
