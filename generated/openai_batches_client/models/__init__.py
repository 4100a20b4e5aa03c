"""Contains all the data models used in inputs/outputs"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .batch import Batch
    from .batch_error import BatchError
    from .batch_errors_type_0 import BatchErrorsType0
    from .batch_file_expiration_after import BatchFileExpirationAfter
    from .batch_file_expiration_after_anchor import BatchFileExpirationAfterAnchor
    from .batch_object import BatchObject
    from .batch_request_counts import BatchRequestCounts
    from .batch_status import BatchStatus
    from .batch_usage import BatchUsage
    from .batch_usage_input_tokens_details import BatchUsageInputTokensDetails
    from .batch_usage_output_tokens_details import BatchUsageOutputTokensDetails
    from .create_batch_request import CreateBatchRequest
    from .create_batch_request_completion_window import (
        CreateBatchRequestCompletionWindow,
    )
    from .create_file_request import CreateFileRequest
    from .create_file_request_purpose import CreateFileRequestPurpose
    from .delete_file_response import DeleteFileResponse
    from .delete_file_response_object import DeleteFileResponseObject
    from .error import Error
    from .error_response import ErrorResponse
    from .file_expiration_after import FileExpirationAfter
    from .file_expiration_after_anchor import FileExpirationAfterAnchor
    from .list_batches_response import ListBatchesResponse
    from .list_batches_response_object import ListBatchesResponseObject
    from .metadata_type_0 import MetadataType0
    from .open_ai_file import OpenAIFile
    from .open_ai_file_object import OpenAIFileObject
    from .open_ai_file_purpose import OpenAIFilePurpose
    from .open_ai_file_status import OpenAIFileStatus

_MODULES = {
    "Batch": ".batch",
    "BatchError": ".batch_error",
    "BatchErrorsType0": ".batch_errors_type_0",
    "BatchFileExpirationAfter": ".batch_file_expiration_after",
    "BatchFileExpirationAfterAnchor": ".batch_file_expiration_after_anchor",
    "BatchObject": ".batch_object",
    "BatchRequestCounts": ".batch_request_counts",
    "BatchStatus": ".batch_status",
    "BatchUsage": ".batch_usage",
    "BatchUsageInputTokensDetails": ".batch_usage_input_tokens_details",
    "BatchUsageOutputTokensDetails": ".batch_usage_output_tokens_details",
    "CreateBatchRequest": ".create_batch_request",
    "CreateBatchRequestCompletionWindow": ".create_batch_request_completion_window",
    "CreateFileRequest": ".create_file_request",
    "CreateFileRequestPurpose": ".create_file_request_purpose",
    "DeleteFileResponse": ".delete_file_response",
    "DeleteFileResponseObject": ".delete_file_response_object",
    "Error": ".error",
    "ErrorResponse": ".error_response",
    "FileExpirationAfter": ".file_expiration_after",
    "FileExpirationAfterAnchor": ".file_expiration_after_anchor",
    "ListBatchesResponse": ".list_batches_response",
    "ListBatchesResponseObject": ".list_batches_response_object",
    "MetadataType0": ".metadata_type_0",
    "OpenAIFile": ".open_ai_file",
    "OpenAIFileObject": ".open_ai_file_object",
    "OpenAIFilePurpose": ".open_ai_file_purpose",
    "OpenAIFileStatus": ".open_ai_file_status",
}

__all__ = (
    "Batch",
    "BatchError",
    "BatchErrorsType0",
    "BatchFileExpirationAfter",
    "BatchFileExpirationAfterAnchor",
    "BatchObject",
    "BatchRequestCounts",
    "BatchStatus",
    "BatchUsage",
    "BatchUsageInputTokensDetails",
    "BatchUsageOutputTokensDetails",
    "CreateBatchRequest",
    "CreateBatchRequestCompletionWindow",
    "CreateFileRequest",
    "CreateFileRequestPurpose",
    "DeleteFileResponse",
    "DeleteFileResponseObject",
    "Error",
    "ErrorResponse",
    "FileExpirationAfter",
    "FileExpirationAfterAnchor",
    "ListBatchesResponse",
    "ListBatchesResponseObject",
    "MetadataType0",
    "OpenAIFile",
    "OpenAIFileObject",
    "OpenAIFilePurpose",
    "OpenAIFileStatus",
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
