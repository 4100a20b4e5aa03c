"""A bad call sends nothing: every option of a call that sends an irreversible request is checked first.

Each call goes to a transport that records requests (and would fail the test on any): the error must come with
`requests == []`. Before these checks, `cancel_and_wait("b", timout=60)` cancelled the batch, then raised.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, BatchesClient, errors
from tests.conftest import API_KEY, Script


@pytest.fixture
def recorded(twin: Any) -> tuple[Any, Script]:
    """A client of the parametrized kind whose transport records every request and answers none."""
    script = Script()
    return twin(script), script


BAD_WAIT_OPTIONS = [
    pytest.param({"timout": 60}, TypeError, "timout", id="typo"),
    pytest.param({"timeout": -1}, ValueError, "timeout", id="negative-timeout"),
    pytest.param({"timeout": 0}, ValueError, "timeout", id="zero-timeout"),
    pytest.param({"timeout": math.nan}, ValueError, "timeout", id="nan-timeout"),
    pytest.param({"timeout": math.inf}, ValueError, "timeout", id="inf-timeout"),
    pytest.param({"timeout": "60"}, ValueError, "timeout", id="str-timeout"),
    pytest.param({"poll_interval": 0}, ValueError, "poll_interval", id="zero-interval"),
    pytest.param({"poll_interval": math.nan}, ValueError, "poll_interval", id="nan-interval"),
    pytest.param({"on_update": 5}, ValueError, "on_update", id="uncallable-on-update"),
]


@pytest.mark.parametrize("method", ["cancel_and_wait", "cancel_and_collect", "cancel_and_resubmit"])
@pytest.mark.parametrize(("options", "error", "named"), BAD_WAIT_OPTIONS)
def test_a_bad_wait_option_cancels_nothing(
    recorded: tuple[Any, Script], method: str, options: dict[str, Any], error: type[Exception], named: str
) -> None:
    client, script = recorded
    with pytest.raises(error, match=named):
        getattr(client, method)("batch_abc123", **options)
    assert script.requests == []


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"retry_failed": "yes"}, "retry_failed"),
        ({"metadata": {"k": 1}}, "metadata"),
        ({"metadata": "k=v"}, "metadata"),
        ({"completion_window": ""}, "completion_window"),
    ],
)
def test_a_bad_resubmit_option_cancels_nothing(
    recorded: tuple[Any, Script], options: dict[str, Any], named: str
) -> None:
    client, script = recorded
    with pytest.raises(ValueError, match=named):
        client.cancel_and_resubmit("batch_abc123", **options)
    with pytest.raises(ValueError, match=named):
        client.resubmit("batch_abc123", **options)
    assert script.requests == []


UNUSABLE_TIMEOUTS = [
    pytest.param(math.inf, id="inf"),
    pytest.param(math.nan, id="nan"),
    pytest.param(1e300, id="1e300"),
    pytest.param(-1.0, id="negative"),
    pytest.param(httpx.Timeout(-1), id="httpx-negative"),
    pytest.param(httpx.Timeout(5.0, read=math.inf), id="httpx-inf-read"),
    pytest.param(httpx.Timeout(5.0, connect=math.nan), id="httpx-nan-connect"),
]


@pytest.mark.parametrize("timeout", UNUSABLE_TIMEOUTS)
def test_an_unusable_request_timeout_is_refused_before_sending(
    recorded: tuple[Any, Script], timeout: Any, tmp_path: Path
) -> None:
    client, script = recorded
    upload = tmp_path / "in.jsonl"
    upload.write_text('{"custom_id": "a"}\n')
    calls: list[Callable[[], object]] = [
        lambda: client.cancel("batch_abc123", timeout=timeout),
        lambda: client.retrieve("batch_abc123", timeout=timeout),
        lambda: client.upload_file(upload, timeout=timeout),
        lambda: client.create_batch("file-abc", endpoint="/v1/chat/completions", timeout=timeout),
        lambda: client.delete_file("file-abc", timeout=timeout),
    ]
    for call in calls:
        with pytest.raises(errors.ConfigurationError, match="timeout"):
            call()
    assert script.requests == []


@pytest.mark.parametrize("cls", [BatchesClient, AsyncBatchesClient])
@pytest.mark.parametrize("timeout", UNUSABLE_TIMEOUTS)
def test_an_unusable_client_timeout_is_refused_at_construction(cls: type, timeout: Any) -> None:
    with pytest.raises(errors.ConfigurationError, match="timeout") as info:
        cls(api_key=API_KEY, timeout=timeout)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("timeout", [0.001, 86_400.0, None, httpx.Timeout(None), httpx.Timeout(10.0, connect=None)])
def test_usable_timeouts_are_still_taken(timeout: Any) -> None:
    BatchesClient(api_key=API_KEY, timeout=timeout).close()
