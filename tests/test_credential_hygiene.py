"""Credentials are header-safe at construction, and no 8 characters of a key, whatever its prefix, leak back out."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import httpx
import pytest

from batches_ext import AzureBatchesClient, BatchesClient, cli, errors
from batches_ext._redact import REDACTED, redact_masked_keys, redact_secrets
from batches_ext.testing import FakeBatchAPI, FakeServer
from batches_ext.testing._wire import mask_key

ODD_KEY = "abc123def456ghi789jklmnoPQRS"  # no sk- prefix: a proxy's, or another provider's key
NOT_HEADER_SAFE = [
    "\u201csk-abc123def456\u201d",  # curly quotes pasted around the key
    "sk-caf\u00e9-123456789",
    "sk-abc\x7f123456789",
    "sk-abc\u200b123456789",  # zero-width space
    " sk-abc123456789",
]


def _windows(secret: str, size: int = 8) -> list[str]:
    return [secret[start : start + size] for start in range(len(secret) - size + 1)]


def _assert_nothing_of(secret: str, text: str) -> None:
    leaked = [window for window in _windows(secret) if window in text]
    assert not leaked, f"{leaked[0]!r} of the key is in {text!r}"


@pytest.mark.parametrize("value", NOT_HEADER_SAFE)
@pytest.mark.parametrize("setting", ["api_key", "organization", "project"])
def test_header_settings_are_printable_ascii_and_never_echoed(setting: str, value: str) -> None:
    options = {"api_key": "sk-valid-key-123456", setting: value}
    with pytest.raises(errors.ConfigurationError) as caught:
        BatchesClient(**options)
    assert value.strip() not in str(caught.value)
    assert setting in str(caught.value)


@pytest.mark.parametrize("value", NOT_HEADER_SAFE)
@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"])
def test_header_variables_are_printable_ascii_and_never_echoed(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-valid-key-123456")
    monkeypatch.setenv(variable, value)
    with pytest.raises(errors.ConfigurationError) as caught:
        BatchesClient()
    assert value.strip() not in str(caught.value)
    assert variable in str(caught.value)


@pytest.mark.parametrize("value", NOT_HEADER_SAFE)
@pytest.mark.parametrize("setting", ["api_key", "azure_ad_token"])
def test_azure_credentials_are_printable_ascii_and_never_echoed(setting: str, value: str) -> None:
    with pytest.raises(errors.ConfigurationError) as caught:
        AzureBatchesClient(azure_endpoint="https://r.openai.azure.com", **{setting: value})
    assert value.strip() not in str(caught.value)


def test_a_token_provider_returning_a_non_ascii_token_is_a_configuration_error() -> None:
    token = "eyJ\u201ctoken-abcdefgh"
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    client = AzureBatchesClient(
        azure_endpoint="https://r.openai.azure.com", azure_ad_token_provider=lambda: token, http_client=http
    )
    with client, pytest.raises(errors.ConfigurationError) as caught:
        client.retrieve("batch_1")
    assert token not in str(caught.value)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeServer]:
    api = FakeBatchAPI(api_key="sk-fake-key")
    api.add_batch("batch_1", status="in_progress")
    with FakeServer(api) as server:
        yield server


@pytest.mark.parametrize("key", [ODD_KEY, "sk-proj-" + ODD_KEY, "0123456789abcdef0123456789abcdef"])
def test_a_401_shows_no_eight_characters_of_a_key_of_any_prefix(key: str, fake: FakeServer) -> None:
    client = BatchesClient(api_key=key, base_url=fake.base_url, max_retries=0)
    with client, pytest.raises(errors.AuthenticationError) as caught:
        client.retrieve("batch_1")
    exc = caught.value
    for text in (str(exc), repr(exc), repr(exc.body), repr(exc.args), exc.message, exc.response.text):
        _assert_nothing_of(key, text)
        assert mask_key(key) not in text  # its first 5 and last 3 characters: 8 of the key
        assert key[:5] not in text
    assert "Incorrect API key provided: [redacted]." in str(exc)
    assert key.encode()[:8] not in pickle.dumps(exc)


def test_a_server_quoting_part_of_the_key_is_scrubbed() -> None:
    quoted = f"key {ODD_KEY[:10]}... not valid; did you mean {ODD_KEY[-9:]}? ({ODD_KEY})"

    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"message": quoted, "type": "auth", "param": ODD_KEY[3:12], "code": None}}
        return httpx.Response(401, json=body)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = BatchesClient(api_key=ODD_KEY, http_client=http, max_retries=0)
    with client, pytest.raises(errors.AuthenticationError) as caught:
        client.retrieve("batch_1")
    for text in (str(caught.value), repr(caught.value.body), str(caught.value.param), caught.value.response.text):
        _assert_nothing_of(ODD_KEY, text)
    assert "not valid; did you mean" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("provided: sk-abc*****wxyz.", f"provided: {REDACTED}."),
        ("provided: abc12***mno. You can", f"provided: {REDACTED}. You can"),
        ("provided: ***wxyz", f"provided: {REDACTED}"),
        ("a *** b", "a *** b"),  # no key characters next to the stars
        ("no key here", "no key here"),
    ],
)
def test_masked_keys_of_any_prefix_are_redacted(text: str, expected: str) -> None:
    assert redact_masked_keys(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"x {ODD_KEY} y", f"x {REDACTED} y"),
        (f"{ODD_KEY[:8]}|{ODD_KEY[-8:]}", f"{REDACTED}|{REDACTED}"),
        (ODD_KEY[:7], ODD_KEY[:7]),  # 7 characters: below the fragment length
        (f"{ODD_KEY[2:14]}{ODD_KEY[5:20]}", REDACTED),  # overlapping runs: one redaction
        ("unrelated text", "unrelated text"),
    ],
)
def test_fragments_of_a_secret_are_redacted(text: str, expected: str) -> None:
    assert redact_secrets(text, [ODD_KEY]) == expected


def test_a_short_secret_is_redacted_whole_only() -> None:
    assert redact_secrets("key abc, abcd", ["abc"]) == f"key {REDACTED}, {REDACTED}d"


@pytest.mark.parametrize(
    "argv",
    [["--api-key", NOT_HEADER_SAFE[0], "retrieve", "batch_1"], ["retrieve", "batch_1"]],
    ids=["option", "variable"],
)
def test_the_cli_refuses_a_non_ascii_key_with_exit_2_without_echoing_it(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", NOT_HEADER_SAFE[0])
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # never reached
    assert cli.main(argv) == cli.EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert "must be non-empty printable ASCII" in err
    _assert_nothing_of(NOT_HEADER_SAFE[0], out + err)


def test_the_cli_shows_no_part_of_a_rejected_key(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ODD_KEY)
    assert cli.main(["retrieve", "batch_1", "--base-url", fake.base_url]) == cli.EXIT_API_ERROR
    out, err = capsys.readouterr()
    assert "401" in err
    _assert_nothing_of(ODD_KEY, out + err)
