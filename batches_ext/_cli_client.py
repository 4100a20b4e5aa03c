"""The CLI's client, from its options and the environment: OpenAI's (or any Bearer provider's), or Azure OpenAI's.

Azure is used when `--azure-endpoint` is given, or `AZURE_OPENAI_ENDPOINT` is set and `--base-url` is not; its key
is `--api-key`, else `AZURE_OPENAI_AD_TOKEN` or `AZURE_OPENAI_API_KEY` (as the library reads them), and its version
`--api-version`, else `OPENAI_API_VERSION` (none: the v1 surface).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from batches_ext._client import BatchesClient

__all__ = ["ENVIRONMENT_HELP", "SECRET_VARIABLES", "add_options", "build_client", "secrets_of"]

# Every variable that may hold a credential: their values are scrubbed from what the CLI prints.
SECRET_VARIABLES: Final = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN")
ENVIRONMENT_HELP: Final = """\
  AZURE_OPENAI_ENDPOINT  Azure OpenAI: the resource's URL (https://NAME.openai.azure.com); used unless --base-url
  AZURE_OPENAI_API_KEY   Azure OpenAI: the key, sent as api-key
  AZURE_OPENAI_AD_TOKEN  Azure OpenAI: a Microsoft Entra ID token (wins over AZURE_OPENAI_API_KEY)
  OPENAI_API_VERSION     Azure OpenAI: a dated API version (none: the v1 surface, /openai/v1)"""


def add_options(group: argparse._ArgumentGroup, default: object) -> None:
    """The Azure options of every API command."""
    group.add_argument(
        "--azure-endpoint",
        metavar="URL",
        default=default,
        help="Azure OpenAI resource URL (default: $AZURE_OPENAI_ENDPOINT)",
    )
    group.add_argument(
        "--api-version",
        metavar="V",
        default=default,
        help="Azure OpenAI API version, like 2024-10-21 (default: $OPENAI_API_VERSION; none: the v1 surface)",
    )


def secrets_of(args: argparse.Namespace) -> list[str]:
    """The credentials this run may hold: `--api-key` and every variable of `SECRET_VARIABLES` that is set."""
    values = [getattr(args, "api_key", None), *(os.environ.get(name) for name in SECRET_VARIABLES)]
    return [value for value in values if value]


def build_client(args: argparse.Namespace, sleep: Callable[[float], None] | None) -> BatchesClient:
    """The client the options and the environment describe.

    Raises:
        errors.ConfigurationError: no credential, contradicting options, or an invalid setting.

    """
    from batches_ext._azure import AzureBatchesClient  # noqa: PLC0415 - the CLI imports the library lazily
    from batches_ext._client import BatchesClient  # noqa: PLC0415
    from batches_ext._settings import DEFAULT_TIMEOUT_S  # noqa: PLC0415
    from batches_ext.errors import ConfigurationError  # noqa: PLC0415

    environ = os.environ
    key = getattr(args, "api_key", None) or None  # `--api-key ""` means "not given", as an empty variable does
    base_url = getattr(args, "base_url", None) or None
    endpoint = getattr(args, "azure_endpoint", None) or None
    version = getattr(args, "api_version", None) or None
    timeout = getattr(args, "request_timeout", None) or DEFAULT_TIMEOUT_S
    if endpoint is not None and base_url is not None:
        raise ConfigurationError("--azure-endpoint and --base-url cannot be combined (Azure's base URL is derived)")
    if endpoint is not None or (environ.get("AZURE_OPENAI_ENDPOINT") and base_url is None):
        if key is None and not (environ.get("AZURE_OPENAI_API_KEY") or environ.get("AZURE_OPENAI_AD_TOKEN")):
            raise ConfigurationError(
                "no Azure credential: set AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN, or pass --api-key"
            )
        return AzureBatchesClient(
            azure_endpoint=endpoint, api_key=key, api_version=version, sleep=sleep, timeout=timeout
        )
    if version is not None:
        raise ConfigurationError("--api-version is for Azure OpenAI: add --azure-endpoint (or AZURE_OPENAI_ENDPOINT)")
    if key is None and not environ.get("OPENAI_API_KEY"):
        # The client's own message speaks Python (`api_key=...`); this one speaks shell.
        raise ConfigurationError("no API key: set OPENAI_API_KEY or pass --api-key")
    return BatchesClient(key, base_url=base_url, sleep=sleep, timeout=timeout)
