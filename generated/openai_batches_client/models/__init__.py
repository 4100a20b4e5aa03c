"""Contains all the data models used in inputs/outputs"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .batch import Batch
    from .batch_error import BatchError
    from .batch_errors_type_0 import BatchErrorsType0
    from .batch_object import BatchObject
    from .batch_request_counts import BatchRequestCounts
    from .batch_status import BatchStatus
    from .batch_usage import BatchUsage
    from .batch_usage_input_tokens_details import BatchUsageInputTokensDetails
    from .batch_usage_output_tokens_details import BatchUsageOutputTokensDetails
    from .error import Error
    from .error_response import ErrorResponse
    from .metadata_type_0 import MetadataType0

_MODULES = {
    "Batch": ".batch",
    "BatchError": ".batch_error",
    "BatchErrorsType0": ".batch_errors_type_0",
    "BatchObject": ".batch_object",
    "BatchRequestCounts": ".batch_request_counts",
    "BatchStatus": ".batch_status",
    "BatchUsage": ".batch_usage",
    "BatchUsageInputTokensDetails": ".batch_usage_input_tokens_details",
    "BatchUsageOutputTokensDetails": ".batch_usage_output_tokens_details",
    "Error": ".error",
    "ErrorResponse": ".error_response",
    "MetadataType0": ".metadata_type_0",
}

__all__ = (
    "Batch",
    "BatchError",
    "BatchErrorsType0",
    "BatchObject",
    "BatchRequestCounts",
    "BatchStatus",
    "BatchUsage",
    "BatchUsageInputTokensDetails",
    "BatchUsageOutputTokensDetails",
    "Error",
    "ErrorResponse",
    "MetadataType0",
)


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        # A submodule not imported yet (`models.batch`): the stock template made every one an attribute.
        try:
            return import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(
                f"module {__name__!r} has no attribute {name!r}"
            ) from None
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
