"""The fake runs the whole lifecycle: uploads, batch creation with OpenAI's input checks, requests finishing on the
clock through a responder, expiry and cancel lines (issue 14). Raw HTTP here: the fake is tested apart from the client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batches_ext import BatchesClient
from batches_ext.testing import (
    FakeBatchAPI,
    FakeClock,
    FakeRequest,
    FakeResponse,
    FakeServer,
    _lifecycle_routes,
    default_responder,
)

ENDPOINT = "/v1/chat/completions"


def line(custom_id: str, **overrides: Any) -> bytes:
    request = {"custom_id": custom_id, "method": "POST", "url": ENDPOINT,
               "body": {"model": "gpt-4o-mini", "messages": []}, **overrides}  # fmt: skip
    return json.dumps(request).encode()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(clock: FakeClock) -> FakeBatchAPI:
    return FakeBatchAPI(clock=clock, request_rate=4)


@pytest.fixture
def http(api: FakeBatchAPI) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {api.api_key}"}
    with httpx.Client(transport=api.transport(), base_url=api.base_url, headers=headers) as client:
        yield client


def upload(http: httpx.Client, content: bytes, *, name: str = "in.jsonl", purpose: str = "batch") -> httpx.Response:
    return http.post("/files", files={"file": (name, content)}, data={"purpose": purpose})


def create(http: httpx.Client, content: bytes, **fields: Any) -> dict[str, Any]:
    uploaded = upload(http, content)
    assert uploaded.status_code == 200, uploaded.text
    body = {"input_file_id": uploaded.json()["id"], "endpoint": ENDPOINT, "completion_window": "24h", **fields}
    response = http.post("/batches", json=body)
    assert response.status_code == 200, response.text
    batch: dict[str, Any] = response.json()
    return batch


def get(http: httpx.Client, batch_id: str) -> dict[str, Any]:
    batch: dict[str, Any] = http.get(f"/batches/{batch_id}").json()
    return batch


def records(api: FakeBatchAPI, file_id: str | None) -> list[dict[str, Any]]:
    return [json.loads(x) for x in api.get_file(file_id).splitlines()] if file_id else []


def test_a_batch_moves_through_its_lifecycle_on_the_clock(
    api: FakeBatchAPI, http: httpx.Client, clock: FakeClock
) -> None:
    batch = create(http, b"\n".join(line(f"r{i}") for i in range(8)) + b"\n", metadata={"k": "v"})
    assert (batch["status"], batch["metadata"], batch["model"]) == ("validating", {"k": "v"}, "gpt-4o-mini")
    assert batch["expires_at"] == batch["created_at"] + 86_400
    seen = []
    for _ in range(12):
        current = get(http, batch["id"])
        seen.append((current["status"], current["request_counts"]["completed"]))
        clock.advance(0.5)
    assert seen[:4] == [("validating", 0), ("in_progress", 0), ("in_progress", 2), ("in_progress", 4)]
    assert ("finalizing", 8) in seen
    assert seen[-1] == ("completed", 8)
    done = get(http, batch["id"])
    output = records(api, done["output_file_id"])
    assert [r["custom_id"] for r in output] == [f"r{i}" for i in range(8)]
    assert output[0]["response"]["body"]["choices"][0]["message"]["content"] == "This is the fake answer to r0."
    assert done["error_file_id"] is None
    assert done["in_progress_at"] <= done["finalizing_at"] <= done["completed_at"]
    described = http.get(f"/files/{done['output_file_id']}").json()
    assert (described["purpose"], described["bytes"]) == ("batch_output", len(api.get_file(done["output_file_id"])))


def test_cancel_mid_run_leaves_batch_cancelled_lines(api: FakeBatchAPI, http: httpx.Client, clock: FakeClock) -> None:
    batch = create(http, b"\n".join(line(f"r{i}") for i in range(10)))
    clock.advance(0.5 + 1.0)  # validated, then 4 requests at 4/s
    cancelling = http.post(f"/batches/{batch['id']}/cancel").json()
    assert cancelling["status"] == "cancelling"
    clock.advance(10)  # progress stops at the cancel
    assert get(http, batch["id"])["request_counts"]["completed"] == 4
    clock.advance(api.cancel_delay)
    cancelled = get(http, batch["id"])
    assert cancelled["status"] == "cancelled"
    assert [r["custom_id"] for r in records(api, cancelled["output_file_id"])] == ["r0", "r1", "r2", "r3"]
    errors = records(api, cancelled["error_file_id"])
    assert [r["custom_id"] for r in errors] == [f"r{i}" for i in range(4, 10)]
    assert {(r["response"], r["error"]["code"]) for r in errors} == {(None, "batch_cancelled")}


def test_expiry_keeps_the_finished_and_marks_the_rest(clock: FakeClock) -> None:
    api = FakeBatchAPI(clock=clock, request_rate=1 / 40_000)
    with httpx.Client(transport=api.transport(), base_url=api.base_url,
                      headers={"authorization": f"Bearer {api.api_key}"}) as http:  # fmt: skip
        batch = create(http, b"\n".join(line(f"r{i}") for i in range(4)))
        clock.advance(86_400 + 1)
        expired = get(http, batch["id"])
    assert expired["status"] == "expired"
    assert expired["expired_at"] == batch["expires_at"]
    assert [r["custom_id"] for r in records(api, expired["output_file_id"])] == ["r0", "r1"]
    assert [r["error"]["code"] for r in records(api, expired["error_file_id"])] == ["batch_expired"] * 2


def test_a_responder_decides_each_answer(clock: FakeClock) -> None:
    calls: list[FakeRequest] = []

    def responder(request: FakeRequest) -> FakeResponse:
        calls.append(request)
        if request.custom_id == "r1":
            return FakeResponse(429, {"error": {"message": "slow down"}})
        return default_responder(request)

    api = FakeBatchAPI(clock=clock, responder=responder)
    with httpx.Client(transport=api.transport(), base_url=api.base_url,
                      headers={"authorization": f"Bearer {api.api_key}"}) as http:  # fmt: skip
        batch = create(http, b"\n".join(line(f"r{i}") for i in range(3)))
        clock.advance(60)
        done = get(http, batch["id"])
    assert done["status"] == "completed"
    assert done["request_counts"] == {"total": 3, "completed": 2, "failed": 1}
    assert [(c.custom_id, c.position, c.batch_id) for c in calls] == [(f"r{i}", i, batch["id"]) for i in range(3)]
    (failed,) = records(api, done["error_file_id"])
    assert (failed["custom_id"], failed["response"]["status_code"], failed["error"]) == ("r1", 429, None)


@pytest.mark.parametrize("url", ["/v1/embeddings", "/v1/completions", "/v1/responses", "/v1/moderations", "/v1/videos"])
def test_default_answers_per_endpoint(url: str) -> None:
    answer = default_responder(FakeRequest("batch_1", 0, "r0", "POST", url, {"model": "m"}))
    assert answer.status_code == 200
    assert answer.body["model"] == "m"
    assert answer == default_responder(FakeRequest("batch_1", 0, "r0", "POST", url, {"model": "m"}))


@pytest.mark.parametrize(
    ("content", "code", "line_number"),
    [
        (line("a") + b"\n{oops\n", "invalid_json_line", 2),
        (line("a") + b"\n" + line("a"), "duplicate_custom_id", 2),
        (line("a") + b"\n" + line("b", method="GET"), "invalid_method", 2),
        (line("a", url="/v1/embeddings"), "invalid_url", 1),
        (line("a") + b"\n" + line("b", body={"model": "other"}), "mismatched_model", 2),
        (line("a", body={"messages": []}), "missing_required_parameter", 1),
        (json.dumps({"method": "POST"}).encode(), "missing_required_parameter", 1),
        (b"[1]", "invalid_json_line", 1),
        (b"\n\n", "empty_file", None),
    ],
)
def test_an_invalid_input_fails_the_batch_naming_the_line(
    http: httpx.Client, clock: FakeClock, content: bytes, code: str, line_number: int | None
) -> None:
    batch = create(http, content)
    clock.advance(1)
    failed = get(http, batch["id"])
    assert failed["status"] == "failed"
    assert failed["failed_at"] is not None
    assert failed["output_file_id"] is None
    (error,) = failed["errors"]["data"]
    assert (error["code"], error["line"]) == (code, line_number)


def test_too_many_requests_fail_validation(
    monkeypatch: pytest.MonkeyPatch, http: httpx.Client, clock: FakeClock
) -> None:
    monkeypatch.setattr("batches_ext.testing._requests.MAX_REQUESTS", 2)
    batch = create(http, b"\n".join(line(f"r{i}") for i in range(3)))
    clock.advance(1)
    assert get(http, batch["id"])["errors"]["data"][0]["code"] == "too_many_requests"


@pytest.mark.parametrize(
    ("name", "content", "purpose", "message"),
    [
        ("in.txt", b"{}", "batch", "Must be .jsonl"),
        ("in.jsonl", b"", "batch", "empty"),
        ("in.jsonl", b"{}", "pictures", "is not one of"),
    ],
)
def test_upload_refusals(http: httpx.Client, name: str, content: bytes, purpose: str, message: str) -> None:
    response = upload(http, content, name=name, purpose=purpose)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_upload_size_limits(monkeypatch: pytest.MonkeyPatch, http: httpx.Client) -> None:
    monkeypatch.setattr(_lifecycle_routes, "BATCH_FILE_MAX_BYTES", 10)
    monkeypatch.setattr(_lifecycle_routes, "FILE_MAX_BYTES", 20)
    assert upload(http, b"x" * 11).status_code == 400
    assert upload(http, b"x" * 11, name="a.pdf", purpose="user_data").status_code == 200
    assert "at most 20" in upload(http, b"x" * 21, name="a.pdf", purpose="user_data").json()["error"]["message"]


def test_malformed_uploads(http: httpx.Client) -> None:
    assert http.post("/files", content=b"x", headers={"content-type": "text/plain"}).status_code == 400
    no_file = http.post("/files", files={"purpose": (None, b"batch")})
    assert no_file.json()["error"]["param"] == "file"
    no_purpose = http.post("/files", files={"file": ("a.jsonl", b"{}")})
    assert no_purpose.json()["error"]["param"] == "purpose"
    truncated = http.post("/files", content=b"--b\r\nnope", headers={"content-type": "multipart/form-data; boundary=b"})
    assert truncated.status_code == 400


@pytest.mark.parametrize(
    ("fields", "status", "param"),
    [
        ({"endpoint": "/v1/nope"}, 400, "endpoint"),
        ({"completion_window": "48h"}, 400, "completion_window"),
        ({"input_file_id": "file-missing"}, 404, "input_file_id"),
        ({"input_file_id": 3}, 400, "input_file_id"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, 400, "metadata"),
        ({"metadata": {"k": 1}}, 400, "metadata"),
        ({"metadata": {"k" * 65: "v"}}, 400, "metadata"),
        ({"metadata": []}, 400, "metadata"),
    ],
)
def test_create_refusals(http: httpx.Client, fields: dict[str, Any], status: int, param: str) -> None:
    file_id = upload(http, line("a")).json()["id"]
    response = http.post("/batches", json={"input_file_id": file_id, "endpoint": ENDPOINT, "completion_window": "24h",
                                           **fields})  # fmt: skip
    assert response.status_code == status
    assert response.json()["error"]["param"] == param


def test_create_refuses_bad_bodies_and_non_batch_files(http: httpx.Client) -> None:
    assert http.post("/batches", content=b"{").status_code == 400
    assert http.post("/batches", json=[1]).status_code == 400
    other = upload(http, line("a"), name="a.jsonl", purpose="user_data").json()["id"]
    response = http.post("/batches", json={"input_file_id": other, "endpoint": ENDPOINT, "completion_window": "24h"})
    assert "purpose 'batch'" in response.json()["error"]["message"]


def test_files_get_and_delete(api: FakeBatchAPI, http: httpx.Client) -> None:
    file_id = upload(http, line("a")).json()["id"]
    described = http.get(f"/files/{file_id}").json()
    assert {k: described[k] for k in ("object", "filename", "purpose", "bytes")} == {
        "object": "file", "filename": "in.jsonl", "purpose": "batch", "bytes": len(line("a"))
    }  # fmt: skip
    assert http.delete(f"/files/{file_id}").json() == {"id": file_id, "object": "file", "deleted": True}
    assert http.get(f"/files/{file_id}").status_code == 404
    assert http.delete(f"/files/{file_id}").status_code == 404
    assert file_id not in api.files


def test_the_socket_server_reads_bodies_plain_and_chunked(api: FakeBatchAPI, clock: FakeClock) -> None:
    headers = {"authorization": f"Bearer {api.api_key}"}
    with FakeServer(api) as server, httpx.Client(base_url=server.base_url, headers=headers) as http:
        batch = create(http, line("a"))

        def chunks() -> Iterator[bytes]:
            yield b'{"input_file_id": "' + batch["input_file_id"].encode()
            yield b'", "endpoint": "/v1/chat/completions", "completion_window": "24h"}'

        chunked = http.post("/batches", content=chunks())
        assert chunked.status_code == 200, chunked.text
        clock.advance(5)
        assert get(http, chunked.json()["id"])["status"] == "completed"
    assert server.errors == []


def test_request_rate_is_checked() -> None:
    with pytest.raises(ValueError, match="request_rate"):
        FakeBatchAPI(request_rate=0)
    with pytest.raises(TypeError, match="request_rate"):
        FakeBatchAPI(request_rate=True)
    with pytest.raises(TypeError, match="responder"):
        FakeBatchAPI(responder="yes")  # type: ignore[arg-type]


def test_an_added_batch_has_an_input_file_to_resubmit_from(clock: FakeClock) -> None:
    api = FakeBatchAPI(clock=clock)
    added = api.add_batch("batch_added", status="cancelled", total=10, completed=3, failed=1)
    many = [api.add_batch(status="in_progress", total=100_000) for _ in range(3)]  # lines written only when read
    assert all(batch["input_file_id"] not in api.files for batch in many)
    with BatchesClient(
        api_key=api.api_key, base_url=api.base_url, http_client=httpx.Client(transport=api.transport())
    ) as client:
        lines = [json.loads(line) for line in client.remainder("batch_added")]
        described = client.retrieve_file(added["input_file_id"])
        new = client.resubmit("batch_added")
    assert [line["custom_id"] for line in lines] == [f"request-{n}" for n in range(5, 11)]
    assert {line["url"] for line in lines} == {added["endpoint"]}
    assert (described.purpose, described.bytes) == ("batch", len(api.get_file(added["input_file_id"])))
    assert new is not None
    assert new.request_counts is not None
    assert new.metadata == {"resubmitted_from": "batch_added"}
