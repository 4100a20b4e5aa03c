"""`AzureBatchesClient` and `AsyncAzureBatchesClient`: the clients with Azure OpenAI's address and credentials.

They follow the official SDK's `AzureOpenAI` conventions (`azure_endpoint`, `api_version`, `api_key` sent as
`api-key`, `azure_ad_token` / `azure_ad_token_provider` sent as `Authorization: Bearer`, and the environment
variables `AZURE_OPENAI_ENDPOINT`, `AZURE_OPENAI_API_KEY`, `AZURE_OPENAI_AD_TOKEN`, `OPENAI_API_VERSION`), with one
difference: the SDK requires an api_version, and here none means Azure's v1 surface, which needs none.

Only construction differs from `BatchesClient`: `azure_provider` resolves a `Provider` (`_providers.py`) and every
method is inherited, so whatever the base clients learn works here unchanged.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import httpx

from batches_ext._async_client import AsyncBatchesClient
from batches_ext._client import BatchesClient
from batches_ext._providers import (
    AsyncTokenProvider,
    Credential,
    Provider,
    QueryValue,
    TokenProvider,
    check_default_headers,
    check_query,
)
from batches_ext._settings import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    Settings,
    TimeoutTypes,
    check_base_url,
    common_headers,
)
from batches_ext.errors import ConfigurationError

__all__ = ["AsyncAzureBatchesClient", "AzureBatchesClient", "azure_provider"]

API_VERSION_PARAM: Final = "api-version"
V1: Final = "v1"  # api_version="v1" asks for the v1 surface even when OPENAI_API_VERSION is set
# Versions of the v1 surface itself (its preview features): sent as api-version on the v1 paths, not the dated ones.
V1_VERSIONS: Final = frozenset({"preview", "latest"})
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # 2024-10-21, 2025-04-01-preview, preview
# An endpoint that already ends where the client appends its paths: a base URL given as azure_endpoint.
_BASE_PATH = re.compile(r"/openai(/v1)?/*$")


def azure_provider(
    *,
    azure_endpoint: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    azure_ad_token: str | None = None,
    azure_ad_token_provider: AsyncTokenProvider | None = None,
    base_url: str | None = None,
    default_headers: Mapping[str, str] | None = None,
    default_query: Mapping[str, QueryValue] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Provider:
    """Resolve Azure OpenAI's address and credential from the arguments, then the environment (as the SDK does).

    At most one credential may be passed. With none, `AZURE_OPENAI_AD_TOKEN` is used, else `AZURE_OPENAI_API_KEY`.
    Without an api_version (argument or `OPENAI_API_VERSION`), or with `"v1"`, requests go to the v1 surface
    `{endpoint}/openai/v1/...` with no query; `"preview"` or `"latest"` go there too, as its `api-version`. Any other
    version selects the dated surface `{endpoint}/openai/...?api-version=VERSION`, on every request.

    Raises:
        ConfigurationError: no credential or more than one, no endpoint, both an endpoint and a base_url, or a
            value that cannot be sent.

    """
    credential = _credential(api_key, azure_ad_token, azure_ad_token_provider, environ)
    version = api_version if api_version is not None else environ.get("OPENAI_API_VERSION") or None
    if version is not None and (not isinstance(version, str) or not _VERSION.match(version)):
        raise ConfigurationError(f"api_version must look like 2024-10-21 (or be 'v1', 'preview'), got {version!r}")
    dated = version is not None and version != V1 and version not in V1_VERSIONS
    if base_url is not None:
        if azure_endpoint is not None:
            raise ConfigurationError("pass azure_endpoint or base_url, not both")
        base = check_base_url(base_url)  # used as given, like the SDK's AzureOpenAI(base_url=...)
    else:
        endpoint = azure_endpoint if azure_endpoint is not None else environ.get("AZURE_OPENAI_ENDPOINT") or None
        if endpoint is None:
            raise ConfigurationError(
                "No Azure endpoint: pass azure_endpoint='https://NAME.openai.azure.com' or set AZURE_OPENAI_ENDPOINT."
            )
        endpoint = check_base_url(endpoint, "azure_endpoint")
        if _BASE_PATH.search(httpx.URL(endpoint).path):
            raise ConfigurationError(
                f"azure_endpoint is the resource's URL without /openai (the client adds the path), got {endpoint!r}; "
                "pass base_url=... to give the whole base URL"
            )
        base = f"{endpoint}/openai" if dated else f"{endpoint}/openai/v1"
    query = check_query(default_query)
    if version is not None and version != V1:
        given = query.get(API_VERSION_PARAM)
        if given is not None and given != version:
            raise ConfigurationError(f"default_query sets api-version={given!r}, but api_version is {version!r}")
        query[API_VERSION_PARAM] = version
    extra = check_default_headers(default_headers)
    return Provider(
        base,
        credential=credential,
        headers=common_headers() | extra,
        query=query,
        secret_values=extra.values(),
        label=f"api_version={version!r}" if version is not None and version != V1 else "",
    )


def _credential(
    api_key: str | None,
    azure_ad_token: str | None,
    azure_ad_token_provider: AsyncTokenProvider | None,
    environ: Mapping[str, str],
) -> Credential:
    given = [
        name
        for name, value in (
            ("api_key", api_key),
            ("azure_ad_token", azure_ad_token),
            ("azure_ad_token_provider", azure_ad_token_provider),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise ConfigurationError(f"pass only one credential; got {' and '.join(given)}")
    # Per attempt, not on the client's headers: an error keeps its request, and httpx would show `api-key` in it.
    if api_key is not None:
        return Credential("api-key", value=api_key, source="api_key", per_attempt=True)
    if azure_ad_token is not None:
        return Credential("Authorization", "Bearer ", value=azure_ad_token, source="azure_ad_token", per_attempt=True)
    if azure_ad_token_provider is not None:
        return Credential(
            "Authorization", "Bearer ", provider=azure_ad_token_provider, source="azure_ad_token_provider"
        )
    # The SDK's order when nothing is passed: the token first, then the key.
    token = environ.get("AZURE_OPENAI_AD_TOKEN") or None
    if token is not None:
        return Credential("Authorization", "Bearer ", value=token, source="AZURE_OPENAI_AD_TOKEN", per_attempt=True)
    key = environ.get("AZURE_OPENAI_API_KEY") or None
    if key is not None:
        return Credential("api-key", value=key, source="AZURE_OPENAI_API_KEY", per_attempt=True)
    raise ConfigurationError(
        "No Azure credential: pass api_key=..., azure_ad_token=... or azure_ad_token_provider=..., or set "
        "AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN."
    )


class AzureBatchesClient(BatchesClient):
    """`BatchesClient` for Azure OpenAI: every method of `BatchesClient`, with Azure's address and credentials.

    Args:
        azure_endpoint: the resource's URL, `https://NAME.openai.azure.com`; defaults to `AZURE_OPENAI_ENDPOINT`.
        api_version: defaults to `OPENAI_API_VERSION`. None (or `"v1"`) uses the v1 surface
            (`{endpoint}/openai/v1/batches/...`, no query); a dated version such as `"2024-10-21"` the dated
            surface (`{endpoint}/openai/batches/...?api-version=2024-10-21`, on every request).
        api_key: sent as the `api-key` header; defaults to `AZURE_OPENAI_API_KEY`.
        azure_ad_token: a Microsoft Entra ID token, sent as `Authorization: Bearer`; defaults to
            `AZURE_OPENAI_AD_TOKEN` (which wins over `AZURE_OPENAI_API_KEY` when no credential is passed).
        azure_ad_token_provider: a function returning a token, called for every request (each retry included).
        base_url: instead of `azure_endpoint`, the whole base URL (a gateway in front of Azure), used as given.
        timeout, max_retries, default_headers, default_query, http_client, sleep, clock: as for `BatchesClient`.

    Raises:
        ConfigurationError: no credential or more than one, no endpoint, or an invalid setting.

    """

    def __init__(
        self,
        *,
        azure_endpoint: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        azure_ad_token: str | None = None,
        azure_ad_token_provider: TokenProvider | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        provider = azure_provider(
            azure_endpoint=azure_endpoint, api_version=api_version, api_key=api_key, azure_ad_token=azure_ad_token,
            azure_ad_token_provider=azure_ad_token_provider, base_url=base_url, default_headers=default_headers,
            default_query=default_query,
        )  # fmt: skip
        settings = Settings(provider=provider, timeout=timeout, max_retries=max_retries)
        self._configure(settings, http_client=http_client, sleep=sleep, clock=clock)


class AsyncAzureBatchesClient(AsyncBatchesClient):
    """`AsyncBatchesClient` for Azure OpenAI; the arguments are `AzureBatchesClient`'s.

    `azure_ad_token_provider` may be a plain function or a coroutine function (as `AsyncAzureOpenAI` accepts); it
    is called, and awaited when it returns an awaitable, for every request.
    """

    def __init__(
        self,
        *,
        azure_endpoint: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        azure_ad_token: str | None = None,
        azure_ad_token_provider: AsyncTokenProvider | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        provider = azure_provider(
            azure_endpoint=azure_endpoint, api_version=api_version, api_key=api_key, azure_ad_token=azure_ad_token,
            azure_ad_token_provider=azure_ad_token_provider, base_url=base_url, default_headers=default_headers,
            default_query=default_query,
        )  # fmt: skip
        settings = Settings(provider=provider, timeout=timeout, max_retries=max_retries)
        self._configure(settings, http_client=http_client, sleep=sleep, clock=clock)
