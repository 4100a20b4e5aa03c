"""A cancel that went through but whose reply was lost is a success: the retry's refusal is checked, not reported.

The first attempt fails in a way that may hide a cancel the server carried out (a 5xx, a dropped connection); the
retry is refused because the batch is already cancelling. Before, `cancel()` raised the refusal and the CLI exited 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from batches_ext import cli, errors
from tests import local_server
from tests.conftest import API_KEY, Script, error, ok
from tests.payloads import CANCELLING, SEED_COMPLETED

REFUSED = "Cannot cancel a batch with status 'cancelling'."


LOST_REPLIES: dict[str, Callable[[], httpx.Response | Exception]] = {
    "502": lambda: error(502),
    "reset": lambda: httpx.ConnectError("connection reset"),
    "read-timeout": lambda: httpx.ReadTimeout("no reply"),
}


@pytest.mark.parametrize("first", LOST_REPLIES)
@pytest.mark.parametrize("refusal", [400, 409])
def test_a_cancel_whose_reply_was_lost_returns_the_cancelling_batch(twin: Any, first: str, refusal: int) -> None:
    # A 409 is retried like a 503: the client meets it until its retries run out.
    refusals = [error(refusal, REFUSED) for _ in range(2 if refusal == 409 else 1)]
    script = Script(LOST_REPLIES[first](), *refusals, ok(CANCELLING))
    batch = twin(script).cancel("batch_abc123")
    assert batch.status == "cancelling"
    assert [r.method for r in script.requests] == ["POST"] * (1 + len(refusals)) + ["GET"]


def test_a_refused_cancel_without_a_lost_reply_still_raises(twin: Any) -> None:
    script = Script(error(400, REFUSED))
    with pytest.raises(errors.BadRequestError, match="cancelling"):
        twin(script).cancel("batch_abc123")
    assert len(script.requests) == 1  # nothing retrieved: the refusal is the answer


def test_a_retried_cancel_refused_for_a_finished_batch_raises(twin: Any) -> None:
    """The batch completed: nothing was cancelled, whatever happened to the first reply."""
    script = Script(error(502), error(400, "Cannot cancel a batch with status 'completed'."), ok(SEED_COMPLETED))
    with pytest.raises(errors.BadRequestError, match="completed"):
        twin(script).cancel("batch_abc123")


def test_cli_cancel_exits_0_when_the_reply_was_lost(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real socket: the server carries out the first cancel but answers 502, then refuses the retry."""
    state = {"status": "in_progress"}

    def reply(method: str, path: str, headers: dict[str, str]) -> local_server.Reply:
        if method == "POST" and state["status"] == "in_progress":
            state["status"] = "cancelling"
            return local_server.json_reply(502, {"error": {"message": "Bad gateway"}})
        if method == "POST":
            return local_server.json_reply(400, {"error": {"message": REFUSED}})
        return local_server.json_reply(200, {**CANCELLING, "status": state["status"]})

    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setattr("batches_ext._core.default_sleep", lambda seconds: None)  # the retry's backoff
    with local_server.serve(reply) as base_url:
        code = cli.main(["cancel", "batch_abc123", "--json", "--base-url", base_url])
    out, err = capsys.readouterr()
    assert (code, err) == (cli.EXIT_OK, "")
    assert json.loads(out)["status"] == "cancelling"
