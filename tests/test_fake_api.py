"""The in-process fake (`batches_ext.testing.FakeBatchAPI` + its transport): lifecycle, files, errors, faults."""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
from typing import Any

import httpx
import pytest
from openai_batches_client.models.batch import Batch as GeneratedBatch

import batches_ext.testing
from batches_ext import AsyncBatchesClient, Batch, BatchesClient, errors
from batches_ext.testing import DEFAULT_API_KEY, FakeBatchAPI, FakeClock, RecordedRequest
from batches_ext.testing._results import COMPLETION_TOKENS, PROMPT_TOKENS
from batches_ext.testing._wire import mask_key
from tests.payloads import DOCUMENTED_STATUSES

DAY = 86_400
KNOWN_STATUSES = DOCUMENTED_STATUSES
TIMESTAMPS = [
    "in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at",
]  # fmt: skip
# Which timestamps a batch seeded in each status has set.
SET_TIMESTAMPS = {
    "validating": set(),
    "failed": {"failed_at"},
    "in_progress": {"in_progress_at"},
    "finalizing": {"in_progress_at", "finalizing_at"},
    "completed": {"in_progress_at", "finalizing_at", "completed_at"},
    "expired": {"in_progress_at", "expired_at"},
    "cancelling": {"in_progress_at", "cancelling_at"},
    "cancelled": {"in_progress_at", "cancelling_at", "cancelled_at"},
}
AUTH = {"authorization": f"Bearer {DEFAULT_API_KEY}"}


@pytest.fixture
def http(fake_batch_api: FakeBatchAPI) -> Any:
    with httpx.Client(transport=fake_batch_api.transport(), base_url=fake_batch_api.base_url, headers=AUTH) as client:
        yield client


def lines(content: bytes) -> list[dict[str, Any]]:
    assert content.endswith(b"\n")
    return [json.loads(line) for line in content.splitlines()]


# --- seeding ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", KNOWN_STATUSES)
def test_seeded_timestamps_fit_the_status(fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, status: str) -> None:
    batch = fake_batch_api.add_batch("batch_1", status=status, completed=10, failed=2)
    now = int(fake_clock())
    assert batch["status"] == status
    assert batch["expires_at"] == batch["created_at"] + DAY
    assert {name for name in TIMESTAMPS if batch[name] is not None} == SET_TIMESTAMPS[status]
    stamps = [batch["created_at"]] + [batch[name] for name in TIMESTAMPS if batch[name] is not None]
    assert stamps == sorted(stamps)
    assert all(stamp <= now for stamp in stamps)
    # Both the hand-written and the generated models accept it: the fake speaks the spec.
    assert Batch.from_dict(batch).status == status
    assert GeneratedBatch.from_dict(batch).id == "batch_1"


def test_seeded_batch_has_the_wire_shape(fake_batch_api: FakeBatchAPI) -> None:
    batch = fake_batch_api.add_batch("batch_1", completed=3, failed=1)
    assert list(batch)[:3] == ["id", "object", "endpoint"]
    assert batch["object"] == "batch"
    assert batch["completion_window"] == "24h"
    assert batch["input_file_id"].startswith("file-")
    assert batch["request_counts"] == {"total": 100, "completed": 3, "failed": 1}
    assert batch["usage"]["total_tokens"] == 3 * (PROMPT_TOKENS + COMPLETION_TOKENS)
    assert batch["metadata"] is None
    assert batch["errors"] is None
    assert fake_batch_api.get_batch("batch_1") == batch


def test_failed_batch_carries_validation_errors(fake_batch_api: FakeBatchAPI) -> None:
    batch = Batch.from_dict(fake_batch_api.add_batch("batch_1", status="failed", total=0))
    assert [error.code for error in batch.errors] == ["invalid_json_line"]
    assert batch.output_file_id is None


def test_fields_override_and_extend_the_wire_json(fake_batch_api: FakeBatchAPI) -> None:
    batch = fake_batch_api.add_batch(
        "batch_1", status="completed", created_at=1_711_471_533, metadata={"team": "evals"}, model="gpt-5",
        endpoint="/v1/responses", usage=None, brand_new_field={"x": 1},
    )  # fmt: skip
    assert batch["created_at"] == 1_711_471_533
    assert batch["in_progress_at"] == 1_711_471_533 + 60  # the other timestamps follow created_at
    assert batch["expires_at"] == 1_711_471_533 + DAY
    assert (batch["metadata"], batch["model"], batch["endpoint"]) == ({"team": "evals"}, "gpt-5", "/v1/responses")
    assert batch["usage"] is None
    assert batch["brand_new_field"] == {"x": 1}


def test_random_ids_when_none_given(fake_batch_api: FakeBatchAPI) -> None:
    first, second = fake_batch_api.add_batch(), fake_batch_api.add_batch()
    assert first["id"].startswith("batch_")
    assert first["id"] != second["id"]
    assert set(fake_batch_api.batches) == {first["id"], second["id"]}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"completed": 60, "failed": 41}, "exceeds total"),
        ({"total": -1}, "total must be"),
        ({"completed": 1.5}, "completed must be"),
        ({"failed": True}, "failed must be"),
        ({"status": ""}, "status must be"),
        ({"progress_per_poll": -1}, "progress_per_poll"),
        ({"id": "other"}, "as batch_id"),
        ({"metadata": {"when": object()}}, "JSON-serializable"),
    ],
)
def test_add_batch_rejects_bad_arguments(fake_batch_api: FakeBatchAPI, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fake_batch_api.add_batch("batch_1", **kwargs)


@pytest.mark.parametrize("batch_id", ["", 7])
def test_add_batch_rejects_a_bad_id(fake_batch_api: FakeBatchAPI, batch_id: Any) -> None:
    with pytest.raises(ValueError, match="batch_id"):
        fake_batch_api.add_batch(batch_id)


def test_add_batch_rejects_a_duplicate_and_remove_batch_frees_the_id(fake_batch_api: FakeBatchAPI) -> None:
    fake_batch_api.add_batch("batch_1")
    with pytest.raises(ValueError, match="already exists"):
        fake_batch_api.add_batch("batch_1")
    fake_batch_api.remove_batch("batch_1")
    with pytest.raises(KeyError):
        fake_batch_api.get_batch("batch_1")
    with pytest.raises(KeyError):
        fake_batch_api.remove_batch("batch_1")
    fake_batch_api.add_batch("batch_1", status="completed")


def test_constructor_and_file_validation() -> None:
    with pytest.raises(ValueError, match="api_key"):
        FakeBatchAPI(api_key="")
    with pytest.raises(ValueError, match="cancel_delay"):
        FakeBatchAPI(cancel_delay=-1)
    with pytest.raises(ValueError, match="cancel_delay"):
        FakeBatchAPI(cancel_delay=float("inf"))
    with pytest.raises(TypeError, match="cancel_delay"):
        FakeBatchAPI(cancel_delay="5")  # type: ignore[arg-type]
    fake = FakeBatchAPI()
    with pytest.raises(ValueError, match="file_id"):
        fake.add_file("", b"x")
    with pytest.raises(TypeError, match="bytes"):
        fake.add_file("file-1", "text")  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        fake.get_file("file-1")
    fake.add_file("file-1", bytearray(b"abc"))
    assert fake.get_file("file-1") == b"abc"
    assert fake.files == {"file-1": b"abc"}


# --- lifecycle --------------------------------------------------------------------------------------------------------


def test_cancel_then_cancelled_after_the_delay(
    fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, batches_client: BatchesClient
) -> None:
    fake_batch_api.add_batch("batch_1", status="in_progress", total=10, completed=6, failed=1)
    started = int(fake_clock())

    batch = batches_client.cancel("batch_1")
    assert batch.status == "cancelling"
    assert batch.cancelling_at is not None
    assert batch.cancelling_at.timestamp() == started
    assert (batch.cancelled_at, batch.output_file_id, batch.error_file_id) == (None, None, None)

    fake_clock.advance(4.9)
    assert batches_client.retrieve("batch_1").status == "cancelling"
    fake_clock.advance(0.1)
    batch = batches_client.retrieve("batch_1")
    assert batch.status == "cancelled"
    assert batch.cancelled_at is not None
    assert batch.cancelled_at.timestamp() == started + 5
    assert batch.request_counts is not None
    assert (batch.request_counts.completed, batch.request_counts.failed) == (6, 1)

    assert batch.output_file_id is not None
    assert batch.error_file_id is not None
    output = lines(fake_batch_api.get_file(batch.output_file_id))
    failures = lines(fake_batch_api.get_file(batch.error_file_id))
    assert [line["custom_id"] for line in output] == [f"request-{n}" for n in range(1, 7)]
    assert [line["custom_id"] for line in failures] == ["request-7"]
    assert len({line["id"] for line in output + failures}) == 7


def test_output_and_error_lines_follow_openais_format(fake_batch_api: FakeBatchAPI) -> None:
    batch = fake_batch_api.add_batch("batch_1", status="cancelled", total=50, completed=20, failed=5)
    output = lines(fake_batch_api.get_file(batch["output_file_id"]))
    failures = lines(fake_batch_api.get_file(batch["error_file_id"]))
    assert (len(output), len(failures)) == (20, 5)

    for line in output:
        assert set(line) == {"id", "custom_id", "response", "error"}
        assert line["id"].startswith("batch_req_")
        assert line["error"] is None
        response = line["response"]
        assert response["status_code"] == 200
        assert response["request_id"].startswith("req_")
        body = response["body"]
        assert body["object"] == "chat.completion"
        assert body["model"] == batch["model"]
        assert body["choices"][0]["message"]["role"] == "assistant"
        assert body["choices"][0]["finish_reason"] == "stop"
    for line in failures:
        assert line["error"] is None
        assert line["response"]["status_code"] == 400
        assert set(line["response"]["body"]["error"]) == {"message", "type", "param", "code"}

    usage = batch["usage"]
    assert usage["input_tokens"] == sum(line["response"]["body"]["usage"]["prompt_tokens"] for line in output)
    assert usage["output_tokens"] == sum(line["response"]["body"]["usage"]["completion_tokens"] for line in output)


def test_results_parse_with_the_clients_own_reader(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    fake_batch_api.add_batch("batch_1", status="in_progress", total=30, completed=12, failed=3)
    collected = batches_client.cancel_and_collect("batch_1", timeout=60)
    assert collected.batch.status == "cancelled"
    assert [result.custom_id for result in collected.results] == [f"request-{n}" for n in range(1, 13)]
    assert all(result.ok for result in collected.results)
    assert [result.status_code for result in collected.errors] == [400, 400, 400]


@pytest.mark.parametrize(("completed", "failed"), [(0, 0), (5, 0), (0, 5)])
def test_no_empty_files(fake_batch_api: FakeBatchAPI, completed: int, failed: int) -> None:
    batch = fake_batch_api.add_batch("batch_1", status="cancelled", completed=completed, failed=failed)
    assert (batch["output_file_id"] is not None) == (completed > 0)
    assert (batch["error_file_id"] is not None) == (failed > 0)
    assert len(fake_batch_api.files) == (completed > 0) + (failed > 0)


def test_explicit_file_ids_are_kept(fake_batch_api: FakeBatchAPI) -> None:
    batch = fake_batch_api.add_batch("batch_1", status="completed", completed=5, output_file_id="file-mine")
    assert (batch["output_file_id"], batch["error_file_id"]) == ("file-mine", None)
    assert fake_batch_api.files == {}


@pytest.mark.parametrize("status", ["validating", "in_progress", "finalizing"])
def test_running_statuses_are_cancellable(
    batches_client: BatchesClient, fake_batch_api: FakeBatchAPI, status: str
) -> None:
    fake_batch_api.add_batch("batch_1", status=status)
    assert batches_client.cancel("batch_1").status == "cancelling"


@pytest.mark.parametrize(
    "status", ["cancelling", "cancelled", "completed", "failed", "expired", "paused_for_maintenance"]
)
def test_cancel_refused_outside_running_statuses(http: httpx.Client, fake_batch_api: FakeBatchAPI, status: str) -> None:
    fake_batch_api.add_batch("batch_1", status=status)
    response = http.post("/batches/batch_1/cancel")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": f"Cannot cancel a batch with status '{status}'.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    assert fake_batch_api.get_batch("batch_1")["status"] == status


def test_unknown_status_never_crashes_the_fake(
    fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, batches_client: BatchesClient
) -> None:
    fake_batch_api.add_batch("batch_1", status="paused_for_maintenance", progress_per_poll=5, completed=1)
    fake_clock.advance(2 * DAY)
    batch = batches_client.retrieve("batch_1")
    assert batch.status == "paused_for_maintenance"
    assert not batch.is_terminal
    assert not batch.is_cancellable
    with pytest.raises(errors.BadRequestError, match="paused_for_maintenance"):
        batches_client.cancel("batch_1")


def test_zero_cancel_delay_finishes_on_the_next_read() -> None:
    fake = FakeBatchAPI(cancel_delay=0, clock=FakeClock())
    fake.add_batch("batch_1", completed=1)
    transport = fake.transport()
    with httpx.Client(transport=transport, base_url=fake.base_url, headers=AUTH) as http:
        assert http.post("/batches/batch_1/cancel").json()["status"] == "cancelling"
        assert http.get("/batches/batch_1").json()["status"] == "cancelled"


def test_seeded_cancelling_batch_finishes_after_the_delay(fake_batch_api: FakeBatchAPI, fake_clock: FakeClock) -> None:
    fake_batch_api.add_batch("batch_1", status="cancelling", completed=2)
    fake_clock.advance(5)
    batch = fake_batch_api.get_batch("batch_1")
    assert batch["status"] == "cancelled"
    assert batch["cancelled_at"] == batch["cancelling_at"] + 5
    assert batch["output_file_id"] is not None


def test_progress_per_poll_moves_a_batch_to_completed(http: httpx.Client, fake_batch_api: FakeBatchAPI) -> None:
    fake_batch_api.add_batch("batch_1", status="validating", total=10, failed=1, progress_per_poll=4)
    seen = []
    for _ in range(6):
        batch = http.get("/batches/batch_1").json()
        seen.append((batch["status"], batch["request_counts"]["completed"]))
    assert seen == [
        ("in_progress", 0),
        ("in_progress", 4),
        ("in_progress", 8),
        ("finalizing", 9),
        ("completed", 9),
        ("completed", 9),
    ]
    assert batch["completed_at"] is not None
    assert batch["finalizing_at"] is not None
    assert len(lines(fake_batch_api.get_file(batch["output_file_id"]))) == 9
    assert batch["usage"]["input_tokens"] == 9 * PROMPT_TOKENS


@pytest.mark.parametrize("counts", [None, {"total": "many"}, {"total": 5, "completed": -1, "failed": 0}])
def test_replaced_request_counts_are_left_alone(
    http: httpx.Client, fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, counts: Any
) -> None:
    fake_batch_api.add_batch("batch_1", request_counts=counts, progress_per_poll=5)
    assert http.get("/batches/batch_1").json()["request_counts"] == counts
    http.post("/batches/batch_1/cancel")
    fake_clock.advance(5)
    batch = http.get("/batches/batch_1").json()
    assert (batch["status"], batch["output_file_id"], batch["request_counts"]) == ("cancelled", None, counts)


def test_given_usage_is_not_recomputed(http: httpx.Client, fake_batch_api: FakeBatchAPI) -> None:
    usage = {"input_tokens": 1, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 2,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 3}  # fmt: skip
    fake_batch_api.add_batch("batch_1", progress_per_poll=5, usage=usage)
    batch = http.get("/batches/batch_1").json()
    assert batch["request_counts"]["completed"] == 5
    assert batch["usage"] == usage


def test_inspecting_does_not_count_as_a_poll(fake_batch_api: FakeBatchAPI) -> None:
    fake_batch_api.add_batch("batch_1", progress_per_poll=10)
    fake_batch_api.get_batch("batch_1")
    assert fake_batch_api.batches["batch_1"]["request_counts"]["completed"] == 0


def test_a_running_batch_expires_with_partial_results(fake_batch_api: FakeBatchAPI, fake_clock: FakeClock) -> None:
    fake_batch_api.add_batch("batch_1", total=10, completed=4)
    fake_batch_api.add_batch("batch_old", created_at=1_711_471_533)  # expired before it was added: left alone
    fake_clock.advance(DAY)
    batch = fake_batch_api.get_batch("batch_1")
    assert batch["status"] == "expired"
    assert batch["expired_at"] == batch["expires_at"]
    assert len(lines(fake_batch_api.get_file(batch["output_file_id"]))) == 4
    assert fake_batch_api.get_batch("batch_old")["status"] == "in_progress"


# --- the HTTP surface -------------------------------------------------------------------------------------------------


def test_unknown_batch_and_file_are_404s(http: httpx.Client) -> None:
    response = http.get("/batches/batch_nope")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "No batch found with id 'batch_nope'.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    assert http.post("/batches/batch_nope/cancel").json() == response.json()
    response = http.get("/files/file-nope/content")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No such File object: file-nope"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v1/batches"),  # GET lists batches
        ("GET", "/v1/batches/"),
        ("GET", "/v1/batches/batch_1/cancel"),
        ("POST", "/v1/batches/batch_1"),
        ("DELETE", "/v1/batches/batch_1"),
        ("GET", "/batches/batch_1"),
        ("GET", "/v1/batches/batch_1/"),
        ("PUT", "/v1/files/file-1"),  # GET and DELETE describe and delete a file
    ],
)
def test_unrouted_requests_get_a_clear_404(
    fake_batch_api: FakeBatchAPI, http: httpx.Client, method: str, path: str
) -> None:
    fake_batch_api.add_batch("batch_1")
    response = http.request(method, "http://fake.invalid" + path)
    assert response.status_code == 404
    assert response.json()["error"] == {
        "message": f"Invalid URL ({method} {path})",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def test_path_ids_are_percent_decoded(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    odd = "batch/with?odd#chars%2Fé"
    fake_batch_api.add_batch(odd)
    assert batches_client.retrieve(odd).id == odd
    assert fake_batch_api.requests[-1].path == "/v1/batches/batch%2Fwith%3Fodd%23chars%252F%C3%A9"


def test_query_strings_are_ignored(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.add_batch("batch_1")
    assert http.get("/batches/batch_1", params={"x": "1"}).status_code == 200
    assert fake_batch_api.requests == [RecordedRequest("GET", "/v1/batches/batch_1?x=1")]


def test_file_content_is_served_as_bytes(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.add_file("file-1", b"\x00binary\n" * 1000)
    response = http.get("/files/file-1/content")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b"\x00binary\n" * 1000


@pytest.mark.parametrize(
    ("authorization", "code", "message_start"),
    [
        (None, None, "You didn't provide an API key."),
        ("Basic c2stZmFrZS1rZXk6", None, "You didn't provide an API key."),
        ("Bearer ", None, "You didn't provide an API key."),
        ("Bearer sk-wrong-but-long-key-1234", "invalid_api_key", "Incorrect API key provided: sk-wr***234."),
        ("bearer sk-fake-key-but-longer", "invalid_api_key", "Incorrect API key provided: sk-fa***ger."),
    ],
)
def test_authentication(
    fake_batch_api: FakeBatchAPI, authorization: str | None, code: str | None, message_start: str
) -> None:
    fake_batch_api.add_batch("batch_1")
    headers = {"authorization": authorization} if authorization is not None else {}
    with httpx.Client(transport=fake_batch_api.transport()) as client:
        response = client.get(fake_batch_api.base_url + "/batches/batch_1", headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["message"].startswith(message_start)
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", None, code)
    if authorization:
        assert authorization.split(" ", 1)[1] not in response.text or authorization == "Bearer "


@pytest.mark.parametrize(
    ("key", "masked"),
    [("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", "sk-pr***789"), ("sk-fake-key", "sk***ey"), ("abc", "***")],
)
def test_mask_key_shows_at_most_half(key: str, masked: str) -> None:
    assert mask_key(key) == masked


def test_the_key_never_leaks() -> None:
    secret = "sk-this-is-the-secret-0123456789"
    fake = FakeBatchAPI(api_key=secret, clock=FakeClock())
    fake.add_batch("batch_1", status="completed", completed=2, failed=1)
    fake.inject_errors(1, 500)
    bodies = []
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        for headers in ({}, {"authorization": f"Bearer {secret}x"}, {"authorization": f"Bearer {secret}"}):
            for path in ("/batches/batch_1", "/batches/nope", "/nope"):
                response = http.get(path, headers=headers)
                bodies.append(response.text + str(response.headers))
    assert len(bodies) == 9
    assert all(secret not in text for text in bodies)
    assert secret not in repr(fake) + repr(fake.transport()) + repr(fake.requests) + repr(fake.batches)


def test_every_response_has_a_unique_request_id_and_compact_json(
    fake_batch_api: FakeBatchAPI, http: httpx.Client
) -> None:
    fake_batch_api.add_batch("batch_1", status="completed", completed=1)
    fake_batch_api.inject_errors(1, 503)
    responses = [
        http.get("/batches/batch_1"),  # the injected 503
        http.get("/batches/batch_1"),
        http.post("/batches/batch_1/cancel"),
        http.get("/batches/nope"),
        http.get("/nope"),
        http.get("/files/" + fake_batch_api.get_batch("batch_1")["output_file_id"] + "/content"),
        http.get("/batches/batch_1", headers={"authorization": "Bearer wrong"}),
    ]
    assert [r.status_code for r in responses] == [503, 200, 400, 404, 404, 200, 401]
    ids = [r.headers["x-request-id"] for r in responses]
    assert all(i.startswith("req_") and len(i) == 36 for i in ids)
    assert len(set(ids)) == len(ids)
    for response in responses:
        if response.headers["content-type"] == "application/json":
            assert response.content == json.dumps(response.json(), separators=(",", ":")).encode()


def test_request_log(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    fake_batch_api.add_batch("batch_1")
    batches_client.cancel("batch_1")
    batches_client.retrieve("batch_1")
    assert fake_batch_api.requests == [
        ("POST", "/v1/batches/batch_1/cancel"),
        ("GET", "/v1/batches/batch_1"),
    ]
    fake_batch_api.clear_requests()
    assert fake_batch_api.requests == []


# --- faults through the client ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("failures", [0, 2, 4])
def test_injected_errors_are_retried(fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, failures: int) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.inject_errors(failures, 500)
    with httpx.Client(transport=fake_batch_api.transport()) as http:
        client = BatchesClient(
            fake_batch_api.api_key, base_url=fake_batch_api.base_url, http_client=http, max_retries=4,
            sleep=fake_clock.advance,
        )  # fmt: skip
        assert client.retrieve("batch_1").status == "in_progress"
    assert len(fake_batch_api.requests) == failures + 1


def test_retries_exhausted_surface_the_injected_error(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient
) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.inject_errors(3, 500)
    with pytest.raises(errors.InternalServerError, match="Sorry about that") as caught:
        batches_client.cancel("batch_1")
    assert caught.value.request_id is not None
    assert caught.value.request_id.startswith("req_")
    assert len(fake_batch_api.requests) == 3  # max_retries=2
    assert fake_batch_api.get_batch("batch_1")["status"] == "in_progress"  # no request got through


def test_rate_limit_hint_is_honoured(
    fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, batches_client: BatchesClient
) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.inject_errors(1, 429, {"retry-after-ms": "10"})
    before = fake_clock()
    assert batches_client.cancel("batch_1").status == "cancelling"
    assert fake_clock() - before == pytest.approx(0.010)
    assert fake_batch_api.requests == [("POST", "/v1/batches/batch_1/cancel")] * 2


def test_non_retryable_injected_error(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.inject_errors(1, 403)
    with pytest.raises(errors.PermissionDeniedError, match=r"Injected error \(HTTP 403\)"):
        batches_client.retrieve("batch_1")


def test_dropped_connections(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.drop_connections(2)
    assert batches_client.cancel("batch_1").status == "cancelling"
    assert len(fake_batch_api.requests) == 3


def test_dropped_connection_is_httpxs_remote_protocol_error(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.drop_connections(1)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/batches/batch_1")


def test_slow_response_within_the_timeout(
    fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, batches_client: BatchesClient
) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.slow_responses(1, 42.0)
    before = fake_clock()
    assert batches_client.retrieve("batch_1").status == "in_progress"
    assert fake_clock() - before == 42.0
    assert len(fake_batch_api.requests) == 1


def test_slow_response_past_the_timeout_times_out_and_is_retried(
    fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, batches_client: BatchesClient
) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.slow_responses(1, 10.0)
    before = fake_clock()
    assert batches_client.retrieve("batch_1", timeout=3.0).status == "in_progress"
    waited = fake_clock() - before
    assert 3.0 + 0.375 <= waited <= 3.0 + 0.5  # the timeout, then one backoff
    fake_batch_api.slow_responses(1, 10.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.Client(transport=fake_batch_api.transport()).get(fake_batch_api.base_url, timeout=1.0)


def test_faults_apply_in_order_one_per_request(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.inject_errors(1, 502)
    fake_batch_api.drop_connections(1)
    fake_batch_api.slow_responses(1, 1.0)
    assert [fault.kind for fault in fake_batch_api.pending_faults] == ["error", "drop", "slow"]
    assert http.get("/nope").status_code == 502  # faults come before routing
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/batches/batch_1")
    assert http.get("/batches/batch_1").status_code == 200
    assert fake_batch_api.pending_faults == []
    fake_batch_api.inject_errors(5)
    fake_batch_api.clear_faults()
    assert http.get("/batches/batch_1").status_code == 200


def test_a_share_of_requests_gets_the_fault_until_the_count_is_used(
    fake_batch_api: FakeBatchAPI, http: httpx.Client
) -> None:
    fake_batch_api.add_batch("batch_1")
    fake_batch_api.inject_errors(40, 429, {"retry-after-ms": "50"}, share=0.05, seed=7)
    fake_batch_api.inject_errors(1, 503)  # waits behind the share group
    responses = [http.get("/batches/batch_1") for _ in range(2000)]
    statuses = [response.status_code for response in responses]
    limited = [n for n, status in enumerate(statuses) if status == 429]
    assert len(limited) == 40
    assert 0.03 < 40 / (limited[-1] + 1) < 0.08  # about one request in twenty until the 40 were used
    assert responses[limited[0]].headers["retry-after-ms"] == "50"
    assert statuses[limited[-1] + 1] == 503  # then the fault queued after them
    assert set(statuses[limited[-1] + 2 :]) == {200}
    # The same seed hits the same requests again.
    fake_batch_api.inject_errors(40, 429, share=0.05, seed=7)
    again = [http.get("/batches/batch_1").status_code for _ in range(limited[-1] + 1)]
    assert [n for n, status in enumerate(again) if status == 429] == limited


def test_share_faults_are_listed_with_their_share(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.drop_connections(2, share=0.5, seed=1)
    fake_batch_api.slow_responses(1, 0.0, share=0.25)
    assert [(fault.kind, fault.share) for fault in fake_batch_api.pending_faults] == [
        ("drop", 0.5), ("drop", 0.5), ("slow", 0.25)
    ]  # fmt: skip
    fake_batch_api.clear_faults()
    assert fake_batch_api.pending_faults == []
    fake_batch_api.inject_errors(0, share=0.5)  # nothing to queue
    assert fake_batch_api.pending_faults == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.inject_errors(-1), "count"),
        (lambda f: f.inject_errors(1, 200), "400-599"),
        (lambda f: f.inject_errors(1, 500, {"retry-after": 1}), "headers"),
        (lambda f: f.drop_connections(1.5), "count"),
        (lambda f: f.slow_responses(1, -1), "negative"),
        (lambda f: f.slow_responses(1, float("nan")), "finite"),
        (lambda f: f.inject_errors(1, 429, share=0), "share"),
        (lambda f: f.inject_errors(1, 429, share=1.5), "share"),
        (lambda f: f.drop_connections(1, share=float("nan")), "share"),
        (lambda f: f.slow_responses(1, 1.0, share=True), "share"),
        (lambda f: f.inject_errors(1, 429, share=0.5, seed=1.5), "seed"),
    ],
)
def test_fault_arguments_are_checked(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(FakeBatchAPI())


def test_slow_response_on_a_real_clock_sleeps() -> None:
    fake = FakeBatchAPI()  # time.time: the transport really waits
    fake.add_batch("batch_1")
    fake.slow_responses(1, 0.01)
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url, headers=AUTH) as http:
        assert http.get("/batches/batch_1").status_code == 200


# --- async ------------------------------------------------------------------------------------------------------------


def test_async_client_lifecycle_and_faults(
    fake_batch_api: FakeBatchAPI, fake_clock: FakeClock, async_batches_client: AsyncBatchesClient
) -> None:
    fake_batch_api.add_batch("batch_1", completed=3)
    fake_batch_api.drop_connections(1)
    fake_batch_api.inject_errors(1, 500)
    fake_batch_api.slow_responses(1, 2.0)

    async def scenario() -> tuple[str, str]:
        cancelling = await async_batches_client.cancel("batch_1")  # dropped, 500, then slow but answered
        fake_clock.advance(5)
        cancelled = await async_batches_client.retrieve("batch_1")
        return str(cancelling.status), str(cancelled.status)

    assert asyncio.run(scenario()) == ("cancelling", "cancelled")
    assert len(fake_batch_api.requests) == 4


def test_async_slow_response_on_a_real_clock_and_timeout() -> None:
    fake = FakeBatchAPI()
    fake.add_batch("batch_1")
    fake.slow_responses(1, 0.01)
    fake.slow_responses(1, 5.0)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url, headers=AUTH) as http:
            assert (await http.get("/batches/batch_1")).status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                await http.get("/batches/batch_1", timeout=0.01)

    asyncio.run(scenario())


# --- the clock, the package -------------------------------------------------------------------------------------------


def test_fake_clock() -> None:
    clock = FakeClock(100)
    assert clock() == clock.now == 100.0
    clock.advance(2.5)
    assert clock() == 102.5
    clock.now = 50
    assert clock() == 50.0
    with pytest.raises(ValueError, match="negative"):
        clock.advance(-1)
    assert repr(clock) == "FakeClock(now=50.0)"


def test_testing_all_is_sorted_and_complete() -> None:
    names = batches_ext.testing.__all__
    assert names == sorted(names)
    exposed = {
        name
        for name in dir(batches_ext.testing)
        if not name.startswith("_") and not inspect.ismodule(getattr(batches_ext.testing, name))
    }
    assert set(names) == exposed


def test_importing_the_client_does_not_import_the_fake() -> None:
    code = (
        "import sys, batches_ext, batches_ext.pytest_plugin\n"
        "assert 'batches_ext.testing' not in sys.modules, 'batches_ext imports the fake'\n"
        "assert 'http.server' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
