"""How a client's requests are addressed and authorised: the one place where providers differ.

OpenAI, Azure OpenAI and the servers that speak OpenAI's Batch protocol (LiteLLM, Groq, DashScope, vLLM, ...)
take the same requests. They differ in the base URL (a path in it is kept: `/openai/v1`, `/compatible-mode/v1`),
in query parameters that go with every request (Azure's dated surface wants `api-version` on each one, file
downloads included), and in the credential (`Authorization: Bearer KEY`, Azure's `api-key: KEY`, or an Entra ID
token fetched for every request). A `Provider` holds those decisions; `ClientCore` consults it to build every
request, and the clients attach its credential before each attempt. No other module knows which provider it talks
to: the official SDK's `AzureOpenAI` likewise overrides only its URL and auth hooks.

A credential sent per attempt is attached just before the request goes out and removed once it has been sent, so
an exception that carries the request (`exc.request`, `exc.response.request`) no longer holds it.
"""

from __future__ import annotations

import inspect
import re
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final

import httpx

from batches_ext._redact import REDACTED, redact_secrets
from batches_ext.errors import ConfigurationError

__all__ = ["AsyncTokenProvider", "Credential", "Provider", "TokenProvider", "check_default_headers", "check_query"]

TokenProvider = Callable[[], str]
AsyncTokenProvider = Callable[[], "str | Awaitable[str]"]
QueryValue = str | int | float | bool
# A default header's value shorter than this is not scrubbed from text: replacing every "ab" would garble messages,
# and no credential is that short. (The credential itself is always scrubbed.)
MIN_REDACTED_LEN: Final = 8
# Tokens a provider returned that are still scrubbed from error text (the newest; older ones are long expired).
RECENT_TOKENS: Final = 8
_TOKEN_CHARS = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 token: what a header name may be
# Headers the client sets itself (credentials) or that belong to the transport; default_headers may not set them.
_RESERVED_HEADERS: Final = frozenset(
    {"authorization", "api-key", "host", "content-length", "transfer-encoding", "connection"}
)


def check_header_value(name: str, value: object, *, credential: bool = False) -> str:
    """Return `value` if it can be sent as a header value; the error never shows the value (it may be a secret).

    A `credential` (a key, a token) may hold no whitespace at all: a space in one is a paste accident.

    Raises:
        ConfigurationError: not a non-empty str of printable ASCII without surrounding whitespace.

    """
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be a str, got {type(value).__name__}")
    where = "" if credential else "leading or trailing "
    if (
        not value
        or not value.isascii()
        or not value.isprintable()
        or (" " in value if credential else value != value.strip())
    ):
        raise ConfigurationError(
            f"{name} must be non-empty printable ASCII without {where}whitespace (a header cannot carry anything else)"
        )
    return value


def check_default_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """The SDK's `default_headers`, validated: names are tokens, values printable ASCII, credentials not among them.

    Raises:
        ConfigurationError: a header that cannot be sent, or one the client sets itself.

    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ConfigurationError(f"default_headers must be a mapping of str to str, got {type(headers).__name__}")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN_CHARS.match(name):
            raise ConfigurationError(f"default_headers: {name!r} is not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise ConfigurationError(
                f"default_headers must not set {name!r}: the client sets it (pass credentials as api_key=... "
                "or, for Azure, azure_ad_token=...)"
            )
        if name.lower() in (seen.lower() for seen in checked):
            raise ConfigurationError(f"default_headers sets {name!r} twice (header names ignore case)")
        checked[name] = check_header_value(f"default_headers[{name!r}]", value)
    return checked


def check_query(query: Mapping[str, QueryValue] | None) -> dict[str, QueryValue]:
    """The SDK's `default_query`, validated: str names, and str, int, float or bool values.

    Raises:
        ConfigurationError: a name or value that is not one of those.

    """
    if query is None:
        return {}
    if not isinstance(query, Mapping):
        raise ConfigurationError(f"default_query must be a mapping of str to str, got {type(query).__name__}")
    checked: dict[str, QueryValue] = {}
    for name, value in query.items():
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"default_query: {name!r} is not a parameter name (a non-empty str)")
        if not isinstance(value, str | int | float | bool):
            raise ConfigurationError(
                f"default_query[{name!r}] must be a str, int, float or bool, got {type(value).__name__}"
            )
        checked[name] = value
    return checked


class Credential:
    """The secret a provider sends in one header, as `prefix + value`; its repr never shows it.

    A static credential (an API key, a fixed token) holds its value. One with a token provider calls it for
    every attempt of every request and validates what it returns; the newest tokens are remembered so that
    `redact` can scrub them from text a server echoes.

    Args:
        header: the header it is sent in (`Authorization`, `api-key`).
        prefix: put before the value (`"Bearer "`).
        value: a static secret.
        provider: a callable returning a fresh token (sync, or for the async client sync or async).
        per_attempt: attach it to each request just before it is sent, and remove it afterwards, instead of
            setting it once on the client's headers. A provider's credential is always per attempt.

    """

    __slots__ = ("_lock", "_provider", "_recent", "_value", "header", "per_attempt", "prefix", "source")

    def __init__(
        self,
        header: str,
        prefix: str = "",
        *,
        value: str | None = None,
        provider: AsyncTokenProvider | None = None,
        source: str = "api_key",
        per_attempt: bool = False,
    ) -> None:
        if (value is None) == (provider is None):
            raise ValueError("a credential has either a value or a provider")  # a bug in the caller, not config
        if provider is not None and not callable(provider):
            raise ConfigurationError(f"{source} must be callable, got {type(provider).__name__}")
        self.header = header
        self.prefix = prefix
        self.source = source
        self._value = None if value is None else check_header_value(source, value, credential=True)
        self._provider = provider
        self.per_attempt = per_attempt or provider is not None
        self._recent: deque[str] = deque(maxlen=RECENT_TOKENS)
        self._lock = threading.Lock()

    def static_headers(self) -> dict[str, str]:
        """What to set once on the client's headers: the credential unless it is attached per attempt."""
        if self.per_attempt or self._value is None:
            return {}
        return {self.header: self.prefix + self._value}

    def headers(self) -> dict[str, str]:
        """The header for one attempt; a token provider is called now.

        Raises:
            ConfigurationError: the provider returned something that is not a usable token (an awaitable too:
                the sync client cannot await it).

        """
        if self._provider is None:
            assert self._value is not None  # noqa: S101 - __init__ holds one of the two
            return {self.header: self.prefix + self._value}
        token = self._provider()
        if inspect.isawaitable(token):
            if inspect.iscoroutine(token):
                token.close()  # never awaited; closing it spares a "never awaited" RuntimeWarning
            raise ConfigurationError(
                f"{self.source} returned an awaitable: the sync client needs a function returning a str "
                "(use the async client for an async provider)"
            )
        return {self.header: self.prefix + self._remember(token)}

    async def async_headers(self) -> dict[str, str]:
        """`headers()` for the async client: a provider may return the token or an awaitable of it."""
        if self._provider is None:
            return self.headers()
        token = self._provider()
        if inspect.isawaitable(token):
            token = await token
        return {self.header: self.prefix + self._remember(token)}

    def _remember(self, token: object) -> str:
        checked = check_header_value(f"the token {self.source} returned", token, credential=True)
        with self._lock:
            if checked not in self._recent:
                self._recent.append(checked)
        return checked

    def secrets(self) -> list[str]:
        """The values to scrub from text: the static value, or the provider's recent tokens."""
        if self._value is not None:
            return [self._value]
        with self._lock:
            return list(self._recent)

    def __repr__(self) -> str:
        return f"Credential(header={self.header!r}, source={self.source!r}, value={REDACTED!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Credential cannot be pickled: it holds a secret")


class Provider:
    """Where one client's requests go and how they are authorised.

    Args:
        base_url: the URL every operation's path is appended to (its own path kept, no trailing slash).
        credential: the secret and the header it goes in.
        headers: headers for every request, besides the credential (User-Agent, organisation, default_headers).
        query: query parameters for every request (`api-version`, default_query); an operation's own win.
        secret_values: other values to scrub from text: `default_headers` may carry a gateway's key under any
            name (`Ocp-Apim-Subscription-Key`), so all of theirs are scrubbed.
        label: shown in reprs, e.g. `api_version='2024-10-21'`; never a secret.

    """

    __slots__ = ("_extra_secrets", "base_url", "credential", "headers", "label", "query")

    def __init__(
        self,
        base_url: str,
        *,
        credential: Credential,
        headers: Mapping[str, str],
        query: Mapping[str, QueryValue] | None = None,
        secret_values: Iterable[str] = (),
        label: str = "",
    ) -> None:
        self.base_url = base_url
        self.credential = credential
        self.headers = {**headers, **credential.static_headers()}
        self.query = dict(query or {})
        self._extra_secrets = [value for value in secret_values if len(value) >= MIN_REDACTED_LEN]
        self.label = label

    def url(self, path: str) -> str:
        """The absolute URL of an operation's path (`/batches/b1/cancel`)."""
        return self.base_url + path

    def params(self, params: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """The query of one request: the provider's parameters, then the operation's."""
        if not self.query:
            return params
        return {**self.query, **params} if params else self.query

    def attach(self, request: httpx.Request, headers: Mapping[str, str]) -> None:
        """Put a per-attempt credential on `request` (the clients call this right before sending)."""
        request.headers.update(headers)

    def detach(self, request: httpx.Request) -> None:
        """Take a per-attempt credential off `request` once it is sent: errors keep the request, not the secret."""
        if self.credential.per_attempt:
            request.headers.pop(self.credential.header, None)

    def redact(self, text: str) -> str:
        """`text` with every credential this provider sent or may send, or 8 characters of one, as `[redacted]`."""
        text = redact_secrets(text, self.credential.secrets())  # fragments too: a server may quote part of it
        for secret in self._extra_secrets:
            text = text.replace(secret, REDACTED)
        return text

    def __repr__(self) -> str:
        label = f", {self.label}" if self.label else ""
        return f"Provider(base_url={self.base_url!r}{label}, credential={self.credential!r})"
