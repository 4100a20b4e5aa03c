"""Conformance of the project's fake (`batches_ext.testing`) with the spec fragment, checked by schemathesis.

Schemathesis generates schema-valid requests (positive mode) for every operation the fake serves (all but
NOT_YET_SERVED) and runs its response checks on whatever the fake answers: status code documented, content type
declared, body valid against the response schema, headers, no 5xx. The fake is seeded with a batch in every status
(and their files), so generated ids hit both existing and missing resources.

`ignored_auth` is disabled: the fragment, like upstream, documents no per-operation 401 (shared/upstream/SOURCE.md),
and that check flags every undocumented auth answer. `positive_data_acceptance` also accepts 400, the fake's answer to
cancelling a finished batch: the id is valid, the state is not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from batches_ext import testing
from tests.payloads import DOCUMENTED_STATUSES

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "openai-batches.yaml"
STATUSES = DOCUMENTED_STATUSES
MAX_EXAMPLES = 300  # requests across the served operations: about 2 s against the threaded fake
# Operations in the fragment that the fake does not serve yet. Whoever adds one to the fake removes it here (a test
# below fails while a served operation is still listed); the list must end empty.
NOT_YET_SERVED: frozenset[str] = frozenset()
# Files that DELETE /files/{file_id} may remove, so the seeded files the other operations read stay in place.
DISPOSABLE = [f"file-disposable-{i}" for i in range(100)]
CONFIG = {
    "generation": {"mode": "positive"},
    # The fragment documents no 401 (SOURCE.md): ignored_auth would flag the fake's correct 401s as undocumented.
    "checks": {
        "ignored_auth": {"enabled": False},
        # A valid id can still be refused for the batch's state: cancelling a finished batch is a 400 (ANCHORS.md:
        # "Cannot cancel a batch with status ..."), documented under 4XX. Schemathesis' defaults plus 400.
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
        },
    },
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def schema() -> Any:
    return schemathesis.openapi.from_path(SPEC, config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[Any, str, list[str], list[str]]]:
    """The fake, served on a real socket; its base URL; the ids of the seeded batches and of their files."""
    api = testing.FakeBatchAPI()
    batches = [api.add_batch(f"batch_{status}", status=status, total=4, completed=2, failed=1) for status in STATUSES]
    api.add_file("file-extra", b'{"id": "batch_req_1", "custom_id": "request-1", "response": null, "error": null}\n')
    for file_id in DISPOSABLE:
        api.add_file(file_id, b"{}\n")
    file_ids = ["file-extra"] + [
        file_id for batch in batches for file_id in (batch.get("output_file_id"), batch.get("error_file_id")) if file_id
    ]
    with testing.FakeServer(api) as server:
        yield api, server.base_url, [batch["id"] for batch in batches], file_ids


def test_every_fake_response_conforms(schema: Any, fake: tuple[Any, str, list[str], list[str]]) -> None:
    api, base_url, batch_ids, file_ids = fake
    headers = {"Authorization": f"Bearer {api.api_key}"}
    operations = [
        op for op in (result.ok() for result in schema.get_all_operations()) if op.label not in NOT_YET_SERVED
    ]
    known = {"batch_id": batch_ids, "file_id": file_ids}

    def with_known_id(case: Any, pick: int | None) -> Any:
        # Half the draws replace the generated id with a seeded one, so both "exists" and "missing" are exercised.
        if pick is not None and case.path_parameters:
            (name,) = case.path_parameters
            pool = DISPOSABLE if case.operation.label == "DELETE /files/{file_id}" else known[name]
            case.path_parameters[name] = pool[pick % len(pool)]
        if pick is not None and case.query and "after" in case.query:  # a list cursor: a batch that exists
            case.query["after"] = batch_ids[pick % len(batch_ids)]
        return case

    cases = st.one_of(
        [
            st.builds(with_known_id, op.as_strategy(), st.one_of(st.none(), st.integers(min_value=0, max_value=99)))
            for op in operations
        ]
    )
    seen: Counter[tuple[str, int]] = Counter()

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,  # no .hypothesis/ directory in the tree
        phases=[Phase.explicit, Phase.generate],  # a failure's first example is reported; shrinking would be slow
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Any) -> None:
        response = case.call_and_validate(base_url=base_url, headers=headers)
        seen[(case.operation.label, response.status_code)] += 1

    check()
    statuses = {label: {code for (op, code) in seen if op == label} for label in {op for op, _ in seen}}
    assert set(statuses) == {op.label for op in operations}, seen
    for label, codes in statuses.items():
        if "{" not in label:
            continue  # no id in the path: nothing can be missing
        assert codes - {404}, f"{label} never hit an existing resource: {seen}"  # 200, or 400 for a finished batch
        assert 404 in codes, f"{label} never hit a missing resource: {seen}"
    assert 200 in statuses["GET /batches"], seen  # pages, not only refused cursors


@pytest.mark.parametrize("status", STATUSES)
def test_seeded_batches_conform_in_every_status(
    schema: Any, fake: tuple[Any, str, list[str], list[str]], status: str
) -> None:
    """Deterministic cases: retrieve and cancel each seeded batch (cancel of a finished one is a documented 4XX)."""
    api, base_url, _, _ = fake
    headers = {"Authorization": f"Bearer {api.api_key}"}
    for method, path in (("GET", "/batches/{batch_id}"), ("POST", "/batches/{batch_id}/cancel")):
        case = schema[path][method].Case(path_parameters={"batch_id": f"batch_{status}"})
        response = case.call_and_validate(base_url=base_url, headers=headers)
        assert response.status_code in (200, 400, 409), response.text


def test_the_checks_are_live(schema: Any, fake: tuple[Any, str, list[str], list[str]]) -> None:
    """A 5xx from the fake must fail the checks: proof that a passing run means something."""
    api, base_url, _, _ = fake
    case = schema["/batches/{batch_id}"]["GET"].Case(path_parameters={"batch_id": "batch_completed"})
    api.inject_errors(1, status=503)
    with pytest.raises(schemathesis.errors.FailureGroup, match="Server error"):
        case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {api.api_key}"})


def test_not_yet_served_lists_only_operations_the_fake_lacks(fake: tuple[Any, str, list[str], list[str]]) -> None:
    """Every operation still listed as not served answers the fake's "no such route" 404, so the list stays honest."""
    api, base_url, _, _ = fake
    for label in sorted(NOT_YET_SERVED):
        method, path = label.split(" ", 1)
        response = httpx.request(
            method,
            base_url + path.replace("{file_id}", "file-extra"),
            headers={"Authorization": f"Bearer {api.api_key}"},
        )
        assert response.status_code in (404, 405), (
            f"{label} is served now ({response.status_code}): remove it from NOT_YET_SERVED"
        )
