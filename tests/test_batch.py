"""The ergonomic Batch: every field, timestamp conversion, tolerance of unknown values, lossless round trip."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from batches_ext import Batch, BatchErrorDetail, BatchStatus, RequestCounts, Usage
from batches_ext.errors import APIResponseValidationError
from tests.payloads import ALL_FIELDS, CANCELLING, MINIMAL, SEED_COMPLETED, batch

TIMESTAMPS = [
    "created_at",
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
]


def utc(seconds: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def test_seed_example_every_field() -> None:
    b = Batch.from_dict(SEED_COMPLETED)
    assert b.id == "batch_abc123"
    assert b.object == "batch"
    assert b.endpoint == "/v1/completions"
    assert b.model == "gpt-5-2025-08-07"
    assert b.input_file_id == "file-abc123"
    assert b.completion_window == "24h"
    assert b.status is BatchStatus.COMPLETED
    assert b.output_file_id == "file-cvaTdG"
    assert b.error_file_id == "file-HOWS94"
    assert b.created_at == datetime(2024, 3, 26, 16, 45, 33, tzinfo=UTC)
    assert b.in_progress_at == utc(1711471538)
    assert b.expires_at == utc(1711557933)
    assert b.finalizing_at == utc(1711493133)
    assert b.completed_at == utc(1711493163)
    assert (b.failed_at, b.expired_at, b.cancelling_at, b.cancelled_at) == (None, None, None, None)
    assert b.request_counts == RequestCounts(total=100, completed=95, failed=5)
    assert b.usage == Usage(
        input_tokens=1500, output_tokens=500, total_tokens=2000, cached_tokens=1024, reasoning_tokens=300
    )
    assert b.metadata == {"customer_id": "user_123456789", "batch_description": "Nightly eval job"}
    assert b.errors == []


@pytest.mark.parametrize("field", TIMESTAMPS)
def test_every_timestamp_is_aware_utc(field: str) -> None:
    b = Batch.from_dict(batch(ALL_FIELDS, **{field: 1711471533}))
    value = getattr(b, field)
    assert value == datetime(2024, 3, 26, 16, 45, 33, tzinfo=UTC)
    assert value.utcoffset() == timedelta(0)


def test_all_fields_example_including_errors() -> None:
    b = Batch.from_dict(ALL_FIELDS)
    assert b.errors == [BatchErrorDetail(code="code", message="message", param="param", line=0)]
    assert b.created_at is None  # the example's 0: never a real instant
    assert b.request_counts is not None
    assert b.request_counts.progress is None  # total 0: unknown, not 0 % or a ZeroDivisionError
    assert b.status == "validating"


def test_all_optional_fields_null() -> None:
    data = {**MINIMAL, **dict.fromkeys(TIMESTAMPS[1:])}
    data |= {"output_file_id": None, "error_file_id": None, "errors": None, "metadata": None, "model": None}
    b = Batch.from_dict(data)
    assert [getattr(b, f) for f in TIMESTAMPS[1:]] == [None] * 8
    assert (b.output_file_id, b.error_file_id, b.model, b.usage, b.request_counts) == (None,) * 5
    assert b.errors == []
    assert b.metadata == {}
    assert b.to_dict() == data  # nulls survive
    assert b.raw.errors is None


def test_minimal_batch_absent_fields() -> None:
    b = Batch.from_dict(MINIMAL)
    assert b.errors == []
    assert b.metadata == {}
    assert b.request_counts is None
    assert b.progress is None
    assert "errors" not in b.to_dict()


def test_empty_file_ids_count_as_missing() -> None:
    b = Batch.from_dict(batch(SEED_COMPLETED, output_file_id="", error_file_id=""))
    assert (b.output_file_id, b.error_file_id) == (None, None)
    assert b.to_dict()["output_file_id"] == ""  # the wire value is kept


def test_unknown_status_kept_verbatim_and_never_raises() -> None:
    b = Batch.from_dict(batch(status="paused_for_review"))
    assert b.status == "paused_for_review"
    assert str(b.status) == "paused_for_review"
    assert isinstance(b.status, BatchStatus)
    assert b.raw.status == "paused_for_review"
    assert not b.is_terminal
    assert not b.is_cancellable
    assert b.to_dict()["status"] == "paused_for_review"


def test_unknown_fields_preserved_lossless() -> None:
    data = batch(SEED_COMPLETED, priority="high", nested={"a": [1, None, {"b": 2.5}]})
    data["request_counts"]["in_flight"] = 3
    b = Batch.from_dict(data)
    assert b.to_dict() == data
    assert json.dumps(b.to_dict()) == json.dumps(data)  # same key order too
    assert b.extra == {"priority": "high", "nested": {"a": [1, None, {"b": 2.5}]}}
    assert b.raw.additional_properties["priority"] == "high"


def test_to_dict_is_a_copy() -> None:
    data = copy.deepcopy(SEED_COMPLETED)
    b = Batch.from_dict(data)
    out = b.to_dict()
    out["metadata"]["customer_id"] = "changed"
    b.metadata["x"] = "y"
    data["id"] = "mutated after parsing"
    assert b.to_dict()["metadata"]["customer_id"] == "user_123456789"
    assert "x" not in b.metadata
    assert b.id == "batch_abc123"


def test_raw_is_the_generated_model() -> None:
    from openai_batches_client.models.batch import Batch as GeneratedBatch

    b = Batch.from_dict(SEED_COMPLETED)
    assert isinstance(b.raw, GeneratedBatch)
    assert b.raw is b.raw  # built once
    assert b.raw.to_dict() == SEED_COMPLETED


@pytest.mark.parametrize(
    ("status", "terminal", "cancellable"),
    [
        ("validating", False, True),
        ("in_progress", False, True),
        ("finalizing", False, True),
        ("cancelling", False, False),
        ("completed", True, False),
        ("failed", True, False),
        ("expired", True, False),
        ("cancelled", True, False),
    ],
)
def test_status_helpers(status: str, terminal: bool, cancellable: bool) -> None:
    b = Batch.from_dict(batch(status=status))
    assert (b.is_terminal, b.is_cancellable) == (terminal, cancellable)


def test_durations_and_progress() -> None:
    b = Batch.from_dict(batch(CANCELLING, status="cancelled", cancelled_at=1711475133 + 420))
    assert b.duration("cancelling_at", "cancelled_at") == timedelta(minutes=7)
    assert b.ended_at == utc(1711475133 + 420)
    assert b.duration() == utc(1711475133 + 420) - utc(1711471533)
    assert Batch.from_dict(CANCELLING).duration() is None  # not ended yet
    assert Batch.from_dict(CANCELLING).progress == pytest.approx(0.24)
    with pytest.raises(ValueError, match="'started' is not a timestamp field"):
        b.duration("started")


def test_repr_and_equality() -> None:
    b = Batch.from_dict(CANCELLING)
    assert repr(b) == "Batch(id='batch_abc123', status='cancelling', requests=24/100)"
    assert b == Batch.from_dict(copy.deepcopy(CANCELLING))
    assert b != Batch.from_dict(batch(status="cancelled"))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"id": None}, "field 'id' must be a non-empty string"),
        ({"id": ""}, "field 'id' must be a non-empty string"),
        ({"id": 12}, "field 'id' must be a non-empty string"),
        ({"status": 3}, "field 'status' must be a string"),
        ({"status": None}, "field 'status' must be a string"),
    ],
)
def test_what_is_not_recognisably_a_batch_is_a_validation_error(change: dict[str, object], problem: str) -> None:
    with pytest.raises(APIResponseValidationError, match=problem):
        Batch.from_dict(batch(**change))


@pytest.mark.parametrize("field", ["id", "status"])
def test_missing_id_or_status_is_a_validation_error_not_keyerror(field: str) -> None:
    data = batch()
    del data[field]
    with pytest.raises(APIResponseValidationError, match=f"required field '{field}' is missing"):
        Batch.from_dict(data)


@pytest.mark.parametrize("field", ["object", "endpoint", "input_file_id", "completion_window", "created_at"])
def test_other_required_fields_may_be_missing(field: str) -> None:
    data = batch()
    del data[field]
    parsed = Batch.from_dict(data)
    assert getattr(parsed, field) is None
    assert parsed.to_dict() == data
    assert parsed.raw is None  # the generated model demands the field; the layer does not


def test_not_an_object() -> None:
    with pytest.raises(APIResponseValidationError, match="expected a JSON object, got list"):
        Batch.from_dict([1, 2])  # type: ignore[arg-type]
