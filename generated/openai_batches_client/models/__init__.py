"""Contains all the data models used in inputs/outputs"""

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
