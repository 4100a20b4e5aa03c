"""The layer's contract: what batches_ext promises whatever generated package sits under it.

These run in the normal suite against `generated/`, and again in a subprocess against a client regenerated from
another spec (the 2025-01-31 upstream document, the 2026-08-21 one, a fragment with a new field and status): see
tests/test_update_spec_upstream.py and tests/test_spec_change_drill.py. So they use only the public API, and never
assume a field or status the older spec lacks is known to the generated model.

`BATCHES_EXT_CONTRACT_GENERATED`, when set, is the directory the subprocess put first on PYTHONPATH: the first test
fails unless `openai_batches_client` really comes from there.
"""

from __future__ import annotations

import asyncio
import copy
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openai_batches_client
import pytest
from openai_batches_client.models.batch import Batch as GeneratedBatch

from batches_ext import AsyncBatchesClient, Batch, BatchesClient, BatchStatus, errors
from tests.payloads import ALL_FIELDS, CANCELLING, MINIMAL, SEED_COMPLETED, batch

GENERATED_ENV = "BATCHES_EXT_CONTRACT_GENERATED"
API_KEY = "sk-contract-0123456789"
PAYLOADS = {"seed_completed": SEED_COMPLETED, "cancelling": CANCELLING, "all_fields": ALL_FIELDS, "minimal": MINIMAL}
TIMESTAMPS = (
    "created_at",
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
)
UNKNOWN_STATUS = "on_hold_for_contract_tests"
UNKNOWN_FIELD = "zz_field_no_spec_has"
UNKNOWN_VALUE: dict[str, Any] = {"nested": [1, None, {"deep": True}], "text": "kept as sent"}


def _never_sleep(seconds: float) -> None:
    raise AssertionError(f"the client slept {seconds}s: nothing in the contract is retried")


class Wire:
    """A MockTransport handler serving one batch at its cancel and retrieve routes; anything else fails loudly."""

    def __init__(self, payload: dict[str, Any], status: int = 200) -> None:
        self.payload = payload
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        batch_id = self.payload["id"]
        routes = {("POST", f"/v1/batches/{batch_id}/cancel"), ("GET", f"/v1/batches/{batch_id}")}
        if (request.method, request.url.path) not in routes:
            raise AssertionError(f"unexpected request: {request.method} {request.url}")
        if self.status != 200:
            body = {"error": {"message": f"No batch found with id '{batch_id}'.", "type": "invalid_request_error",
                              "param": None, "code": "not_found"}}  # fmt: skip
            return httpx.Response(self.status, json=body, headers={"x-request-id": "req_contract_err"})
        return httpx.Response(200, json=self.payload, headers={"x-request-id": "req_contract"})


def _client(wire: Wire) -> BatchesClient:
    http = httpx.Client(transport=httpx.MockTransport(wire))
    return BatchesClient(api_key=API_KEY, http_client=http, sleep=_never_sleep)


def _utc(seconds: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def _assert_faithful(parsed: Batch, payload: dict[str, Any]) -> None:
    assert parsed.id == payload["id"]
    assert parsed.status == payload["status"]
    assert parsed.to_dict() == payload
    for name in TIMESTAMPS:
        value, sent = getattr(parsed, name), payload.get(name)
        if not sent:  # null, missing or 0: "not set", never 1970
            assert value is None, name
        else:
            assert value == _utc(sent), name
            assert value.tzinfo is not None, name
            assert value.utcoffset() == timedelta(0), name


def test_runs_against_the_expected_generated_package() -> None:
    package_dir = Path(openai_batches_client.__file__).resolve().parent
    model_file = Path(sys.modules[type(Batch.from_dict(MINIMAL).raw).__module__].__file__ or "")
    assert model_file.resolve().is_relative_to(package_dir), "the layer uses another copy of the generated package"
    expected = os.environ.get(GENERATED_ENV)
    if expected:
        assert package_dir.is_relative_to(Path(expected).resolve()), f"{package_dir} is not under {expected}"


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_from_dict_parses_every_seed_payload(payload: dict[str, Any]) -> None:
    _assert_faithful(Batch.from_dict(payload), payload)


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_cancel_and_retrieve_parse_every_seed_payload(payload: dict[str, Any]) -> None:
    wire = Wire(payload)
    with _client(wire) as client:
        cancelled = client.cancel(payload["id"])
        retrieved = client.retrieve(payload["id"])
    assert [(r.method, r.url.path) for r in wire.requests] == [
        ("POST", f"/v1/batches/{payload['id']}/cancel"),
        ("GET", f"/v1/batches/{payload['id']}"),
    ]
    assert wire.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    for parsed in (cancelled, retrieved):
        _assert_faithful(parsed, payload)
        assert parsed.request_id == "req_contract"


def test_async_cancel_parses_the_same_batch() -> None:
    async def cancel() -> Batch:
        http = httpx.AsyncClient(transport=httpx.MockTransport(Wire(CANCELLING)))
        async with AsyncBatchesClient(api_key=API_KEY, http_client=http) as client:
            return await client.cancel(CANCELLING["id"])

    parsed = asyncio.run(cancel())
    _assert_faithful(parsed, CANCELLING)
    assert parsed == Batch.from_dict(CANCELLING)


def test_timestamps_are_aware_utc_datetimes() -> None:
    parsed = Batch.from_dict(SEED_COMPLETED)
    assert parsed.created_at == datetime(2024, 3, 26, 16, 45, 33, tzinfo=UTC)
    assert parsed.cancelling_at is None
    assert Batch.from_dict(CANCELLING).cancelling_at == datetime(2024, 3, 26, 17, 45, 33, tzinfo=UTC)


def test_unknown_status_is_kept_verbatim_and_equals_its_string() -> None:
    payload = batch(CANCELLING, status=UNKNOWN_STATUS)
    with _client(Wire(payload)) as client:
        parsed = client.retrieve(payload["id"])
    assert parsed.status == UNKNOWN_STATUS
    assert str(parsed.status) == UNKNOWN_STATUS
    assert isinstance(parsed.status, BatchStatus)
    assert UNKNOWN_STATUS not in {member.value for member in BatchStatus}
    assert not parsed.is_terminal
    assert parsed.to_dict()["status"] == UNKNOWN_STATUS
    assert parsed.raw.status == UNKNOWN_STATUS


def test_unknown_fields_survive_a_lossless_round_trip() -> None:
    payload = batch(SEED_COMPLETED, **{UNKNOWN_FIELD: copy.deepcopy(UNKNOWN_VALUE)})
    with _client(Wire(payload)) as client:
        parsed = client.cancel(payload["id"])
    assert parsed.to_dict() == payload
    assert parsed.extra[UNKNOWN_FIELD] == UNKNOWN_VALUE
    assert Batch.from_dict(parsed.to_dict()) == parsed
    parsed.to_dict()[UNKNOWN_FIELD]["nested"].append("mutated")  # a copy: the batch itself does not change
    assert parsed.to_dict() == payload


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_raw_builds_the_generated_model(payload: dict[str, Any]) -> None:
    raw = Batch.from_dict(payload).raw
    assert isinstance(raw, GeneratedBatch)
    assert raw.id == payload["id"]
    assert raw.status == payload["status"]
    assert raw.created_at == payload["created_at"]
    assert raw.to_dict()["id"] == payload["id"]


def test_404_maps_to_not_found_error() -> None:
    wire = Wire(batch(CANCELLING, id="batch_missing"), status=404)
    with _client(wire) as client, pytest.raises(errors.NotFoundError) as caught:
        client.cancel("batch_missing")
    error = caught.value
    assert isinstance(error, errors.APIStatusError)
    assert isinstance(error, errors.BatchesError)
    assert error.status_code == 404
    assert error.request_id == "req_contract_err"
    assert error.code == "not_found"
    assert "No batch found with id 'batch_missing'" in str(error)
    assert len(wire.requests) == 1  # a 404 is final: no retry
