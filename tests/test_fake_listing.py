"""The fake's `GET /v1/batches`: OpenAI's pagination on the wire, its 400s, faults, and the sorted index behind it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batches_ext.testing import FakeBatchAPI, FakeClock, FakeServer


@pytest.fixture
def http(fake_batch_api: FakeBatchAPI) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {fake_batch_api.api_key}"}
    transport = fake_batch_api.transport()
    with httpx.Client(transport=transport, base_url=fake_batch_api.base_url, headers=headers) as client:
        yield client


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["data"]]


def test_pages_newest_first_with_openais_envelope(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    for n in range(25):
        fake_batch_api.add_batch(f"b{n:02d}", created_at=1_700_000_000 + n)
    first = http.get("/batches").json()
    assert set(first) == {"object", "data", "first_id", "last_id", "has_more"}
    assert first["object"] == "list"
    assert ids(first) == [f"b{n:02d}" for n in range(24, 4, -1)]  # default limit 20
    assert (first["first_id"], first["last_id"], first["has_more"]) == ("b24", "b05", True)
    second = http.get("/batches", params={"after": first["last_id"]}).json()
    assert ids(second) == ["b04", "b03", "b02", "b01", "b00"]
    assert (second["first_id"], second["last_id"], second["has_more"]) == ("b04", "b00", False)
    assert all(item["object"] == "batch" for item in first["data"] + second["data"])


def test_an_exact_last_page_says_no_more(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    for n in range(4):
        fake_batch_api.add_batch(f"b{n}", created_at=1_700_000_000 + n)
    body = http.get("/batches", params={"limit": 4}).json()
    assert len(body["data"]) == 4
    assert body["has_more"] is False
    tail = http.get("/batches", params={"after": "b0"}).json()
    assert tail == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


def test_equal_creation_times_list_the_later_added_first(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    for name in ("x", "a", "m"):
        fake_batch_api.add_batch(name, created_at=1_700_000_000)
    fake_batch_api.add_batch("old", created_at=1_600_000_000)
    assert ids(http.get("/batches").json()) == ["m", "a", "x", "old"]
    assert ids(http.get("/batches", params={"after": "a", "limit": 1}).json()) == ["x"]


def test_an_added_batch_shares_nothing_with_its_fields_or_the_copies_handed_out(
    fake_batch_api: FakeBatchAPI, http: httpx.Client
) -> None:
    metadata = {"team": "eval"}
    returned = fake_batch_api.add_batch("b1", metadata=metadata, usage={"input_tokens": 1, "details": {"cached": 0}})
    metadata["team"] = "changed"
    returned["metadata"]["team"] = "changed"
    returned["usage"]["details"]["cached"] = 99
    fake_batch_api.get_batch("b1")["usage"]["details"]["cached"] = 98
    stored = fake_batch_api.get_batch("b1")
    assert (stored["metadata"], stored["usage"]["details"]) == ({"team": "eval"}, {"cached": 0})
    assert http.get("/batches").json()["data"][0]["metadata"] == {"team": "eval"}
    failed = fake_batch_api.add_batch("f1", status="failed")
    failed["errors"]["data"].clear()  # the validation errors every failed batch starts from stay whole
    assert len(fake_batch_api.add_batch("f2", status="failed")["errors"]["data"]) == 1


def test_removed_batches_leave_the_listing(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    for n in range(5):
        fake_batch_api.add_batch(f"b{n}", created_at=1_700_000_000 + n)
    fake_batch_api.remove_batch("b3")
    fake_batch_api.remove_batch("b0")
    assert ids(http.get("/batches").json()) == ["b4", "b2", "b1"]
    fake_batch_api.add_batch("b3", created_at=1_600_000_000)  # the id again, now the oldest
    assert ids(http.get("/batches").json()) == ["b4", "b2", "b1", "b3"]


def test_listed_batches_are_brought_up_to_date(
    fake_batch_api: FakeBatchAPI, http: httpx.Client, fake_clock: FakeClock
) -> None:
    fake_batch_api.add_batch("b1")
    http.post("/batches/b1/cancel")
    fake_clock.advance(fake_batch_api.cancel_delay)
    assert http.get("/batches").json()["data"][0]["status"] == "cancelled"


def test_a_listed_batch_is_a_snapshot(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.add_batch("b1", metadata={"k": "v"})
    body = http.get("/batches").json()
    body["data"][0]["metadata"]["k"] = "changed"
    assert fake_batch_api.get_batch("b1")["metadata"] == {"k": "v"}


@pytest.mark.parametrize(
    ("limit", "code", "message"),
    [
        ("0", "integer_below_min_value", "Expected a value >= 1, but got 0 instead."),
        ("-3", "integer_below_min_value", "but got -3 instead."),
        ("101", "integer_above_max_value", "Invalid 'limit': integer above maximum value. Expected a value <= 100"),
        ("ten", "invalid_type", "Invalid type for 'limit': expected an integer"),
        ("", "invalid_type", "Invalid type for 'limit'"),
    ],
)
def test_a_limit_out_of_range_is_a_400(http: httpx.Client, limit: str, code: str, message: str) -> None:
    response = http.get("/batches", params={"limit": limit})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"], error["type"]) == ("limit", code, "invalid_request_error")
    assert message in error["message"]


@pytest.mark.parametrize("limit", ["1", "100"])
def test_the_limit_bounds_are_accepted(fake_batch_api: FakeBatchAPI, http: httpx.Client, limit: str) -> None:
    for n in range(101):
        fake_batch_api.add_batch(f"b{n}", created_at=1_700_000_000 + n)
    assert len(http.get("/batches", params={"limit": limit}).json()["data"]) == int(limit)


def test_an_unknown_cursor_is_a_400_naming_it(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.add_batch("b1")
    response = http.get("/batches", params={"after": "batch_gone"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "after"
    assert "batch_gone" in response.json()["error"]["message"]
    assert ids(http.get("/batches?after=").json()) == ["b1"]  # an empty cursor is no cursor


def test_faults_apply_to_list_pages(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    fake_batch_api.add_batch("b1")
    fake_batch_api.inject_errors(1, 429, {"retry-after-ms": "50"})
    limited = http.get("/batches")
    assert (limited.status_code, limited.headers["retry-after-ms"]) == (429, "50")
    fake_batch_api.drop_connections(1)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/batches")
    assert ids(http.get("/batches").json()) == ["b1"]


def test_the_list_needs_the_key(http: httpx.Client) -> None:
    assert http.get("/batches", headers={"Authorization": "Bearer sk-wrong-key-123"}).status_code == 401


def test_a_page_deep_in_many_batches_reads_only_that_page(fake_batch_api: FakeBatchAPI, http: httpx.Client) -> None:
    for n in range(5000):
        fake_batch_api.add_batch(f"b{n:04d}", created_at=1_700_000_000 + n)
    store = fake_batch_api._store
    settled: list[str] = []
    original = store._settle

    def counting(record: Any, now: float) -> None:
        settled.append(record.data["id"])
        original(record, now)

    store._settle = counting  # type: ignore[method-assign]  # counts the records a page touches
    body = http.get("/batches", params={"after": "b0100", "limit": 3}).json()
    assert ids(body) == ["b0099", "b0098", "b0097"]
    assert settled == ["b0099", "b0098", "b0097"]  # no scan of the other 4,997


def test_the_server_reads_the_query(fake_batch_api: FakeBatchAPI) -> None:
    for n in range(3):
        fake_batch_api.add_batch(f"b{n}", created_at=1_700_000_000 + n)
    with FakeServer(fake_batch_api) as server:
        response = httpx.get(
            f"{server.base_url}/batches?limit=2&after=b2", headers={"Authorization": f"Bearer {fake_batch_api.api_key}"}
        )
    assert ids(response.json()) == ["b1", "b0"]
