"""AzureBatchesClient and AsyncAzureBatchesClient on the wire, against the fake in Azure mode (sync and async).

Every request a method sends is checked as the fake received it: path (v1 or dated surface), query (`api-version`
on every request of the dated surface, file downloads included, none on the v1 surface) and credential (`api-key`,
or a Bearer token fetched for every request).
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from batches_ext import AsyncAzureBatchesClient, AzureBatchesClient, errors
from batches_ext.testing import FakeBatchAPI, FakeClock, FakeServer
from tests.conftest import SyncView

VERSION = "2024-10-21"
SURFACES = {"v1": None, "dated": VERSION}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeBatchAPI:
    api = FakeBatchAPI(azure=True, clock=clock)
    api.add_batch("batch_1", status="in_progress", total=10, completed=6, failed=1)
    return api


Make = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest, fake: FakeBatchAPI, clock: FakeClock) -> Make:
    """`make(**options)`: an Azure client of the parametrized kind on the fake, called synchronously."""

    def build(**options: Any) -> Any:
        options.setdefault("azure_endpoint", fake.azure_endpoint)
        if not {"api_key", "azure_ad_token", "azure_ad_token_provider"} & options.keys():
            options["api_key"] = fake.api_key
        if request.param == "sync":
            return AzureBatchesClient(
                http_client=httpx.Client(transport=fake.transport()), sleep=clock.advance, clock=clock, **options
            )

        async def sleep(seconds: float) -> None:
            clock.advance(seconds)

        client = AsyncAzureBatchesClient(
            http_client=httpx.AsyncClient(transport=fake.transport()), sleep=sleep, clock=clock, **options
        )
        return SyncView(client)

    return build


def surface_of(path: str) -> tuple[str, dict[str, list[str]]]:
    """The path without its query, and the query."""
    parts = urlsplit(path)
    return parts.path, parse_qs(parts.query)


def every_feature(client: Any, fake: FakeBatchAPI) -> None:
    """Use every method once: retrieve, list, find, wait, cancel_and_collect (cancel, polls, both file downloads)."""
    assert client.retrieve("batch_1").status == "in_progress"
    fake.add_batch("batch_2", status="completed", total=2, completed=2)
    batch, results, failed = client.cancel_and_collect("batch_1", timeout=600)
    assert (batch.status, len(results), len(failed)) == ("cancelled", 6, 1)
    assert client.wait("batch_2", timeout=60).status == "completed"
    assert client.cancel_and_wait("batch_2", timeout=60).status == "completed"  # refused: already finished
    report = client.cancel_many(["batch_2"])
    assert [outcome.outcome for outcome in report] == ["already_finished"]


def listed(client: Any) -> list[str]:
    """The ids `list()` yields, for either twin (SyncView collects the async one's iterator)."""
    return [batch.id for batch in client.list(limit=1)]


# --- request shapes --------------------------------------------------------------------------------------------------


def test_v1_surface_paths_have_no_query_and_carry_the_key(make: Make, fake: FakeBatchAPI) -> None:
    client = make()
    every_feature(client, fake)
    assert sorted(listed(client)) == ["batch_1", "batch_2"]
    assert len(fake.requests) > 10
    for (_, path), headers in zip(fake.requests, fake.request_headers, strict=True):
        assert path.startswith("/openai/v1/"), path
        if not path.startswith("/openai/v1/batches?"):  # list pages carry their own limit and after
            assert "?" not in path, path
        assert headers["api-key"] == fake.api_key
        assert "authorization" not in headers
    paths = {surface_of(path)[0] for _, path in fake.requests}
    assert {"/openai/v1/batches/batch_1/cancel", "/openai/v1/batches/batch_1", "/openai/v1/batches"} <= paths
    assert sum(path.startswith("/openai/v1/files/") and path.endswith("/content") for path in paths) == 2


def test_dated_surface_sends_api_version_on_every_request(make: Make, fake: FakeBatchAPI) -> None:
    client = make(api_version=VERSION)
    every_feature(client, fake)
    assert sorted(listed(client)) == ["batch_1", "batch_2"]
    downloads = 0
    for (_, path), headers in zip(fake.requests, fake.request_headers, strict=True):
        route, query = surface_of(path)
        assert route.startswith("/openai/"), path
        assert not route.startswith("/openai/v1/"), path
        assert query["api-version"] == [VERSION], path
        assert headers["api-key"] == fake.api_key
        downloads += route.endswith("/content")
    assert downloads == 2
    pages = [surface_of(path)[1] for _, path in fake.requests if surface_of(path)[0] == "/openai/batches"]
    assert pages[-1]["api-version"] == [VERSION]
    assert pages[-1]["limit"] == ["1"]
    assert len(pages[-1]["after"]) == 1


def test_api_version_from_the_environment(make: Make, fake: FakeBatchAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    make().retrieve("batch_1")
    make(api_version="v1").retrieve("batch_1")  # "v1" asks for the v1 surface whatever the environment says
    assert [path for _, path in fake.requests] == [
        "/openai/batches/batch_1?api-version=2025-04-01-preview",
        "/openai/v1/batches/batch_1",
    ]


def test_default_query_and_headers_go_with_every_request(make: Make, fake: FakeBatchAPI) -> None:
    client = make(api_version=VERSION, default_query={"trace": "on"}, default_headers={"X-Gateway-Key": "gw-12345678"})
    client.cancel_and_collect("batch_1", timeout=600)
    for (_, path), headers in zip(fake.requests, fake.request_headers, strict=True):
        assert surface_of(path)[1] == {"api-version": [VERSION], "trace": ["on"]}
        assert headers["x-gateway-key"] == "gw-12345678"


def test_the_whole_lifecycle_on_the_dated_surface(
    make: Make, fake: FakeBatchAPI, clock: FakeClock, tmp_path: Path
) -> None:
    """Upload, create, cancel mid-run, resubmit the rest, delete: every request with api-version and the key."""
    requests = [
        {"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "messages": []}}
        for n in range(50)
    ]
    path = tmp_path / "input.jsonl"
    path.write_text("".join(json.dumps(request) + "\n" for request in requests))
    client = make(api_version=VERSION)
    uploaded = client.upload_file(path)
    assert client.retrieve_file(uploaded.id).id == uploaded.id
    batch = client.create_batch(uploaded.id, endpoint="/v1/chat/completions")
    assert client.wait(batch.id, timeout=600, poll_interval=1).status == "completed"
    second = client.create_batch(uploaded.id, endpoint="/v1/chat/completions")
    client.retrieve(second.id)  # validating -> in_progress, then some requests finish on the clock
    clock.advance(2)
    old, results, _, resubmitted = client.cancel_and_resubmit(second.id, timeout=600)
    assert old.status == "cancelled"
    assert resubmitted is not None
    assert 0 < len(results) < 50
    assert client.delete_file(uploaded.id).deleted
    routes = {(method, surface_of(path)[0]) for method, path in fake.requests}
    expected = {("POST", "/openai/files"), ("POST", "/openai/batches"), ("DELETE", f"/openai/files/{uploaded.id}")}
    assert expected <= routes
    for (_, sent), headers in zip(fake.requests, fake.request_headers, strict=True):
        assert surface_of(sent)[1]["api-version"] == [VERSION], sent
        assert headers["api-key"] == fake.api_key


# --- tokens ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("surface", SURFACES)
def test_token_provider_is_called_for_every_request_and_retry(make: Make, fake: FakeBatchAPI, surface: str) -> None:
    issued: list[str] = []

    def provider() -> str:
        issued.append(fake.issue_ad_token(lifetime=30))  # shorter than the wait: a reused token would expire
        return issued[-1]

    client = make(azure_ad_token_provider=provider, api_version=SURFACES[surface])
    fake.inject_errors(1, 429, {"retry-after-ms": "10"})
    batch, results, _ = client.cancel_and_collect("batch_1", timeout=600)
    assert (batch.status, len(results)) == ("cancelled", 6)
    sent = [headers["authorization"] for headers in fake.request_headers]
    assert sent == [f"Bearer {token}" for token in issued]  # one fresh token per attempt, in order
    assert len(set(sent)) == len(sent) == len(fake.requests) > 4
    assert fake.requests[0] == fake.requests[1]  # the 429'd cancel, retried with a new token
    assert all("api-key" not in headers for headers in fake.request_headers)


def test_a_static_token_expires_where_a_provider_keeps_working(
    make: Make, fake: FakeBatchAPI, clock: FakeClock
) -> None:
    client = make(azure_ad_token=fake.issue_ad_token(lifetime=60))
    assert client.retrieve("batch_1").id == "batch_1"
    clock.advance(61)
    with pytest.raises(errors.AuthenticationError, match="Access token is missing, invalid"):
        client.retrieve("batch_1")
    refreshed = make(azure_ad_token_provider=lambda: fake.issue_ad_token(lifetime=60))
    clock.advance(3600)
    assert refreshed.retrieve("batch_1").id == "batch_1"


def test_async_client_awaits_an_async_token_provider(fake: FakeBatchAPI, clock: FakeClock) -> None:
    calls: list[str] = []

    async def provider() -> str:
        await asyncio.sleep(0)
        calls.append(fake.issue_ad_token())
        return calls[-1]

    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    async def run(token_provider: Callable[[], str | Awaitable[str]]) -> str:
        client = AsyncAzureBatchesClient(
            azure_endpoint=fake.azure_endpoint, azure_ad_token_provider=token_provider, api_version=VERSION,
            http_client=httpx.AsyncClient(transport=fake.transport()), sleep=sleep, clock=clock,
        )  # fmt: skip
        batch = await client.cancel_and_wait("batch_1", timeout=600)
        return batch.status

    assert asyncio.run(run(provider)) == "cancelled"
    assert [h["authorization"] for h in fake.request_headers] == [f"Bearer {token}" for token in calls]
    fake.clear_requests()
    assert asyncio.run(run(fake.issue_ad_token)) == "cancelled"  # a plain function serves the async client too
    assert all(h["authorization"].startswith("Bearer fake-entra-") for h in fake.request_headers)


def test_the_sync_client_refuses_an_async_provider_without_a_warning(fake: FakeBatchAPI) -> None:
    async def provider() -> str:
        return "never used"

    client = AzureBatchesClient(
        azure_endpoint=fake.azure_endpoint,
        azure_ad_token_provider=provider,  # type: ignore[arg-type]
        http_client=httpx.Client(transport=fake.transport()),
    )
    with pytest.raises(errors.ConfigurationError, match="returned an awaitable"):
        client.retrieve("batch_1")  # filterwarnings=error: an unawaited coroutine would fail the test here
    assert fake.requests == []


@pytest.mark.parametrize("token", [None, 42, "", " padded", "line\nbreak", "sk-ünïcode"])
def test_a_bad_token_from_the_provider_is_refused_before_sending(make: Make, fake: FakeBatchAPI, token: Any) -> None:
    client = make(azure_ad_token_provider=lambda: token)
    with pytest.raises(errors.ConfigurationError, match="azure_ad_token_provider") as info:
        client.retrieve("batch_1")
    assert fake.requests == []
    if isinstance(token, str) and token.strip():
        assert token.strip() not in str(info.value)


# --- Azure's answers -------------------------------------------------------------------------------------------------


def test_a_wrong_key_is_a_401_in_azures_words(make: Make, fake: FakeBatchAPI) -> None:
    with pytest.raises(errors.AuthenticationError, match="invalid subscription key") as info:
        make(api_key="wrong-key-123").cancel("batch_1")
    assert info.value.status_code == 401
    assert info.value.code == "401"
    assert len(fake.requests) == 1  # a 401 is not retried


# --- over a real socket ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("surface", SURFACES)
def test_over_a_socket_sync_and_async(fake: FakeBatchAPI, surface: str) -> None:
    tokens: list[str] = []

    async def provider() -> str:
        tokens.append(fake.issue_ad_token())
        return tokens[-1]

    with FakeServer(fake) as server:
        endpoint, version = server.azure_endpoint, SURFACES[surface]
        with AzureBatchesClient(azure_endpoint=endpoint, api_key=fake.api_key, api_version=version) as client:
            assert client.retrieve("batch_1").id == "batch_1"
            assert client.cancel("batch_1").status == "cancelling"

        async def run() -> list[str]:
            async with AsyncAzureBatchesClient(
                azure_endpoint=endpoint, azure_ad_token_provider=provider, api_version=version
            ) as client:
                return [(await client.retrieve("batch_1")).status, (await client.retrieve("batch_1")).status]

        assert asyncio.run(run()) == ["cancelling", "cancelling"]
    prefix = "/openai/v1/batches/batch_1" if version is None else "/openai/batches/batch_1"
    query = "" if version is None else f"?api-version={version}"
    assert [path for _, path in fake.requests] == [
        prefix + query, f"{prefix}/cancel{query}", prefix + query, prefix + query
    ]  # fmt: skip
    first, second, *rest = fake.request_headers
    assert first["api-key"] == second["api-key"] == fake.api_key
    assert [headers["authorization"] for headers in rest] == [f"Bearer {token}" for token in tokens]


# --- secrets ---------------------------------------------------------------------------------------------------------

KEY = "azure-key-0123456789SECRET"


def echo_credentials(request: httpx.Request) -> httpx.Response:
    """A server that quotes the credential it got back in its error message, whole."""
    credential = request.headers.get("api-key") or request.headers.get("authorization", "")
    body = {"error": {"code": "401", "message": f"bad credential {credential}", "param": credential}}
    return httpx.Response(401, json=body, request=request)


@pytest.mark.parametrize("kind", ["key", "token", "provider"])
def test_credentials_never_in_reprs_errors_or_pickles(kind: str) -> None:
    token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.signature"
    choices: dict[str, dict[str, Any]] = {
        "key": {"api_key": KEY},
        "token": {"azure_ad_token": token},
        "provider": {"azure_ad_token_provider": lambda: token},
    }
    options = choices[kind]
    secret = KEY if kind == "key" else token
    http = httpx.Client(transport=httpx.MockTransport(echo_credentials))
    client = AzureBatchesClient(azure_endpoint="https://res.openai.azure.com", http_client=http, **options)
    with pytest.raises(errors.AuthenticationError) as info:
        client.retrieve("batch_1")
    exc = info.value
    texts = [repr(client), str(vars(client)), repr(client._core.settings), repr(client._core.settings.provider)]
    texts += [str(exc), repr(exc), exc.message, str(exc.body), str(exc.param), repr(exc.response.request.headers)]
    for text in texts:
        assert secret not in text
    assert "bad credential" in str(exc)
    # Attached for the attempt only: the request an error keeps no longer holds it, pickled or not.
    assert "api-key" not in exc.response.request.headers
    assert "authorization" not in exc.response.request.headers
    assert secret.encode() not in pickle.dumps(exc.response.request)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client._core.settings.provider.credential)


def test_credentials_never_in_logs(fake: FakeBatchAPI, caplog: pytest.LogCaptureFixture) -> None:
    tokens: list[str] = []

    def provider() -> str:
        tokens.append(fake.issue_ad_token())
        return tokens[-1]

    with caplog.at_level(logging.DEBUG), FakeServer(fake) as server:
        fake.inject_errors(1, 500)
        for options in ({"api_key": fake.api_key}, {"azure_ad_token_provider": provider}):
            with AzureBatchesClient(azure_endpoint=server.azure_endpoint, api_version=VERSION, **options) as client:
                client.retrieve("batch_1")
    assert any(record.name == "batches_ext" for record in caplog.records)  # the retry was logged
    for record in caplog.records:
        for secret in (fake.api_key, *tokens):
            assert secret not in record.getMessage()
            assert secret not in str(record.args)
