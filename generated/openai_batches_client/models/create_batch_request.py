from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.create_batch_request_completion_window import (
    CreateBatchRequestCompletionWindow,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.batch_file_expiration_after import BatchFileExpirationAfter
    from ..models.metadata_type_0 import MetadataType0


T = TypeVar("T", bound="CreateBatchRequest")


@_attrs_define
class CreateBatchRequest:
    """
    Attributes:
        completion_window (CreateBatchRequestCompletionWindow): The time frame within which the batch should be
            processed. Currently only `24h` is supported.
        endpoint (str): The endpoint to be used for all requests in the batch. Currently `/v1/responses`,
            `/v1/chat/completions`, `/v1/embeddings`, `/v1/completions`, `/v1/moderations`, `/v1/images/generations`,
            `/v1/images/edits`, and `/v1/videos` are supported. Note that `/v1/embeddings` batches are also restricted to a
            maximum of 50,000 embedding inputs across all requests in the batch.
        input_file_id (str): The ID of an uploaded file that contains requests for the new batch.

            See [upload file](/docs/api-reference/files/create) for how to upload a file.

            Your input file must be formatted as a [JSONL file](/docs/api-reference/batch/request-input), and must be
            uploaded with the purpose `batch`. The file can contain up to 50,000 requests, and can be up to 200 MB in size.
        metadata (MetadataType0 | None | Unset):
        output_expires_after (BatchFileExpirationAfter | Unset): The expiration policy for the output and/or error file
            that are generated for a batch.
    """

    completion_window: CreateBatchRequestCompletionWindow
    endpoint: str
    input_file_id: str
    metadata: MetadataType0 | None | Unset = UNSET
    output_expires_after: BatchFileExpirationAfter | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.metadata_type_0 import MetadataType0

        completion_window = self.completion_window.value

        endpoint = self.endpoint

        input_file_id = self.input_file_id

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, MetadataType0):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        output_expires_after: dict[str, Any] | Unset = UNSET
        if not isinstance(self.output_expires_after, Unset):
            output_expires_after = self.output_expires_after.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "completion_window": completion_window,
                "endpoint": endpoint,
                "input_file_id": input_file_id,
            }
        )
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if output_expires_after is not UNSET:
            field_dict["output_expires_after"] = output_expires_after

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.batch_file_expiration_after import BatchFileExpirationAfter
        from ..models.metadata_type_0 import MetadataType0

        d = dict(src_dict)
        completion_window = CreateBatchRequestCompletionWindow(
            d.pop("completion_window")
        )

        endpoint = d.pop("endpoint")

        input_file_id = d.pop("input_file_id")

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

        _output_expires_after = d.pop("output_expires_after", UNSET)
        output_expires_after: BatchFileExpirationAfter | Unset
        if isinstance(_output_expires_after, Unset):
            output_expires_after = UNSET
        else:
            output_expires_after = BatchFileExpirationAfter.from_dict(
                _output_expires_after
            )

        create_batch_request = cls(
            completion_window=completion_window,
            endpoint=endpoint,
            input_file_id=input_file_id,
            metadata=metadata,
            output_expires_after=output_expires_after,
        )

        create_batch_request.additional_properties = d
        return create_batch_request

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
