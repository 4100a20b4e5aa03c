"""`scripts/bench`: batches_ext against the openai SDK and the bare-httpx floor, on the same work, in one run.

Starts the canned-response server (`devtools.bench.server`) as a separate process on 127.0.0.1, runs each measurement
of each client in a fresh worker process (`devtools.bench.worker`), and prints the environment and a markdown table of
medians to stdout; `--json PATH` also writes every raw sample. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from devtools.bench import bulk_cancel, clients, listing, remainder, report, resume, slow_neighbour
from devtools.bench.server import RESULT_LINE_BYTES

ROOT: Final = Path(__file__).resolve().parents[3]
WORKER_TIMEOUT_S: Final = 240.0  # one measurement of one client; the whole full run takes about 3 minutes
SERVER_START_TIMEOUT_S: Final = 30.0
PACKAGES: Final = ("batches-ext", "openai", "httpx", "httpcore", "h11", "anyio", "httpx2", "pydantic", "pydantic_core")
# Pieces with their own module (runnable alone as `python -m devtools.bench.<name>`): each has `run(quick=...)` and
# `render(result)`; their lines are printed after the table, in this order.
EXTRAS: Final = {
    "remainder": remainder,  # the remainder of a cancelled batch (issue 14)
    "slow_neighbour": slow_neighbour,  # fast requests beside a slow one, beyond 100 in flight (issue 10)
    "bulk_cancel": bulk_cancel,  # stopping 1,000 batches while 5 % of requests get 429 (issue 13)
    "listing": listing,  # listing 100,000 batches (issue 13)
    "resume": resume,  # a 1 GB results file read and written through 3 dropped connections (issue 15)
}
# openai reads these; a developer's own settings must not change what is measured.
_CLIENT_ENV: Final = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_LOG", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")


@dataclass(frozen=True)
class Counts:
    """How much work each measurement does."""

    import_runs: int = 17  # the issue asks for >= 15; odd, so the median is a real run
    cpu_calls: int = 2000
    cpu_rounds: int = 5
    async_calls: int = 5000
    async_rounds: int = 3
    concurrency: int = 64
    parse_number: int = 0  # 0: let timeit pick (about 0.2 s per run)
    hold_count: int = 100_000
    results_bytes: int = 200_000_000


QUICK: Final = Counts(
    import_runs=1,
    cpu_calls=50,
    cpu_rounds=1,
    async_calls=100,
    async_rounds=1,
    concurrency=16,
    parse_number=200,
    hold_count=1000,
    results_bytes=1_000_000,
)


def environment() -> dict[str, Any]:
    """The machine and the software measured, for BENCHMARKS.md and the JSON."""
    cpu_model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, fixed arguments
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
        "commit": commit or "unknown",
    }


def child_env() -> dict[str, str]:
    """The environment for child processes: this one, less the openai variables, with the repository importable."""
    env = {k: v for k, v in os.environ.items() if k not in _CLIENT_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@contextmanager
def bench_server(results_bytes: int, slow_seconds: float = 0.0) -> Iterator[str]:
    """Run `devtools.bench.server` in its own process; yield its base URL. It stops when its stdin closes."""
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "devtools.bench.server", "--results-bytes", str(results_bytes)),
            *("--slow-seconds", str(slow_seconds)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env=child_env(),
    )
    try:
        assert proc.stdout is not None  # noqa: S101 - stdout=PIPE
        line = proc.stdout.readline()  # the port, or EOF if the server failed to start
        if not line.strip().isdigit():
            raise RuntimeError(f"the benchmark server did not start (exit code {proc.poll()})")
        yield f"http://127.0.0.1:{int(line)}/v1"
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def import_times(runs: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Wall time of `python -c "import X"` minus that of `python -c pass`, per client, in interleaved runs.

    Returns the rows `import` (this venv as it is) and `import_min` (without httpx's optional CLI packages).
    """
    statements = {("pass", ""): "pass"}
    for client, statement in clients.IMPORTS.items():
        statements["import", client] = statement
        statements["import_min", client] = clients.WITHOUT_HTTPX_CLI + statement
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in statements}
    env = child_env()
    for statement in statements.values() if runs > 1 else ():  # an unmeasured run each: byte-compile, warm caches
        subprocess.run([sys.executable, "-c", statement], check=True, cwd=ROOT, env=env)
    for _ in range(runs):
        for key, statement in statements.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], check=True, cwd=ROOT, env=env)
            samples[key].append((time.perf_counter() - start) * 1000)
    baseline = report.median(samples.pop(("pass", "")))
    rows: dict[str, dict[str, dict[str, Any]]] = {"import": {}, "import_min": {}}
    for (row, client), runs_ms in samples.items():
        rows[row][client] = {
            "ms": [ms - baseline for ms in runs_ms],
            "interpreter_ms": baseline,
            "statement": statements[row, client],
        }
    return rows


def run_worker(kind: str, client: str, base_url: str, counts: Counts, rounds: int = 1) -> dict[str, Any]:
    """Run one measurement in a fresh process; its JSON result, or `{"reason": ...}` when it failed."""
    count = counts.hold_count if kind == "hold" else max(1, counts.results_bytes // RESULT_LINE_BYTES)
    calls = {"cpu": counts.cpu_calls, "async": counts.async_calls, "parse": counts.parse_number}.get(kind, 0)
    command = [
        *(sys.executable, "-m", "devtools.bench.worker", kind, client, base_url),
        *("--calls", str(calls), "--rounds", str(rounds), "--concurrency", str(counts.concurrency)),
        *("--count", str(count)),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=ROOT, env=child_env(), timeout=WORKER_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return {"reason": f"timed out after {WORKER_TIMEOUT_S:.0f} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(done.stderr, file=sys.stderr)
        return {"reason": f"failed: {last}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(counts: Counts, rows: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
    """Every measurement of every client: `raw[row][client]` is the worker's result."""
    wanted = rows or tuple(row.key for row in report.ROWS)
    raw: dict[str, dict[str, Any]] = {}
    if "import" in wanted:
        print(f"import time: {counts.import_runs} runs per client...", file=sys.stderr)
        raw.update(import_times(counts.import_runs))
    with bench_server(counts.results_bytes) as base_url:
        for row in report.ROWS:
            if row.key.startswith("import") or row.key not in wanted:
                continue
            # Rounds of the timed rows alternate between the clients, one process per round, so that load from
            # elsewhere on a shared machine falls on every client alike instead of on whichever ran at the time.
            rounds = {"cpu": counts.cpu_rounds, "async": counts.async_rounds}.get(row.key, 1)
            for round_number in range(rounds):
                for client in clients.CLIENTS:
                    print(f"{row.key}: {client} ({round_number + 1}/{rounds})...", file=sys.stderr)
                    result = run_worker(row.key, client, base_url, counts)
                    _merge(raw.setdefault(row.key, {}), client, result)
    return raw


def _merge(results: dict[str, Any], client: str, result: dict[str, Any]) -> None:
    """Add one round's result to the client's: sample lists are concatenated, a failure is kept."""
    earlier = results.get(client)
    if earlier is None or "reason" in result:
        results[client] = result
    elif "reason" not in earlier:
        for key, value in result.items():
            if isinstance(value, list):
                earlier[key] = earlier[key] + value


def render(env: dict[str, Any], counts: Counts, command: str, raw: dict[str, dict[str, Any]]) -> str:
    """The markdown printed to stdout: environment, parameters, the table."""
    values, notes = report.summarize(raw)
    packages = ", ".join(f"{name} {version}" for name, version in env["packages"].items())
    return "\n".join(
        [
            f"- Command: `{command}` (commit {env['commit']})",
            f"- Machine: {env['cpus']} CPUs, {env['cpu_model']}; {env['implementation']} {env['python']}, "
            f"{env['platform']}",
            f"- Packages: {packages}",
            f"- Work: import x{counts.import_runs}; sync cancel {counts.cpu_rounds} x {counts.cpu_calls} calls; "
            f"async {counts.async_rounds} x {counts.async_calls} cancels at concurrency {counts.concurrency}; "
            f"hold {counts.hold_count:,} Batches; results file {counts.results_bytes / 1e6:.0f} MB. "
            "Every figure is a median; ratios are value ÷ floor.",
            "",
            report.table(values, notes, counts.hold_count, counts.results_bytes, counts.concurrency),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run of every piece (seconds)")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write every raw sample as JSON here")
    parser.add_argument(
        "--only",
        metavar="ROW",
        action="append",
        choices=[*(row.key for row in report.ROWS if row.key != "import_min"), *EXTRAS],
        help="run only this row (import includes import_min; the others: devtools.bench.<name>)",
    )
    args = parser.parse_args(argv)
    counts = QUICK if args.quick else Counts()
    env = environment()
    started = time.perf_counter()
    only = set(args.only or ())
    table_rows = tuple(sorted(only - set(EXTRAS)))
    raw = run(counts, table_rows or None) if table_rows or not only else {}
    extras = {name: piece.run(quick=args.quick) for name, piece in EXTRAS.items() if not only or name in only}
    seconds = time.perf_counter() - started
    command = "scripts/bench" + (" --quick" if args.quick else "")
    if raw:
        print(render(env, counts, command, raw))
    for name, result in extras.items():
        print(EXTRAS[name].render(result))
    print(f"bench: done in {seconds:.0f} s", file=sys.stderr)
    if args.json:
        values, _ = report.summarize(raw)
        payload = {
            "environment": env,
            "counts": asdict(counts),
            "seconds": seconds,
            "medians": values,
            "targets": report.verdicts(values),
            "raw": raw,
            **extras,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    failed = [
        f"{row}/{client}" for row, per in raw.items() for client, r in per.items() if "failed" in r.get("reason", "")
    ]
    if failed:
        print(f"bench: measurements failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
