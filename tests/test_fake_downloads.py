"""The fake's file downloads: files served from disk in pieces, Range honoured or ignored, downloads cut short."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from batches_ext.testing import FakeBatchAPI, FakeServer
from tests.conftest import PeakMemory

CONTENT = b"".join(b'{"n": %d}\n' % n for n in range(1000))


def client(api: FakeBatchAPI) -> httpx.Client:
    return httpx.Client(
        transport=api.transport(), base_url=api.base_url, headers={"Authorization": f"Bearer {api.api_key}"}
    )


def read_until_cut(http: httpx.Client, path: str) -> tuple[bytes, str | None]:
    """The bytes a download delivered, and the error that ended it (None: it completed)."""
    received = bytearray()
    try:
        with http.stream("GET", path) as response:
            for chunk in response.iter_bytes():
                received += chunk
    except httpx.RemoteProtocolError as exc:
        return bytes(received), str(exc)
    return bytes(received), None


def test_a_file_on_disk_is_served_as_stored(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(CONTENT)
    api = FakeBatchAPI()
    api.add_file("file-disk", path)
    with client(api) as http:
        response = http.get("/files/file-disk/content")
        described = http.get("/files/file-disk").json()
    assert (response.status_code, response.content) == (200, CONTENT)
    assert response.headers["content-length"] == str(len(CONTENT))
    assert described["bytes"] == len(CONTENT)
    assert api.get_file("file-disk") == CONTENT


def test_add_file_refuses_what_it_cannot_serve(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    with pytest.raises(ValueError, match="is not a file"):
        api.add_file("file-x", tmp_path)
    with pytest.raises(TypeError, match="content must be bytes or a path, got str"):
        api.add_file("file-x", "text")  # type: ignore[arg-type]


@pytest.mark.parametrize("source", ["memory", "disk"])
def test_range_is_honoured_with_a_206(tmp_path: Path, source: str) -> None:
    api = FakeBatchAPI()
    if source == "disk":
        (tmp_path / "f").write_bytes(CONTENT)
        api.add_file("file-r", tmp_path / "f")
    else:
        api.add_file("file-r", CONTENT)
    with client(api) as http:
        response = http.get("/files/file-r/content", headers={"Range": "bytes=100-"})
        beyond = http.get("/files/file-r/content", headers={"Range": f"bytes={len(CONTENT)}-"})
        multi = http.get("/files/file-r/content", headers={"Range": "bytes=0-1,5-6"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-{len(CONTENT) - 1}/{len(CONTENT)}"
    assert response.content == CONTENT[100:]
    assert (beyond.status_code, beyond.headers["content-range"]) == (416, f"bytes */{len(CONTENT)}")
    assert (multi.status_code, multi.content) == (200, CONTENT)  # a range it does not serve: the whole file


def test_range_can_be_ignored() -> None:
    api = FakeBatchAPI(ranges=False)
    api.add_file("file-r", CONTENT)
    with client(api) as http:
        response = http.get("/files/file-r/content", headers={"Range": "bytes=100-"})
    assert (response.status_code, response.content) == (200, CONTENT)
    assert "accept-ranges" not in response.headers


def test_cuts_are_used_by_downloads_only_in_order() -> None:
    api = FakeBatchAPI()
    api.add_file("file-c", CONTENT)
    api.add_batch("batch_1")
    api.cut_downloads(10, 2000)
    with client(api) as http:
        assert http.get("/batches/batch_1").status_code == 200  # not a download: no cut used
        for expected in (10, 2000):
            received, error = read_until_cut(http, "/files/file-c/content")
            assert received == CONTENT[:expected]
            assert error is not None
            assert error.startswith("peer closed connection without sending complete message body")
        assert http.get("/files/file-c/content").content == CONTENT
    assert api.pending_faults == []


def test_a_standing_cut_cuts_every_download_until_cleared() -> None:
    api = FakeBatchAPI()
    api.add_file("file-c", CONTENT)
    api.cut_downloads(100, every=True)
    with client(api) as http:
        for _ in range(3):
            with pytest.raises(httpx.RemoteProtocolError):
                http.get("/files/file-c/content")
        assert api.pending_faults == []  # a standing cut is never "unused"
        api.clear_faults()
        assert http.get("/files/file-c/content").content == CONTENT


@pytest.mark.parametrize(
    ("after", "every", "problem"),
    [((-1,), False, "a cut point must be a non-negative int"), ((True,), False, "a cut point"),
     ((1, 2), True, "every=True takes one cut point, got 2"), ((), True, "got 0")],
)  # fmt: skip
def test_bad_cuts_are_refused(after: tuple[object, ...], every: bool, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        FakeBatchAPI().cut_downloads(*after, every=every)  # type: ignore[arg-type]


def test_a_cut_on_a_real_socket_is_a_short_body() -> None:
    api = FakeBatchAPI()
    api.add_file("file-c", CONTENT)
    api.cut_downloads(3000)
    with FakeServer(api) as server, httpx.Client(headers={"Authorization": f"Bearer {api.api_key}"}) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="peer closed connection without sending complete"):
            http.get(f"{server.base_url}/files/file-c/content")
        response = http.get(f"{server.base_url}/files/file-c/content", headers={"Range": "bytes=3000-"})
        assert (response.status_code, response.content) == (206, CONTENT[3000:])
        assert server.errors == []


def test_a_file_on_disk_is_never_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    piece = b"x" * 1_000_000
    with path.open("wb") as out:
        for _ in range(40):
            out.write(piece)
    api = FakeBatchAPI()
    api.add_file("file-big", path)
    with client(api) as http, PeakMemory() as memory, http.stream("GET", "/files/file-big/content") as response:
        size = sum(len(chunk) for chunk in response.iter_bytes())
    assert size == 40_000_000
    assert memory.peak < 2_000_000, f"peak {memory.peak / 1e6:.1f} MB serving a 40 MB file"
