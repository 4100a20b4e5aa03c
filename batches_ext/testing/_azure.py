"""Azure OpenAI's front door for the fake: its two URL surfaces, its credentials and its error answers.

Azure serves the Batch API on two surfaces (shared/PROVIDERS.md): the v1 surface under `/openai/v1/...`, which
needs no query, and the dated surface under `/openai/...`, which needs `api-version` on every request and answers
404 without it. It takes a key in the `api-key` header or a Microsoft Entra ID token as `Authorization: Bearer`;
anything else is a 401 in Azure's own error shape (`{"error": {"code": "401", "message"}}`, not OpenAI's).

`AzureFront.admit` checks a request and returns the OpenAI path it maps to (`/v1/batches/...`), so the fake's
routes serve both surfaces unchanged.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import parse_qsl

from batches_ext.testing._wire import Reply, json_reply

__all__ = ["DEFAULT_TOKEN_LIFETIME_S", "AzureFront"]

DEFAULT_TOKEN_LIFETIME_S: Final = 3600.0  # Entra ID access tokens live about an hour
_API_VERSION: Final = "api-version"
# Azure's answers (Cognitive Services' wording) to a missing key, a wrong key, a bad token and an unknown path.
_NO_KEY: Final = (
    "Access denied due to missing subscription key. Make sure to include subscription key when making requests to "
    "an API."
)
_WRONG_KEY: Final = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource."
)
_BAD_BEARER: Final = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), "
    "or have expired."
)
_NOT_FOUND: Final = "Resource not found"


def azure_error(status: int, message: str) -> Reply:
    """An error in Azure's shape: the status as a string `code`, and no `type` or `param`."""
    return json_reply(status, {"error": {"code": str(status), "message": message}})


class AzureFront:
    """The fake's Azure mode: admits requests carrying the key or a live token, on either surface.

    Args:
        api_key: the key accepted in the `api-key` header.
        clock: the fake's clock, on which issued tokens expire.

    """

    def __init__(self, api_key: str, clock: Callable[[], float]) -> None:
        self._api_key = api_key
        self._clock = clock
        self._tokens: dict[str, float] = {}  # token -> expiry on the clock
        self._lock = threading.Lock()

    def issue_token(self, lifetime: float = DEFAULT_TOKEN_LIFETIME_S) -> str:
        """A new Entra ID token this front accepts as `Bearer` until `lifetime` seconds pass on the clock."""
        token = f"fake-entra-{secrets.token_urlsafe(24)}"
        with self._lock:
            self._tokens[token] = self._clock() + lifetime
        return token

    def admit(self, method: str, path: str, headers: Mapping[str, str]) -> Reply | str:
        """The 401 or 404 Azure answers `path` with, or the OpenAI path (`/v1/...` and its query) it serves."""
        denied = self._check_credentials(headers)
        if denied is not None:
            return denied
        raw, _, query = path.partition("?")
        if raw.startswith("/openai/v1/"):
            return raw.removeprefix("/openai") + (f"?{query}" if query else "")
        if raw.startswith("/openai/") and any(
            name == _API_VERSION and value for name, value in parse_qsl(query, keep_blank_values=True)
        ):
            # The routes read `after` and `limit`; api-version stays in the query, where nothing reads it.
            return "/v1" + raw.removeprefix("/openai") + f"?{query}"
        # Azure's answer to a dated path without api-version, and to a path it does not serve.
        return azure_error(404, _NOT_FOUND)

    def _check_credentials(self, headers: Mapping[str, str]) -> Reply | None:
        key = headers.get("api-key")
        if key is not None:
            # Constant-time, as for the OpenAI key: the fake does not model a timing leak real servers avoid.
            if hmac.compare_digest(key.encode("utf-8", "surrogatepass"), self._api_key.encode()):
                return None
            return azure_error(401, _WRONG_KEY)
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if not token.strip():
            return azure_error(401, _NO_KEY)
        with self._lock:
            expiry = self._tokens.get(token.strip())
        if scheme.lower() != "bearer" or expiry is None or self._clock() >= expiry:
            return azure_error(401, _BAD_BEARER)
        return None

    def __repr__(self) -> str:
        return f"AzureFront(tokens={len(self._tokens)})"
