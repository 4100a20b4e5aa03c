"""`python -m devtools.bench.bulk_cancel`: stop 1,000 running batches on the fake server while 5 % of requests get 429.

The official SDK's obvious script (a sequential `for b in client.batches.list():` that cancels the running ones and
catches `openai.APIError`) against `client.cancel_many(client.find(status="in_progress"))`. Target (issue 13):
batches_ext >= 5x faster in wall time, every batch stopped, no unhandled error.

Each measurement gets a fresh `batches_ext.testing.FakeServer` in its own process (`serve`: real sockets, the
batches seeded `in_progress`, one request in twenty answered 429 with `retry-after-ms: 50` through the fake's fault
injection, the same seeded draws for every client of a round) and runs its client in another fresh process
(`measure`). Afterwards the run lists every batch with bare httpx to check that each one is stopped, and the server
reports how many requests it answered and how many of them with 429. `scripts/bench` runs it too; alone:
`python -m devtools.bench.bulk_cancel [--quick] [--json PATH]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

BATCHES: Final = 1000
QUICK_BATCHES: Final = 50
ROUNDS: Final = 3
RATE_LIMITED_SHARE: Final = 0.05
RETRY_AFTER_MS: Final = "50"
TIME_TARGET: Final = 5.0  # batches_ext at least this many times faster than the SDK script
API_KEY: Final = "sk-bench-bulk"
CANCEL_DELAY_S: Final = 3600.0  # batches stay `cancelling` for the whole run: the check sees what the cancels did
MEASURE_TIMEOUT_S: Final = 300.0
STOPPED: Final = frozenset({"cancelling", "cancelled"})
# What each measured client runs: the SDK script, and cancel_many at its default and at its highest concurrency.
CLIENTS: Final = {
    "openai": "for b in client.batches.list(): if b.status == 'in_progress': cancel, catching openai.APIError",
    "batches_ext": "client.cancel_many(client.find(status='in_progress'))  # concurrency=8, the default",
    "batches_ext_64": "client.cancel_many(client.find(status='in_progress'), concurrency=64)",
    "batches_ext_async_64": "await AsyncBatchesClient.cancel_many(<its find(status='in_progress')>, concurrency=64)",
}


# --- the server (its own process) ----------------------------------------------------------------------------------


def serve(batches: int, seed: int) -> None:
    """Serve `batches` running batches with the 429 share; print the URL, then the counts once stdin closes."""
    from batches_ext.testing import FakeBatchAPI, FakeServer  # noqa: PLC0415 - only the server process needs it

    api = FakeBatchAPI(api_key=API_KEY, cancel_delay=CANCEL_DELAY_S)
    for n in range(batches):
        api.add_batch(f"batch_bulk_{n:06d}", status="in_progress", total=100, completed=n % 100)
    budget = 10 * batches  # more faults than the run can use: the share holds for every request
    api.inject_errors(budget, 429, {"retry-after-ms": RETRY_AFTER_MS}, share=RATE_LIMITED_SHARE, seed=seed)
    with FakeServer(api) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()  # until the parent closes it
        requests = len(api.requests)
        rate_limited = budget - len(api.pending_faults)
        errors = [repr(error) for error in server.errors]
    print(json.dumps({"requests": requests, "rate_limited": rate_limited, "server_errors": errors}), flush=True)


# --- one measurement (its own process) -----------------------------------------------------------------------------


def measure(client: str, base_url: str) -> dict[str, Any]:
    """Run one client's bulk cancel; its wall time and what it says happened (imports and setup not timed)."""
    if client == "openai":
        import openai  # noqa: PLC0415

        sdk = openai.OpenAI(api_key=API_KEY, base_url=base_url)
        caught: list[str] = []
        unhandled = None
        start = time.perf_counter()
        try:
            for b in sdk.batches.list():
                if b.status == "in_progress":
                    try:
                        sdk.batches.cancel(b.id)
                    except openai.APIError as exc:
                        caught.append(type(exc).__name__)
        except Exception as exc:  # what the script would die of is the figure
            unhandled = f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - start
        sdk.close()
        return {"seconds": seconds, "caught": dict(Counter(caught)), "unhandled": unhandled}
    if client.startswith("batches_ext_async"):
        return _measure_async(base_url, int(client.rpartition("_")[2]))
    from batches_ext import BatchesClient  # noqa: PLC0415

    concurrency = int(client.rpartition("_")[2]) if client != "batches_ext" else None
    with BatchesClient(API_KEY, base_url=base_url) as ours:
        unhandled = None
        counts: dict[str, int] = {}
        start = time.perf_counter()
        try:
            running = ours.find(status="in_progress")
            report = (
                ours.cancel_many(running) if concurrency is None else ours.cancel_many(running, concurrency=concurrency)
            )
            counts = {name: n for name, n in report.counts.items() if n}
        except Exception as exc:  # reported, not raised: the figure
            unhandled = f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "outcomes": counts, "unhandled": unhandled}


def _measure_async(base_url: str, concurrency: int) -> dict[str, Any]:
    """The async twin: `AsyncBatchesClient.cancel_many` over what its `find` yields."""
    import asyncio  # noqa: PLC0415

    from batches_ext import AsyncBatchesClient  # noqa: PLC0415

    async def bulk() -> dict[str, Any]:
        async with AsyncBatchesClient(API_KEY, base_url=base_url) as ours:
            unhandled = None
            counts: dict[str, int] = {}
            start = time.perf_counter()
            try:
                running = [batch async for batch in ours.find(status="in_progress")]
                report = await ours.cancel_many(running, concurrency=concurrency)
                counts = {name: n for name, n in report.counts.items() if n}
            except Exception as exc:  # reported, not raised: the figure
                unhandled = f"{type(exc).__name__}: {exc}"
            return {"seconds": time.perf_counter() - start, "outcomes": counts, "unhandled": unhandled}

    return asyncio.run(bulk())


# --- the run -------------------------------------------------------------------------------------------------------


def check_stopped(base_url: str) -> dict[str, Any]:
    """List every batch with bare httpx (waiting out 429s): how many are in each status, and the requests it took."""
    import httpx  # noqa: PLC0415

    statuses: Counter[str] = Counter()
    requests = rate_limited = 0
    after = None
    with httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {API_KEY}"}) as http:
        while True:
            params = {"limit": 100} | ({"after": after} if after else {})
            response = http.get("/batches", params=params)
            requests += 1
            if response.status_code == 429:
                rate_limited += 1
                time.sleep(int(response.headers.get("retry-after-ms", "50")) / 1000)
                continue
            response.raise_for_status()
            page = response.json()
            statuses.update(batch["status"] for batch in page["data"])
            if not page["has_more"]:
                break
            after = page["last_id"]
    return {"statuses": dict(statuses), "requests": requests, "rate_limited": rate_limited}


@contextmanager
def _server(batches: int, seed: int, outcome: dict[str, Any]) -> Iterator[str]:
    from devtools.bench.run import ROOT, child_env  # noqa: PLC0415 - run imports this module for scripts/bench

    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.bench.bulk_cancel", "serve", str(batches), str(seed)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=child_env(), text=True,
    )  # fmt: skip
    assert proc.stdout is not None  # noqa: S101 - stdout=PIPE
    assert proc.stdin is not None  # noqa: S101 - stdin=PIPE
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the bulk-cancel benchmark's server did not start (exit code {proc.poll()})")
        yield url
        proc.stdin.close()
        outcome.update(json.loads(proc.stdout.readline()))
    finally:
        if not proc.stdin.closed:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one(client: str, batches: int, seed: int) -> dict[str, Any]:
    """One measurement: a fresh server, the client in a fresh process, then the check."""
    from devtools.bench.run import ROOT, child_env  # noqa: PLC0415

    server: dict[str, Any] = {}
    with _server(batches, seed, server) as base_url:
        done = subprocess.run(
            [sys.executable, "-m", "devtools.bench.bulk_cancel", "measure", client, base_url],
            capture_output=True, text=True, cwd=ROOT, env=child_env(), timeout=MEASURE_TIMEOUT_S, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"bulk_cancel measure {client} failed:\n{done.stderr}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        check = check_stopped(base_url)
    stopped = sum(n for status, n in check["statuses"].items() if status in STOPPED)
    result |= {
        "stopped": stopped,
        "not_stopped": batches - stopped,
        "requests": server["requests"] - check["requests"],
        "rate_limited": server["rate_limited"] - check["rate_limited"],
        "server_errors": server["server_errors"],
    }
    return result


def run(*, quick: bool = False, clients: tuple[str, ...] = tuple(CLIENTS)) -> dict[str, Any]:
    """Every client in alternating rounds (round r's fake draws its 429s from seed r); raw samples and medians."""
    batches, rounds = (QUICK_BATCHES, 1) if quick else (BATCHES, ROUNDS)
    samples: dict[str, list[dict[str, Any]]] = {client: [] for client in clients}
    for round_number in range(rounds):
        for client, runs in samples.items():
            print(f"bulk_cancel: {client} ({round_number + 1}/{rounds})...", file=sys.stderr)
            runs.append(one(client, batches, seed=round_number))
    medians = {client: statistics.median(sample["seconds"] for sample in runs) for client, runs in samples.items()}
    ratios = {client: medians["openai"] / seconds for client, seconds in medians.items() if client != "openai"}
    clean = {
        client: all(s["not_stopped"] == 0 and s["unhandled"] is None and not s["server_errors"] for s in runs)
        for client, runs in samples.items()
    }
    targets = {
        client: "met" if ratio >= TIME_TARGET and clean[client] else "missed"
        for client, ratio in ratios.items()
    }  # fmt: skip
    return {
        "batches": batches, "rounds": rounds, "share": RATE_LIMITED_SHARE, "retry_after_ms": int(RETRY_AFTER_MS),
        "medians": medians, "speedup": ratios, "all_stopped": clean, "targets": targets, "raw": samples,
        "scripts": {client: CLIENTS[client] for client in clients},
    }  # fmt: skip


def render(result: dict[str, Any]) -> str:
    """Markdown bullets: each client's median, the speed-ups, what the check found, the verdicts."""
    medians, raw = result["medians"], result["raw"]
    lines = [
        f"- Bulk cancel of {result['batches']:,} running batches on the fake server, {result['share']:.0%} of "
        f"requests answered 429 (`retry-after-ms: {result['retry_after_ms']}`), median of {result['rounds']}:"
    ]
    for client, runs in raw.items():
        seconds = ", ".join(f"{s['seconds']:.2f}" for s in runs)
        requests = statistics.median(s["requests"] for s in runs)
        limited = statistics.median(s["rate_limited"] for s in runs)
        stopped = min(s["stopped"] for s in runs)
        unhandled = sum(1 for s in runs if s["unhandled"])
        extra = ""
        if client in result["speedup"]:
            extra = (
                f"; {result['speedup'][client]:.1f}x faster than the SDK script "
                f"(target >= {TIME_TARGET:.0f}x: {result['targets'][client]})"
            )
        lines.append(
            f"  - {client}: {medians[client]:.2f} s (samples {seconds}); ~{requests:.0f} requests, "
            f"~{limited:.0f} answered 429; at least {stopped:,} of {result['batches']:,} stopped; "
            f"{unhandled} run(s) with an unhandled error{extra}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.bulk_cancel", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode")
    serving = sub.add_parser("serve", help="(internal) serve the fake with BATCHES running batches")
    serving.add_argument("batches", type=int)
    serving.add_argument("seed", type=int)
    measuring = sub.add_parser("measure", help="(internal) one measurement")
    measuring.add_argument("client", choices=list(CLIENTS))
    measuring.add_argument("base_url")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_BATCHES} batches, one round")
    parser.add_argument("--client", action="append", choices=list(CLIENTS), help="only these clients (openai always)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw samples here")
    args = parser.parse_args(argv)
    if args.mode == "serve":
        serve(args.batches, args.seed)
        return 0
    if args.mode == "measure":
        print(json.dumps(measure(args.client, args.base_url)))
        return 0
    chosen = tuple(dict.fromkeys(["openai", *(args.client or CLIENTS)]))
    result = run(quick=args.quick, clients=chosen)
    print(render(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if set(result["targets"].values()) == {"met"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
