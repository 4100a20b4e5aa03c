"""`python -m devtools.bench.slow_neighbour`: do fast requests wait for a slow one once more than 100 are in flight?

One cancel that the server answers only after `SLOW_S` seconds goes first; once it is in flight, `FAST` cancels
(more than the 100 connections each client may open) go at once. Measured: seconds until every fast cancel has its
answer (the slow one excluded), for `AsyncBatchesClient` with its own pool and for bare `httpx.AsyncClient()` (its
default pool of 100). A pool that queues a request on one fixed busy connection makes it wait out the slow answer
(about `SLOW_S`); one that gives each freed connection to the next waiting request finishes in a few round trips.
The server is `devtools.bench.server --slow-seconds`, in its own process; rounds alternate between the clients.
`scripts/bench` runs it too; alone: `python -m devtools.bench.slow_neighbour [--quick] [--json PATH]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Final

from devtools.bench import clients

FAST: Final = 200  # in flight at once beside the slow one: twice httpx's default of 100 connections
SLOW_S: Final = 3.0
ROUNDS: Final = 3
QUICK_FAST, QUICK_SLOW_S, QUICK_ROUNDS = 150, 1.0, 1
SLOW_ID: Final = "batch_slow"  # the server delays paths holding "slow"
_STARTED_S: Final = 0.2  # head start of the slow request, so that it holds a connection when the others come
CLIENTS: Final = ("batches_ext", "httpx")

Cancel = Callable[[str], Awaitable[object]]


def _client(name: str, base_url: str) -> AbstractAsyncContextManager[Cancel]:
    return {"batches_ext": _ext, "httpx": _httpx}[name](base_url)


@asynccontextmanager
async def _ext(base_url: str) -> AsyncIterator[Cancel]:
    from batches_ext import AsyncBatchesClient  # noqa: PLC0415 - as in devtools.bench.clients

    async with AsyncBatchesClient(api_key=clients.API_KEY, base_url=base_url, max_retries=0) as client:
        yield client.cancel


@asynccontextmanager
async def _httpx(base_url: str) -> AsyncIterator[Cancel]:
    import httpx  # noqa: PLC0415 - as in devtools.bench.clients

    headers = {"Authorization": f"Bearer {clients.API_KEY}"}
    async with httpx.AsyncClient(timeout=60) as http:

        async def cancel(batch_id: str) -> object:
            response = await http.post(f"{base_url}/batches/{batch_id}/cancel", headers=headers)
            response.raise_for_status()
            return json.loads(response.content)

        yield cancel


async def one_round(name: str, base_url: str, fast: int) -> dict[str, float]:
    """Seconds until every fast cancel is answered, and until the slow one is, on a fresh client."""
    async with _client(name, base_url) as cancel:
        start = time.perf_counter()
        slow = asyncio.create_task(cancel(SLOW_ID))
        await asyncio.sleep(_STARTED_S)
        fast_start = time.perf_counter()
        await asyncio.gather(*(cancel(f"batch_{n}") for n in range(fast)))
        fast_s = time.perf_counter() - fast_start
        await slow
        return {"fast_s": fast_s, "slow_s": time.perf_counter() - start}


def run(*, quick: bool = False) -> dict[str, Any]:
    """Every round of every client, alternating; raw samples and parameters."""
    from devtools.bench.run import bench_server  # noqa: PLC0415 - devtools.bench.run imports this module

    fast, slow_s, rounds = (QUICK_FAST, QUICK_SLOW_S, QUICK_ROUNDS) if quick else (FAST, SLOW_S, ROUNDS)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in CLIENTS}
    with bench_server(1000, slow_seconds=slow_s) as base_url:
        for _ in range(rounds):
            for name in CLIENTS:
                samples[name].append(asyncio.run(one_round(name, base_url, fast)))
    return {"fast": fast, "slow_s": slow_s, "rounds": rounds, "samples": samples}


def render(result: dict[str, Any]) -> str:
    """One markdown line per client: the median time for the fast requests, and every sample."""
    lines = [
        f"Slow neighbour: {result['fast']} fast cancels in flight beside one answered after {result['slow_s']:g} s "
        f"(median of {result['rounds']}; `python -m devtools.bench.slow_neighbour`):",
    ]
    for name, rounds in result["samples"].items():
        fast = [sample["fast_s"] for sample in rounds]
        shown = ", ".join(f"{value:.2f}" for value in fast)
        lines.append(f"- {name}: every fast cancel answered in {statistics.median(fast):.2f} s (samples: {shown})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.slow_neighbour", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FAST} fast cancels, {QUICK_SLOW_S:g} s, 1 round")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the raw samples as JSON here")
    args = parser.parse_args(argv)
    result = run(quick=args.quick)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
