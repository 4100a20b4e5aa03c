from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.batch_object import BatchObject
from ..models.batch_status import BatchStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.batch_errors_type_0 import BatchErrorsType0
    from ..models.batch_request_counts import BatchRequestCounts
    from ..models.batch_usage import BatchUsage
    from ..models.metadata_type_0 import MetadataType0


T = TypeVar("T", bound="Batch")


@_attrs_define
class Batch:
    """
    Attributes:
        completion_window (str): The time frame within which the batch should be processed.
        created_at (int): The Unix timestamp (in seconds) for when the batch was created.
        endpoint (str): The OpenAI API endpoint used by the batch.
        id (str):
        input_file_id (str): The ID of the input file for the batch.
        object_ (BatchObject): The object type, which is always `batch`.
        status (BatchStatus): The current status of the batch.
        cancelled_at (int | None | Unset): The Unix timestamp (in seconds) for when the batch was cancelled.
        cancelling_at (int | None | Unset): The Unix timestamp (in seconds) for when the batch started cancelling.
        completed_at (int | None | Unset): The Unix timestamp (in seconds) for when the batch was completed.
        error_file_id (None | str | Unset): The ID of the file containing the outputs of requests with errors.
        errors (BatchErrorsType0 | None | Unset):
        expired_at (int | None | Unset): The Unix timestamp (in seconds) for when the batch expired.
        expires_at (int | None | Unset): The Unix timestamp (in seconds) for when the batch will expire.
        failed_at (int | None | Unset): The Unix timestamp (in seconds) for when the batch failed.
        finalizing_at (int | None | Unset): The Unix timestamp (in seconds) for when the batch started finalizing.
        in_progress_at (int | None | Unset): The Unix timestamp (in seconds) for when the batch started processing.
        metadata (MetadataType0 | None | Unset):
        model (str | Unset): Model ID used to process the batch, like `gpt-5-2025-08-07`. OpenAI
            offers a wide range of models with different capabilities, performance
            characteristics, and price points. Refer to the [model
            guide](/docs/models) to browse and compare available models.
        output_file_id (None | str | Unset): The ID of the file containing the outputs of successfully executed
            requests.
        request_counts (BatchRequestCounts | Unset): The request counts for different statuses within the batch.
        usage (BatchUsage | Unset): Represents token usage details including input tokens, output tokens, a
            breakdown of output tokens, and the total tokens used. Only populated on
            batches created after September 7, 2025.
    """

    completion_window: str
    created_at: int
    endpoint: str
    id: str
    input_file_id: str
    object_: BatchObject
    status: BatchStatus
    cancelled_at: int | None | Unset = UNSET
    cancelling_at: int | None | Unset = UNSET
    completed_at: int | None | Unset = UNSET
    error_file_id: None | str | Unset = UNSET
    errors: BatchErrorsType0 | None | Unset = UNSET
    expired_at: int | None | Unset = UNSET
    expires_at: int | None | Unset = UNSET
    failed_at: int | None | Unset = UNSET
    finalizing_at: int | None | Unset = UNSET
    in_progress_at: int | None | Unset = UNSET
    metadata: MetadataType0 | None | Unset = UNSET
    model: str | Unset = UNSET
    output_file_id: None | str | Unset = UNSET
    request_counts: BatchRequestCounts | Unset = UNSET
    usage: BatchUsage | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.batch_errors_type_0 import BatchErrorsType0
        from ..models.metadata_type_0 import MetadataType0

        completion_window = self.completion_window

        created_at = self.created_at

        endpoint = self.endpoint

        id = self.id

        input_file_id = self.input_file_id

        object_ = self.object_.value

        status = self.status.value

        cancelled_at: int | None | Unset
        if isinstance(self.cancelled_at, Unset):
            cancelled_at = UNSET
        else:
            cancelled_at = self.cancelled_at

        cancelling_at: int | None | Unset
        if isinstance(self.cancelling_at, Unset):
            cancelling_at = UNSET
        else:
            cancelling_at = self.cancelling_at

        completed_at: int | None | Unset
        if isinstance(self.completed_at, Unset):
            completed_at = UNSET
        else:
            completed_at = self.completed_at

        error_file_id: None | str | Unset
        if isinstance(self.error_file_id, Unset):
            error_file_id = UNSET
        else:
            error_file_id = self.error_file_id

        errors: dict[str, Any] | None | Unset
        if isinstance(self.errors, Unset):
            errors = UNSET
        elif isinstance(self.errors, BatchErrorsType0):
            errors = self.errors.to_dict()
        else:
            errors = self.errors

        expired_at: int | None | Unset
        if isinstance(self.expired_at, Unset):
            expired_at = UNSET
        else:
            expired_at = self.expired_at

        expires_at: int | None | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = self.expires_at

        failed_at: int | None | Unset
        if isinstance(self.failed_at, Unset):
            failed_at = UNSET
        else:
            failed_at = self.failed_at

        finalizing_at: int | None | Unset
        if isinstance(self.finalizing_at, Unset):
            finalizing_at = UNSET
        else:
            finalizing_at = self.finalizing_at

        in_progress_at: int | None | Unset
        if isinstance(self.in_progress_at, Unset):
            in_progress_at = UNSET
        else:
            in_progress_at = self.in_progress_at

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, MetadataType0):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        model = self.model

        output_file_id: None | str | Unset
        if isinstance(self.output_file_id, Unset):
            output_file_id = UNSET
        else:
            output_file_id = self.output_file_id

        request_counts: dict[str, Any] | Unset = UNSET
        if not isinstance(self.request_counts, Unset):
            request_counts = self.request_counts.to_dict()

        usage: dict[str, Any] | Unset = UNSET
        if not isinstance(self.usage, Unset):
            usage = self.usage.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "completion_window": completion_window,
                "created_at": created_at,
                "endpoint": endpoint,
                "id": id,
                "input_file_id": input_file_id,
                "object": object_,
                "status": status,
            }
        )
        if cancelled_at is not UNSET:
            field_dict["cancelled_at"] = cancelled_at
        if cancelling_at is not UNSET:
            field_dict["cancelling_at"] = cancelling_at
        if completed_at is not UNSET:
            field_dict["completed_at"] = completed_at
        if error_file_id is not UNSET:
            field_dict["error_file_id"] = error_file_id
        if errors is not UNSET:
            field_dict["errors"] = errors
        if expired_at is not UNSET:
            field_dict["expired_at"] = expired_at
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if failed_at is not UNSET:
            field_dict["failed_at"] = failed_at
        if finalizing_at is not UNSET:
            field_dict["finalizing_at"] = finalizing_at
        if in_progress_at is not UNSET:
            field_dict["in_progress_at"] = in_progress_at
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if model is not UNSET:
            field_dict["model"] = model
        if output_file_id is not UNSET:
            field_dict["output_file_id"] = output_file_id
        if request_counts is not UNSET:
            field_dict["request_counts"] = request_counts
        if usage is not UNSET:
            field_dict["usage"] = usage

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.batch_errors_type_0 import BatchErrorsType0
        from ..models.batch_request_counts import BatchRequestCounts
        from ..models.batch_usage import BatchUsage
        from ..models.metadata_type_0 import MetadataType0

        d = dict(src_dict)
        completion_window = d.pop("completion_window")

        created_at = d.pop("created_at")

        endpoint = d.pop("endpoint")

        id = d.pop("id")

        input_file_id = d.pop("input_file_id")

        object_ = BatchObject(d.pop("object"))

        status = BatchStatus(d.pop("status"))

        def _parse_cancelled_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        cancelled_at = _parse_cancelled_at(d.pop("cancelled_at", UNSET))

        def _parse_cancelling_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        cancelling_at = _parse_cancelling_at(d.pop("cancelling_at", UNSET))

        def _parse_completed_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        completed_at = _parse_completed_at(d.pop("completed_at", UNSET))

        def _parse_error_file_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error_file_id = _parse_error_file_id(d.pop("error_file_id", UNSET))

        def _parse_errors(data: object) -> BatchErrorsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                errors_type_0 = BatchErrorsType0.from_dict(data)

                return errors_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchErrorsType0 | None | Unset, data)

        errors = _parse_errors(d.pop("errors", UNSET))

        def _parse_expired_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        expired_at = _parse_expired_at(d.pop("expired_at", UNSET))

        def _parse_expires_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))

        def _parse_failed_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        failed_at = _parse_failed_at(d.pop("failed_at", UNSET))

        def _parse_finalizing_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        finalizing_at = _parse_finalizing_at(d.pop("finalizing_at", UNSET))

        def _parse_in_progress_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        in_progress_at = _parse_in_progress_at(d.pop("in_progress_at", UNSET))

        def _parse_metadata(data: object) -> MetadataType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_metadata_type_0 = MetadataType0.from_dict(data)

                return componentsschemas_metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MetadataType0 | None | Unset, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))

        model = d.pop("model", UNSET)

        def _parse_output_file_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        output_file_id = _parse_output_file_id(d.pop("output_file_id", UNSET))

        _request_counts = d.pop("request_counts", UNSET)
        request_counts: BatchRequestCounts | Unset
        if isinstance(_request_counts, Unset):
            request_counts = UNSET
        else:
            request_counts = BatchRequestCounts.from_dict(_request_counts)

        _usage = d.pop("usage", UNSET)
        usage: BatchUsage | Unset
        if isinstance(_usage, Unset):
            usage = UNSET
        else:
            usage = BatchUsage.from_dict(_usage)

        batch = cls(
            completion_window=completion_window,
            created_at=created_at,
            endpoint=endpoint,
            id=id,
            input_file_id=input_file_id,
            object_=object_,
            status=status,
            cancelled_at=cancelled_at,
            cancelling_at=cancelling_at,
            completed_at=completed_at,
            error_file_id=error_file_id,
            errors=errors,
            expired_at=expired_at,
            expires_at=expires_at,
            failed_at=failed_at,
            finalizing_at=finalizing_at,
            in_progress_at=in_progress_at,
            metadata=metadata,
            model=model,
            output_file_id=output_file_id,
            request_counts=request_counts,
            usage=usage,
        )

        batch.additional_properties = d
        return batch

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
