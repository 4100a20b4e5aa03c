"""`python -m devtools.bench.remainder`: the remainder of a cancelled 50,000-request batch (200 MB input), timed.

batches_ext's `client.remainder(batch)` against the bare-httpx floor: download the same three files (input, output,
error) with `httpx.Client.stream` and take the set difference with `json.loads`. Targets (issue 14): time <= 1.5x
the floor, peak memory growth <= 50 MB. The files are written to a temporary folder and served from disk by a
separate process (`serve`), each measurement runs in a fresh process (`measure`), and rounds alternate between the
two. `scripts/bench` runs it too; alone: `python -m devtools.bench.remainder [--quick] [--json PATH]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

REQUESTS: Final = 50_000  # OpenAI's maximum per batch
INPUT_BYTES: Final = 200_000_000  # OpenAI's maximum input file
FINISHED_SHARE: Final = 0.4  # of the requests, done before the cancel (1% of those failed with a 400)
ROUNDS: Final = 3
QUICK_REQUESTS, QUICK_INPUT_BYTES, QUICK_ROUNDS = 500, 2_000_000, 1
TIME_TARGET: Final = 1.5  # x the floor
MEMORY_TARGET_MB: Final = 50.0
BATCH_ID: Final = "batch_bench_remainder"
FILES: Final = {"input": "file-input", "output": "file-output", "error": "file-error"}
CHUNK: Final = 256 * 1024
MEASURE_TIMEOUT_S: Final = 600.0
ENDPOINT: Final = "/v1/chat/completions"


def write_files(folder: Path, requests: int, input_bytes: int) -> dict[str, int]:
    """The batch's three files: the input (~`input_bytes`), its output and its error file; their sizes."""
    finished = int(requests * FINISHED_SHARE)
    frame = json.dumps(
        {"custom_id": "request-000000", "method": "POST", "url": ENDPOINT,
         "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": ""}]}}
    )  # fmt: skip
    padding = "x" * max(0, input_bytes // requests - len(frame) - 1)
    with (folder / FILES["input"]).open("w") as out:
        for n in range(requests):
            out.write(json.dumps(
                {"custom_id": f"request-{n:06d}", "method": "POST", "url": ENDPOINT,
                 "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": padding}]}}
            ) + "\n")  # fmt: skip
    answer = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1711652795, "model": "gpt-4o-mini",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "A fine answer. " * 20},
                           "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 1000, "completion_tokens": 60, "total_tokens": 1060}}  # fmt: skip
    refusal = {"error": {"message": "Invalid 'messages'.", "type": "invalid_request_error", "param": None,
                         "code": None}}  # fmt: skip
    with (folder / FILES["output"]).open("w") as output, (folder / FILES["error"]).open("w") as errors:
        for n in range(requests):
            custom_id = f"request-{n:06d}"
            if n < finished and n % 100:
                output.write(json.dumps({"id": f"batch_req_{n}", "custom_id": custom_id, "error": None,
                    "response": {"status_code": 200, "request_id": f"req_{n}", "body": answer}}) + "\n")  # fmt: skip
            elif n < finished:
                errors.write(json.dumps({"id": f"batch_req_{n}", "custom_id": custom_id, "error": None,
                    "response": {"status_code": 400, "request_id": f"req_{n}", "body": refusal}}) + "\n")  # fmt: skip
            else:
                not_run = {"code": "batch_cancelled", "message": "This request was not executed."}
                errors.write(json.dumps({"id": f"batch_req_{n}", "custom_id": custom_id, "response": None,
                                         "error": not_run}) + "\n")  # fmt: skip
    return {kind: (folder / name).stat().st_size for kind, name in FILES.items()}


# --- the server (its own process) ----------------------------------------------------------------------------------


def _batch_json() -> bytes:
    return json.dumps({
        "id": BATCH_ID, "object": "batch", "endpoint": ENDPOINT, "status": "cancelled", "completion_window": "24h",
        "created_at": 1711471533, "input_file_id": FILES["input"], "output_file_id": FILES["output"],
        "error_file_id": FILES["error"], "request_counts": {"total": 0, "completed": 0, "failed": 0},
    }).encode()  # fmt: skip


def serve(folder: Path) -> None:
    """Serve the batch and its files from `folder` until stdin closes; print the port first."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            parts = self.path.split("?")[0].split("/")
            if parts[-1] == "content" and (folder / parts[-2]).is_file():
                path = folder / parts[-2]
                self.send_response(200)
                self.send_header("content-type", "application/octet-stream")
                self.send_header("content-length", str(path.stat().st_size))
                self.end_headers()
                with path.open("rb") as stream:
                    shutil.copyfileobj(stream, self.wfile, CHUNK)
                return
            body = _batch_json()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    import threading  # noqa: PLC0415

    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the parent closes it
    server.shutdown()


# --- one measurement (its own process) -----------------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(client: str, base_url: str) -> dict[str, Any]:
    """Time one remainder and its peak memory growth (both after imports and a warm-up request)."""
    if client == "batches_ext":
        from batches_ext import BatchesClient, RemainderReport  # noqa: PLC0415

        with BatchesClient("sk-bench", base_url=base_url) as ours:
            batch = ours.retrieve(BATCH_ID)
            before, start = _peak_mb(), time.perf_counter()
            report = RemainderReport()
            lines = sum(1 for _ in ours.remainder(batch, report=report))
            seconds = time.perf_counter() - start
    else:
        import httpx  # noqa: PLC0415

        with httpx.Client(base_url=base_url) as http:
            http.get(f"/batches/{BATCH_ID}").raise_for_status()
            before, start = _peak_mb(), time.perf_counter()
            ran: set[str] = set()
            for kind in ("output", "error"):
                with http.stream("GET", f"/files/{FILES[kind]}/content") as response:
                    for line in response.iter_lines():
                        if line:
                            record = json.loads(line)
                            if record["response"] is not None:
                                ran.add(record["custom_id"])
            lines = 0
            with http.stream("GET", f"/files/{FILES['input']}/content") as response:
                for line in response.iter_lines():
                    if line and json.loads(line)["custom_id"] not in ran:
                        lines += 1
            seconds = time.perf_counter() - start
    return {"seconds": seconds, "growth_mb": _peak_mb() - before, "lines": lines}


# --- the run -------------------------------------------------------------------------------------------------------


@contextmanager
def _server(folder: Path, env: dict[str, str], cwd: Path) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.bench.remainder", "serve", str(folder)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=cwd, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None  # noqa: S101 - stdout=PIPE
        port = proc.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the remainder benchmark's server did not start (exit code {proc.poll()})")
        yield f"http://127.0.0.1:{int(port)}/v1"
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(*, quick: bool = False) -> dict[str, Any]:
    """Write the files, serve them, measure both clients in alternating rounds; the raw samples and medians."""
    from devtools.bench.run import ROOT, child_env  # noqa: PLC0415 - run imports this module for scripts/bench

    requests, input_bytes, rounds = (QUICK_REQUESTS, QUICK_INPUT_BYTES, QUICK_ROUNDS) if quick else (
        REQUESTS, INPUT_BYTES, ROUNDS)  # fmt: skip
    env = child_env()
    samples: dict[str, list[dict[str, Any]]] = {"batches_ext": [], "httpx": []}
    with tempfile.TemporaryDirectory(prefix="bench-remainder-") as folder:
        print(f"remainder: writing {requests:,} requests ({input_bytes / 1e6:.0f} MB)...", file=sys.stderr)
        sizes = write_files(Path(folder), requests, input_bytes)
        with _server(Path(folder), env, ROOT) as base_url:
            for round_number in range(rounds):
                for client, runs in samples.items():
                    print(f"remainder: {client} ({round_number + 1}/{rounds})...", file=sys.stderr)
                    done = subprocess.run(
                        [sys.executable, "-m", "devtools.bench.remainder", "measure", client, base_url],
                        capture_output=True, text=True, cwd=ROOT, env=env, timeout=MEASURE_TIMEOUT_S, check=True,
                    )  # fmt: skip
                    runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    lines = {client: {sample["lines"] for sample in runs} for client, runs in samples.items()}
    if lines["batches_ext"] != lines["httpx"] or len(lines["httpx"]) != 1:
        raise RuntimeError(f"the clients disagree on the remainder: {lines}")
    medians = {
        client: {key: statistics.median(sample[key] for sample in runs) for key in ("seconds", "growth_mb")}
        for client, runs in samples.items()
    }
    ratio = medians["batches_ext"]["seconds"] / medians["httpx"]["seconds"]
    return {
        "requests": requests, "file_bytes": sizes, "remainder_lines": lines["httpx"].pop(), "rounds": rounds,
        "medians": medians, "time_ratio": ratio, "raw": samples,
        "targets": {"time": "met" if ratio <= TIME_TARGET else "missed",
                    "memory": "met" if medians["batches_ext"]["growth_mb"] <= MEMORY_TARGET_MB else "missed"},
    }  # fmt: skip


def render(result: dict[str, Any]) -> str:
    """One markdown bullet: the figures and the verdicts."""
    ours, floor = result["medians"]["batches_ext"], result["medians"]["httpx"]
    sizes = result["file_bytes"]
    return (
        f"- Remainder of a cancelled batch ({result['requests']:,} requests; input {sizes['input'] / 1e6:.0f} MB, "
        f"output {sizes['output'] / 1e6:.0f} MB, errors {sizes['error'] / 1e6:.0f} MB; "
        f"{result['remainder_lines']:,} lines to resubmit; median of {result['rounds']}): batches_ext "
        f"{ours['seconds']:.2f} s, bare-httpx floor {floor['seconds']:.2f} s = {result['time_ratio']:.2f}x "
        f"(target <= {TIME_TARGET}x: {result['targets']['time']}); peak memory growth {ours['growth_mb']:.1f} MB "
        f"(floor {floor['growth_mb']:.1f} MB; target <= {MEMORY_TARGET_MB:.0f} MB: {result['targets']['memory']})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench.remainder", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode")
    serving = sub.add_parser("serve", help="(internal) serve the files in FOLDER")
    serving.add_argument("folder", type=Path)
    measuring = sub.add_parser("measure", help="(internal) one measurement")
    measuring.add_argument("client", choices=["batches_ext", "httpx"])
    measuring.add_argument("base_url")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_REQUESTS} requests, one round")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the raw samples here")
    args = parser.parse_args(argv)
    if args.mode == "serve":
        serve(args.folder)
        return 0
    if args.mode == "measure":
        print(json.dumps(measure(args.client, args.base_url)))
        return 0
    result = run(quick=args.quick)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if set(result["targets"].values()) == {"met"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
