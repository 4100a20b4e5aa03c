"""`BatchesClient`: the synchronous client. Its async twin is `_async_client.py`; both share `ClientCore`."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Self, Unpack

import httpx

from batches_ext import errors
from batches_ext._batch import Batch
from batches_ext._bulk import (
    DEFAULT_CONCURRENCY,
    CancelOutcome,
    CancelReport,
    GroupWait,
    RateGate,
    accepted,
    plan_cancels,
    refusal_settled,
    refused,
    worth_checking,
)
from batches_ext._core import ClientCore, default_sleep, owned_httpx_args, stream_error
from batches_ext._deadline import BodyBudget, Deadline
from batches_ext._download import DownloadedResults, ResumableRead, check_destination, download_targets, part_path
from batches_ext._file import FileDeleted, FileObject
from batches_ext._jsonl import DEFAULT_MAX_LINE_BYTES, LineSplitter, check_max_line_bytes
from batches_ext._lifecycle import (
    RemainderReport,
    RemainderScan,
    Resubmission,
    check_batch_options,
    check_resubmit_options,
    create_batch_request,
    delete_file_request,
    parse_object,
    prepare_upload,
    remainder_filename,
    resubmit_metadata,
    retrieve_file_request,
    upload_request,
)
from batches_ext._listing import MAX_PAGE_SIZE, BatchFilter, Pager
from batches_ext._providers import QueryValue
from batches_ext._results import BatchResult, CancelledBatch, ResultFile, parse_result_line
from batches_ext._retry import RetryState, is_transient
from batches_ext._settings import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_S, NOT_GIVEN, NotGiven, Settings, TimeoutTypes
from batches_ext._threads import run_each
from batches_ext._waiting import DEFAULT_WAIT_TIMEOUT_S, Poller, WaitOptions, poll_after_seconds, start_wait

__all__ = ["BatchesClient"]

NumberedLines = tuple[int, list[bytes]]
"""Lines of a file as their exact bytes, with the number of the first (from 1)."""


class BatchesClient:
    """Cancel and inspect OpenAI batches.

    Args:
        api_key: defaults to `OPENAI_API_KEY`; required.
        base_url: defaults to `OPENAI_BASE_URL`, then `https://api.openai.com/v1`.
        organization: sent as `OpenAI-Organization`; defaults to `OPENAI_ORG_ID`.
        project: sent as `OpenAI-Project`; defaults to `OPENAI_PROJECT_ID`.
        timeout: seconds per request (5 s to connect), an `httpx.Timeout`, or None for none.
        max_retries: retries of connection errors, timeouts, 408, 409, 429 and 5xx; 0 disables.
        default_headers: headers for every request (a provider's own, e.g. a gateway's key); not credentials
            (`Authorization`), which the client sets.
        default_query: query parameters for every request, file downloads included.
        http_client: your own `httpx.Client` (proxies, mTLS); it is not closed by `close()`.
        sleep: how to wait between attempts and polls (a test hook; default `time.sleep`).
        clock: a monotonic clock for deadlines (a test hook; default `time.monotonic`).

    Raises:
        ConfigurationError: no API key, or an invalid setting.

    """

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
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        settings = Settings(
            api_key, base_url=base_url, organization=organization, project=project, timeout=timeout,
            max_retries=max_retries, default_headers=default_headers, default_query=default_query,
        )  # fmt: skip
        self._configure(settings, http_client=http_client, sleep=sleep, clock=clock)

    def _configure(
        self,
        settings: Settings,
        *,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Everything construction does once the settings are resolved (shared with the Azure subclass)."""
        # set_httpx_client() drops the generated client's own headers: a user's client gets ours per request.
        self._core = ClientCore(settings, users_http_client=http_client is not None)
        from openai_batches_client.client import Client as GeneratedClient  # noqa: PLC0415 - import time, see _core

        self._generated = GeneratedClient(
            base_url=settings.base_url,
            timeout=settings.timeout,
            httpx_args=owned_httpx_args() if http_client is None else {},
        )
        if http_client is not None:
            if not isinstance(http_client, httpx.Client):
                raise TypeError(f"http_client must be an httpx.Client, got {type(http_client).__name__}")
            self._generated.set_httpx_client(http_client)
        self._http = http_client
        self._owns_http = http_client is None
        self._closed = False
        # Builds our httpx client once however many threads use the client first, and orders that with close().
        # A thread lock in the async twin too: nothing inside awaits, so it never blocks a loop for long, and an
        # asyncio.Lock would guard only within one loop (and would make every request await it).
        self._http_lock = threading.Lock()
        self._sleep = sleep if sleep is not None else default_sleep
        self._clock = clock

    def cancel(self, batch_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> Batch:
        """Cancel a batch; it moves to `cancelling`, then (within about 10 minutes) to `cancelled`.

        When the cancel had to be retried (its first reply was lost: a connection error or a 5xx) and the retry is
        refused because the batch is already cancelling or cancelled, the batch is retrieved and returned.

        Raises:
            ValueError: `batch_id` is not a usable id (nothing is sent).
            errors.APIError: the request failed after retries (see `batches_ext.errors`).

        """
        return self._cancel(batch_id, timeout, None, finished_counts=False)

    def _cancel(
        self, batch_id: str, timeout: TimeoutTypes | NotGiven, deadline: Deadline | None, *, finished_counts: bool
    ) -> Batch:
        """Cancel within `deadline`; a refused cancel is settled by retrieving the batch (see `refusal_settled`).

        A refusal is checked when an earlier attempt's reply was lost, and always with `finished_counts`.
        """
        request = self._core.cancel_request(self._http_client(), batch_id, timeout)
        retry = self._core.retry_state(request, deadline)
        try:
            return self._core.parse_batch(self._send(request, retry=retry))
        except errors.APIError as exc:
            if not (worth_checking(exc) and (finished_counts or retry.lost_reply)):
                raise
            batch = self._retrieve(batch_id, deadline)
            if not refusal_settled(batch, finished_counts=finished_counts):
                raise exc from None
            return batch

    def retrieve(self, batch_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> Batch:
        """Fetch a batch's current state.

        Raises:
            ValueError: `batch_id` is not a usable id (nothing is sent).
            errors.APIError: the request failed after retries.

        """
        http = self._http_client()
        return self._core.parse_batch(self._send(self._core.retrieve_request(http, batch_id, timeout)))

    def _retrieve(self, batch_id: str, deadline: Deadline | None) -> Batch:
        """`retrieve`, every attempt and retry bounded by `deadline` (when given)."""
        request = self._core.retrieve_request(self._http_client(), batch_id, NOT_GIVEN)
        return self._core.parse_batch(self._send(request, retry=self._core.retry_state(request, deadline)))

    def wait(
        self,
        batch_id: str,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT_S,
        poll_interval: float | None = None,
        on_update: Callable[[Batch], object] | None = None,
    ) -> Batch:
        """Poll a batch until it is terminal (completed, failed, expired or cancelled) and return it.

        Args:
            batch_id: the batch to watch.
            timeout: the deadline in seconds.
            poll_interval: a fixed interval; by default 1 s growing to 10 s. A server `openai-poll-after-ms`
                header wins over both.
            on_update: called with the batch whenever its status or request counts change (and on the first poll).

        Every request is bounded by the deadline too (each attempt's timeouts, retries and the sleeps between them),
        so a server that hangs or answers a byte at a time cannot hold the wait past it.

        Raises:
            ValueError: a bad option (nothing is sent).
            errors.WaitTimeoutError: past the deadline; `.batch` is the last batch seen.
            errors.APIError: a poll failed for good (404, 401, ...). Transient failures do not end the wait.
        """
        self._http_client()  # built before the deadline starts: its setup (~0.1 s) is not the server's time
        poller = Poller(batch_id, timeout=timeout, poll_interval=poll_interval, on_update=on_update, clock=self._clock)
        return self._wait(batch_id, poller)

    def _wait(self, batch_id: str, poller: Poller) -> Batch:
        """Poll until the batch is terminal; `poller` decides the intervals and holds the deadline."""
        while True:
            hint = None
            try:
                request = self._core.retrieve_request(self._http_client(), batch_id, NOT_GIVEN)
                response = self._send(request, retry=self._core.retry_state(request, poller.deadline))
            except errors.APIError as exc:
                if not is_transient(exc):
                    raise
                poller.observe_failure(exc)
            else:
                hint = poll_after_seconds(response.headers.get("openai-poll-after-ms"))
                if poller.observe(self._core.parse_batch(response)):
                    assert poller.batch is not None  # noqa: S101 - observe() just stored it
                    return poller.batch
            self._sleep(poller.next_delay(hint))

    def cancel_and_wait(self, batch_id: str, **wait_options: Unpack[WaitOptions]) -> Batch:
        """Cancel a batch and wait until it is `cancelled` (or otherwise terminal); return the final batch.

        A batch that is already `cancelling` is waited for; one that already finished is returned as it is.
        `wait_options` (`timeout`, `poll_interval`, `on_update`) and the errors are those of `wait`; every option is
        checked before the cancel is sent, and the deadline (`timeout`) covers the cancel as well as the polls.

        Raises:
            TypeError: an unknown option (nothing is sent).
            ValueError: a bad id or option (nothing is sent).
            errors.WaitTimeoutError: past the deadline (also when the cancel itself could not finish in time: then
                whether it reached the server is unknown).
            errors.APIError: as `wait`.
        """
        self._http_client()  # built before the deadline starts, as in `wait`
        poller = start_wait(batch_id, wait_options, self._clock)
        try:
            # Some servers refuse to cancel a batch that is already cancelling or finished (shared/ANCHORS.md):
            # not an error here, as long as the batch really is past the point of cancelling.
            batch = self._cancel(batch_id, NOT_GIVEN, poller.deadline, finished_counts=True)
        except errors.APIConnectionError as exc:
            if not poller.deadline.expired:
                raise
            raise poller.timeout_error("the cancel did not complete in time: it may or may not have been sent") from exc
        if batch.is_terminal:
            return batch
        return self._wait(batch_id, poller)

    def iter_results(
        self, batch_or_id: Batch | str, *, errors: bool = False, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    ) -> Iterator[BatchResult]:
        """Stream a batch's output file (or, with `errors=True`, its error file), one record per line.

        Memory stays bounded whatever the file's size. A batch without such a file yields nothing. Lines end at
        LF (or CRLF) only, never at U+2028 and the like, and are UTF-8 whatever the server's `charset`; a leading
        BOM is skipped. A download that breaks resumes after the last whole line (`Range`, or skipping what was read
        when the server sends the whole file again): every record is yielded once, in order; `max_retries` counts
        the breaks that get no further into the file.

        Args:
            batch_or_id: the batch, or its id (retrieved first).
            errors: read the error file instead of the output file.
            max_line_bytes: a longer line is an error (64 MB by default), so a broken file cannot exhaust memory.

        Raises:
            ValueError: `max_line_bytes` is not a positive int (nothing is sent).
            errors.ResultsFormatError: a line is not UTF-8, too long, or not a batch output record (the error
                names the line).
            errors.ResultsDownloadError: the download broke and could not be resumed; it says how many records and
                bytes were read.
            errors.APIError: the download failed.
        """
        check_max_line_bytes(max_line_bytes)
        batch = batch_or_id if isinstance(batch_or_id, Batch) else self.retrieve(batch_or_id)
        file_id = batch.error_file_id if errors else batch.output_file_id
        if file_id:
            yield from self._iter_records(file_id, "error" if errors else "output", max_line_bytes)

    def iter_all_results(
        self, batch_or_id: Batch | str, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    ) -> Iterator[BatchResult]:
        """Stream both of a batch's results files in one iteration: the output file's records, then the error file's.

        Each record says where it came from (`result.file`: `output` or `error`) and whether its request succeeded
        (`result.ok`, the one rule `classify_result` also applies to resubmitting). Files are read as `iter_results`
        reads them (resumed after breaks, memory bounded).

        Raises:
            As `iter_results`.
        """
        check_max_line_bytes(max_line_bytes)
        batch = batch_or_id if isinstance(batch_or_id, Batch) else self.retrieve(batch_or_id)
        files: list[tuple[ResultFile, str | None]] = [("output", batch.output_file_id), ("error", batch.error_file_id)]
        for kind, file_id in files:
            if file_id:
                yield from self._iter_records(file_id, kind, max_line_bytes)

    def _iter_records(self, file_id: str, kind: ResultFile, max_line_bytes: int) -> Iterator[BatchResult]:
        """The records of one results file; a blank line (e.g. a trailing newline) holds none."""
        for first, lines in self._iter_file_lines(file_id, max_line_bytes=max_line_bytes):
            for number, line in enumerate(lines, first):
                if line.strip():
                    yield parse_result_line(line, number, file_id, file=kind)

    def cancel_and_collect(self, batch_id: str, **wait_options: Unpack[WaitOptions]) -> CancelledBatch:
        """Stop a batch and return what it finished: `(batch, results, errors)`.

        Cancels, waits until the batch is terminal (see `cancel_and_wait`, which takes the same `wait_options`),
        then reads its output and error files.
        """
        batch = self.cancel_and_wait(batch_id, **wait_options)
        return CancelledBatch(batch, list(self.iter_results(batch)), list(self.iter_results(batch, errors=True)))

    def list(self, *, limit: int | None = None, after: str | None = None) -> Iterator[Batch]:
        """Iterate over the organisation's batches in the API's order (newest first), fetching pages as needed.

        Memory stays bounded by one page. Each page has the retries and typed errors of every request.

        Args:
            limit: the page size, 1-100 (as in the official SDK); None for the server's default (20 on OpenAI).
            after: start after this batch id (a previous page's `last_id`); None starts at the newest.

        Raises:
            ValueError: `limit` or `after` is not usable (raised by this call, before anything is sent).
            errors.APIError: a page failed after retries (raised while iterating).

        """
        return self._walk(Pager(limit=limit, after=after), None)

    def find(
        self,
        *,
        status: str | Iterable[str] | None = None,
        metadata: Mapping[str, object] | None = None,
        created_after: datetime | float | None = None,
        created_before: datetime | float | None = None,
        endpoint: str | None = None,
        model: str | None = None,
    ) -> Iterator[Batch]:
        """Iterate over the batches that meet every criterion given, reading pages of 100 as needed.

        Paging stops as soon as `created_after` proves that no later page can match: the API lists newest first,
        so a page ending at or before that instant ends the search, unless a batch seen so far came out of that
        order (then every page is read).

        Args:
            status: a status, or several (any of them); any case.
            metadata: keys whose values must be equal.
            created_after: created strictly after this (an aware datetime, or unix seconds).
            created_before: created strictly before this.
            endpoint: the endpoint (`/v1/chat/completions`; the `/v1` is optional).
            model: the model, exactly.

        Raises:
            ValueError: a criterion is not usable (raised by this call, before anything is sent).
            errors.APIError: a page failed after retries (raised while iterating).

        """
        criteria = BatchFilter(
            status=status, metadata=metadata, created_after=created_after, created_before=created_before,
            endpoint=endpoint, model=model,
        )  # fmt: skip
        return self._walk(Pager(limit=MAX_PAGE_SIZE), criteria)

    def cancel_many(
        self,
        batches_or_ids: Iterable[Batch | str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        wait: bool = False,
        on_outcome: Callable[[CancelOutcome], object] | None = None,
        **wait_options: Unpack[WaitOptions],
    ) -> CancelReport:
        """Cancel many batches at once; one batch's failure never stops the others.

        Up to `concurrency` cancels run at once. A 429 on any request pauses the whole group: no request starts
        until its `retry-after` has passed. A cancel the server refuses (400/409) is followed by a retrieve, to
        tell a finished batch (`already_finished`) from a refusal (`failed`).

        Args:
            batches_or_ids: the batches (or their ids) to cancel; repeats are cancelled once.
            concurrency: how many requests may run at once (1-64).
            wait: also wait until every stopped batch is terminal (polled in rounds, one deadline for all).
            on_outcome: called with each batch's outcome as soon as it is known, in this thread.
            **wait_options: with `wait=True`: `timeout` (the deadline for the whole wait), `poll_interval`,
                `on_update` (called with each batch whenever its status or counts change).

        Returns:
            The report: one `CancelOutcome` per batch in the order given, `counts`, `ok`, a readable `str()`.

        Raises:
            ValueError: a bad id or option; every one is checked before anything is sent.
            KeyboardInterrupt: Ctrl-C (for the async client: `asyncio.CancelledError`, its task was cancelled).
                It propagates and no new cancel starts. Outcomes already passed to `on_outcome` are final; the other
                batches may or may not have been cancelled (up to `concurrency` requests were in flight), so list
                or retrieve them to know. The sync client leaves its in-flight requests to finish on their daemon
                threads; the async client cancels its in-flight requests.

        """
        ids = plan_cancels(batches_or_ids, concurrency=concurrency, wait=wait, wait_options=wait_options)
        if on_outcome is not None and not callable(on_outcome):
            raise ValueError(f"on_outcome must be callable or None, got {on_outcome!r}")
        gate = RateGate(self._clock, self._core.now)
        self._http_client()  # built here, once, before the workers share it
        outcomes: dict[str, CancelOutcome] = {}
        stopped: list[CancelOutcome] = []

        def record(outcome: CancelOutcome) -> None:
            outcomes[outcome.batch_id] = outcome
            if on_outcome is not None:
                on_outcome(outcome)

        with run_each(partial(self._cancel_one, gate=gate), ids, concurrency) as calls:
            for _, result in calls:
                if isinstance(result, BaseException):
                    raise result  # not an outcome: a bug, or an interruption
                if wait and result.outcome == "stopped" and result.batch is not None and not result.batch.is_terminal:
                    stopped.append(result)
                else:
                    record(result)
        if stopped:
            group = GroupWait(stopped, wait_options, self._clock)
            while group.pending:
                pending = group.pending
                poll = partial(self._poll_one, gate=gate, deadline=group.deadline)
                with run_each(poll, pending, concurrency) as polls:
                    for index, polled in polls:
                        if isinstance(polled, BaseException) and not isinstance(polled, errors.APIError):
                            raise polled
                        final = group.observe(pending[index], polled)
                        if final is not None:
                            record(final)
                delay, expired = group.next_delay()
                for outcome in expired:
                    record(outcome)
                if group.pending:
                    self._sleep(delay)
        return CancelReport(outcomes[batch_id] for batch_id in ids)

    def _walk(self, pager: Pager, criteria: BatchFilter | None) -> Iterator[Batch]:
        """The batches of the pages `pager` walks through, those that meet `criteria` when given."""
        http = self._http_client()
        while not pager.done:
            page = self._core.parse_page(self._send(self._core.list_request(http, pager.after, pager.limit)))
            for batch in page:
                if criteria is None or criteria.matches(batch):
                    yield batch
            pager.observe(page)
            if criteria is not None and criteria.exhausted(page):
                return

    def _cancel_one(self, batch_id: str, *, gate: RateGate) -> CancelOutcome:
        """One batch of a bulk cancel: its outcome; errors that are outcomes are not raised."""
        http = self._http_client()
        try:
            batch = self._core.parse_batch(self._send(self._core.cancel_request(http, batch_id, NOT_GIVEN), gate=gate))
        except errors.APIError as exc:
            if not worth_checking(exc):
                return refused(batch_id, exc, None)
            try:
                batch = self._poll_one(batch_id, gate=gate)
            except errors.APIError:
                return refused(batch_id, exc, None)
            return refused(batch_id, exc, batch)
        return accepted(batch_id, batch)

    def _poll_one(self, batch_id: str, *, gate: RateGate, deadline: Deadline | None = None) -> Batch:
        """Retrieve one batch of a group, behind the group's rate gate (and within its wait's deadline, if any)."""
        request = self._core.retrieve_request(self._http_client(), batch_id, NOT_GIVEN)
        retry = self._core.retry_state(request, deadline, grouped=True)
        return self._core.parse_batch(self._send(request, gate=gate, retry=retry))

    # --- files and new batches -------------------------------------------------------------------------------------

    def upload_file(
        self,
        file: str | os.PathLike[str],
        *,
        purpose: str = "batch",
        filename: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> FileObject:
        """Upload a file (streamed from disk, never read whole into memory); for a batch, its `.jsonl` input.

        Args:
            file: the path of the file.
            purpose: `batch` for a batch's input; any other value the Files API takes is sent as given.
            filename: the name to upload it under; the path's own name by default.
            timeout: for this request; the client's by default.

        Raises:
            ValueError: the file is missing, empty, over OpenAI's limit (200 MB for `batch`, 512 MB otherwise), or a
                batch input not named `*.jsonl` (nothing is sent).
            errors.APIError: the upload failed after retries.

        """
        upload = prepare_upload(file, purpose=purpose, filename=filename)
        http = self._http_client()
        with upload.path.open("rb") as stream:
            response = self._send(upload_request(self._core, http, upload, stream, timeout))
        return parse_object(FileObject, response)

    def create_batch(
        self,
        input_file_id: str,
        *,
        endpoint: str,
        completion_window: str = "24h",
        metadata: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> Batch:
        """Create a batch from an uploaded input file; it starts `validating`.

        Args:
            input_file_id: the uploaded file (purpose `batch`).
            endpoint: the API path every request of the file targets, like `/v1/chat/completions`.
            completion_window: `24h`, the only window OpenAI offers.
            metadata: up to 16 str keys (<= 64 characters) and str values (<= 512).
            timeout: for this request; the client's by default.

        Raises:
            ValueError: a bad id, endpoint, window or metadata (nothing is sent).
            errors.APIError: the request failed after retries.

        """
        http = self._http_client()
        request = create_batch_request(
            self._core, http, input_file_id, endpoint=endpoint, completion_window=completion_window,
            metadata=metadata, timeout=timeout,
        )  # fmt: skip
        return self._core.parse_batch(self._send(request))

    def retrieve_file(self, file_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> FileObject:
        """Fetch a file's description (name, size, purpose).

        Raises:
            ValueError: `file_id` is not a usable id (nothing is sent).
            errors.APIError: the request failed after retries.

        """
        http = self._http_client()
        return parse_object(FileObject, self._send(retrieve_file_request(self._core, http, file_id, timeout)))

    def delete_file(self, file_id: str, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> FileDeleted:
        """Delete a file.

        Raises:
            ValueError: `file_id` is not a usable id (nothing is sent).
            errors.APIError: the request failed after retries.

        """
        http = self._http_client()
        return parse_object(FileDeleted, self._send(delete_file_request(self._core, http, file_id, timeout)))

    def download_results(
        self,
        batch_or_id: Batch | str,
        directory_or_path: str | os.PathLike[str],
        *,
        errors: bool = True,
        on_progress: Callable[[str, int, int | None], object] | None = None,
    ) -> DownloadedResults:
        """Write a batch's output file (and error file) to disk, each complete or not at all.

        Each file is written to `<name>.part` and renamed once complete and as long as the server said
        (`Content-Length`). A break resumes like `iter_results`; a `.part` left by an interrupted run is continued
        when the server honours `Range` (206), else written again from the start.

        Args:
            batch_or_id: the batch, or its id (retrieved first).
            directory_or_path: a directory (`<batch id>_output.jsonl`, `<batch id>_error.jsonl` in it) or the
                output file's path (the error file next to it, as `<stem>_error<suffix>`).
            errors: also write the error file.
            on_progress: called after each piece with `("output" or "error", bytes written, total or None)`.

        Returns:
            The paths written (None for a file the batch does not have).

        Raises:
            ValueError: the destination is not usable (nothing is sent).
            errors.ResultsDownloadError: a break could not be resumed within the retry budget (the `.part` stays,
                for the next run to continue).
            errors.APIError: a request failed.

        """
        destination = check_destination(directory_or_path)
        batch = batch_or_id if isinstance(batch_or_id, Batch) else self.retrieve(batch_or_id)
        written: dict[str, Path] = {}
        for kind, file_id, target in download_targets(batch, destination, errors=errors):
            report = None if on_progress is None else partial(on_progress, kind)
            written[kind] = self._download_file(file_id, target, report)
        return DownloadedResults(written.get("output"), written.get("error"))

    # --- after a cancel or an expiry: the rest ---------------------------------------------------------------------

    def remainder(
        self, batch_or_id: Batch | str, *, retry_failed: bool = False, report: RemainderReport | None = None
    ) -> Iterator[bytes]:
        """Stream the input lines of a finished batch that are worth sending again, as their exact bytes (no newline).

        A line is yielded when its request has no result, or a result saying it never ran (`batch_expired`,
        `batch_cancelled`); with `retry_failed`, also when it ran and got 408, 429 or a 5xx. Never when it
        succeeded or failed in a way that would fail again (the rule: `classify_result`). The three files are
        streamed; memory holds the result ids only.

        Args:
            batch_or_id: a batch in a terminal status (completed, failed, expired, cancelled), or its id.
            retry_failed: also yield requests that failed in a retryable way.
            report: filled in once the lines are exhausted: counts, and the ids in conflict.

        Raises:
            ValueError: the batch is still running, or has no input file.
            errors.RemainderConflictError: after the last line, when the input repeats a custom_id or a result
                names an unknown one and no `report` was passed (with one, read `report.conflicts`).
            errors.ResultsFormatError: a line of a file is not what it should be.
            errors.APIError: a download failed.

        """
        batch = batch_or_id if isinstance(batch_or_id, Batch) else self.retrieve(batch_or_id)
        scan = RemainderScan(batch, retry_failed=retry_failed)
        for file_id in scan.result_file_ids:
            for _, lines in self._iter_file_lines(file_id):
                for line in lines:
                    scan.add_result_line(line, file_id)
        for _, lines in self._iter_file_lines(scan.input_file_id):
            for line in lines:
                if scan.take(line):
                    yield line
        scan.finish(report)

    def write_remainder(
        self, batch_or_id: Batch | str, path: str | os.PathLike[str], *, retry_failed: bool = False
    ) -> RemainderReport:
        """Write `remainder(...)` to `path` as JSONL and return its report; `path` appears only when complete.

        Raises:
            errors.RemainderConflictError: the remainder is ambiguous (duplicate or unknown custom_ids); nothing
                is written.
            Otherwise as `remainder`.

        """
        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        report = RemainderReport()
        try:
            with partial.open("wb") as out:
                for line in self.remainder(batch_or_id, retry_failed=retry_failed, report=report):
                    out.write(line + b"\n")
            if report.conflicts:
                raise errors.RemainderConflictError(
                    f"the remainder is ambiguous: {report.describe_conflicts()}", report=report
                )
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return report

    def resubmit(
        self,
        batch_or_id: Batch | str,
        *,
        retry_failed: bool = False,
        metadata: Mapping[str, str] | None = None,
        completion_window: str | None = None,
    ) -> Batch | None:
        """Send what a finished batch did not do as a new batch; None (nothing uploaded) when nothing remains.

        The new batch has the old one's endpoint, completion window and metadata (or `metadata`), plus
        `resubmitted_from: <old id>`; when the metadata already has 16 keys this raises (see `resubmit_metadata`).
        Every check runs before the upload; if creating the batch fails, the uploaded file is deleted.

        Raises:
            ValueError: as `remainder`, or no room in the metadata, or the old batch names no endpoint.
            errors.RemainderConflictError: the remainder is ambiguous; nothing is uploaded.
            errors.APIError: a request failed after retries.

        """
        check_resubmit_options(retry_failed, metadata, completion_window)
        batch = batch_or_id if isinstance(batch_or_id, Batch) else self.retrieve(batch_or_id)
        new_metadata = resubmit_metadata(batch, metadata)
        endpoint, window = check_batch_options(batch.endpoint, completion_window or batch.completion_window or "24h")
        with tempfile.TemporaryDirectory(prefix="batches-ext-") as folder:
            path = Path(folder) / remainder_filename(batch.id)
            report = self.write_remainder(batch, path, retry_failed=retry_failed)
            if not report.to_resubmit:
                return None
            uploaded = self.upload_file(path, purpose="batch")
        try:
            return self.create_batch(uploaded.id, endpoint=endpoint, completion_window=window, metadata=new_metadata)
        except errors.APIError:
            with contextlib.suppress(errors.APIError):  # best effort: the create's error is the one to report
                self.delete_file(uploaded.id)
            raise

    def cancel_and_resubmit(
        self,
        batch_id: str,
        *,
        retry_failed: bool = False,
        metadata: Mapping[str, str] | None = None,
        completion_window: str | None = None,
        **wait_options: Unpack[WaitOptions],
    ) -> Resubmission:
        """Cancel a batch, wait until it stops, collect what it finished and resubmit the rest.

        The batch is read first and the new batch's metadata and endpoint checked, so nothing is cancelled when
        the resubmit would be refused. Returns `(batch, results, errors, resubmitted)`: the old batch, its output
        and error records, and the new batch (None when nothing remained).

        Raises:
            As `cancel_and_wait` and `resubmit`.

        """
        check_resubmit_options(retry_failed, metadata, completion_window)
        start_wait(batch_id, wait_options)  # every wait option checked before anything is sent
        current = self.retrieve(batch_id)
        resubmit_metadata(current, metadata)  # raises here, before the cancel, what resubmit would refuse later
        check_batch_options(current.endpoint, completion_window or current.completion_window or "24h")
        batch, results, failures = self.cancel_and_collect(batch_id, **wait_options)
        resubmitted = self.resubmit(
            batch, retry_failed=retry_failed, metadata=metadata, completion_window=completion_window
        )
        return Resubmission(batch, results, failures, resubmitted)

    def _iter_file_lines(
        self, file_id: str, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    ) -> Iterator[NumberedLines]:
        """Stream a file's lines as their exact bytes (each without its newline; `LineSplitter`), a list per piece.

        Each list comes with the number of its first line (from 1); a loop over a list costs less per line than a
        generator does. A break resumes after the last whole line (see `_download`): every line comes once, in order.
        """
        read = ResumableRead(file_id, splitter=LineSplitter(file_id, max_line_bytes=max_line_bytes))
        for chunk in self._file_chunks(read):
            first = read.records + 1
            lines = read.lines_of(chunk)
            if lines:
                yield first, lines
        first = read.records + 1
        lines = read.end_lines()
        if lines:
            yield first, lines

    def _file_chunks(self, read: ResumableRead) -> Iterator[bytes]:
        """The bytes of `read`'s file from its offset on, resuming after each break (decisions: `ResumableRead`).

        Raises:
            errors.ResultsDownloadError: a break could not be resumed within the retry budget.
            errors.APIError: the first request failed (nothing was read).
        """
        request = self._core.download_request(self._http_client(), read.file_id, NOT_GIVEN)
        retry = self._core.retry_state(request)
        while not read.done:
            read.prepare(request)
            try:
                response = self._send(request, stream=True, retry=retry)
            except errors.APIError as exc:
                if read.after_refusal(exc):
                    continue  # a 416 for the range asked: ask for the whole file
                if read.breaks:
                    raise read.failure(exc.message, exc) from exc
                raise
            try:
                if not read.begin(response):
                    continue  # a 206 for another range than asked: ask for the whole file
                for chunk in response.iter_bytes():
                    yield read.take(chunk)
                read.check_complete()
            except httpx.TransportError as exc:
                self._sleep(read.after_break(exc, retry))
                continue
            except httpx.RequestError as exc:
                raise stream_error(exc, request) from exc
            finally:
                response.close()
            return

    def _download_file(
        self, file_id: str, target: Path, on_progress: Callable[[int, int | None], object] | None
    ) -> Path:
        """Write a file to `target` through `<target>.part`, continuing a part an earlier run left; return `target`."""
        part = part_path(target)
        kept = part.stat().st_size if part.is_file() else 0
        read = ResumableRead(file_id, offset=kept, from_earlier_run=True)
        with part.open("r+b" if kept else "wb") as out:
            for chunk in self._file_chunks(read):
                if chunk:
                    start = read.offset - len(chunk)
                    if out.tell() != start:
                        out.seek(start)  # an earlier run's part restarted from byte 0
                    out.write(chunk)
                    if on_progress is not None:
                        on_progress(read.offset, read.total)
            out.truncate(read.offset)
        if read.total is not None and read.offset != read.total:
            raise read.failure(f"wrote {read.offset} bytes, the server announced {read.total}")
        part.replace(target)
        return target

    def _send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        gate: RateGate | None = None,
        retry: RetryState | None = None,
    ) -> httpx.Response:
        """Send with retries; return a successful (2xx) response or raise the typed error (3xx included).

        A body is read whole (except a 2xx's with `stream`) within the attempt's time limit and a size cap
        (`BodyBudget`). With `gate`, no attempt starts while the group is paused, and a 429 pauses the group. With
        `retry` (its deadline, when it has one, bounds every attempt and sleep), the caller can see what happened; a
        download's resumptions share one, so they count against one budget.
        """
        http = self._http_client()
        retry = retry if retry is not None else self._core.retry_state(request, grouped=gate is not None)
        while True:
            if gate is not None and (pause := gate.delay()) > 0:
                self._sleep(pause)
            self._authorise(request)
            try:
                retry.start_attempt()
                response = http.send(request, stream=True)
                if not (stream and response.is_success):
                    self._read_body(response, retry)
            except httpx.RequestError as exc:
                self._sleep(retry.after_exception(exc))
                continue
            finally:
                self._core.settings.provider.detach(request)
            if gate is not None:
                gate.observe(response)
            delay = retry.after_response(response)
            if delay is None:
                break
            response.close()
            self._sleep(delay)
        if not response.is_success:
            raise self._core.status_error(response)
        return response

    def _read_body(self, response: httpx.Response, retry: RetryState) -> None:
        """Read `response`'s body whole, within the attempt's time limit and the size cap; close it."""
        BodyBudget(retry.timeouts, retry.deadline, self._clock).watch(response)
        try:
            response.read()
        finally:
            response.close()

    def _authorise(self, request: httpx.Request) -> None:
        """Attach a per-attempt credential (Azure's; a token provider is called here, for every attempt)."""
        provider = self._core.settings.provider
        if provider.credential.per_attempt:
            provider.attach(request, provider.credential.headers())

    def _http_client(self) -> httpx.Client:
        """The httpx client; ours is built by the generated client on first use, with our headers set once.

        Raises:
            errors.ClientClosedError: `close()` was called (nothing is opened).

        """
        http = self._http
        if http is not None:
            return http
        with self._http_lock:
            if self._closed:
                raise errors.ClientClosedError(f"this {type(self).__name__} is closed: create a new client")
            http = self._http
            if http is None:
                http = self._generated.get_httpx_client()
                http.headers.update(self._core.settings.headers)  # merged by httpx, not rebuilt per request (~12 µs)
                self._http = http  # published only with its headers: other threads read it without the lock
            return http

    def close(self) -> None:
        """Close the connection pool (unless it belongs to an `http_client` you passed in); the client is done.

        Any later call raises `errors.ClientClosedError` before sending anything. Closing twice is harmless.
        """
        with self._http_lock:
            http, self._http, self._closed = self._http, None, True
        if self._owns_http and http is not None:
            http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        settings = self._core.settings
        label = f", {settings.provider.label}" if settings.provider.label else ""
        return f"{type(self).__name__}(base_url={settings.base_url!r}{label}, max_retries={settings.max_retries})"
