"""`batches-ext demo`: the library's main job, end to end, against the offline fake on a real loopback socket.

It starts `batches_ext.testing.FakeServer` and, as a user would have, uploads 100 chat requests and starts a
batch. Then, with the public client only (`BatchesClient(api_key=..., base_url=...)`): find the running batch,
cancel it and wait with live progress, show what it finished, resubmit the rest, and watch the new batch finish.
A few seconds, no key, no network.

The fake runs on a `FakeClock` that moves exactly as far as the client sleeps, so the story is the same on any
machine (35 requests done when the batch is found, none after the cancel) and still takes real seconds to watch.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from batches_ext._cli_format import batch_table, clean
from batches_ext._cli_list import table_header, table_row

if TYPE_CHECKING:
    from batches_ext._cli_progress import Progress
    from batches_ext._results import BatchResult
    from batches_ext.testing import FakeRequest, FakeResponse

__all__ = ["run_demo", "summarize_result"]

TOTAL: Final = 100
REQUEST_RATE: Final = 40.0  # requests the fake finishes per (fake) second
DONE_WHEN_FOUND: Final = 35  # how far the batch got before the demo finds it
BAD_REQUESTS: Final = frozenset({17, 29})  # requests the fake rejects with a 400: failed for good, not resubmitted
ENDPOINT: Final = "/v1/chat/completions"
# The real API takes up to 10 minutes to cancel; the fake's few seconds show a few polls.
CANCEL_DELAY_S: Final = 2.0
POLL_INTERVAL_S: Final = 0.25
WAIT_TIMEOUT_S: Final = 30.0  # far above what the story takes: only a broken fake would hit it
VALIDATING_S: Final = 0.5  # the fake's `validating` time (testing._store.VALIDATING_S)
RECORDS_SHOWN: Final = 3
SNIPPET_CHARS: Final = 60


def _input_file(folder: Path) -> Path:
    path = folder / "nightly-eval.jsonl"
    lines = (
        {"custom_id": f"request-{number}", "method": "POST", "url": ENDPOINT,
         "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Grade answer {number}."}]}}
        for number in range(1, TOTAL + 1)
    )  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _responder(request: FakeRequest) -> FakeResponse:
    from batches_ext.testing import FakeResponse, default_responder  # noqa: PLC0415

    if int(request.custom_id.rpartition("-")[2]) in BAD_REQUESTS:
        message = "Invalid 'messages[0].content': string too long."
        return FakeResponse(400, {"error": {"message": message, "type": "invalid_request_error",
                                            "param": "messages", "code": "string_above_max_length"}})  # fmt: skip
    return default_responder(request)


def run_demo(out: TextIO, progress: Progress) -> int:  # noqa: PLR0915 - a story, told in order
    """Run the demo, printing to `out` (progress goes wherever `progress` writes).

    Args:
        out: where the story and the tables go (stdout).
        progress: the live progress display for the waits.

    Returns:
        The exit status, 0.

    Raises:
        errors.BatchesError: the client failed against the fake (a bug; the CLI reports it).

    """
    from batches_ext import BatchesClient  # noqa: PLC0415 - the CLI imports the library only when needed
    from batches_ext.testing import FakeBatchAPI, FakeClock, FakeServer  # noqa: PLC0415

    def say(text: str = "") -> None:
        out.write(text + "\n")
        out.flush()

    head_start = VALIDATING_S + DONE_WHEN_FOUND / REQUEST_RATE  # how long the batch ran before the demo finds it
    clock = FakeClock(start=time.time() - head_start)  # so that, once it has run, the fake's "now" is the real one

    def sleep(seconds: float) -> None:
        progress.sleep(seconds)
        clock.advance(seconds)

    api = FakeBatchAPI(cancel_delay=CANCEL_DELAY_S, clock=clock, request_rate=REQUEST_RATE, responder=_responder)
    with (
        FakeServer(api) as server,
        BatchesClient(api_key=api.api_key, base_url=server.base_url, sleep=sleep) as client,
        tempfile.TemporaryDirectory(prefix="batches-ext-demo-") as folder,
    ):
        say(f"A fake Batch API is listening on {server.base_url} (loopback only, no real key).")
        uploaded = client.upload_file(_input_file(Path(folder)))
        started = client.create_batch(uploaded.id, endpoint=ENDPOINT, metadata={"description": "nightly eval"})
        clock.advance(head_start)
        say(f"Earlier, {TOTAL} chat requests went up as {uploaded.id} and started as batch {started.id}.")

        say("\n$ batches-ext list --status in_progress")
        (batch,) = client.find(status="in_progress")
        say(table_header())
        say(table_row(batch, datetime.now(UTC)))

        say(f"\n$ batches-ext cancel {batch.id} --wait")
        progress.restart()
        try:
            batch = client.cancel_and_wait(
                batch.id, timeout=WAIT_TIMEOUT_S, poll_interval=POLL_INTERVAL_S, on_update=progress.update
            )
        finally:
            progress.finish()
        say(batch_table(batch, datetime.now(UTC)))

        results = list(client.iter_results(batch))
        failures = list(client.iter_results(batch, errors=True))
        ran = [result for result in failures if result.error is None]
        never = len(failures) - len(ran)
        say(f"\n$ batches-ext results {batch.id}   # and --errors")
        say(
            f"Kept {len(results) + len(ran)} of {TOTAL} results before the cancel: {len(results)} ok in "
            f"{batch.output_file_id}, {len(ran)} failed; {never} never ran (batch_cancelled) in {batch.error_file_id}."
        )
        for result in [*results[:RECORDS_SHOWN], *ran[:1], *failures[-1:]]:
            say(f"  {summarize_result(result)}")

        say(f"\n$ batches-ext resubmit {batch.id} --wait")
        new = client.resubmit(batch)
        if new is None:  # pragma: no cover - the story always leaves requests to resubmit
            say("Nothing to resubmit.")
            return 0
        say(
            f"Resubmitted the {never} requests that never ran as {new.id} (metadata resubmitted_from="
            f"{new.metadata.get('resubmitted_from')}); the {len(ran)} that failed with a 400 would fail again."
        )
        progress.restart()
        try:
            new = client.wait(new.id, timeout=WAIT_TIMEOUT_S, poll_interval=POLL_INTERVAL_S, on_update=progress.update)
        finally:
            progress.finish()
        say(batch_table(new, datetime.now(UTC)))
        counts = new.request_counts
        finished = len(results) + (counts.completed if counts is not None else 0)
        say(f"\nAll done: {finished} of {TOTAL} requests answered across both batches, {len(ran)} failed for good.")
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
