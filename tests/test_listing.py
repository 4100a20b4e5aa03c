"""`list` and `find`: the paging state and the filters (pure), then both clients against the fake and scripted pages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from batches_ext import AsyncBatchesClient, Batch, BatchesClient, BatchPage, errors
from batches_ext._listing import MAX_PAGE_SIZE, BatchFilter, Pager, check_page_size
from batches_ext.testing import FakeBatchAPI, FakeClock
from tests.conftest import API_KEY, Script

BASE = 1_700_000_000  # created_at of the oldest seeded batch


def batch(batch_id: str, created_at: object = BASE, **fields: Any) -> dict[str, Any]:
    return {"id": batch_id, "object": "batch", "status": "in_progress", "created_at": created_at, **fields}


def page_of(*batches: dict[str, Any], has_more: bool, **envelope: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"object": "list", "data": list(batches), "has_more": has_more}
    if batches:
        body |= {"first_id": batches[0]["id"], "last_id": batches[-1]["id"]}
    return body | envelope


def response(body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json=body, headers={"x-request-id": "req_page"})


def scripted(script: Script) -> BatchesClient:
    return BatchesClient(
        API_KEY,
        base_url="https://api.example.test/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(script)),
        sleep=lambda _: None,
    )


def queries(script: Script) -> list[dict[str, str]]:
    return [dict(request.url.params) for request in script.requests]


def seed(api: FakeBatchAPI, count: int, **fields: Any) -> list[str]:
    """`count` batches created a minute apart; returns their ids newest first (the API's order)."""
    ids = [f"batch_{n:05d}" for n in range(count)]
    for n, batch_id in enumerate(ids):
        api.add_batch(batch_id, created_at=BASE + 60 * n, **fields)
    return ids[::-1]


# --- Pager ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [None, 1, 20, MAX_PAGE_SIZE])
def test_page_size_in_range_is_kept(limit: int | None) -> None:
    assert check_page_size(limit) == limit


@pytest.mark.parametrize(("limit", "message"), [(0, "from 1 to 100"), (101, "got 101"), (-1, "from 1 to 100"),
                                                (True, "not bool"), (2.0, "not float"), ("20", "not str")])  # fmt: skip
def test_page_size_out_of_range_is_a_value_error(limit: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_page_size(limit)


@pytest.mark.parametrize("after", ["", " ", "..", "a b", "\x00"])
def test_a_bad_cursor_is_refused(after: str) -> None:
    with pytest.raises(ValueError, match="after"):
        Pager(after=after)


def test_pager_follows_the_cursor_until_the_server_says_no_more() -> None:
    pager = Pager(limit=2, after="batch_start")
    assert (pager.after, pager.limit, pager.done) == ("batch_start", 2, False)
    pager.observe(BatchPage(page_of(batch("b1"), batch("b2"), has_more=True)))
    assert (pager.after, pager.done) == ("b2", False)
    pager.observe(BatchPage(page_of(batch("b3"), has_more=False)))
    assert pager.done
    assert pager.pages == 2


@pytest.mark.parametrize(
    ("body", "cursor"),
    [
        ({"data": [batch("b1")], "has_more": True, "last_id": "b1"}, "b1"),  # Azure: no `object`
        ({"data": [batch("b1")], "has_more": True}, "b1"),  # no last_id: the last batch's id
        ({"data": [batch("b1")], "paging": {"next_cursor": "cur_2"}}, "cur_2"),  # Groq
        ({"data": [], "has_more": True}, None),  # more, but nothing to continue from: stop, do not loop
        ({"data": [batch("b1")], "has_more": False, "last_id": "b1"}, None),
    ],
)
def test_pager_reads_every_envelope(body: dict[str, Any], cursor: str | None) -> None:
    pager = Pager()
    pager.observe(BatchPage(body))
    assert pager.done is (cursor is None)
    if cursor is not None:
        assert pager.after == cursor


def test_a_cursor_that_does_not_move_ends_the_walk_with_an_error() -> None:
    pager = Pager(after="b1")
    with pytest.raises(errors.APIResponseValidationError, match="never end"):
        pager.observe(BatchPage(page_of(batch("b1"), has_more=True)))
    assert pager.done


# --- BatchFilter ---------------------------------------------------------------------------------------------------


def as_batch(**fields: Any) -> Batch:
    return Batch(batch("b", **fields))


@pytest.mark.parametrize(
    ("criteria", "fields", "expected"),
    [
        ({"status": "in_progress"}, {"status": "IN_PROGRESS"}, True),
        ({"status": ["completed", "failed"]}, {"status": "in_progress"}, False),
        ({"status": ("Queued",)}, {"status": "queued"}, True),  # an unknown status, any case
        ({"metadata": {"team": "a"}}, {"metadata": {"team": "a", "x": "y"}}, True),
        ({"metadata": {"team": "a"}}, {"metadata": {"team": "b"}}, False),
        ({"metadata": {"team": "a"}}, {"metadata": None}, False),
        ({"metadata": {"n": 1}}, {"metadata": {"n": 1}}, True),  # non-string values compare as sent
        ({"endpoint": "/v1/chat/completions"}, {"endpoint": "/chat/completions"}, True),  # Azure writes no /v1
        ({"endpoint": "/v1/embeddings"}, {"endpoint": "/v1/chat/completions"}, False),
        ({"endpoint": "/v1/embeddings"}, {"endpoint": None}, False),
        ({"model": "gpt-4o"}, {"model": "gpt-4o"}, True),
        ({"model": "gpt-4o"}, {"model": "gpt-4o-mini"}, False),
        ({"created_after": BASE}, {"created_at": BASE}, False),  # strictly after
        ({"created_after": BASE}, {"created_at": BASE + 1}, True),
        ({"created_before": BASE}, {"created_at": BASE}, False),  # strictly before
        ({"created_before": datetime.fromtimestamp(BASE + 1, UTC)}, {"created_at": BASE}, True),
        ({"created_after": BASE}, {"created_at": None}, False),  # undated: meets no time bound
        ({"created_after": BASE}, {"created_at": "2030-01-01T00:00:00Z"}, True),  # ISO (Azure)
        ({}, {"created_at": None, "status": "weird"}, True),
    ],
)
def test_filter_matches(criteria: dict[str, Any], fields: dict[str, Any], expected: bool) -> None:
    assert BatchFilter(**criteria).matches(as_batch(**fields)) is expected


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({"status": []}, "at least one"),
        ({"status": ""}, "non-empty"),
        ({"status": 3}, "str or an iterable"),
        ({"status": ["in_progress", None]}, "non-empty str"),
        ({"metadata": ["team"]}, "mapping"),
        ({"metadata": {1: "a"}}, "keys must be str"),
        ({"created_after": datetime(2024, 1, 1)}, "timezone-aware"),
        ({"created_after": "yesterday"}, "aware datetime or unix seconds"),
        ({"created_before": float("nan")}, "aware datetime or unix seconds"),
        ({"created_after": BASE + 10, "created_before": BASE}, "earlier than"),
        ({"endpoint": ""}, "non-empty"),
        ({"model": ["a", 2]}, "non-empty str"),
    ],
)
def test_bad_criteria_are_value_errors(criteria: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BatchFilter(**criteria)


def dated(*offsets: int | None) -> list[Batch]:
    return [Batch(batch(f"b{n}", None if offset is None else BASE + offset)) for n, offset in enumerate(offsets)]


def test_created_after_stops_once_a_page_ends_at_or_before_it() -> None:
    criteria = BatchFilter(created_after=BASE + 100)
    assert not criteria.exhausted(dated(300, 200, 101))
    assert criteria.exhausted(dated(100))
    assert criteria.trusts_order


def test_undated_batches_neither_prove_nor_contradict_the_order() -> None:
    criteria = BatchFilter(created_after=BASE + 100)
    assert not criteria.exhausted(dated(300, None))
    assert criteria.exhausted(dated(None, 50, None))


def test_a_page_out_of_order_ends_the_trust_for_the_rest_of_the_walk() -> None:
    criteria = BatchFilter(created_after=BASE + 100)
    assert not criteria.exhausted(dated(50, 300))  # within a page: 300 after 50
    assert not criteria.trusts_order
    assert not criteria.exhausted(dated(10, 5))  # would prove it, had the order held


def test_order_is_checked_across_pages_too() -> None:
    criteria = BatchFilter(created_after=BASE + 100)
    assert not criteria.exhausted(dated(300, 200))
    assert not criteria.exhausted(dated(250, 20))  # 250 after 200
    assert not criteria.trusts_order


def test_without_created_after_nothing_is_exhausted() -> None:
    assert not BatchFilter(status="completed").exhausted(dated(0))


# --- list against the fake -------------------------------------------------------------------------------------------


def test_list_walks_every_page_newest_first(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    expected = seed(fake_batch_api, 45)
    assert [b.id for b in batches_client.list()] == expected
    paths = [request.path for request in fake_batch_api.requests]
    assert paths == ["/v1/batches", f"/v1/batches?after={expected[19]}", f"/v1/batches?after={expected[39]}"]


def test_list_sends_the_page_size_and_the_start(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    expected = seed(fake_batch_api, 10)
    assert [b.id for b in batches_client.list(limit=4, after=expected[1])] == expected[2:]
    assert [r.path for r in fake_batch_api.requests] == [
        f"/v1/batches?after={expected[1]}&limit=4",
        f"/v1/batches?after={expected[5]}&limit=4",
    ]


def test_list_is_lazy(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    seed(fake_batch_api, 30)
    batches = batches_client.list(limit=10)
    assert fake_batch_api.requests == []
    first = [next(batches) for _ in range(10)]
    assert len(first) == 10
    assert len(fake_batch_api.requests) == 1
    next(batches)
    assert len(fake_batch_api.requests) == 2


def test_list_of_nothing_is_one_request(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    assert list(batches_client.list()) == []
    assert len(fake_batch_api.requests) == 1


@pytest.mark.parametrize("kwargs", [{"limit": 0}, {"limit": 101}, {"after": ""}, {"after": "a b"}])
def test_bad_list_options_raise_before_anything_is_sent(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        batches_client.list(**kwargs)
    assert fake_batch_api.requests == []


@pytest.mark.parametrize("failures", [0, 2])
def test_each_page_is_retried(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient, failures: int) -> None:
    expected = seed(fake_batch_api, 5)
    batches = batches_client.list(limit=3)
    assert [next(batches).id for _ in range(3)] == expected[:3]
    fake_batch_api.inject_errors(failures, 429, {"retry-after-ms": "10"})
    assert [b.id for b in batches] == expected[3:]
    assert len(fake_batch_api.requests) == 2 + failures


def test_a_page_that_fails_for_good_raises_the_typed_error(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient
) -> None:
    seed(fake_batch_api, 5)
    fake_batch_api.inject_errors(1, 401)
    with pytest.raises(errors.AuthenticationError):
        list(batches_client.list())


def test_an_unknown_cursor_is_the_servers_400(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    with pytest.raises(errors.BadRequestError, match="after"):
        list(batches_client.list(after="batch_gone"))


def test_async_list_walks_the_same_pages(
    fake_batch_api: FakeBatchAPI, async_batches_client: AsyncBatchesClient
) -> None:
    expected = seed(fake_batch_api, 25)

    async def collect() -> list[str]:
        return [b.id async for b in async_batches_client.list(limit=10)]

    assert asyncio.run(collect()) == expected
    assert len(fake_batch_api.requests) == 3


def test_async_list_checks_options_at_the_call(async_batches_client: AsyncBatchesClient) -> None:
    with pytest.raises(ValueError, match="limit"):
        async_batches_client.list(limit=500)


# --- list against scripted servers -----------------------------------------------------------------------------------


def test_azure_pages_without_object_and_with_iso_times() -> None:
    script = Script(
        response({"data": [batch("b2", "2024-05-01T10:00:00.1234567+00:00")], "has_more": True, "last_id": "b2",
                  "first_id": "b2"}),
        response({"data": [batch("b1", None)], "has_more": False, "first_id": "b1", "last_id": "b1"}),
    )  # fmt: skip
    client = scripted(script)
    batches = list(client.list())
    assert [b.id for b in batches] == ["b2", "b1"]
    assert batches[0].created_at == datetime(2024, 5, 1, 10, 0, 0, 123456, UTC)
    assert queries(script) == [{}, {"after": "b2"}]


def test_entries_that_are_not_batches_are_skipped_not_fatal() -> None:
    script = Script(response(page_of(batch("b2"), {"id": None}, "junk", batch("b1"), has_more=False)))
    assert [b.id for b in scripted(script).list()] == ["b2", "b1"]


def test_a_body_that_is_not_a_page_is_a_validation_error() -> None:
    script = Script(response({"object": "list", "data": "nope"}))
    with pytest.raises(errors.APIResponseValidationError, match="'data' must be a list"):
        list(scripted(script).list())


def test_a_server_that_repeats_its_cursor_cannot_loop_forever() -> None:
    script = Script(
        response(page_of(batch("b2"), has_more=True)),
        response(page_of(batch("b1"), has_more=True, last_id="b2")),
    )
    batches = scripted(script).list()
    assert next(batches).id == "b2"
    assert next(batches).id == "b1"  # the page's batches come first, then the error
    with pytest.raises(errors.APIResponseValidationError, match="never end"):
        next(batches)


# --- find ----------------------------------------------------------------------------------------------------------


def test_find_filters_over_every_page(fake_batch_api: FakeBatchAPI, batches_client: BatchesClient) -> None:
    for n in range(250):
        fake_batch_api.add_batch(
            f"batch_{n:03d}", status="completed" if n % 5 == 0 else "in_progress", created_at=BASE + n,
            metadata={"team": "a" if n % 2 else "b"},
        )  # fmt: skip
    found = [b.id for b in batches_client.find(status="completed", metadata={"team": "b"})]
    assert found == [f"batch_{n:03d}" for n in range(249, -1, -1) if n % 10 == 0]
    assert [r.path for r in fake_batch_api.requests] == [
        "/v1/batches?limit=100",
        "/v1/batches?after=batch_150&limit=100",
        "/v1/batches?after=batch_050&limit=100",
    ]


def test_find_stops_paging_once_created_after_is_passed(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient
) -> None:
    ids = seed(fake_batch_api, 1000)  # a minute apart, newest first
    since = datetime.fromtimestamp(BASE, UTC) + timedelta(minutes=850)
    found = [b.id for b in batches_client.find(created_after=since)]
    assert found == ids[:149]  # 851..999
    assert len(fake_batch_api.requests) == 2  # the second page ends before `since`: nothing later can match


def test_find_reads_every_page_when_the_server_does_not_list_newest_first() -> None:
    # Page 1 is newest first and crosses the bound, but page 2 holds a newer batch: the order cannot be trusted.
    script = Script(
        response(page_of(batch("b9", BASE + 900), batch("b8", BASE + 800), has_more=True)),
        response(page_of(batch("b1", BASE + 100), batch("b7", BASE + 700), has_more=True)),
        response(page_of(batch("b0", BASE), batch("b6", BASE + 600), has_more=False)),
    )
    found = [b.id for b in scripted(script).find(created_after=BASE + 500)]
    assert found == ["b9", "b8", "b7", "b6"]
    assert len(script.requests) == 3


def test_find_checks_its_criteria_before_anything_is_sent(
    fake_batch_api: FakeBatchAPI, batches_client: BatchesClient
) -> None:
    with pytest.raises(ValueError, match="status"):
        batches_client.find(status=[])
    assert fake_batch_api.requests == []


def test_async_find_matches_sync_find(fake_clock: FakeClock) -> None:
    api = FakeBatchAPI(clock=fake_clock)
    seed(api, 120, metadata={"run": "x"})
    api.add_batch("other", metadata={"run": "y"}, created_at=BASE - 5)
    client = AsyncBatchesClient(
        api.api_key, base_url=api.base_url, http_client=httpx.AsyncClient(transport=api.transport())
    )

    async def collect() -> list[str]:
        return [b.id async for b in client.find(metadata={"run": "y"})]

    assert asyncio.run(collect()) == ["other"]
    assert len(api.requests) == 2
