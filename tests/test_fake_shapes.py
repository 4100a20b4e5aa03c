"""Provider shapes: the fake answers as other servers write batches (ISO or millisecond timestamps, capitalised
statuses, null counts, errors as a list or a string, no endpoint, "" file ids, other list envelopes), and the
client reads every one of them as it reads OpenAI's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from batches_ext import Batch, BatchesClient
from batches_ext.testing import FakeBatchAPI, FakeClock

STATUSES = ["validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled"]
ERRORS = {
    "object": "list",
    "data": [
        {"code": "invalid_json_line", "message": "Line 1 is not JSON.", "param": None, "line": 1},
        {"code": "missing_required_parameter", "message": "Line 4 has no custom_id.", "param": "custom_id", "line": 4},
    ],
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeBatchAPI:
    api = FakeBatchAPI(clock=clock)
    for status in STATUSES:
        api.add_batch(f"batch_{status}", status=status, total=10, completed=6 if status != "failed" else 0, failed=1)
    api.add_batch("batch_errors", status="failed", total=0, errors=ERRORS)
    return api


@pytest.fixture
def client(fake: FakeBatchAPI, clock: FakeClock) -> BatchesClient:
    http = httpx.Client(transport=fake.transport())
    return BatchesClient(fake.api_key, base_url=fake.base_url, http_client=http, sleep=clock.advance, clock=clock)


def wire(fake: FakeBatchAPI, path: str) -> Any:
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        response = http.get(path, headers={"authorization": f"Bearer {fake.api_key}"})
    assert response.status_code == 200, response.text
    return response.json()


def view(batch: Batch) -> dict[str, Any]:
    """What a user reads from a batch through its typed accessors."""
    return {
        "status": batch.status,
        "terminal": batch.is_terminal,
        "cancellable": batch.is_cancellable,
        "times": [batch.created_at, batch.in_progress_at, batch.expires_at, batch.completed_at, batch.cancelled_at],
        "counts": batch.request_counts,
        "errors": [(error.code, error.message, error.line) for error in batch.errors],
        "endpoint": batch.endpoint,
        "files": [batch.input_file_id, batch.output_file_id, batch.error_file_id],
    }


def expected(openai: dict[str, Any], quirks: frozenset[str]) -> dict[str, Any]:
    """The view of the same batch in a shape: what the shape cannot carry is lost, nothing else changes."""
    shaped = dict(openai)
    if "null_counts" in quirks:
        shaped["counts"] = None
    if quirks & {"no_endpoint", "null_endpoint"}:
        shaped["endpoint"] = None
    if "errors_string" in quirks and openai["errors"]:
        shaped["errors"] = [(None, "; ".join(message for _, message, _ in openai["errors"]), None)]
    return shaped


@pytest.mark.parametrize("shape", [*FakeBatchAPI.shape_quirks, *FakeBatchAPI.shape_presets])
def test_the_client_reads_every_shape_as_openais(fake: FakeBatchAPI, client: BatchesClient, shape: str) -> None:
    ids = [f"batch_{status}" for status in STATUSES] + ["batch_errors"]
    openai = {batch_id: view(client.retrieve(batch_id)) for batch_id in ids}
    fake.shape = shape
    for batch_id in ids:
        batch = client.retrieve(batch_id)
        assert view(batch) == expected(openai[batch_id], fake.shape), (shape, batch_id, batch.to_dict())
    listed = {batch.id: view(batch) for batch in client.list(limit=3)}  # three pages and a bit
    assert listed == {batch_id: expected(openai[batch_id], fake.shape) for batch_id in ids}


@pytest.mark.parametrize("preset", ["azure", "zhipu", "groq", "cerebras"])
def test_cancel_and_collect_in_each_providers_shape(fake: FakeBatchAPI, client: BatchesClient, preset: str) -> None:
    fake.shape = preset
    batch, results, failed = client.cancel_and_collect("batch_in_progress", timeout=600)
    assert (batch.status, batch.is_terminal, len(results), len(failed)) == ("cancelled", True, 6, 1)
    assert batch.cancelled_at is not None
    assert batch.cancelled_at > batch.cancelling_at  # type: ignore[operator]


def test_iso_timestamps_on_the_wire(fake: FakeBatchAPI) -> None:
    plain = wire(fake, "/batches/batch_completed")
    fake.shape = "iso_timestamps"
    shaped = wire(fake, "/batches/batch_completed")
    for name in ("created_at", "in_progress_at", "finalizing_at", "completed_at", "expires_at"):
        assert ISO.match(shaped[name]), shaped[name]
        assert datetime.fromisoformat(shaped[name][:26] + "+00:00") == datetime.fromtimestamp(plain[name], UTC)
    assert shaped["cancelled_at"] is None


@pytest.mark.parametrize(
    ("quirk", "check"),
    [
        ("ms_timestamps", lambda plain, shaped: shaped["created_at"] == plain["created_at"] * 1000),
        ("zero_timestamps", lambda plain, shaped: (plain["cancelled_at"], shaped["cancelled_at"]) == (None, 0)),
        ("missing_timestamps", lambda plain, shaped: "cancelled_at" in plain and "cancelled_at" not in shaped),
        ("capitalized_status", lambda plain, shaped: shaped["status"] == "Completed"),
        ("upper_status", lambda plain, shaped: shaped["status"] == "COMPLETED"),
        ("null_counts", lambda plain, shaped: shaped["request_counts"] is None),
        ("null_count_members", lambda plain, shaped: shaped["request_counts"] == {**plain["request_counts"]}),
        ("no_endpoint", lambda plain, shaped: "endpoint" in plain and "endpoint" not in shaped),
        ("null_endpoint", lambda plain, shaped: shaped["endpoint"] is None),
        ("empty_file_ids", lambda plain, shaped: shaped == plain),  # a completed batch has both files
    ],
)
def test_each_quirk_on_the_wire(fake: FakeBatchAPI, quirk: str, check: Any) -> None:
    plain = wire(fake, "/batches/batch_completed")
    fake.shape = quirk
    assert check(plain, wire(fake, "/batches/batch_completed"))


def test_null_count_members_and_empty_file_ids_on_the_wire(fake: FakeBatchAPI) -> None:
    fake.shape = {"null_count_members", "empty_file_ids"}
    shaped = wire(fake, "/batches/batch_errors")  # failed in validation: nothing counted, no files
    assert shaped["request_counts"] == {"total": None, "completed": None, "failed": None}
    assert (shaped["output_file_id"], shaped["error_file_id"]) == ("", "")
    assert wire(fake, "/batches/batch_in_progress")["request_counts"] == {"total": 10, "completed": 6, "failed": 1}


def test_errors_as_a_list_or_a_string_on_the_wire(fake: FakeBatchAPI) -> None:
    fake.shape = "errors_list"
    assert wire(fake, "/batches/batch_errors")["errors"] == ERRORS["data"]
    fake.shape = "errors_string"
    assert wire(fake, "/batches/batch_errors")["errors"] == "Line 1 is not JSON.; Line 4 has no custom_id."
    assert wire(fake, "/batches/batch_completed")["errors"] is None  # nothing to write


def test_list_envelopes_on_the_wire(fake: FakeBatchAPI) -> None:
    fake.shape = "list_without_object"
    page = wire(fake, "/batches?limit=2")
    assert "object" not in page
    assert page["has_more"] is True
    fake.shape = "cursor_paging"
    page = wire(fake, "/batches?limit=2")
    assert set(page) == {"object", "data", "paging"}
    assert page["paging"]["next_cursor"] == page["data"][-1]["id"]
    last = wire(fake, "/batches?limit=100")
    assert last["paging"] == {"next_cursor": None}


def test_files_and_errors_are_not_shaped(fake: FakeBatchAPI) -> None:
    fake.shape = "azure"
    file_id = fake.get_batch("batch_completed")["output_file_id"]
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        headers = {"authorization": f"Bearer {fake.api_key}"}
        assert http.get(f"/files/{file_id}/content", headers=headers).content == fake.get_file(file_id)
        missing = http.get("/batches/nope", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert fake.get_batch("batch_completed")["status"] == "completed"  # the store keeps OpenAI's shape


def test_an_empty_file_id_means_no_file(fake: FakeBatchAPI, client: BatchesClient) -> None:
    fake.shape = "empty_file_ids"
    batch = client.retrieve("batch_failed")
    assert batch.to_dict()["output_file_id"] == ""
    assert batch.output_file_id is None
    assert list(client.iter_results(batch)) == []  # nothing downloaded
    assert not any("/files/" in path for _, path in fake.requests)


@pytest.mark.parametrize(
    ("shape", "error", "match"),
    [
        ("nope", ValueError, "unknown shape 'nope'"),
        (["azure", "zhipu"], ValueError, "contradict"),  # ISO and millisecond timestamps
        ({"no_endpoint", "null_endpoint"}, ValueError, "contradict"),
        ([1], TypeError, "named by str"),
    ],
)
def test_bad_shapes_are_refused(shape: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        FakeBatchAPI(shape=shape)


def test_shape_presets_and_quirks_are_documented() -> None:
    fake = FakeBatchAPI(shape=["groq", "upper_status"])
    assert fake.shape == {"errors_list", "cursor_paging", "upper_status"}
    assert "shape=['cursor_paging', 'errors_list', 'upper_status']" in repr(fake)
    for quirks in FakeBatchAPI.shape_presets.values():
        assert quirks <= FakeBatchAPI.shape_quirks.keys()
    fake.shape = None
    assert fake.shape == frozenset()
