"""Where batches_ext spends its time: `python -m devtools.bench.profile {cpu,async,import} [--calls N]`.

- `cpu`: cProfile around sequential `BatchesClient.cancel` calls against the benchmark server;
- `async`: cProfile around `AsyncBatchesClient.cancel` calls at concurrency 64;
- `import`: `python -X importtime -c "import batches_ext"`, the median over runs of each module's cumulative time.

cProfile inflates small Python functions several times over, so its numbers rank costs rather than measure them;
the timeit figures in BENCHMARKS.md measure them.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import re
import statistics
import subprocess
import sys
from typing import Final

from devtools.bench import clients
from devtools.bench.run import ROOT, bench_server, child_env

# Frames worth showing: the layer, the generated code, and the httpx stack underneath.
_INTERESTING: Final = r"batches_ext|openai_batches_client|httpx/_client|httpx/_models|httpx/_urlparse|httpcore|json"
_IMPORTTIME: Final = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _print_stats(profile: cProfile.Profile, calls: int, limit: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(_INTERESTING, limit)
    print(f"cumulative, {calls} calls (divide by {calls} for per-call seconds):")
    print(out.getvalue())
    out.seek(0)
    out.truncate()
    stats.sort_stats("tottime").print_stats(limit)
    print("own time (tottime), every module:")
    print(out.getvalue())


def profile_cpu(calls: int, limit: int) -> None:
    with bench_server(1000) as base_url, clients.sync_cancel("batches_ext", base_url) as cancel:
        for _ in range(200):
            cancel()
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(calls):
            cancel()
        profile.disable()
    _print_stats(profile, calls, limit)


def profile_async(calls: int, limit: int, concurrency: int = 64) -> None:
    async def run(base_url: str) -> cProfile.Profile:
        async with clients.async_cancel("batches_ext", base_url, concurrency) as cancel:
            await asyncio.gather(*(cancel() for _ in range(concurrency)))
            todo = iter(range(calls))

            async def work() -> None:
                for _ in todo:
                    await cancel()

            profile = cProfile.Profile()
            profile.enable()
            await asyncio.gather(*(work() for _ in range(concurrency)))
            profile.disable()
            return profile

    with bench_server(1000) as base_url:
        profile = asyncio.run(run(base_url))
    _print_stats(profile, calls, limit)


def profile_import(runs: int, limit: int) -> None:
    cumulative: dict[str, list[int]] = {}
    depth: dict[str, int] = {}
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import batches_ext"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env=child_env(),
        )
        for line in done.stderr.splitlines():
            match = _IMPORTTIME.match(line)
            if match:
                cumulative.setdefault(match[4], []).append(int(match[2]))
                depth.setdefault(match[4], len(match[3]) // 2)
    ranked = sorted(cumulative.items(), key=lambda item: -statistics.median(item[1]))
    print(f"`import batches_ext`, -X importtime, median of {runs} runs (importtime itself adds ~30%):")
    for name, micros in ranked[:limit]:
        print(f"{statistics.median(micros) / 1000:8.1f} ms  {'  ' * depth[name]}{name}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("cpu", "async", "import"))
    parser.add_argument("--calls", type=int, default=3000, help="profiled calls (import: runs)")
    parser.add_argument("--limit", type=int, default=30, help="rows per listing")
    args = parser.parse_args(argv)
    if args.what == "cpu":
        profile_cpu(args.calls, args.limit)
    elif args.what == "async":
        profile_async(args.calls, args.limit)
    else:
        profile_import(min(args.calls, 15), args.limit)


if __name__ == "__main__":
    main()
