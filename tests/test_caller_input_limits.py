"""Caller input that cannot make a valid request is refused, naming the problem, before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, AzureBatchesClient, BatchesClient, cli, errors
from batches_ext._ids import MAX_ID_LENGTH
from tests.conftest import Script, error

pytestmark = pytest.mark.anyio

OVERLONG = ["b" * (MAX_ID_LENGTH + 1), "b" * 70_000]
CALLS: dict[str, Callable[[BatchesClient, str], Any]] = {
    "retrieve": lambda client, value: client.retrieve(value),
    "cancel": lambda client, value: client.cancel(value),
    "wait": lambda client, value: client.wait(value),
    "cancel_and_wait": lambda client, value: client.cancel_and_wait(value),
    "retrieve_file": lambda client, value: client.retrieve_file(value),
    "iter_results": lambda client, value: list(client.iter_results(value)),
}


@pytest.mark.parametrize("value", OVERLONG, ids=["just-over", "70k"])
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_an_overlong_id_is_a_value_error_before_sending(
    call: Callable[[BatchesClient, str], Any], value: str, make_client: Callable[..., BatchesClient]
) -> None:
    script = Script()  # any request fails the test
    client = make_client(script)
    with pytest.raises(ValueError, match=f"{len(value):,} characters long; an id has at most {MAX_ID_LENGTH:,}"):
        call(client, value)
    assert script.requests == []


async def test_an_overlong_id_is_a_value_error_for_the_async_client(
    make_async_client: Callable[..., AsyncBatchesClient],
) -> None:
    script = Script()
    client = make_async_client(script)
    with pytest.raises(ValueError, match="characters long"):
        await client.cancel("b" * 70_000)
    assert script.requests == []


@pytest.mark.parametrize("char", ["b", "\u00e9", "\U0001f600"])  # 1, 2 and 4 bytes: 1, 6 and 12 once encoded
def test_the_longest_id_still_makes_a_valid_request(char: str, make_client: Callable[..., BatchesClient]) -> None:
    script = Script(error(404))
    with pytest.raises(errors.NotFoundError):
        make_client(script).retrieve(char * MAX_ID_LENGTH)
    assert len(script.requests) == 1


def test_the_cli_refuses_an_overlong_id_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["retrieve", "b" * 70_000, "--api-key", "sk-unused-123456"]) == cli.EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert "70,000 characters long" in err
    assert len(err) < 500  # the id is not echoed


BAD_URLS = ["https://api.example/v1 ", " https://api.example/v1", "https://api.example/v1\n", "https://api.ex ample/v1"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_base_url_with_whitespace_is_refused_not_trimmed(url: str) -> None:
    with pytest.raises(errors.ConfigurationError, match="base_url must not contain whitespace"):
        BatchesClient(api_key="sk-test-123456", base_url=url)


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_base_url_variable_with_whitespace_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    with pytest.raises(errors.ConfigurationError, match="must not contain whitespace"):
        BatchesClient(api_key="sk-test-123456")


@pytest.mark.parametrize("url", BAD_URLS)
def test_an_azure_endpoint_with_whitespace_is_refused(url: str) -> None:
    with pytest.raises(errors.ConfigurationError, match="azure_endpoint must not contain whitespace"):
        AzureBatchesClient(azure_endpoint=url, api_key="0123456789abcdef")


def test_a_clean_base_url_keeps_its_path() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": {"message": str(request.url)}})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = BatchesClient(api_key="sk-test-123456", base_url="https://api.example/v1/", http_client=http)
    with client, pytest.raises(errors.NotFoundError, match=r"https://api\.example/v1/batches/b1"):
        client.retrieve("b1")
