"""A 3xx is never success: redirects are not followed, and each is an `APIStatusError` naming status and Location.

Before, a redirected results download yielded zero results and no error (while the batch said 60 requests
completed), and a 301 on retrieve said "response body is not JSON ''".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, Batch, BatchesClient, errors
from tests import local_server
from tests.conftest import API_KEY, Script, ok
from tests.payloads import SEED_COMPLETED

LOCATION = "https://elsewhere.example/v1/files/file-cvaTdG/content"


def redirect(status: int) -> httpx.Response:
    return httpx.Response(status, headers={"location": LOCATION, "x-request-id": "req_3xx"})


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.retrieve("batch_abc123"), id="retrieve"),
        pytest.param(lambda c: c.cancel("batch_abc123"), id="cancel"),
        pytest.param(lambda c: list(c.iter_results(Batch.from_dict(SEED_COMPLETED))), id="results"),
        pytest.param(lambda c: list(c.remainder(Batch.from_dict(SEED_COMPLETED))), id="remainder"),
        pytest.param(lambda c: list(c.list()), id="list"),
        pytest.param(lambda c: c.retrieve_file("file-abc"), id="retrieve_file"),
    ],
)
def test_a_redirect_is_an_error_naming_its_location(twin: Any, status: int, call: Callable[[Any], object]) -> None:
    script = Script(redirect(status))
    with pytest.raises(errors.APIStatusError) as info:
        call(twin(script))
    assert info.value.status_code == status
    assert str(status) in str(info.value)
    assert LOCATION in str(info.value)
    assert "not followed" in str(info.value)
    assert len(script.requests) == 1  # not retried, not followed


def test_a_redirect_without_location_says_so(twin: Any) -> None:
    with pytest.raises(errors.APIStatusError, match=r"300 .*\(none\)"):
        twin(Script(httpx.Response(300))).retrieve("batch_abc123")


def test_a_redirected_download_is_not_an_empty_file(twin: Any) -> None:
    """The case that lost results: the batch says it completed requests, the download answers 302."""
    script = Script(ok(SEED_COMPLETED), redirect(302))
    with pytest.raises(errors.APIStatusError, match="302"):
        list(twin(script).iter_results("batch_abc123"))


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_default_client_does_not_follow_a_real_redirect(kind: str) -> None:
    followed: list[str] = []

    def reply(method: str, path: str, headers: dict[str, str]) -> local_server.Reply:
        if path.endswith("/elsewhere"):
            followed.append(path)
            return local_server.json_reply(200, SEED_COMPLETED)
        return 301, {"location": path + "/elsewhere"}, b""

    def retrieve(base_url: str) -> object:
        if kind == "sync":
            with BatchesClient(API_KEY, base_url=base_url) as client:
                return client.retrieve("batch_abc123")

        async def run() -> object:
            async with AsyncBatchesClient(API_KEY, base_url=base_url) as client:
                return await client.retrieve("batch_abc123")

        return asyncio.run(run())

    with local_server.serve(reply) as base_url, pytest.raises(errors.APIStatusError, match="301"):
        retrieve(base_url)
    assert followed == []
