"""`python -m devtools.unasync [--check]`: write `batches_ext/_async_client.py` from `batches_ext/_client.py`.

The sync client is the one written by hand; its async twin is derived by the ordered rewrite rules below and
formatted with ruff, so the two cannot drift (encode/httpcore's scripts/unasync.py does the same the other way).
`--check` exits 1 when the committed twin differs from what the rules produce.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "batches_ext" / "_client.py"
TARGET = ROOT / "batches_ext" / "_async_client.py"
ASYNC_METHODS = (
    "cancel|retrieve|wait|cancel_and_wait|cancel_and_collect|iter_results|cancel_many|_walk|_cancel_one|_poll_one|_send"
    "|_authorise"
)
# Not iter_results and _walk (async generators: `async for`), nor list and find (plain methods returning one).
AWAITED_METHODS = (
    "cancel|retrieve|wait|cancel_and_wait|cancel_and_collect|cancel_many|_cancel_one|_poll_one|_send|_sleep|_authorise"
)
# Files and resubmitting (issue 14); remainder and _iter_file_lines are async generators: `async for`, not await.
ASYNC_METHODS += "|upload_file|create_batch|retrieve_file|delete_file|remainder|write_remainder|resubmit"
ASYNC_METHODS += "|cancel_and_resubmit|_iter_file_lines|_file_chunks"
AWAITED_METHODS += "|upload_file|create_batch|retrieve_file|delete_file|write_remainder|resubmit"
# Deadlines (issue 10): the private cancel/retrieve/wait that carry one, and the bounded body read.
ASYNC_METHODS += "|_cancel|_retrieve|_wait|_read_body"
AWAITED_METHODS += "|_cancel|_retrieve|_wait|_read_body"
ITERATED_METHODS = "remainder|_iter_file_lines|_file_chunks"
# download_results (issue 15): writes files; its pieces are awaited.
ASYNC_METHODS += "|download_results|_download_file|iter_all_results|_iter_records"
ITERATED_METHODS += "|_iter_records"
AWAITED_METHODS += "|_download_file"

RULES: list[tuple[str, str]] = [
    (
        r'^"""`BatchesClient`: the synchronous client\..*"""$',
        '"""`AsyncBatchesClient`: the async client, GENERATED from `_client.py` by scripts/devtools/unasync.py."""',
    ),
    (
        r"from collections\.abc import Callable, Iterable, Iterator, Mapping",
        "from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping",
    ),
    (r"\bIterator\[", "AsyncIterator["),
    (r"\bBatchesClient\b", "AsyncBatchesClient"),
    (r"Cancel and inspect OpenAI batches\.", "Cancel and inspect OpenAI batches, with coroutines."),
    (r"Callable\[\[float\], None\] \| None = None", "Callable[[float], Awaitable[None]] | None = None"),
    (r"default `time\.sleep`", "default `asyncio.sleep`"),
    (r"\bdefault_sleep\b", "default_async_sleep"),
    (r"\bowned_httpx_args\b", "owned_async_httpx_args"),
    (r"httpx\.Client\b", "httpx.AsyncClient"),
    (r"\bset_httpx_client\(", "set_async_httpx_client("),
    (r"\bhttp\.close\(\)", "await http.aclose()"),
    (r"\bget_httpx_client\(", "get_async_httpx_client("),
    (rf"^(    )def ({ASYNC_METHODS})\(", r"\1async def \2("),
    (r"^(    )def close\(self\)", r"\1async def aclose(self)"),
    (r"`close\(\)`", "`aclose()`"),
    (r"^(    )def __enter__\(", r"\1async def __aenter__("),
    (r"^(    )def __exit__\(", r"\1async def __aexit__("),
    (r"\bself\.close\(\)", "await self.aclose()"),
    (r"list\(self\.iter_results\(([^()]*)\)\)", r"[result async for result in self.iter_results(\1)]"),
    (rf"(?<!def )\bself\.({AWAITED_METHODS})\(", r"await self.\1("),
    (r"\bfor line in response\.iter_lines\(\)", "async for line in response.aiter_lines()"),
    (r"\bfor chunk in response\.iter_bytes\(\)", "async for chunk in response.aiter_bytes()"),
    (rf"\bfor (\w+(?:, \w+)?) in self\.({ITERATED_METHODS})\(", r"async for \1 in self.\2("),
    # `yield from` has no async form: an async generator re-yields each item.
    (r"^(\s+)yield from self\.(_iter_records)\((.*)\)$", r"\1async for result in self.\2(\3):\n\1    yield result"),
    (r"\bhttp\.send\(", "await http.send("),
    # cancel_many's workers: threads in the sync client, tasks in the async one (same contract, see _tasks.py).
    (r"from batches_ext\._threads import run_each", "from batches_ext._tasks import run_each"),
    (r"\bwith run_each\(", "async with run_each("),
    (r"\bfor (\w+, \w+) in (calls|polls):", r"async for \1 in \2:"),
    (r"\bresponse\.close\(\)", "await response.aclose()"),
    (r"\bresponse\.read\(\)", "await response.aread()"),
    # A token provider may be async for the async client (as in the official SDK's AsyncAzureOpenAI).
    (r"\bprovider\.credential\.headers\(\)", "await provider.credential.async_headers()"),
]


def render() -> str:
    """The async twin's text: the rules applied in order, then formatted like the rest of the code."""
    text = SOURCE.read_text()
    for pattern, replacement in RULES:
        text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(TARGET), "-"],
        input=text, capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return formatted.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.unasync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the async twin is stale; write nothing")
    args = parser.parse_args(argv)
    expected = render()
    if args.check:
        if TARGET.read_text() != expected:
            print(f"{TARGET.relative_to(ROOT)} is stale: run python -m devtools.unasync", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(expected)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
