"""The command line on Azure OpenAI: `--azure-endpoint`, `--api-version` and the SDK's environment variables,
against the fake in Azure mode on a real socket; and `serve-fake --azure --shape`."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from batches_ext import AzureBatchesClient, cli
from batches_ext.testing import FakeBatchAPI, FakeServer
from tests.test_cli import finish, start

KEY = "azure-cli-KEY-0123456789"
VERSION = "2024-10-21"
VARIABLES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY",
             "AZURE_OPENAI_AD_TOKEN", "OPENAI_API_VERSION")  # fmt: skip


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    api = FakeBatchAPI(azure=True, api_key=KEY, cancel_delay=0.2)
    api.add_batch("batch_1", status="in_progress", total=4, completed=2, failed=1)
    with FakeServer(api) as running:
        yield running


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert KEY not in out + err
    return code, out, err


def test_options_select_azure_on_the_v1_surface(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    code, out, err = run(capsys, "retrieve", "batch_1", "--azure-endpoint", server.azure_endpoint, "--api-key", KEY)
    assert (code, err) == (0, "")
    assert "status:         in_progress\n" in out
    assert server.api.requests[0].path == "/openai/v1/batches/batch_1"
    assert server.api.request_headers[0]["api-key"] == KEY


def test_the_environment_selects_the_dated_surface(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.azure_endpoint)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", VERSION)
    code, out, _ = run(capsys, "cancel", "batch_1", "--wait", "--poll-interval", "0.05")
    assert code == 0
    assert "status:         cancelled\n" in out
    code, out, _ = run(capsys, "results", "batch_1")
    assert (code, len(out.splitlines())) == (0, 2)
    code, out, _ = run(capsys, "list", "--json")
    assert (code, len(out.splitlines())) == (0, 1)
    paths = [urlsplit(path) for _, path in server.api.requests]
    assert any(path.path.endswith("/content") for path in paths)
    for path in paths:
        assert path.path.startswith("/openai/") and not path.path.startswith("/openai/v1/")  # noqa: PT018
        assert parse_qs(path.query)["api-version"] == [VERSION]
    assert {headers["api-key"] for headers in server.api.request_headers} == {KEY}


def test_an_entra_token_from_the_environment_is_scrubbed_from_tables(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = server.api.issue_ad_token()
    server.api.add_batch("batch_2", metadata={"note": f"ran with {token}"})
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.azure_endpoint)
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", token)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "ignored-while-a-token-is-set")
    code, out, _ = run(capsys, "retrieve", "batch_2")
    assert code == 0
    assert token not in out
    assert "ran with [redacted]" in out
    assert server.api.request_headers[0]["authorization"] == f"Bearer {token}"


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--api-version", VERSION], {"OPENAI_API_KEY": KEY}, "--api-version is for Azure OpenAI"),
        (["--azure-endpoint", "https://r.example", "--base-url", "https://x.example/v1"], {}, "cannot be combined"),
        (["--azure-endpoint", "https://r.example"], {"OPENAI_API_KEY": KEY}, "no Azure credential"),
        ([], {"AZURE_OPENAI_ENDPOINT": "https://r.example"}, "no Azure credential"),
        (["--azure-endpoint", "https://r.example/openai", "--api-key", KEY], {}, "without /openai"),
    ],
)
def test_usage_errors(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    environ: dict[str, str],
    message: str,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "retrieve", "batch_1", *argv)
    assert (code, out) == (2, "")
    assert message in err


def test_base_url_wins_over_the_azure_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://r.example")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-style-key")
    api = FakeBatchAPI(api_key="sk-openai-style-key")
    api.add_batch("batch_1")
    with FakeServer(api) as server:
        code, _, err = run(capsys, "retrieve", "batch_1", "--base-url", server.base_url)
    assert (code, err) == (0, "")
    assert api.requests[0].path == "/v1/batches/batch_1"


def test_a_wrong_key_is_an_api_error_in_azures_words(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    code, out, err = run(
        capsys, "retrieve", "batch_1", "--azure-endpoint", server.azure_endpoint, "--api-key", "wrong-key-12345"
    )
    assert (code, out) == (1, "")
    assert err.startswith("error: 401 Unauthorized: Access denied due to invalid subscription key")
    assert "wrong-key-12345" not in err


def test_serve_fake_as_azure_in_azures_shape() -> None:
    process = start(["serve-fake", "--azure", "--shape", "azure"], key=None)
    assert process.stdout is not None
    banner = [process.stdout.readline()]
    while banner[-1] not in ("Press Ctrl-C to stop.\n", ""):
        banner.append(process.stdout.readline())
    assert banner[0].startswith("Fake Azure OpenAI Batch API listening on http://127.0.0.1:")
    endpoint = banner[1].strip().removeprefix("export AZURE_OPENAI_ENDPOINT=")
    key = banner[2].strip().removeprefix("export AZURE_OPENAI_API_KEY=")
    with AzureBatchesClient(azure_endpoint=endpoint, api_key=key, api_version=VERSION) as client:
        batch = client.retrieve("batch_demo_running")
    assert (batch.status, batch.to_dict()["status"]) == ("in_progress", "In_progress")
    assert isinstance(batch.to_dict()["created_at"], str)  # ISO-8601, as Azure writes it
    process.send_signal(signal.SIGINT)
    assert finish(process) == (0, "Stopped.\n", "")


def test_serve_fake_refuses_an_unknown_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "serve-fake", "--shape", "nope")
    assert (code, out) == (2, "")
    assert "unknown shape 'nope'" in err
