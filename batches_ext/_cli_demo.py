"""`batches-ext demo`: the library's main job, end to end, against the offline fake on a real loopback socket.

It starts `batches_ext.testing.FakeServer`, seeds one running batch, and then uses the public client exactly as a
user would (`BatchesClient(api_key=..., base_url=...)`): show the batch, cancel it and wait with live progress,
show the cancelled batch, and read the partial results it kept. A few seconds, no key, no network.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TextIO

from batches_ext._cli_format import batch_table, clean

if TYPE_CHECKING:
    from batches_ext._cli_progress import Progress
    from batches_ext._results import BatchResult

__all__ = ["run_demo", "summarize_result"]

BATCH_ID: Final = "batch_demo_nightly_eval"
TOTAL, COMPLETED, FAILED = 100, 35, 2  # a batch a third done, with a couple of bad requests
# The real API takes up to 10 minutes to cancel; the fake's few seconds on its real clock show a few polls.
CANCEL_DELAY_S: Final = 2.5
POLL_INTERVAL_S: Final = 0.25
WAIT_TIMEOUT_S: Final = 30.0  # far above the delay: only a broken fake would hit it
RECORDS_SHOWN: Final = 3
SNIPPET_CHARS: Final = 60


def run_demo(out: TextIO, progress: Progress) -> int:
    """Run the demo, printing to `out` (progress goes wherever `progress` writes).

    Args:
        out: where the story and the tables go (stdout).
        progress: the live progress display for the wait.

    Returns:
        The exit status, 0.

    Raises:
        errors.BatchesError: the client failed against the fake (a bug; the CLI reports it).

    """
    from batches_ext import BatchesClient  # noqa: PLC0415 - the CLI imports the library only when needed
    from batches_ext.testing import FakeBatchAPI, FakeServer  # noqa: PLC0415

    def say(text: str = "") -> None:
        out.write(text + "\n")
        out.flush()

    api = FakeBatchAPI(cancel_delay=CANCEL_DELAY_S)
    api.add_batch(
        BATCH_ID, status="in_progress", total=TOTAL, completed=COMPLETED, failed=FAILED,
        metadata={"description": "nightly eval", "owner": "demo"},
    )  # fmt: skip
    with (
        FakeServer(api) as server,
        BatchesClient(api_key=api.api_key, base_url=server.base_url, sleep=progress.sleep) as client,
    ):
        say(f"A fake Batch API is listening on {server.base_url} (loopback only, no real key).")
        say(f"\n$ batches-ext retrieve {BATCH_ID}")
        say(batch_table(client.retrieve(BATCH_ID), datetime.now(UTC)))

        say(f"\n$ batches-ext cancel {BATCH_ID} --wait")
        progress.restart()
        try:
            batch = client.cancel_and_wait(
                BATCH_ID, timeout=WAIT_TIMEOUT_S, poll_interval=POLL_INTERVAL_S, on_update=progress.update
            )
        finally:
            progress.finish()
        say(batch_table(batch, datetime.now(UTC)))

        results = list(client.iter_results(batch))
        failures = list(client.iter_results(batch, errors=True))
        ok = sum(result.ok for result in results)
        say(f"\n$ batches-ext results {BATCH_ID}   # and --errors")
        say(
            f"Kept {len(results) + len(failures)} of {TOTAL} results before the cancel: "
            f"{ok} ok in {batch.output_file_id}, {len(failures)} failed in {batch.error_file_id}."
        )
        for result in [*results[:RECORDS_SHOWN], *failures[:1]]:
            say(f"  {summarize_result(result)}")
        if results:
            say("The first record as stored (what `results` prints, one per line):")
            say(json.dumps(results[0].to_dict())[:200] + " ...")
    return 0


def summarize_result(result: BatchResult) -> str:
    """`request-1  200  This is the answer...`: a result's id, status and the gist of its body."""
    status = str(result.status_code) if result.status_code is not None else "---"
    return f"{clean(result.custom_id):<12} {status}  {_gist(result)}"


def _gist(result: BatchResult) -> str:
    """The assistant's text, or the error message; falls back to compact JSON of the body."""
    body: Any = result.body
    text: object = None
    if result.error is not None:
        text = result.error.get("message")
    elif isinstance(body, dict):
        choices = body.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            text = (choices[0].get("message") or {}).get("content")
        error = body.get("error")
        if text is None and isinstance(error, dict):
            text = error.get("message")
    if not isinstance(text, str):
        text = json.dumps(body, separators=(",", ":"))
    text = clean(text)
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 3] + "..."
