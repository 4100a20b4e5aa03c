"""`python -m devtools.bench.resume`: a 1 GB results file on the fake server, cut 3 times, read and written whole.

Issue 15's targets. `iter_results` over the file while the fake (`FakeServer`, real sockets) drops the connection
three times: every record once, peak memory growth <= 50 MB, time <= 1.3x the floor (bare httpx `stream()` +
`iter_lines()` + `json.loads` over the same file, never cut). `download_results` of the same file, cut the same way:
peak memory growth <= 20 MB. The file is written lazily to a temporary folder (1 GB of disk, deleted afterwards) and
served from disk by the fake in its own process (`serve`); each measurement runs in a fresh process (`measure`),
rounds alternate between the three. Memory is peak RSS growth (VmHWM reset through /proc/self/clear_refs after
imports and a warm-up request, as the main table's results row). `scripts/bench` runs it too; alone:
`python -m devtools.bench.resume [--quick] [--json PATH]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

FILE_BYTES: Final = 1_000_000_000
ROUNDS: Final = 3
QUICK_FILE_BYTES, QUICK_ROUNDS = 20_000_000, 1
CUTS: Final = 3
TIME_TARGET: Final = 1.3  # x the floor
ITER_MEMORY_TARGET_MB: Final = 50.0
DOWNLOAD_MEMORY_TARGET_MB: Final = 20.0
BATCH_ID: Final = "batch_bench_resume"
FILE_ID: Final = "file-bench-resume"
API_KEY: Final = "sk-bench-resume"
MEASURE_TIMEOUT_S: Final = 900.0
MEASURES: Final = ("floor", "iter_results", "download_results")


def write_file(path: Path, size: int) -> int:
    """A results file of about `size` bytes (the main table's 885-byte records), written piece by piece; its lines."""
    from devtools.bench.server import RESULT_LINE_BYTES, result_lines  # noqa: PLC0415 - run imports this module

    count = max(1, size // RESULT_LINE_BYTES)
    with path.open("wb") as out:
        for chunk in result_lines(count):
            out.write(chunk)
    return count


def cut_points(size: int, cuts: int) -> list[int]:
    """Where each of `cuts` downloads is cut (bytes of its own body): the file in `cuts + 1` about equal parts."""
    return [size // (cuts + 1)] * cuts


# --- the server (its own process) ----------------------------------------------------------------------------------


def serve(path: Path, cuts: list[int]) -> None:
    """Serve `path` as the output file of a completed batch on a FakeServer, cut at `cuts`.

    Prints the port first and, once stdin closes, how many downloads were asked for.
    """
    from batches_ext.testing import FakeBatchAPI, FakeServer  # noqa: PLC0415

    api = FakeBatchAPI(api_key=API_KEY)
    api.add_file(FILE_ID, path)
    api.add_batch(BATCH_ID, status="completed", total=1, completed=1, output_file_id=FILE_ID, error_file_id=None)
    if cuts:
        api.cut_downloads(*cuts)
    with FakeServer(api) as server:
        print(server.port, flush=True)
        sys.stdin.read()  # until the parent closes it
        if server.errors:
            raise RuntimeError(f"the fake failed while serving: {server.errors!r}")
    print(sum(request.path.endswith("/content") for request in api.requests), flush=True)


@contextmanager
def _server(path: Path, cuts: list[int], env: dict[str, str], cwd: Path) -> Iterator[tuple[str, list[int]]]:
    """The fake's base URL, and a list that receives how many downloads it served once it stops."""
    command = [sys.executable, "-m", "devtools.bench.resume", "serve", str(path), ",".join(map(str, cuts))]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=cwd, env=env)
    downloads: list[int] = []
    try:
        assert proc.stdout is not None  # noqa: S101 - stdout=PIPE
        port = proc.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the resume benchmark's server did not start (exit code {proc.poll()})")
        yield f"http://127.0.0.1:{int(port)}/v1", downloads
    finally:
        try:
            last, _ = proc.communicate(timeout=30)  # closes stdin: the server stops and says what it served
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        else:
            if last.strip().isdigit():
                downloads.append(int(last.strip()))


# --- one measurement (its own process) -----------------------------------------------------------------------------


def measure(kind: str, base_url: str, folder: Path) -> dict[str, Any]:
    """Time one read of the file and its peak RSS growth (both after imports and a warm-up request)."""
    import gc  # noqa: PLC0415

    from devtools.bench.worker import _peak_rss_bytes, _reset_peak_rss, _rss_bytes  # noqa: PLC0415

    if kind == "floor":
        import httpx  # noqa: PLC0415

        with httpx.Client(headers={"Authorization": f"Bearer {API_KEY}"}) as http:
            http.get(f"{base_url}/batches/{BATCH_ID}").raise_for_status()
            gc.collect()
            _reset_peak_rss()
            before, start, cpu = _rss_bytes(), time.perf_counter(), time.process_time()
            records = 0
            with http.stream("GET", f"{base_url}/files/{FILE_ID}/content") as response:
                for line in response.iter_lines():
                    if line:
                        json.loads(line)
                        records += 1
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        growth = (_peak_rss_bytes() - before) / 1e6
        return {"seconds": seconds, "cpu_seconds": cpu, "growth_mb": growth, "records": records}
    from batches_ext import BatchesClient  # noqa: PLC0415

    with BatchesClient(API_KEY, base_url=base_url, sleep=lambda seconds: None) as client:
        batch = client.retrieve(BATCH_ID)
        gc.collect()
        _reset_peak_rss()
        before, start, cpu = _rss_bytes(), time.perf_counter(), time.process_time()
        if kind == "iter_results":
            records = sum(1 for _ in client.iter_results(batch))
            seconds, cpu, growth = time.perf_counter() - start, time.process_time() - cpu, _peak_rss_bytes() - before
        else:
            written = client.download_results(batch, folder, errors=False)
            seconds, cpu, growth = time.perf_counter() - start, time.process_time() - cpu, _peak_rss_bytes() - before
            assert written.output is not None  # noqa: S101 - the batch has an output file
            with written.output.open("rb") as stream:  # counted after the clock stopped: the file is checked too
                records = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
            written.output.unlink()
    return {"seconds": seconds, "cpu_seconds": cpu, "growth_mb": growth / 1e6, "records": records}


# --- the run -------------------------------------------------------------------------------------------------------


def run(*, quick: bool = False) -> dict[str, Any]:
    """Write the file, measure the three reads in alternating rounds (a fresh server per read); samples, medians."""
    from devtools.bench.run import ROOT, child_env  # noqa: PLC0415 - run imports this module for scripts/bench

    size, rounds = (QUICK_FILE_BYTES, QUICK_ROUNDS) if quick else (FILE_BYTES, ROUNDS)
    env = child_env()
    samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in MEASURES}
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as folder:
        path = Path(folder) / "output.jsonl"
        print(f"resume: writing a {size / 1e6:.0f} MB results file...", file=sys.stderr)
        count = write_file(path, size)
        size = path.stat().st_size
        out = Path(folder) / "downloads"
        out.mkdir()
        for round_number in range(rounds):
            for kind, runs in samples.items():
                cuts = [] if kind == "floor" else cut_points(size, CUTS)
                print(f"resume: {kind} ({round_number + 1}/{rounds})...", file=sys.stderr)
                with _server(path, cuts, env, ROOT) as (base_url, downloads):
                    done = subprocess.run(
                        [sys.executable, "-m", "devtools.bench.resume", "measure", kind, base_url, str(out)],
                        capture_output=True, text=True, cwd=ROOT, env=env, timeout=MEASURE_TIMEOUT_S, check=False,
                    )  # fmt: skip
                if done.returncode != 0:
                    raise RuntimeError(f"resume: {kind} failed: {done.stderr.strip()[-2000:]}")
                sample = json.loads(done.stdout.strip().splitlines()[-1])
                sample["downloads"] = downloads[0] if downloads else None
                if sample["downloads"] != len(cuts) + 1:
                    raise RuntimeError(f"resume: {kind} made {sample['downloads']} downloads, not {len(cuts) + 1}")
                runs.append(sample)
    seen = {kind: {sample["records"] for sample in runs} for kind, runs in samples.items()}
    if any(records != {count} for records in seen.values()):
        raise RuntimeError(f"a read did not see every record once ({count} in the file): {seen}")
    medians = {
        kind: {
            key: statistics.median(sample[key] for sample in runs) for key in ("seconds", "cpu_seconds", "growth_mb")
        }
        for kind, runs in samples.items()
    }
    ratio = medians["iter_results"]["seconds"] / medians["floor"]["seconds"]
    cpu_ratio = medians["iter_results"]["cpu_seconds"] / medians["floor"]["cpu_seconds"]
    targets = {
        "records": "met",
        "time": "met" if ratio <= TIME_TARGET else "missed",
        "iter_memory": "met" if medians["iter_results"]["growth_mb"] <= ITER_MEMORY_TARGET_MB else "missed",
        "download_memory": "met" if medians["download_results"]["growth_mb"] <= DOWNLOAD_MEMORY_TARGET_MB else "missed",
    }
    return {
        "file_bytes": size, "records": count, "cuts": CUTS, "rounds": rounds, "medians": medians,
        "time_ratio": ratio, "cpu_ratio": cpu_ratio, "targets": targets, "raw": samples,
    }  # fmt: skip


def render(result: dict[str, Any]) -> str:
    """One markdown bullet: the figures and the verdicts."""
    floor, ours, disk = (result["medians"][kind] for kind in MEASURES)
    targets = result["targets"]
    head = (
        f"- Resumed results download ({result['file_bytes'] / 1e9:.2f} GB, {result['records']:,} records; the "
        f"FakeServer on loopback drops the connection {result['cuts']} times per read; median of {result['rounds']})"
    )
    reading = (
        f"`iter_results` yielded every record once in {ours['seconds']:.2f} s; the floor (httpx `iter_lines` + "
        f"`json.loads`, never cut) {floor['seconds']:.2f} s = {result['time_ratio']:.2f}x "
        f"(target <= {TIME_TARGET}x: {targets['time']}; client CPU {ours['cpu_seconds']:.2f} s against "
        f"{floor['cpu_seconds']:.2f} s = {result['cpu_ratio']:.2f}x); peak RSS growth {ours['growth_mb']:.1f} MB "
        f"(floor {floor['growth_mb']:.1f} MB; target <= {ITER_MEMORY_TARGET_MB:.0f} MB: {targets['iter_memory']})"
    )
    writing = (
        f"`download_results` {disk['seconds']:.2f} s, peak RSS growth {disk['growth_mb']:.1f} MB "
        f"(target <= {DOWNLOAD_MEMORY_TARGET_MB:.0f} MB: {targets['download_memory']})"
    )
    return f"{head}: {reading}. {writing}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.resume", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode")
    serving = sub.add_parser("serve", help="(internal) serve PATH on a fake server, cut at CUTS")
    serving.add_argument("path", type=Path)
    serving.add_argument("cuts", help="comma-separated byte counts; empty for none")
    measuring = sub.add_parser("measure", help="(internal) one measurement")
    measuring.add_argument("kind", choices=MEASURES)
    measuring.add_argument("base_url")
    measuring.add_argument("folder", type=Path)
    parser.add_argument("--quick", action="store_true", help=f"a {QUICK_FILE_BYTES / 1e6:.0f} MB file, one round")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the raw samples here")
    args = parser.parse_args(argv)
    if args.mode == "serve":
        serve(args.path, [int(cut) for cut in args.cuts.split(",") if cut])
        return 0
    if args.mode == "measure":
        print(json.dumps(measure(args.kind, args.base_url, args.folder)))
        return 0
    result = run(quick=args.quick)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if set(result["targets"].values()) == {"met"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
