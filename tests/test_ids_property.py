"""Property: any string id either travels as exactly one path segment that decodes to it, or is refused unsent."""

from __future__ import annotations

from urllib.parse import unquote

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from batches_ext import BatchesClient
from tests.conftest import API_KEY, ok

ids = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("./%?#&=;:@+ \\~"), max_size=6),
    st.from_regex(r"batch_[A-Za-z0-9]{1,24}", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(batch_id=ids)
def test_any_id_is_one_segment_or_refused(batch_id: str) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return ok()

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        client = BatchesClient(api_key=API_KEY, http_client=http, max_retries=0)
        try:
            client.cancel(batch_id)
        except ValueError:
            assert sent == []
            return
    (request,) = sent
    path = request.url.raw_path.decode("ascii")
    assert path.startswith("/v1/batches/")
    assert path.endswith("/cancel")
    segment = path[len("/v1/batches/") : -len("/cancel")]
    assert "/" not in segment
    assert "?" not in segment
    assert "#" not in segment
    assert unquote(segment, errors="strict") == batch_id
