"""Batches as other servers write them: each kind of difference seen in the wild parses, and nothing raises.

One test per kind of difference (status spelling, timestamp forms, null counts, error shapes, endpoint, file ids,
metadata, id formats, extra fields); the examples are made up for these tests. Then a property: any JSON object
with an `id` and a `status` parses, whatever its other fields hold, and reading every attribute never raises.
"""

from __future__ import annotations

import copy
import json
import math
import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batches_ext import Batch, BatchErrorDetail, BatchStatus, RequestCounts, Usage
from batches_ext._batch import TIMESTAMP_FIELDS
from batches_ext._cli_format import batch_table
from tests.payloads import CANCELLING, MINIMAL, SEED_COMPLETED, batch

# An Azure-style batch: ISO timestamps with seven fractional digits, capitalised status, no endpoint, null counts.
AZURE_LIKE: dict[str, Any] = {
    "id": "batch_7f3a9c1e-2b4d-4e8f-9a0b-1c2d3e4f5a6b",
    "object": "batch",
    "input_file_id": "file-77aa",
    "completion_window": "24h",
    "status": "Validating",
    "output_file_id": None,
    "error_file_id": None,
    "created_at": "2025-02-03T08:15:42.1234567+00:00",
    "in_progress_at": None,
    "expires_at": "2025-02-04T08:15:42.1234567Z",
    "request_counts": {"total": None, "completed": None, "failed": None},
    "metadata": None,
    "errors": None,
}
# A Zhipu-style batch: millisecond timestamps, `0` for "not set", "" for "no file", a /v4 endpoint.
MILLIS_LIKE: dict[str, Any] = {
    "id": "batch_1893456789012345678",
    "object": "batch",
    "endpoint": "/v4/chat/completions",
    "input_file_id": "1893456789012345679-file",
    "completion_window": "24h",
    "status": "completed",
    "output_file_id": "1893456789012345680-out",
    "error_file_id": "",
    "created_at": 1738570542123,
    "in_progress_at": 1738570600456,
    "completed_at": 1738574200789,
    "failed_at": 0,
    "cancelled_at": 0,
    "request_counts": {"total": 12, "completed": 12, "failed": 0},
}
ALL_ATTRIBUTES = sorted(
    name for name in dir(Batch) if not name.startswith("_") and isinstance(getattr(Batch, name), property)
)


def read_everything(parsed: Batch) -> dict[str, Any]:
    """Every public attribute and method result of `parsed` (what a user could touch), by name."""
    seen = {name: getattr(parsed, name) for name in ALL_ATTRIBUTES}
    seen["repr"] = repr(parsed)
    seen["to_dict"] = parsed.to_dict()
    seen["duration"] = parsed.duration()
    seen["equal_to_itself"] = parsed == Batch.from_dict(parsed.to_dict())
    seen["pickled"] = pickle.loads(pickle.dumps(parsed)) == parsed  # noqa: S301 - our own bytes
    seen["table"] = batch_table(parsed, datetime(2025, 1, 1, tzinfo=UTC))  # what `batches-ext retrieve` prints
    return seen


def test_azure_like_batch() -> None:
    parsed = Batch.from_dict(AZURE_LIKE)
    assert parsed.status is BatchStatus.VALIDATING
    assert parsed.is_cancellable
    assert parsed.created_at == datetime(2025, 2, 3, 8, 15, 42, 123456, tzinfo=UTC)
    assert parsed.expires_at == datetime(2025, 2, 4, 8, 15, 42, 123456, tzinfo=UTC)
    assert parsed.endpoint is None
    assert parsed.request_counts == RequestCounts(total=0, completed=0, failed=0)
    assert parsed.progress is None
    assert parsed.to_dict() == AZURE_LIKE


def test_cli_table_of_a_variant_batch() -> None:
    without = batch(AZURE_LIKE, input_file_id="", metadata={"n": 3, "tags": ["a"]}, errors="quota exceeded")
    table = batch_table(Batch.from_dict(without), datetime(2025, 2, 3, 9, 15, 42, tzinfo=UTC))
    assert "None" not in table
    assert "endpoint:       not reported" in table
    assert "input_file_id:  none" in table
    assert "metadata:       n=3, tags=['a']" in table
    assert "errors:         error: quota exceeded" in table
    assert "created_at:     2025-02-03T08:15:42Z (59 min ago)" in table


def test_millisecond_batch() -> None:
    parsed = Batch.from_dict(MILLIS_LIKE)
    assert parsed.created_at == datetime(2025, 2, 3, 8, 15, 42, 123000, tzinfo=UTC)
    assert parsed.completed_at == datetime(2025, 2, 3, 9, 16, 40, 789000, tzinfo=UTC)
    assert (parsed.failed_at, parsed.cancelled_at) == (None, None)  # 0: not set, not 1970
    assert parsed.ended_at == parsed.completed_at
    assert parsed.duration() == timedelta(hours=1, minutes=0, seconds=58, microseconds=666000)
    assert parsed.endpoint == "/v4/chat/completions"
    assert (parsed.output_file_id, parsed.error_file_id) == ("1893456789012345680-out", None)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("Validating", BatchStatus.VALIDATING),
        ("IN_PROGRESS", BatchStatus.IN_PROGRESS),
        ("Finalizing", BatchStatus.FINALIZING),
        ("CANCELLING", BatchStatus.CANCELLING),
        ("Cancelled", BatchStatus.CANCELLED),
        ("Completed", BatchStatus.COMPLETED),
        ("FAILED", BatchStatus.FAILED),
        ("Expired", BatchStatus.EXPIRED),
    ],
)
def test_status_any_case_is_the_member(wire: str, expected: BatchStatus) -> None:
    parsed = Batch.from_dict(batch(status=wire))
    assert parsed.status is expected
    plain = Batch.from_dict(batch(status=expected.value))
    assert (parsed.is_terminal, parsed.is_cancellable) == (plain.is_terminal, plain.is_cancellable)
    assert parsed.to_dict()["status"] == wire  # the wire value is kept


@pytest.mark.parametrize("wire", ["pending", "queued", "created", "finalize", "in_queue", "complete", "calling", "X"])
def test_open_set_of_statuses_kept_verbatim_neither_terminal_nor_cancellable(wire: str) -> None:
    parsed = Batch.from_dict(batch(status=wire))
    assert parsed.status == wire
    assert (parsed.is_terminal, parsed.is_cancellable, parsed.ended_at) == (False, False, None)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (1738570542, datetime(2025, 2, 3, 8, 15, 42, tzinfo=UTC)),
        (1738570542.5, datetime(2025, 2, 3, 8, 15, 42, 500000, tzinfo=UTC)),
        (1738570542000, datetime(2025, 2, 3, 8, 15, 42, tzinfo=UTC)),
        ("2025-02-03T09:15:42+01:00", datetime(2025, 2, 3, 8, 15, 42, tzinfo=UTC)),
        ("2025-02-03T08:15:42.1Z", datetime(2025, 2, 3, 8, 15, 42, 100000, tzinfo=UTC)),
        (None, None),
        (0, None),
        ("", None),
        (10**18, None),
        (1e300, None),
        (math.nan, None),
        (math.inf, None),
        (True, None),
        ("soon", None),
        ({"unix": 1}, None),
    ],
)
def test_every_timestamp_in_every_form(written: object, expected: datetime | None) -> None:
    names = TIMESTAMP_FIELDS
    parsed = Batch.from_dict(batch(MINIMAL, **dict.fromkeys(names, written)))
    assert [getattr(parsed, name) for name in names] == [expected] * len(names)
    read_everything(parsed)


def test_missing_timestamps_are_none() -> None:
    parsed = Batch.from_dict({"id": "b", "status": "in_progress"})
    assert all(getattr(parsed, name) is None for name in ALL_ATTRIBUTES if name.endswith("_at"))


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (None, None),
        ({"total": None, "completed": None, "failed": None}, RequestCounts(0, 0, 0)),
        ({"total": 10, "completed": None, "failed": 2}, RequestCounts(10, 0, 2)),
        ({"total": 10}, RequestCounts(10, 0, 0)),
        ({"total": 10.0, "completed": "3", "failed": True}, RequestCounts(10, 0, 0)),
        ([10, 3, 0], None),
        ("10/3/0", None),
    ],
)
def test_request_counts_null_or_partial(counts: object, expected: RequestCounts | None) -> None:
    parsed = Batch.from_dict(batch(request_counts=counts))
    assert parsed.request_counts == expected
    read_everything(parsed)


ERROR = BatchErrorDetail(code="invalid_json_line", message="Line 4 is not valid JSON.", param=None, line=4)


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        (None, []),
        ({"object": "list", "data": []}, []),
        ({"object": "list", "data": None}, []),
        (
            {
                "object": "list",
                "data": [{"code": "invalid_json_line", "message": "Line 4 is not valid JSON.", "line": 4}],
            },
            [ERROR],
        ),
        ([{"code": "invalid_json_line", "message": "Line 4 is not valid JSON.", "line": 4}], [ERROR]),  # bare array
        ({"code": "invalid_json_line", "message": "Line 4 is not valid JSON.", "line": 4}, [ERROR]),  # one object
        ("the input file could not be read", [BatchErrorDetail(None, "the input file could not be read", None, None)]),
        ("", []),
        (
            [{"code": 400, "message": "bad", "param": "body.messages.0.content", "line": None}],
            [BatchErrorDetail("400", "bad", "body.messages.0.content", None)],
        ),
        (
            [{"line": "7"}, {"line": 7.0}, {"line": "seven"}],
            [BatchErrorDetail(None, None, None, n) for n in (7, 7, None)],
        ),
        ([None, 3, ["nested"], "", "plain"], [BatchErrorDetail(None, "plain", None, None)]),
        ({"object": "list", "data": "oops"}, [BatchErrorDetail(None, "oops", None, None)]),
        (42, []),
    ],
)
def test_errors_in_every_shape(errors: object, expected: list[BatchErrorDetail]) -> None:
    parsed = Batch.from_dict(batch(SEED_COMPLETED, errors=errors))  # present on a completed batch too
    assert parsed.errors == expected
    assert parsed.to_dict()["errors"] == errors
    read_everything(parsed)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("/v1/chat/completions", "/v1/chat/completions"),
        ("/chat/completions", "/chat/completions"),
        ("/v4/chat/completions", "/v4/chat/completions"),
        (None, None),
        ("", None),
    ],
)
def test_endpoint_any_form_or_none(endpoint: str | None, expected: str | None) -> None:
    assert Batch.from_dict(batch(endpoint=endpoint)).endpoint == expected
    without = batch()
    del without["endpoint"]
    assert Batch.from_dict(without).endpoint is None


def test_file_ids_empty_null_or_on_any_status() -> None:
    empty = Batch.from_dict(batch(MILLIS_LIKE, input_file_id="", output_file_id="", error_file_id=""))
    assert (empty.input_file_id, empty.output_file_id, empty.error_file_id) == (None, None, None)
    all_failed = Batch.from_dict(batch(SEED_COMPLETED, output_file_id=None))
    assert (all_failed.output_file_id, all_failed.error_file_id) == (None, "file-HOWS94")
    for status in ("expired", "cancelled"):
        assert Batch.from_dict(batch(status=status, output_file_id="file-partial")).output_file_id == "file-partial"


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (None, {}),
        ({}, {}),
        ({"team": "search"}, {"team": "search"}),
        ({"priority": 3, "retry": True, "tags": ["a", "b"], "owner": None}, None),  # values as sent
        (["not", "an", "object"], {}),
    ],
)
def test_metadata_any_json_values(metadata: object, expected: dict[str, Any] | None) -> None:
    parsed = Batch.from_dict(batch(metadata=metadata))
    assert parsed.metadata == (metadata if expected is None else expected)
    parsed.metadata.setdefault("tags", []).append("mutated")  # a copy: the batch does not change
    assert parsed.to_dict()["metadata"] == metadata


@pytest.mark.parametrize(
    "batch_id",
    [
        "batch_67e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2",
        "batch_2f1e0d9c-8b7a-4654-8321-0fedcba98765",
        "2f1e0d9c-8b7a-4654-8321-0fedcba98765",
        "batch-00017",
        "918273645",
        "bGl0ZWxsbTpjdXN0b21fbGxtX3Byb3ZpZGVyOm9wZW5haTttb2RlbF9pZDpub25lO2xsbV9iYXRjaF9pZDpiYXRjaF8x",
    ],
)
def test_any_id_format(batch_id: str) -> None:
    assert Batch.from_dict(batch(id=batch_id)).id == batch_id


def test_extra_fields_and_empty_model_and_usage_variants() -> None:
    extras = {"output_expires_after": {"anchor": "created_at", "seconds": 86400}, "provider": "groq"}
    parsed = Batch.from_dict(batch(model="", usage=None, expected_completion_at=1738574200, **extras))
    assert parsed.model is None
    assert parsed.usage is None
    assert parsed.extra == {**extras, "expected_completion_at": 1738574200}
    zeros = Batch.from_dict(batch(usage={"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}))
    assert zeros.usage == Usage(0, 0, 0, 0, 0)  # the token details may be missing
    assert Batch.from_dict(batch(usage="n/a")).usage is None


def test_raw_is_none_when_the_payload_does_not_fit_the_generated_model() -> None:
    for payload in (AZURE_LIKE, batch(request_counts=None), batch(usage={"input_tokens": 1})):
        assert Batch.from_dict(payload).raw is None
    assert Batch.from_dict(MILLIS_LIKE).raw is not None


def test_raw_is_independent_of_the_batch() -> None:
    parsed = Batch.from_dict(batch(CANCELLING, nested={"a": [1]}))
    assert parsed.raw is not None
    parsed.raw.additional_properties["nested"]["a"].append(2)
    assert parsed.to_dict()["nested"] == {"a": [1]}


# --- the property: anything recognisable as a batch parses, and no attribute access raises ------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
# Field names the layer reads, and the names inside its nested objects, so the values land where they matter.
FIELDS = sorted(set(MINIMAL) | set(SEED_COMPLETED) | {"errors", "usage", "metadata", "priority", "paused_at"})
NESTED = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(
        ("total", "completed", "failed", "data", "code", "message", "param", "line", "input_tokens",
         "input_tokens_details", "output_tokens_details", "total_tokens", "object"),
        json_values,
    ),
)  # fmt: skip
batches = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=12), "status": st.text(max_size=12)},
    optional={
        name: json_values | NESTED | st.lists(NESTED, max_size=2) for name in FIELDS if name not in {"id", "status"}
    },
)


@settings(max_examples=200, deadline=None, database=None)
@given(data=batches)
def test_any_recognisable_batch_parses_and_no_attribute_raises(data: dict[str, Any]) -> None:
    sent = copy.deepcopy(data)
    parsed = Batch.from_dict(data)
    seen = read_everything(parsed)
    assert seen["to_dict"] == sent or json.dumps(sent) == json.dumps(seen["to_dict"])  # NaN != NaN
    assert seen["id"] == data["id"]
    assert isinstance(seen["status"], BatchStatus)
    assert all(seen[name] is None or seen[name].tzinfo is UTC for name in ALL_ATTRIBUTES if name.endswith("_at"))
