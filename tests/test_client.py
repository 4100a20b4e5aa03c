"""BatchesClient and AsyncBatchesClient: requests, configuration, typed errors and retries (each test runs on both)."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from batches_ext import NOT_GIVEN, AsyncBatchesClient, Batch, BatchesClient, errors
from tests.conftest import API_KEY, Script, Sleeps, error, ok
from tests.payloads import CANCELLING, SEED_COMPLETED

# --- requests ------------------------------------------------------------------------------------------------------


def test_cancel_sends_post_with_auth_and_returns_batch(twin: Any) -> None:
    script = Script(ok(CANCELLING))
    batch = twin(script, organization="org-1", project="proj-1").cancel("batch_abc123")
    assert isinstance(batch, Batch)
    assert batch.status == "cancelling"
    assert batch.request_id == "req_ok"
    (request,) = script.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.openai.com/v1/batches/batch_abc123/cancel"
    assert request.content == b""
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["openai-organization"] == "org-1"
    assert request.headers["openai-project"] == "proj-1"
    assert request.headers["user-agent"].startswith("batches-ext/")


def test_retrieve_sends_get(twin: Any) -> None:
    script = Script(ok(SEED_COMPLETED))
    batch = twin(script, base_url="http://localhost:9999/v1/").retrieve("batch_abc123")
    assert batch.status == "completed"
    (request,) = script.requests
    assert (request.method, str(request.url)) == ("GET", "http://localhost:9999/v1/batches/batch_abc123")


def test_environment_fallbacks(twin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxy.example/v9")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-env")
    script = Script(ok())
    twin(script, api_key=None).cancel("b1")
    (request,) = script.requests
    assert str(request.url) == "https://proxy.example/v9/batches/b1/cancel"
    assert request.headers["authorization"] == "Bearer sk-from-env"
    assert (request.headers["openai-organization"], request.headers["openai-project"]) == ("org-env", "proj-env")


def test_no_org_or_project_headers_unless_set(twin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_ORG_ID", raising=False)
    monkeypatch.delenv("OPENAI_PROJECT_ID", raising=False)
    script = Script(ok())
    twin(script).cancel("b1")
    assert "openai-organization" not in script.requests[0].headers
    assert "openai-project" not in script.requests[0].headers


@pytest.mark.parametrize("cls", [BatchesClient, AsyncBatchesClient])
def test_missing_api_key_is_a_clear_error_at_construction(cls: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(errors.ConfigurationError, match="OPENAI_API_KEY"):
        cls()


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"api_key": "sk-bad key"}, "without whitespace"),
        ({"api_key": "sk-key\n"}, "without whitespace"),
        ({"base_url": "ftp://x"}, "http"),
        ({"base_url": "https://x/v1?a=1"}, "query"),
        ({"max_retries": -1}, "max_retries"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_invalid_settings(options: dict[str, Any], problem: str) -> None:
    options.setdefault("api_key", API_KEY)
    with pytest.raises(errors.ConfigurationError, match=problem):
        BatchesClient(**options)


def test_wrong_http_client_kind() -> None:
    with pytest.raises(TypeError, match=r"httpx\.Client"):
        BatchesClient(api_key=API_KEY, http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"httpx\.AsyncClient"):
        AsyncBatchesClient(api_key=API_KEY, http_client=httpx.Client())  # type: ignore[arg-type]


def test_timeouts_default_and_per_call(twin: Any) -> None:
    script = Script(ok(), ok(), ok())
    client = twin(script)
    client.cancel("b1")
    client.cancel("b1", timeout=None)
    client.cancel("b1", timeout=3.0)
    default, disabled, short = (r.extensions["timeout"] for r in script.requests)
    assert default == {"connect": 5.0, "read": 600.0, "write": 600.0, "pool": 600.0}
    assert disabled == {"connect": None, "read": None, "write": None, "pool": None}
    assert short == {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_default_http_client_over_a_real_socket(kind: str) -> None:
    """Without http_client the generated Client builds one; our headers are set on it once and always sent."""
    from tests.local_server import json_reply, serve

    seen: list[dict[str, str]] = []

    def reply(method: str, path: str, headers: dict[str, str]) -> Any:
        seen.append(headers)
        return json_reply(200, CANCELLING, **{"x-request-id": "req_sock"})

    options: dict[str, Any] = {"api_key": API_KEY, "organization": "org-9", "project": "proj-9"}
    with serve(reply) as base_url:
        if kind == "sync":
            with BatchesClient(base_url=base_url, **options) as client:
                ids = [client.cancel("batch_abc123").request_id, client.retrieve("batch_abc123").request_id]
        else:

            async def calls() -> list[str | None]:
                async with AsyncBatchesClient(base_url=base_url, **options) as client:
                    return [(await client.cancel("b1")).request_id, (await client.retrieve("b1")).request_id]

            ids = asyncio.run(calls())
    assert ids == ["req_sock", "req_sock"]
    assert len(seen) == 2
    for headers in seen:
        assert headers["authorization"] == f"Bearer {API_KEY}"
        assert (headers["openai-organization"], headers["openai-project"]) == ("org-9", "proj-9")
        assert headers["user-agent"].startswith("batches-ext/")


def test_own_http_client_carries_the_timeout_and_headers() -> None:
    client = BatchesClient(api_key=API_KEY, timeout=42.0, organization="org-2")
    http = client._http_client()
    assert http.timeout == httpx.Timeout(42.0, connect=5.0)
    assert http.headers["authorization"] == f"Bearer {API_KEY}"
    assert http.headers["openai-organization"] == "org-2"
    assert "Bearer" not in repr(http.headers)  # httpx masks it
    request = client._core.cancel_request(http, "b1", NOT_GIVEN)
    assert request.extensions["timeout"] == {"connect": 5.0, "read": 42.0, "write": 42.0, "pool": 42.0}
    client.close()
    assert http.is_closed


def test_close_leaves_a_users_http_client_open() -> None:
    http = httpx.Client(transport=httpx.MockTransport(Script(ok())))
    with BatchesClient(api_key=API_KEY, http_client=http) as client:
        client.cancel("b1")
    assert not http.is_closed
    http.close()


# --- typed errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (422, errors.UnprocessableEntityError),
        (418, errors.APIStatusError),
    ],
)
def test_non_retryable_status_errors(twin: Any, status: int, cls: type[errors.APIStatusError]) -> None:
    body = {"error": {"message": "No batch found", "type": "invalid_request_error", "param": "batch_id", "code": "nf"}}
    script = Script(httpx.Response(status, json=body, headers={"x-request-id": "req_e1"}))
    with pytest.raises(cls) as info:
        twin(script).cancel("b1")
    exc = info.value
    assert type(exc) is cls
    assert (exc.status_code, exc.request_id, exc.code, exc.type, exc.param) == (
        status, "req_e1", "nf", "invalid_request_error", "batch_id",
    )  # fmt: skip
    assert exc.body == body
    assert exc.response.status_code == status
    assert "No batch found" in str(exc)
    assert "req_e1" in str(exc)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (408, errors.APIStatusError),
        (409, errors.ConflictError),
        (429, errors.RateLimitError),
        (500, errors.InternalServerError),
        (503, errors.InternalServerError),
        (520, errors.InternalServerError),  # the generated code's HTTPStatus(520) would raise ValueError
    ],
)
def test_retryable_status_errors_raise_after_retries(
    twin: Any, sleeps: Sleeps, status: int, cls: type[errors.APIStatusError]
) -> None:
    script = Script(error(status), error(status), error(status))
    with pytest.raises(cls) as info:
        twin(script).cancel("b1")
    assert info.value.status_code == status
    assert info.value.request_id == f"req_{status}"
    assert len(script.requests) == 3  # 1 + max_retries=2
    assert len(sleeps) == 2


def test_error_body_that_is_not_json(twin: Any) -> None:
    script = Script(httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(errors.InternalServerError, match="502 Bad Gateway") as info:
        twin(script, max_retries=0).cancel("b1")
    assert info.value.body == "<html>Bad gateway</html>"
    assert info.value.code is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"text": "<html>hello</html>"}, "not JSON"),
        ({"content": b'{"id": "batch_abc123", "obj'}, "not JSON"),
        ({"json": [CANCELLING]}, "expected a JSON object"),
        ({"json": {"id": "b1"}}, "required field 'status' is missing"),
        ({"json": {"object": "batch", "status": "completed"}}, "required field 'id' is missing"),
    ],
)
def test_2xx_that_is_not_a_batch(twin: Any, body: dict[str, Any], problem: str) -> None:
    with pytest.raises(errors.APIResponseValidationError, match=problem) as info:
        twin(Script(httpx.Response(200, **body))).retrieve("b1")
    assert info.value.status_code == 200
    assert info.value.response is not None


@pytest.mark.parametrize(
    ("failure", "cls"),
    [
        (httpx.ConnectError("refused"), errors.APIConnectionError),
        (httpx.RemoteProtocolError("peer closed"), errors.APIConnectionError),
        (httpx.ReadTimeout("slow"), errors.APITimeoutError),
        (httpx.ConnectTimeout("slow"), errors.APITimeoutError),
    ],
)
def test_transport_failures_are_retried_then_typed(twin: Any, sleeps: Sleeps, failure: Exception, cls: type) -> None:
    script = Script(failure, failure, failure)
    with pytest.raises(cls) as info:
        twin(script).cancel("b1")
    assert type(info.value) is cls
    assert isinstance(info.value.__cause__, httpx.RequestError)
    assert len(script.requests) == 3
    assert len(sleeps) == 2


def test_error_hierarchy() -> None:
    assert issubclass(errors.APITimeoutError, errors.APIConnectionError)
    for cls in (errors.APIStatusError, errors.APIConnectionError, errors.APIResponseValidationError):
        assert issubclass(cls, errors.APIError)
    assert issubclass(errors.APIError, errors.BatchesError)
    assert issubclass(errors.ConfigurationError, ValueError)


# --- retries -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("failures", [0, 2, 4])
def test_retries_taken(twin: Any, sleeps: Sleeps, failures: int) -> None:
    script = Script(*[error(500)] * failures, ok())
    batch = twin(script, max_retries=4).cancel("b1")
    assert batch.id == "batch_abc123"
    assert len(script.requests) == failures + 1
    assert len(sleeps) == failures
    for retry, delay in enumerate(sleeps):  # 0.5 s doubling, minus up to 25 % jitter
        ceiling = min(0.5 * 2**retry, 8.0)
        assert 0.75 * ceiling <= delay <= ceiling


def test_max_retries_zero_disables(twin: Any, sleeps: Sleeps) -> None:
    script = Script(error(503))
    with pytest.raises(errors.InternalServerError):
        twin(script, max_retries=0).cancel("b1")
    assert (len(script.requests), sleeps) == (1, [])


def test_backoff_is_capped_at_8_seconds(twin: Any, sleeps: Sleeps) -> None:
    script = Script(*[httpx.ConnectError("x")] * 7, ok())
    twin(script, max_retries=7).cancel("b1")
    assert max(sleeps) <= 8.0
    assert sleeps[-1] >= 6.0  # 8 s minus at most 25 %


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "100", "retry-after": "9"}, 0.1),  # the ms header wins
        ({"retry-after": "120"}, 120.0),  # the boundary is honoured
    ],
)
def test_retry_after_is_honoured(twin: Any, sleeps: Sleeps, headers: dict[str, str], expected: float) -> None:
    script = Script(error(429, **headers), ok())
    twin(script).cancel("b1")
    assert sleeps == [pytest.approx(expected)]


def test_retry_after_http_date(twin: Any, sleeps: Sleeps) -> None:
    script = Script(error(503, **{"retry-after": _http_date(30)}), ok())
    twin(script).cancel("b1")
    assert sleeps[0] == pytest.approx(30, abs=2)


@pytest.mark.parametrize("value", ["121", "0", "-5", "inf", "nan", "soon", _http_date(-60)])
def test_unusable_retry_after_falls_back_to_backoff(twin: Any, sleeps: Sleeps, value: str) -> None:
    script = Script(error(429, **{"retry-after": value}), ok())
    twin(script).cancel("b1")
    assert 0.375 <= sleeps[0] <= 0.5


def test_x_should_retry_header_wins(twin: Any, sleeps: Sleeps) -> None:
    script = Script(error(500, **{"x-should-retry": "false"}))
    with pytest.raises(errors.InternalServerError):
        twin(script).cancel("b1")
    assert len(script.requests) == 1
    script = Script(error(400, **{"x-should-retry": "true"}), ok())
    assert twin(script).cancel("b1").status == "cancelling"
    assert len(script.requests) == 2


def test_each_retry_is_logged(twin: Any, caplog: pytest.LogCaptureFixture) -> None:
    script = Script(error(429, **{"retry-after-ms": "250"}), httpx.ConnectError("refused"), ok())
    with caplog.at_level(logging.INFO, logger="batches_ext"):
        twin(script).cancel("b1")
    messages = [r.getMessage() for r in caplog.records if r.name == "batches_ext"]
    assert messages[0] == "Retrying POST /v1/batches/b1/cancel in 0.25 s (retry 1 of 2): HTTP 429"
    assert messages[1].startswith("Retrying POST /v1/batches/b1/cancel in ")
    assert messages[1].endswith("(retry 2 of 2): ConnectError: refused")


# --- bad ids and path safety ---------------------------------------------------------------------------------------

BAD_IDS = [
    ("", "non-empty"),
    (" ", "whitespace"),
    ("\t", "whitespace"),
    ("batch_1 ", "whitespace"),
    (".", "relative path segment"),
    ("..", "relative path segment"),
    ("batch\x00", "non-printable"),
    ("batch\n1", "whitespace"),
    ("batch\x7f", "non-printable"),
    ("batch\u200b", "non-printable"),
    (None, "must be a str"),
    (123, "must be a str"),
    (b"batch_1", "must be a str"),
]


@pytest.mark.parametrize(("bad", "problem"), BAD_IDS)
@pytest.mark.parametrize("method", ["cancel", "retrieve"])
def test_bad_batch_id_is_rejected_before_sending(twin: Any, method: str, bad: object, problem: str) -> None:
    script = Script()
    with pytest.raises(ValueError, match=problem):
        getattr(twin(script), method)(bad)
    assert script.requests == []


@pytest.mark.parametrize("batch_id", ["a/b", "../files/x", "a?b", "a#b", "%2F", "%2e%2e", "..a", "ü", "batch_abc123"])
def test_ids_travel_as_exactly_one_segment(twin: Any, batch_id: str) -> None:
    script = Script(ok())
    twin(script).cancel(batch_id)
    (request,) = script.requests
    raw_path = request.url.raw_path.decode("ascii")
    assert raw_path == f"/v1/batches/{quote(batch_id, safe='')}/cancel"
    prefix, segment, suffix = raw_path.rsplit("/", 2)
    assert (prefix, suffix) == ("/v1/batches", "cancel")
    assert unquote(segment) == batch_id
    assert request.url.query == b""
    assert request.url.fragment == ""


# --- secrets -------------------------------------------------------------------------------------------------------


def test_api_key_never_in_repr(make_client: Any, make_async_client: Any) -> None:
    for client in (make_client(Script()), make_async_client(Script())):
        assert API_KEY not in repr(client)
        assert API_KEY not in repr(client._core.settings)
        assert API_KEY not in repr(client._core.settings.api_key)
        assert API_KEY not in str(vars(client))


def test_api_key_never_in_error_text_even_when_the_server_echoes_it(twin: Any) -> None:
    masked = f"{API_KEY[:6]}*****{API_KEY[-4:]}"
    message = f"Incorrect API key provided: {masked}. Header was: Bearer {API_KEY}"
    body = {"error": {"message": message, "type": "invalid_request_error", "param": API_KEY, "code": "invalid_api_key"}}
    with pytest.raises(errors.AuthenticationError) as info:
        twin(Script(httpx.Response(401, json=body))).cancel("b1")
    exc = info.value
    for text in (str(exc), repr(exc), exc.message, str(exc.body), str(exc.param), repr(exc.response.request.headers)):
        assert API_KEY not in text
        assert API_KEY[-4:] not in text  # not even the masked tail
    assert "Incorrect API key provided" in str(exc)


def test_api_key_never_in_logs_at_any_level(caplog: pytest.LogCaptureFixture) -> None:
    from tests.local_server import json_reply, serve

    replies = iter([json_reply(429, {"error": {"message": "slow down"}}, **{"retry-after-ms": "1"}),
                    json_reply(401, {"error": {"message": f"bad key {API_KEY}"}})])  # fmt: skip
    with caplog.at_level(logging.DEBUG), serve(lambda *_: next(replies)) as base_url:
        client = BatchesClient(api_key=API_KEY, base_url=base_url)
        with pytest.raises(errors.AuthenticationError):
            client.cancel("b1")
        client.close()
    assert caplog.records  # httpx, httpcore and batches_ext did log
    assert any(r.name == "batches_ext" for r in caplog.records)
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert API_KEY not in str(record.args)
