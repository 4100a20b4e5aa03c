"""Addressing and credentials for every provider (`_providers.py`, `_azure.py`): base paths kept, default headers
and query on every request, Azure's configuration as the official SDK resolves it, and refusals before sending."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import httpx
import pytest

from batches_ext import AsyncAzureBatchesClient, AzureBatchesClient, BatchesClient, errors
from batches_ext._azure import azure_provider
from batches_ext._providers import Credential, Provider
from tests.conftest import API_KEY, Script, ok
from tests.payloads import CANCELLING, SEED_COMPLETED

ENDPOINT = "https://res.openai.azure.com"
AZURE_ENV = ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "OPENAI_API_VERSION")


@pytest.fixture(autouse=True)
def no_azure_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AZURE_ENV:
        monkeypatch.delenv(name, raising=False)


def download(content: bytes = b"") -> httpx.Response:
    return httpx.Response(200, content=content, headers={"content-type": "application/octet-stream"})


# --- OpenAI-compatible providers: base_url alone --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "prefix"),
    [
        ("https://api.groq.com/openai/v1", "/openai/v1"),
        ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1/", "/compatible-mode/v1"),
        ("https://open.bigmodel.cn/api/paas/v4", "/api/paas/v4"),
        ("http://localhost:8000/v1", "/v1"),
    ],
)
def test_a_path_in_base_url_is_kept_for_every_request(twin: Any, base_url: str, prefix: str) -> None:
    script = Script(ok(CANCELLING), ok(SEED_COMPLETED), download(), download())
    client = twin(script, base_url=base_url)
    client.cancel("batch_abc123")
    client.cancel_and_collect(SEED_COMPLETED["id"], timeout=60)  # a completed batch: then its two files
    paths = [request.url.path for request in script.requests]
    assert paths[0] == f"{prefix}/batches/batch_abc123/cancel"
    assert all(path.startswith(prefix + "/") for path in paths)
    assert {path.rsplit("/", 1)[-1] for path in paths[2:]} == {"content"}
    assert all(request.headers["authorization"] == f"Bearer {API_KEY}" for request in script.requests)


def test_default_headers_and_query_go_with_every_request(twin: Any) -> None:
    script = Script(ok(SEED_COMPLETED), download(), download())
    client = twin(
        script,
        base_url="https://gateway.example/v1",
        default_headers={"X-Portkey-Provider": "openai", "User-Agent": "my-app/2"},
        default_query={"api-version": "2024-10-21", "debug": True},
    )
    client.cancel_and_collect(SEED_COMPLETED["id"], timeout=60)
    assert [request.url.path.rsplit("/", 1)[-1] for request in script.requests] == ["cancel", "content", "content"]
    for request in script.requests:
        assert request.headers["x-portkey-provider"] == "openai"
        assert request.headers["user-agent"] == "my-app/2"  # a default header may replace ours (not a credential)
        assert dict(request.url.params) == {"api-version": "2024-10-21", "debug": "true"}


def test_an_operations_own_query_parameters_come_with_the_default_query() -> None:
    script = Script(ok({"object": "list", "data": [], "has_more": False}))
    http = httpx.Client(transport=httpx.MockTransport(script))
    client = BatchesClient(API_KEY, http_client=http, default_query={"tenant": "t1", "limit": "5"})
    assert list(client.list(limit=7)) == []
    (request,) = script.requests
    assert dict(request.url.params) == {"tenant": "t1", "limit": "7"}  # the operation's own value wins


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({"Authorization": "Bearer x"}, "must not set 'Authorization'"),
        ({"api-key": "k"}, "must not set 'api-key'"),
        ({"Content-Length": "3"}, "must not set"),
        ({"bad name": "v"}, "not a valid header name"),
        ({"X-A": "line\nbreak"}, "printable ASCII"),
        ({"X-A": "ünï"}, "printable ASCII"),
        ({"X-A": ""}, "non-empty"),
        ({"X-A": 3}, "must be a str"),
        ({"X-A": "1", "x-a": "2"}, "twice"),
        (["X-A"], "mapping"),
    ],
)
def test_bad_default_headers_are_refused_at_construction(headers: Any, match: str) -> None:
    with pytest.raises(errors.ConfigurationError, match=match):
        BatchesClient(API_KEY, default_headers=headers)
    with pytest.raises(errors.ConfigurationError, match=match):
        AsyncAzureBatchesClient(azure_endpoint=ENDPOINT, api_key="k" * 12, default_headers=headers)


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ({"": "x"}, "parameter name"),
        ({"a": None}, "str, int, float or bool"),
        ({"a": [1]}, "str, int"),
        ("a=1", "mapping"),
    ],
)
def test_bad_default_query_is_refused_at_construction(query: Any, match: str) -> None:
    with pytest.raises(errors.ConfigurationError, match=match):
        BatchesClient(API_KEY, default_query=query)


def test_a_default_header_value_is_scrubbed_from_errors(twin: Any) -> None:
    gateway_key = "gw-key-0123456789"
    body = {"error": {"message": f"subscription key {gateway_key} is not valid", "type": "x"}}
    script = Script(httpx.Response(401, json=body))
    with pytest.raises(errors.AuthenticationError) as info:
        twin(script, default_headers={"Ocp-Apim-Subscription-Key": gateway_key}).retrieve("b1")
    assert gateway_key not in str(info.value) + str(info.value.body)


def test_base_url_refuses_a_query() -> None:
    with pytest.raises(errors.ConfigurationError, match="default_query"):
        BatchesClient(API_KEY, base_url="https://x.example/v1?api-version=1")


# --- Azure configuration -----------------------------------------------------------------------------------------


def build(environ: dict[str, str] | None = None, **options: Any) -> Provider:
    return azure_provider(environ=environ or {}, **options)


def test_v1_surface_without_a_version() -> None:
    provider = build(azure_endpoint=ENDPOINT + "/", api_key="k" * 12)
    assert (provider.base_url, provider.query, provider.label) == (f"{ENDPOINT}/openai/v1", {}, "")
    assert provider.credential.header == "api-key"
    assert "api-key" not in provider.headers  # attached per attempt, never on the client's headers


@pytest.mark.parametrize(
    ("version", "base", "query"),
    [
        ("2024-10-21", "/openai", {"api-version": "2024-10-21"}),
        ("2025-04-01-preview", "/openai", {"api-version": "2025-04-01-preview"}),
        ("preview", "/openai/v1", {"api-version": "preview"}),
        ("v1", "/openai/v1", {}),
    ],
)
def test_the_version_chooses_the_surface(version: str, base: str, query: dict[str, str]) -> None:
    provider = build(azure_endpoint=ENDPOINT, api_key="k" * 12, api_version=version)
    assert (provider.base_url, provider.query) == (ENDPOINT + base, query)


def test_the_environment_as_the_sdk_reads_it() -> None:
    environ = {
        "AZURE_OPENAI_ENDPOINT": ENDPOINT,
        "AZURE_OPENAI_API_KEY": "env-key-123456",
        "AZURE_OPENAI_AD_TOKEN": "env-token-123456",
        "OPENAI_API_VERSION": "2024-10-21",
    }
    provider = build(environ)
    assert (provider.base_url, provider.query) == (f"{ENDPOINT}/openai", {"api-version": "2024-10-21"})
    assert (provider.credential.header, provider.credential.source) == ("Authorization", "AZURE_OPENAI_AD_TOKEN")
    assert provider.credential.headers() == {"Authorization": "Bearer env-token-123456"}
    without_token = build({k: v for k, v in environ.items() if k != "AZURE_OPENAI_AD_TOKEN"})
    assert without_token.credential.headers() == {"api-key": "env-key-123456"}
    explicit = build(environ, api_key="arg-key-123456", azure_endpoint="https://other.example", api_version="v1")
    assert explicit.credential.headers() == {"api-key": "arg-key-123456"}  # an argument beats every variable
    assert explicit.base_url == "https://other.example/openai/v1"


def test_environment_defaults_reach_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "env-key-123456")
    client = AzureBatchesClient()
    assert repr(client) == f"AzureBatchesClient(base_url='{ENDPOINT}/openai/v1', max_retries=2)"
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    assert "api_version='2024-10-21'" in repr(AsyncAzureBatchesClient())


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"azure_endpoint": ENDPOINT}, "No Azure credential"),
        ({"azure_endpoint": ENDPOINT, "api_key": "k" * 9, "azure_ad_token": "t" * 9}, "only one credential"),
        ({"azure_endpoint": ENDPOINT, "azure_ad_token": "t" * 9, "azure_ad_token_provider": str}, "only one"),
        ({"api_key": "k" * 9}, "No Azure endpoint"),
        ({"azure_endpoint": ENDPOINT + "/openai", "api_key": "k" * 9}, "without /openai"),
        ({"azure_endpoint": ENDPOINT + "/openai/v1/", "api_key": "k" * 9}, "without /openai"),
        ({"azure_endpoint": "res.openai.azure.com", "api_key": "k" * 9}, "azure_endpoint must be an http"),
        ({"azure_endpoint": ENDPOINT, "base_url": ENDPOINT, "api_key": "k" * 9}, "not both"),
        ({"azure_endpoint": ENDPOINT, "api_key": "k" * 9, "api_version": "2024 10"}, "api_version"),
        ({"azure_endpoint": ENDPOINT, "api_key": "key\twith-tab"}, "api_key must be non-empty printable"),
        ({"azure_endpoint": ENDPOINT, "azure_ad_token_provider": "not callable"}, "must be callable"),
        (
            {
                "azure_endpoint": ENDPOINT,
                "api_key": "k" * 9,
                "api_version": "2024-10-21",
                "default_query": {"api-version": "2025-01-01"},
            },
            "api_version is '2024-10-21'",
        ),
    ],
)
def test_bad_azure_configuration_is_refused(options: dict[str, Any], match: str) -> None:
    with pytest.raises(errors.ConfigurationError, match=match):
        AzureBatchesClient(**options)


def test_a_gateway_base_url_is_used_as_given() -> None:
    provider = build(base_url="https://apim.example/my-api/openai/", api_key="k" * 12, api_version="2024-10-21")
    assert (provider.base_url, provider.query) == ("https://apim.example/my-api/openai", {"api-version": "2024-10-21"})


def test_the_same_version_in_default_query_is_accepted() -> None:
    provider = build(
        azure_endpoint=ENDPOINT, api_key="k" * 12, api_version="2024-10-21", default_query={"api-version": "2024-10-21"}
    )
    assert provider.query == {"api-version": "2024-10-21"}


def test_a_credential_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError, match="either a value or a provider"):
        Credential("api-key")
    assert "secret" not in repr(Credential("api-key", value="secret-value-1"))


def test_provider_tokens_are_scrubbed_from_error_text() -> None:
    tokens = iter(["token-one-123456", "token-two-123456"])
    provider = build(azure_endpoint=ENDPOINT, azure_ad_token_provider=lambda: next(tokens))
    provider.credential.headers()
    provider.credential.headers()
    assert provider.redact("saw token-one-123456 and token-two-123456") == "saw [redacted] and [redacted]"


def test_every_request_is_built_in_one_place() -> None:
    """Only `ClientCore.build` makes requests (httpx's `build_request`, or `httpx.Request`): a feature building its
    own would skip the provider's base path, query and headers, and so break on Azure's dated surface."""
    package = Path(__file__).resolve().parents[1] / "batches_ext"
    builders = [
        f"{source.name}:{node.lineno}"
        for source in sorted(package.glob("*.py"))  # the library, not the fake under testing/
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (node.func.attr == "build_request" or ast.unparse(node.func) == "httpx.Request")
    ]
    assert [builder.split(":")[0] for builder in builders] == ["_core.py"], builders
