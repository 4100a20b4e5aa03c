"""batches-ext: cancel OpenAI batches, wait for them to stop, and collect their partial results.

from batches_ext import BatchesClient
with BatchesClient() as client:          # OPENAI_API_KEY from the environment
    batch = client.cancel("batch_abc123")
"""

from batches_ext import convert, errors
from batches_ext._async_client import AsyncBatchesClient
from batches_ext._azure import AsyncAzureBatchesClient, AzureBatchesClient
from batches_ext._batch import (
    CANCELLABLE_STATUSES,
    TERMINAL_STATUSES,
    Batch,
    BatchErrorDetail,
    BatchStatus,
    RequestCounts,
    Usage,
)
from batches_ext._bulk import CancelOutcome, CancelReport
from batches_ext._client import BatchesClient
from batches_ext._download import DownloadedResults
from batches_ext._file import FileDeleted, FileObject
from batches_ext._lifecycle import RemainderReport, Resubmission
from batches_ext._page import BatchPage
from batches_ext._settings import NOT_GIVEN, NotGiven

__version__ = "0.1.0"

__all__ = [
    "CANCELLABLE_STATUSES",
    "NOT_GIVEN",
    "TERMINAL_STATUSES",
    "AsyncAzureBatchesClient",
    "AsyncBatchesClient",
    "AzureBatchesClient",
    "Batch",
    "BatchErrorDetail",
    "BatchPage",
    "BatchStatus",
    "BatchesClient",
    "CancelOutcome",
    "CancelReport",
    "DownloadedResults",
    "FileDeleted",
    "FileObject",
    "NotGiven",
    "RemainderReport",
    "RequestCounts",
    "Resubmission",
    "Usage",
    "__version__",
    "convert",
    "errors",
]
