"""The fake's Azure mode, on raw HTTP: both surfaces, Azure's credentials, and its 401 and 404 answers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from batches_ext.testing import FakeBatchAPI, FakeClock, FakeServer

VERSION = "2024-10-21"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeBatchAPI:
    api = FakeBatchAPI(azure=True, clock=clock)
    api.add_batch("batch_1", status="completed", total=3, completed=3)
    return api


@pytest.fixture
def http(fake: FakeBatchAPI) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake.transport(), base_url=fake.azure_endpoint) as client:
        yield client


def key(fake: FakeBatchAPI) -> dict[str, str]:
    return {"api-key": fake.api_key}


@pytest.mark.parametrize(
    "path",
    [
        "/openai/v1/batches/batch_1",
        f"/openai/batches/batch_1?api-version={VERSION}",
        "/openai/v1/batches/batch_1?api-version=preview",
        f"/openai/batches?api-version={VERSION}&limit=1",
        "/openai/v1/batches?limit=1",
    ],
)
def test_both_surfaces_serve_the_batch_routes(http: httpx.Client, fake: FakeBatchAPI, path: str) -> None:
    response = http.get(path, headers=key(fake))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["data"][0] if "data" in body else body)["id"] == "batch_1"


def test_files_download_on_the_dated_surface_needs_the_version(http: httpx.Client, fake: FakeBatchAPI) -> None:
    file_id = fake.get_batch("batch_1")["output_file_id"]
    ok = http.get(f"/openai/files/{file_id}/content?api-version={VERSION}", headers=key(fake))
    assert ok.content == fake.get_file(file_id)
    missing = http.get(f"/openai/files/{file_id}/content", headers=key(fake))
    assert (missing.status_code, missing.json()) == (404, {"error": {"code": "404", "message": "Resource not found"}})


@pytest.mark.parametrize(
    "path",
    [
        "/openai/batches/batch_1",  # the dated surface without api-version
        "/openai/batches/batch_1?api-version=",
        "/v1/batches/batch_1",  # OpenAI's path
        "/openai/deployments/gpt/batches/batch_1",
    ],
)
def test_azure_answers_404_in_its_shape(http: httpx.Client, fake: FakeBatchAPI, path: str) -> None:
    response = http.get(path, headers=key(fake))
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "404", "message": "Resource not found"}}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing subscription key"),
        ({"api-key": "wrong"}, "invalid subscription key"),
        ({"authorization": "Bearer sk-fake-key"}, "Access token is missing, invalid"),  # OpenAI's way: refused
        ({"authorization": "Bearer never-issued"}, "Access token is missing, invalid"),
        ({"authorization": "Basic abc"}, "Access token is missing, invalid"),
    ],
)
def test_azure_answers_401_in_its_shape(http: httpx.Client, headers: dict[str, str], message: str) -> None:
    response = http.get("/openai/v1/batches/batch_1", headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert error["code"] == "401"
    assert message in error["message"]


def test_issued_tokens_expire_on_the_clock(http: httpx.Client, fake: FakeBatchAPI, clock: FakeClock) -> None:
    token = fake.issue_ad_token(lifetime=60)
    assert token != fake.issue_ad_token()
    bearer = {"authorization": f"Bearer {token}"}
    assert http.get("/openai/v1/batches/batch_1", headers=bearer).status_code == 200
    clock.advance(60)
    assert http.get("/openai/v1/batches/batch_1", headers=bearer).status_code == 401


def test_tokens_are_for_azure_mode_only() -> None:
    with pytest.raises(RuntimeError, match="azure=True"):
        FakeBatchAPI().issue_ad_token()
    assert not FakeBatchAPI().azure


def test_the_header_log_hides_credentials_in_its_repr(http: httpx.Client, fake: FakeBatchAPI) -> None:
    token = fake.issue_ad_token()
    http.get("/openai/v1/batches/batch_1", headers={**key(fake), "x-trace": "t1"})
    http.get("/openai/v1/batches/batch_1", headers={"authorization": f"Bearer {token}"})
    first, second = fake.request_headers
    assert (first["api-key"], first["x-trace"], second["authorization"]) == (fake.api_key, "t1", f"Bearer {token}")
    shown = repr(fake.request_headers) + repr(fake)
    assert fake.api_key not in shown
    assert token not in shown
    assert "'x-trace': 't1'" in shown
    assert "azure=True" in repr(fake)
    fake.clear_requests()
    assert (fake.requests, fake.request_headers) == ([], [])


def test_the_server_gives_an_azure_endpoint(fake: FakeBatchAPI) -> None:
    with FakeServer(fake) as server:
        assert server.base_url == server.azure_endpoint + "/v1"
        response = httpx.get(f"{server.azure_endpoint}/openai/batches/batch_1?api-version={VERSION}", headers=key(fake))
        assert response.json()["id"] == "batch_1"
    assert fake.request_headers[0]["api-key"] == fake.api_key
