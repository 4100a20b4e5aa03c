"""`python -m devtools.bench.listing`: list 100,000 batches through the fake server, against a bare-httpx loop.

batches_ext's `client.list(limit=100)`, iterated to the end, against the floor: `httpx.Client.get("/batches",
params={"limit": 100, "after": ...})` + `json.loads` over the same pages. Targets (issue 13): time <= 1.3x the floor;
peak memory growth <= 20 MB while iterating, measured with tracemalloc in the client's process (the Python
allocations of the listing process, after imports and a first request; the server is another process).

One `batches_ext.testing.FakeServer` in its own process (`serve`) holds the batches for every measurement; it
reports how long seeding took and what one page costs the fake in process (`FakeBatchAPI.respond`, no socket).
Each measurement runs in a fresh process (`measure`): timed rounds alternate between the clients, then one
tracemalloc run each (tracemalloc slows Python down, so it never shares a run with the clock). `scripts/bench` runs
it too; alone: `python -m devtools.bench.listing [--quick] [--json PATH]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

BATCHES: Final = 100_000
QUICK_BATCHES: Final = 2_000
ROUNDS: Final = 3
PAGE: Final = 100  # the API's largest page: what both clients ask for
TIME_TARGET: Final = 1.3  # x the floor
MEMORY_TARGET_MB: Final = 20.0
API_KEY: Final = "sk-bench-listing"
SAMPLE_PAGES: Final = 200  # pages timed in process on the server side
MEASURE_TIMEOUT_S: Final = 600.0
CLIENTS: Final = ("batches_ext", "httpx")


# --- the server (its own process) ----------------------------------------------------------------------------------


def serve(batches: int) -> None:
    """Seed `batches` batches, time pages in process, serve; print the URL and those timings, then wait for stdin."""
    from batches_ext.testing import FakeBatchAPI, FakeServer  # noqa: PLC0415 - only the server process needs it

    api = FakeBatchAPI(api_key=API_KEY)
    start = time.perf_counter()
    statuses = ("in_progress", "completed", "cancelled", "failed", "expired")
    for n in range(batches):
        api.add_batch(f"batch_list_{n:06d}", status=statuses[n % len(statuses)], metadata={"run": str(n // 1000)})
    seed_s = time.perf_counter() - start
    headers = {"authorization": f"Bearer {API_KEY}"}
    after, page_s = "", []
    for _ in range(min(SAMPLE_PAGES, batches // PAGE)):
        start = time.perf_counter()
        reply = api.respond("GET", f"/v1/batches?limit={PAGE}&after={after}", headers)
        page_s.append(time.perf_counter() - start)
        after = json.loads(reply.body)["last_id"]
    with FakeServer(api) as server:
        print(json.dumps({"base_url": server.base_url, "seed_s": seed_s, "page_ms": statistics.median(page_s) * 1e3}))
        sys.stdout.flush()
        sys.stdin.read()  # until the parent closes it


# --- one measurement (its own process) -----------------------------------------------------------------------------


def measure(client: str, base_url: str, *, memory: bool) -> dict[str, Any]:
    """Walk every page once: the seconds (or, with `memory`, the tracemalloc peak growth) and what was seen."""
    if client == "batches_ext":
        from batches_ext import BatchesClient  # noqa: PLC0415

        with BatchesClient(API_KEY, base_url=base_url) as ours:
            next(iter(ours.list(limit=1)))  # connection, lazy imports, generated code: before the clock
            if memory:
                tracemalloc.start()
            before, start = tracemalloc.get_traced_memory()[0], time.perf_counter()
            batches = sum(1 for _ in ours.list(limit=PAGE))
            seconds = time.perf_counter() - start
            pages = -(-batches // PAGE)
    else:
        import httpx  # noqa: PLC0415

        with httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {API_KEY}"}) as http:
            http.get("/batches", params={"limit": 1}).raise_for_status()
            if memory:
                tracemalloc.start()
            before, start = tracemalloc.get_traced_memory()[0], time.perf_counter()
            batches = pages = 0
            params: dict[str, Any] = {"limit": PAGE}
            while True:
                response = http.get("/batches", params=params)
                response.raise_for_status()
                page = json.loads(response.content)
                batches += len(page["data"])
                pages += 1
                if not page["has_more"]:
                    break
                params = {"limit": PAGE, "after": page["last_id"]}
            seconds = time.perf_counter() - start
    result: dict[str, Any] = {"seconds": seconds, "batches": batches, "pages": pages}
    if memory:
        result["peak_growth_mb"] = (tracemalloc.get_traced_memory()[1] - before) / 1e6
        tracemalloc.stop()
    return result


# --- the run -------------------------------------------------------------------------------------------------------


@contextmanager
def _server(batches: int, info: dict[str, Any]) -> Iterator[str]:
    from devtools.bench.run import ROOT, child_env  # noqa: PLC0415 - run imports this module for scripts/bench

    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.bench.listing", "serve", str(batches)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=child_env(), text=True,
    )  # fmt: skip
    assert proc.stdout is not None  # noqa: S101 - stdout=PIPE
    assert proc.stdin is not None  # noqa: S101 - stdin=PIPE
    try:
        line = proc.stdout.readline()
        if not line.startswith("{"):
            raise RuntimeError(f"the listing benchmark's server did not start (exit code {proc.poll()})")
        info.update(json.loads(line))
        yield info["base_url"]
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _measure(client: str, base_url: str, *, memory: bool) -> dict[str, Any]:
    from devtools.bench.run import ROOT, child_env  # noqa: PLC0415

    command = [sys.executable, "-m", "devtools.bench.listing", "measure", client, base_url]
    done = subprocess.run(
        [*command, *(["--memory"] if memory else [])],
        capture_output=True, text=True, cwd=ROOT, env=child_env(), timeout=MEASURE_TIMEOUT_S, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"listing measure {client} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(*, quick: bool = False) -> dict[str, Any]:
    """Seed and serve, time both clients in alternating rounds, then one memory run each; samples and medians."""
    batches, rounds = (QUICK_BATCHES, 1) if quick else (BATCHES, ROUNDS)
    samples: dict[str, list[dict[str, Any]]] = {client: [] for client in CLIENTS}
    memory: dict[str, dict[str, Any]] = {}
    info: dict[str, Any] = {}
    print(f"listing: seeding {batches:,} batches...", file=sys.stderr)
    with _server(batches, info) as base_url:
        for round_number in range(rounds):
            for client, runs in samples.items():
                print(f"listing: {client} ({round_number + 1}/{rounds})...", file=sys.stderr)
                runs.append(_measure(client, base_url, memory=False))
        for client in CLIENTS:
            print(f"listing: {client} (tracemalloc)...", file=sys.stderr)
            memory[client] = _measure(client, base_url, memory=True)
    seen = {sample["batches"] for runs in samples.values() for sample in runs}
    if seen != {batches}:
        raise RuntimeError(f"the clients did not list every batch once: {seen} for {batches}")
    medians = {client: statistics.median(sample["seconds"] for sample in runs) for client, runs in samples.items()}
    ratio = medians["batches_ext"] / medians["httpx"]
    growth = memory["batches_ext"]["peak_growth_mb"]
    return {
        "batches": batches, "rounds": rounds, "pages": samples["httpx"][0]["pages"], "seed_s": info["seed_s"],
        "fake_page_ms": info["page_ms"], "medians": medians, "time_ratio": ratio, "memory": memory, "raw": samples,
        "targets": {"time": "met" if ratio <= TIME_TARGET else "missed",
                    "memory": "met" if growth <= MEMORY_TARGET_MB else "missed"},
    }  # fmt: skip


def render(result: dict[str, Any]) -> str:
    """One markdown bullet: the figures and the verdicts."""
    ours, floor = result["medians"]["batches_ext"], result["medians"]["httpx"]
    memory = result["memory"]
    samples = {client: ", ".join(f"{s['seconds']:.2f}" for s in runs) for client, runs in result["raw"].items()}
    return (
        f"- Listing {result['batches']:,} batches from the fake server ({result['pages']:,} pages of {PAGE}; median "
        f"of {result['rounds']}): batches_ext `client.list(limit={PAGE})` {ours:.2f} s ({samples['batches_ext']}), "
        f"bare-httpx floor {floor:.2f} s ({samples['httpx']}) = {result['time_ratio']:.2f}x (target <= "
        f"{TIME_TARGET}x: {result['targets']['time']}); peak memory growth (tracemalloc, client process) "
        f"{memory['batches_ext']['peak_growth_mb']:.2f} MB (floor {memory['httpx']['peak_growth_mb']:.2f} MB; "
        f"target <= {MEMORY_TARGET_MB:.0f} MB: {result['targets']['memory']}); the fake seeded them in "
        f"{result['seed_s']:.1f} s and builds a page in {result['fake_page_ms']:.2f} ms in process"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.listing", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode")
    serving = sub.add_parser("serve", help="(internal) seed BATCHES batches and serve them")
    serving.add_argument("batches", type=int)
    measuring = sub.add_parser("measure", help="(internal) one measurement")
    measuring.add_argument("client", choices=CLIENTS)
    measuring.add_argument("base_url")
    measuring.add_argument("--memory", action="store_true", help="trace allocations instead of timing")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_BATCHES:,} batches, one round")
    parser.add_argument("--json", metavar="PATH", help="also write the raw samples here")
    args = parser.parse_args(argv)
    if args.mode == "serve":
        serve(args.batches)
        return 0
    if args.mode == "measure":
        print(json.dumps(measure(args.client, args.base_url, memory=args.memory)))
        return 0
    result = run(quick=args.quick)
    print(render(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if set(result["targets"].values()) == {"met"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
