"""The official openai SDK runs the whole Batch workflow against FakeServer (issue 14): upload → create → poll →
download → parse, then cancel, list and resubmit. Proof that the fake's lifecycle speaks the real wire format.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import BadRequestError, OpenAI

from batches_ext import BatchesClient
from batches_ext.testing import FakeClock, FakeServer

ENDPOINT = "/v1/chat/completions"
TERMINAL = {"completed", "failed", "expired", "cancelled"}


@pytest.fixture
def sdk(fake_batch_server: FakeServer) -> Iterator[OpenAI]:
    with OpenAI(api_key=fake_batch_server.api.api_key, base_url=fake_batch_server.base_url, max_retries=0) as client:
        yield client


def write_input(path: Path, count: int) -> Path:
    lines = (
        {"custom_id": f"task-{i}", "method": "POST", "url": ENDPOINT,
         "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Say {i}"}]}}
        for i in range(count)
    )  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def lines_of(sdk: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    return [json.loads(line) for line in sdk.files.content(file_id).text.splitlines()]


def test_the_sdk_runs_the_whole_workflow(
    sdk: OpenAI, fake_batch_server: FakeServer, fake_clock: FakeClock, tmp_path: Path
) -> None:
    path = write_input(tmp_path / "tasks.jsonl", 12)
    with path.open("rb") as stream:
        uploaded = sdk.files.create(file=stream, purpose="batch")
    assert (uploaded.purpose, uploaded.filename, uploaded.bytes) == ("batch", "tasks.jsonl", path.stat().st_size)
    assert sdk.files.retrieve(uploaded.id).id == uploaded.id

    # upload → create → poll → download → parse
    batch = sdk.batches.create(
        input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h", metadata={"run": "sdk"}
    )
    assert batch.status == "validating"
    seen = [batch.status]
    while batch.status not in TERMINAL:
        fake_clock.advance(0.5)
        batch = sdk.batches.retrieve(batch.id)
        seen.append(batch.status)
    assert batch.status == "completed"
    assert {"validating", "in_progress", "finalizing", "completed"} <= set(seen)
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (12, 12)
    output = lines_of(sdk, batch.output_file_id)
    assert [line["custom_id"] for line in output] == [f"task-{i}" for i in range(12)]
    assert output[3]["response"]["body"]["choices"][0]["message"]["content"] == "This is the fake answer to task-3."

    # cancel a second run mid-way: 4 of 12 done at 10 requests a second
    second = sdk.batches.create(input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h")
    fake_clock.advance(0.5 + 0.4)
    assert sdk.batches.cancel(second.id).status == "cancelling"
    fake_clock.advance(fake_batch_server.api.cancel_delay)
    second = sdk.batches.retrieve(second.id)
    assert second.status == "cancelled"
    assert [line["custom_id"] for line in lines_of(sdk, second.output_file_id)] == [f"task-{i}" for i in range(4)]
    unfinished = lines_of(sdk, second.error_file_id)
    assert {(line["response"], line["error"]["code"]) for line in unfinished} == {(None, "batch_cancelled")}
    with pytest.raises(BadRequestError):
        sdk.batches.cancel(second.id)  # already finished

    # list: both runs, newest first
    listed = [item.id for item in sdk.batches.list(limit=1)]
    assert listed[:2] == [second.id, batch.id]

    # resubmit the rest with batches_ext; the SDK sees the new batch and runs it to the end
    with BatchesClient(
        fake_batch_server.api.api_key, base_url=fake_batch_server.base_url, sleep=fake_clock.advance, clock=fake_clock
    ) as ours:
        new = ours.resubmit(second.id)
    assert new is not None
    resubmitted = sdk.batches.retrieve(new.id)
    assert resubmitted.metadata == {"resubmitted_from": second.id}
    fake_clock.advance(5)
    resubmitted = sdk.batches.retrieve(new.id)
    assert resubmitted.status == "completed"
    assert [line["custom_id"] for line in lines_of(sdk, resubmitted.output_file_id)] == [
        f"task-{i}" for i in range(4, 12)
    ]
    remainder_file = sdk.files.retrieve(resubmitted.input_file_id)
    assert (remainder_file.purpose, remainder_file.filename) == ("batch", f"remainder-of-{second.id}.jsonl")

    assert sdk.files.delete(uploaded.id).deleted
    assert fake_batch_server.errors == []
