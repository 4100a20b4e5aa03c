"""Client settings: explicit arguments, then the openai SDK's environment variables, then defaults.

The API key lives in a `Secret`, whose repr never shows it; `Settings.redact` scrubs it from any text that came
back from the server before that text reaches an exception or a log line. Where requests go and how they are
authorised is the settings' `Provider` (`_providers.py`): OpenAI's here, Azure's from `_azure.py`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

import httpx

from batches_ext._providers import (
    Credential,
    Provider,
    QueryValue,
    check_default_headers,
    check_header_value,
    check_query,
)
from batches_ext._redact import REDACTED, redact_masked_keys
from batches_ext.errors import ConfigurationError

__all__ = ["DEFAULT_BASE_URL", "NOT_GIVEN", "NotGiven", "Secret", "Settings", "TimeoutTypes"]

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
DEFAULT_TIMEOUT_S: Final = 600.0  # openai SDK: Timeout(600, connect=5.0)
DEFAULT_CONNECT_TIMEOUT_S: Final = 5.0
# One request waiting longer than a day is a mistake (None means no timeout); past ~1e9 s the OS's timers overflow,
# and inf or 1e300 would fail only later, inside a request.
MAX_TIMEOUT_S: Final = 86_400.0
DEFAULT_MAX_RETRIES: Final = 2

TimeoutTypes = float | httpx.Timeout | None


class NotGiven:
    """Sentinel for "use the client's default", so that `timeout=None` can still mean "no timeout"."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Final = NotGiven()


class Secret:
    """Holds the API key; its repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The key itself, for the Authorization header only."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    __str__ = __repr__


class Settings:
    """Resolved, validated settings of one client."""

    __slots__ = ("api_key", "base_url", "headers", "max_retries", "organization", "project", "provider", "timeout")

    api_key: Secret | None
    """The OpenAI key; None when a `provider` (Azure's) holds the credential."""
    organization: str | None
    project: str | None
    provider: Provider
    base_url: str
    headers: dict[str, str]

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, QueryValue] | None = None,
        provider: Provider | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        """Resolve settings, falling back to `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`.

        `provider`, when given (the Azure clients build one), replaces everything but `timeout` and `max_retries`.

        Raises:
            ConfigurationError: the API key is missing or malformed, the base URL is not http(s), a default
                header or query parameter cannot be sent, or `max_retries` is negative.

        """
        self.timeout = as_timeout(timeout)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be a non-negative int, got {max_retries!r}")
        self.max_retries = max_retries
        if provider is not None:
            self.api_key = None
            self.organization = self.project = None
            self._use(provider)
            return
        key = api_key if api_key is not None else environ.get("OPENAI_API_KEY")
        if not key:
            raise ConfigurationError("No API key: pass api_key=... or set the OPENAI_API_KEY environment variable.")
        # Header values are printable ASCII: checked here, or the first request fails with an error showing the key.
        key = check_header_value("api_key" if api_key is not None else "OPENAI_API_KEY", key, credential=True)
        self.api_key = Secret(key)
        self.base_url = check_base_url(base_url or environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
        self.organization = _header_setting(organization, "organization", environ, "OPENAI_ORG_ID")
        self.project = _header_setting(project, "project", environ, "OPENAI_PROJECT_ID")
        headers = {}
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        extra = check_default_headers(default_headers)
        self._use(
            Provider(
                self.base_url,
                credential=Credential("Authorization", "Bearer ", value=key),
                headers=common_headers() | headers | extra,
                query=check_query(default_query),
                secret_values=extra.values(),
            )
        )

    def _use(self, provider: Provider) -> None:
        self.provider = provider
        self.base_url = provider.base_url
        self.headers = provider.headers

    def redact(self, text: str) -> str:
        """Remove the credentials (the API key whole or masked, tokens sent) from text that may echo them."""
        return redact_masked_keys(self.provider.redact(text))

    def __repr__(self) -> str:
        label = f", {self.provider.label}" if self.provider.label else ""
        return (
            f"Settings(base_url={self.base_url!r}{label}, organization={self.organization!r}, "
            f"project={self.project!r}, timeout={self.timeout!r}, max_retries={self.max_retries}, "
            f"api_key={REDACTED!r})"
        )


def _header_setting(value: str | None, name: str, environ: Mapping[str, str], variable: str) -> str | None:
    """An argument sent as a header (`organization`, `project`), else its variable; empty means unset.

    Raises:
        ConfigurationError: not printable ASCII (the message does not show the value).

    """
    chosen = value if value is not None else environ.get(variable)
    return check_header_value(name if value is not None else variable, chosen) if chosen else None


def common_headers() -> dict[str, str]:
    """The headers every provider gets: what we accept and who we are."""
    from batches_ext import __version__  # noqa: PLC0415 - the package imports this module

    return {"Accept": "application/json", "User-Agent": f"batches-ext/{__version__} httpx/{httpx.__version__}"}


def as_timeout(timeout: TimeoutTypes) -> httpx.Timeout:
    """A float is the overall timeout with the openai SDK's 5 s connect timeout; None disables timeouts.

    Raises:
        ConfigurationError: a number (or a member of an `httpx.Timeout`) that is not in (0, MAX_TIMEOUT_S]: zero,
            negative, NaN, infinite (None is "no timeout"), or so large the OS's timers would overflow.

    """
    if isinstance(timeout, httpx.Timeout):
        for name, value in timeout.as_dict().items():
            if value is not None and not _usable_seconds(value):
                raise ConfigurationError(
                    f"timeout.{name} must be None or a number of seconds in (0, {MAX_TIMEOUT_S:g}], got {value!r}"
                )
        return timeout
    if timeout is None:
        return httpx.Timeout(None)
    if not _usable_seconds(timeout):
        raise ConfigurationError(
            f"timeout must be a number of seconds in (0, {MAX_TIMEOUT_S:g}], an httpx.Timeout or None, got {timeout!r}"
        )
    return httpx.Timeout(timeout, connect=min(DEFAULT_CONNECT_TIMEOUT_S, timeout))


def _usable_seconds(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and 0 < value <= MAX_TIMEOUT_S


def check_base_url(url: str, name: str = "base_url") -> str:
    """`url` without its trailing slashes, if it can be a base URL (its path is kept).

    Whitespace in or around it is refused, not trimmed: httpx would send `/v1 ` as `/v1%20`, and trimming would
    silently use another URL than the one set (a stray newline from a `.env` file is a mistake to show, not hide).

    Raises:
        ConfigurationError: not an http(s) URL with a host; holds whitespace or control characters; or has a
            query or fragment (use `default_query`).

    """
    if not isinstance(url, str):
        raise ConfigurationError(f"{name} must be a str, got {type(url).__name__}")
    if not url.isprintable() or " " in url:
        raise ConfigurationError(f"{name} must not contain whitespace or control characters, got {url!r}")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"{name} {url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(f"{name} must be an http(s) URL with a host, got {url!r}")
    if parsed.query or parsed.fragment:
        raise ConfigurationError(f"{name} must not have a query or fragment (see default_query), got {url!r}")
    return url.rstrip("/")
