"""The official openai SDK (3.54) against the fake server: proof that the fake speaks the real wire format.

Whatever the SDK reads from the fake, batches_ext reads too, field for field (the SDK keeps unix ints where
batches_ext has aware datetimes).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC

import pytest
from openai import AsyncOpenAI, AuthenticationError, BadRequestError, NotFoundError, OpenAI
from openai.types import Batch as SDKBatch

from batches_ext import Batch, BatchesClient
from batches_ext._batch import TIMESTAMP_FIELDS
from batches_ext.testing import FakeBatchAPI, FakeClock, FakeServer


@pytest.fixture
def sdk(fake_batch_server: FakeServer) -> Iterator[OpenAI]:
    with OpenAI(api_key=fake_batch_server.api.api_key, base_url=fake_batch_server.base_url, max_retries=0) as client:
        yield client


@pytest.fixture
def ours(fake_batch_server: FakeServer) -> Iterator[BatchesClient]:
    with BatchesClient(fake_batch_server.api.api_key, base_url=fake_batch_server.base_url) as client:
        yield client


def assert_same_batch(theirs: SDKBatch, mine: Batch) -> None:
    """Every field the SDK parsed equals what batches_ext parsed from the same wire JSON."""
    assert theirs.model_dump(mode="json", exclude_unset=True) == mine.to_dict()
    assert (theirs.id, theirs.object, theirs.status) == (mine.id, mine.object, mine.status)
    assert (theirs.endpoint, theirs.model, theirs.input_file_id) == (mine.endpoint, mine.model, mine.input_file_id)
    assert theirs.completion_window == mine.completion_window
    assert (theirs.output_file_id, theirs.error_file_id) == (mine.output_file_id, mine.error_file_id)
    for name in TIMESTAMP_FIELDS:
        sdk_value, our_value = getattr(theirs, name), getattr(mine, name)
        if sdk_value is None:
            assert our_value is None, name
        else:
            assert isinstance(sdk_value, int), name
            assert our_value is not None, name
            assert our_value.tzinfo == UTC, name
            assert our_value.timestamp() == sdk_value, name
    assert theirs.request_counts is not None
    assert mine.request_counts is not None
    counts = theirs.request_counts
    assert (counts.total, counts.completed, counts.failed) == (
        mine.request_counts.total,
        mine.request_counts.completed,
        mine.request_counts.failed,
    )
    assert (theirs.metadata or {}) == mine.metadata
    if theirs.usage is None:
        assert mine.usage is None
    else:
        assert mine.usage is not None
        assert (theirs.usage.input_tokens, theirs.usage.output_tokens, theirs.usage.total_tokens) == (
            mine.usage.input_tokens,
            mine.usage.output_tokens,
            mine.usage.total_tokens,
        )
    sdk_errors = theirs.errors.data if theirs.errors is not None and theirs.errors.data else []
    assert [(e.code, e.line, e.message) for e in sdk_errors] == [(e.code, e.line, e.message) for e in mine.errors]


def test_cancel_and_retrieve_read_the_same(
    fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, sdk: OpenAI, ours: BatchesClient
) -> None:
    fake_batch_api.add_batch("batch_sdk", total=40, completed=11, failed=2, metadata={"team": "evals"})
    fake_batch_api.add_batch("batch_ours", total=40, completed=11, failed=2, metadata={"team": "evals"})

    sdk_cancelled, our_cancelled = sdk.batches.cancel("batch_sdk"), ours.cancel("batch_ours")
    assert sdk_cancelled.status == our_cancelled.status == "cancelling"
    assert sdk_cancelled._request_id is not None
    assert sdk_cancelled._request_id.startswith("req_")
    assert_same_batch(sdk_cancelled, ours.retrieve("batch_sdk"))

    fake_clock.advance(fake_batch_api.cancel_delay)
    final = sdk.batches.retrieve("batch_sdk")
    assert final.status == "cancelled"
    assert final.output_file_id is not None
    assert final.error_file_id is not None
    assert_same_batch(final, ours.retrieve("batch_sdk"))


@pytest.mark.parametrize(
    "status", ["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"]
)
def test_every_seeded_status_reads_the_same(
    fake_batch_api: FakeBatchAPI, sdk: OpenAI, ours: BatchesClient, status: str
) -> None:
    fake_batch_api.add_batch("batch_1", status=status, total=10, completed=4, failed=1)
    assert_same_batch(sdk.batches.retrieve("batch_1"), ours.retrieve("batch_1"))


def test_unknown_status_and_new_fields_pass_through_both(
    fake_batch_api: FakeBatchAPI, sdk: OpenAI, ours: BatchesClient
) -> None:
    fake_batch_api.add_batch("batch_1", status="paused_for_maintenance", priority="low")
    theirs, mine = sdk.batches.retrieve("batch_1"), ours.retrieve("batch_1")
    assert theirs.status == mine.status == "paused_for_maintenance"
    assert theirs.model_extra == mine.extra == {"priority": "low"}
    assert_same_batch(theirs, mine)


def test_sdk_downloads_the_partial_results(fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, sdk: OpenAI) -> None:
    fake_batch_api.add_batch("batch_1", total=9, completed=5, failed=2)
    sdk.batches.cancel("batch_1")
    fake_clock.advance(fake_batch_api.cancel_delay)
    batch = sdk.batches.retrieve("batch_1")
    assert batch.output_file_id is not None
    assert batch.error_file_id is not None

    output = sdk.files.content(batch.output_file_id)
    assert output.content == fake_batch_api.get_file(batch.output_file_id)
    records = [json.loads(line) for line in output.text.splitlines()]
    assert [r["custom_id"] for r in records] == [f"request-{n}" for n in range(1, 6)]
    assert {r["response"]["status_code"] for r in records} == {200}

    failures = [json.loads(line) for line in sdk.files.content(batch.error_file_id).text.splitlines()]
    assert [r["custom_id"] for r in failures] == ["request-6", "request-7"]
    assert {r["response"]["status_code"] for r in failures} == {400}


def test_sdk_errors(fake_batch_api: FakeBatchAPI, fake_batch_server: FakeServer, sdk: OpenAI) -> None:
    fake_batch_api.add_batch("batch_done", status="completed", completed=3)

    with pytest.raises(NotFoundError) as not_found:
        sdk.batches.retrieve("batch_nope")
    assert not_found.value.status_code == 404
    assert not_found.value.body == {
        "message": "No batch found with id 'batch_nope'.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert not_found.value.request_id is not None
    assert not_found.value.request_id.startswith("req_")

    with pytest.raises(BadRequestError) as refused:
        sdk.batches.cancel("batch_done")
    assert refused.value.message == "Error code: 400 - Cannot cancel a batch with status 'completed'."
    assert refused.value.type == "invalid_request_error"

    with pytest.raises(NotFoundError, match="No such File object: file-nope"):
        sdk.files.content("file-nope")

    wrong_key = "sk-wrong-key-that-is-long-enough"
    with (
        OpenAI(api_key=wrong_key, base_url=fake_batch_server.base_url, max_retries=0) as client,
        pytest.raises(AuthenticationError) as denied,
    ):
        client.batches.retrieve("batch_done")
    assert denied.value.code == "invalid_api_key"
    assert wrong_key not in str(denied.value.body)


def test_sdk_retries_injected_errors(fake_batch_api: FakeBatchAPI, fake_batch_server: FakeServer) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.inject_errors(1, 500, {"retry-after-ms": "1"})  # the SDK honours the hint: no real backoff
    fake_batch_api.inject_errors(1, 429, {"retry-after-ms": "1"})
    with OpenAI(api_key=fake_batch_api.api_key, base_url=fake_batch_server.base_url, max_retries=2) as client:
        assert client.batches.cancel("batch_1").status == "cancelling"
    assert fake_batch_api.requests == [("POST", "/v1/batches/batch_1/cancel")] * 3


def test_async_sdk(fake_batch_api: FakeBatchAPI, fake_batch_server: FakeServer) -> None:
    fake_batch_api.add_batch("batch_1")

    async def cancel() -> str:
        async with AsyncOpenAI(api_key=fake_batch_api.api_key, base_url=fake_batch_server.base_url) as client:
            return (await client.batches.cancel("batch_1")).status

    assert asyncio.run(cancel()) == "cancelling"
