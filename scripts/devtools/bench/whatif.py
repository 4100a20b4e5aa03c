"""What two suggested changes to batches_ext would buy, measured by patching them in: `python -m devtools.bench.whatif`.

1. `fast-build`: `ClientCore._build` with the layer's headers set once on the owned httpx client and each request URL
   parsed once (`functools.lru_cache` on the path) and passed to `build_request` as an `httpx.URL`, instead of a
   URL string and a headers dict merged on every call. Measured: client CPU per sync `cancel`.
2. pools: the async client on its own transport (`batches_ext._pool.ShardedAsyncTransport`, adopted from this
   experiment) against a plain `httpx.AsyncClient()` passed as `http_client`. httpcore re-scans every connection
   of its pool, with socket syscalls, on each request and response; with 64 requests in flight that scan is about
   half the client's CPU. Measured: async throughput.

Both run against the benchmark server, current and patched alternating in one process. They patch internals
(`ClientCore._build`), so they are experiments, to be redone in batches_ext itself; nothing here ships.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from batches_ext import AsyncBatchesClient, BatchesClient
from batches_ext._core import ClientCore
from batches_ext._settings import NotGiven, as_timeout
from devtools.bench import clients
from devtools.bench.run import bench_server


def _cpu_per_call(call: Callable[[], object], calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - start) / calls * 1e6


def fast_build(client: BatchesClient) -> Callable[..., httpx.Request]:
    """A `ClientCore._build` for `client` that merges no headers and parses each URL once."""
    http = client._generated.get_httpx_client()  # internals on purpose: this is an experiment
    settings = client._core.settings
    http.headers.update(settings.headers)  # once, instead of on every request
    url_for = functools.lru_cache(maxsize=256)(lambda path: httpx.URL(settings.base_url + path))

    def _build(self: ClientCore, http: Any, kwargs: dict[str, Any], timeout: Any) -> httpx.Request:
        resolved = self.settings.timeout if isinstance(timeout, NotGiven) else as_timeout(timeout)
        return http.build_request(kwargs["method"], url_for(kwargs["url"]), timeout=resolved)  # type: ignore[no-any-return]

    return _build


def compare_build(base_url: str, calls: int, rounds: int) -> dict[str, list[float]]:
    """CPU µs per sync cancel: the current client, the patched one, and the floor, alternating."""
    original = ClientCore._build
    samples: dict[str, list[float]] = {"current": [], "fast-build": [], "floor": []}
    with (
        BatchesClient(api_key=clients.API_KEY, base_url=base_url) as current,
        BatchesClient(api_key=clients.API_KEY, base_url=base_url) as patched,
        clients.sync_cancel("httpx", base_url) as floor,
    ):
        patched_build = fast_build(patched)
        for _ in range(200):  # warm-up: connections, caches
            current.cancel(clients.BATCH_ID)
            floor()
        for _ in range(rounds):
            samples["current"].append(_cpu_per_call(lambda: current.cancel(clients.BATCH_ID), calls))
            ClientCore._build = patched_build  # type: ignore[method-assign]
            try:
                samples["fast-build"].append(_cpu_per_call(lambda: patched.cancel(clients.BATCH_ID), calls))
            finally:
                ClientCore._build = original  # type: ignore[method-assign]
            samples["floor"].append(_cpu_per_call(floor, calls))
    return samples


def compare_pools(base_url: str, calls: int, rounds: int, concurrency: int = 64) -> dict[str, list[float]]:
    """Async cancels per second at `concurrency`: the client's own sharded pool and httpx's single pool, alternating."""

    async def burst(batches: AsyncBatchesClient, total: int) -> float:
        todo = iter(range(total))

        async def work() -> None:
            for _ in todo:
                await batches.cancel(clients.BATCH_ID)

        start = time.perf_counter()
        await asyncio.gather(*(work() for _ in range(concurrency)))
        return total / (time.perf_counter() - start)

    async def run() -> dict[str, list[float]]:
        samples: dict[str, list[float]] = {"client's own pool (sharded)": [], "httpx's default pool": []}
        for _ in range(rounds):
            async with AsyncBatchesClient(api_key=clients.API_KEY, base_url=base_url) as batches:
                await burst(batches, 300)
                samples["client's own pool (sharded)"].append(await burst(batches, calls))
            async with (
                httpx.AsyncClient() as http,
                AsyncBatchesClient(api_key=clients.API_KEY, base_url=base_url, http_client=http) as batches,
            ):
                await burst(batches, 300)
                samples["httpx's default pool"].append(await burst(batches, calls))
        return samples

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=64, help="async cancels in flight (over 100: some wait)")
    parser.add_argument("--json", action="store_true", help="print the raw samples as JSON")
    args = parser.parse_args(argv)
    with bench_server(1000) as base_url:
        build = compare_build(base_url, args.calls, args.rounds)
        pools = compare_pools(base_url, args.calls, max(1, args.rounds // 2), args.concurrency)
    if args.json:
        print(json.dumps({"cpu_us": build, "rps": pools}, indent=2))
        return
    print("| Experiment | Median | Samples |\n|---|---|---|")
    for name, values in build.items():
        print(f"| sync cancel, client CPU: {name} | {statistics.median(values):.0f} µs | {len(values)} |")
    for name, values in pools.items():
        median = statistics.median(values)
        print(f"| async cancels at concurrency {args.concurrency}: {name} | {median:.0f} req/s | {len(values)} |")


if __name__ == "__main__":
    main()
