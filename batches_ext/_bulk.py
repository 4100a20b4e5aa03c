"""`cancel_many`'s decisions, shared by the sync and async clients: no I/O.

- `plan_cancels` checks every id and option before anything is sent, and drops repeated ids.
- `RateGate` is the group's rate limiter: one "not before" instant shared by every concurrent request of a bulk
  cancel. A 429 on any of them pushes it forward by the server's `retry-after` (read by `_retry`'s policy), and no
  request of the group starts before it, so a bulk cancel never hammers the API.
- `accepted`, `refused` and `CancelReport` turn what each batch's requests returned into its `CancelOutcome`.
- `GroupWait` is the `wait=True` phase: every stopped batch is polled in rounds (one `Poller` each, one deadline
  for all) instead of one wait per worker, so 50 batches take one cancelling window, not 50 / concurrency of them.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, Literal, NamedTuple

import httpx

from batches_ext._batch import Batch, BatchStatus
from batches_ext._cli_format import batches, clean
from batches_ext._deadline import Deadline
from batches_ext._ids import check_id
from batches_ext._retry import is_transient, retry_delay
from batches_ext._waiting import DEFAULT_WAIT_TIMEOUT_S, Poller, start_wait
from batches_ext.errors import APIError, APIStatusError, BatchesError, NotFoundError, WaitTimeoutError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_CONCURRENCY",
    "OUTCOMES",
    "CancelOutcome",
    "CancelReport",
    "GroupWait",
    "Outcome",
    "RateGate",
    "accepted",
    "check_concurrency",
    "plan_cancels",
    "refusal_settled",
    "refused",
    "worth_checking",
]

DEFAULT_CONCURRENCY: Final = 8
# Each concurrent cancel holds a connection (and, in the sync client, a thread); past this a bulk cancel would only
# meet the API's rate limit sooner.
MAX_CONCURRENCY: Final = 64

Outcome = Literal["stopped", "already_finished", "not_found", "failed"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("stopped", "already_finished", "not_found", "failed")
_OK: Final = frozenset({"stopped", "already_finished"})


class CancelOutcome(NamedTuple):
    """What happened to one batch of a `cancel_many`.

    `outcome` is `"stopped"` (now cancelling, or with `wait=True` cancelled or otherwise finished),
    `"already_finished"` (it was completed, failed, expired or cancelled before: the server refused the cancel),
    `"not_found"` or `"failed"`. `batch` is the last state seen (None when none was); `error` the typed error for
    `not_found` and `failed` (for a wait that ran out of time, `errors.WaitTimeoutError`), else None.
    """

    batch_id: str
    outcome: Outcome
    batch: Batch | None = None
    error: BatchesError | None = None

    @property
    def ok(self) -> bool:
        """True when the batch is stopped or was already finished: nothing is left running."""
        return self.outcome in _OK


def check_concurrency(concurrency: object) -> int:
    """Return `concurrency` if it is an int in 1..MAX_CONCURRENCY, else raise `ValueError`."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise ValueError(f"concurrency must be an int, not {type(concurrency).__name__}")  # noqa: TRY004 - contract
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be from 1 to {MAX_CONCURRENCY}, got {concurrency}")
    return concurrency


def plan_cancels(
    batches_or_ids: Iterable[Batch | str], *, concurrency: int, wait: bool, wait_options: Mapping[str, Any]
) -> list[str]:
    """The ids to cancel, in the order given, each once; every argument checked first.

    Raises:
        ValueError: a bad id (the error names its position), a single str instead of ids, a bad concurrency,
            wait options without `wait=True`, or a bad wait option.
        TypeError: an unknown wait option.

    """
    check_concurrency(concurrency)
    if not isinstance(wait, bool):
        raise ValueError(f"wait must be a bool, got {wait!r}")  # noqa: TRY004 - the contract is ValueError
    start_wait("-", wait_options)  # the wait's own checks, so the rules cannot drift
    if wait_options and not wait:
        raise ValueError(f"{', '.join(sorted(wait_options))} only apply with wait=True")
    if isinstance(batches_or_ids, str | Batch):
        raise ValueError(  # noqa: TRY004 - the contract is ValueError
            "batches_or_ids must be an iterable of batches or ids, not one; for one batch, pass [it]"
        )
    ids: dict[str, None] = {}  # ordered, without repeats
    for position, item in enumerate(batches_or_ids):
        batch_id = item.id if isinstance(item, Batch) else item
        try:
            ids[check_id(batch_id)] = None
        except ValueError as exc:
            raise ValueError(f"batches_or_ids[{position}]: {exc}") from None
    return list(ids)


def accepted(batch_id: str, batch: Batch) -> CancelOutcome:
    """The outcome of a cancel the server accepted (2xx) and answered with `batch`."""
    if batch.is_terminal and batch.status != BatchStatus.CANCELLED:
        return CancelOutcome(batch_id, "already_finished", batch)  # a server that answers 200 for a finished batch
    return CancelOutcome(batch_id, "stopped", batch)


def worth_checking(error: APIError) -> bool:
    """Whether a failed cancel may mean the batch is past cancelling (a 400 or 409): then it is retrieved to see."""
    return isinstance(error, APIStatusError) and error.status_code in (400, 409)


def refusal_settled(batch: Batch, *, finished_counts: bool) -> bool:
    """Whether `batch`, retrieved after a refused cancel (see `worth_checking`), leaves the cancel nothing to do.

    It does when the batch is `cancelling` or `cancelled`: a cancel took effect (an earlier attempt whose reply was
    lost, or someone else's). With `finished_counts`, also whenever a cancel could no longer stop it (completed,
    failed, expired, or a status this client does not know): `cancel_and_wait` goes on with such a batch, while
    `cancel` must not report a cancel that did not happen.
    """
    if batch.status in (BatchStatus.CANCELLING, BatchStatus.CANCELLED):
        return True
    return finished_counts and not batch.is_cancellable


def refused(batch_id: str, error: BatchesError, batch: Batch | None) -> CancelOutcome:
    """The outcome of a cancel that failed with `error`; `batch` is the batch retrieved after a 400 or 409, if any.

    A refused cancel of a batch that is finished is `already_finished`; of one already `cancelling` (someone else's
    cancel, or ours whose answer was lost) `stopped`; of one still running, `failed`.
    """
    if isinstance(error, NotFoundError):
        return CancelOutcome(batch_id, "not_found", None, error)
    if batch is not None:
        if batch.is_terminal:
            return CancelOutcome(batch_id, "already_finished", batch)
        if batch.status == BatchStatus.CANCELLING:
            return CancelOutcome(batch_id, "stopped", batch)
    return CancelOutcome(batch_id, "failed", batch, error)


class RateGate:
    """The instant before which no request of a group may start; a 429 on any request pushes it forward.

    Thread-safe (the sync client's cancels run in threads); an async group uses it from one thread.

    Args:
        clock: the monotonic clock the instant is kept on.
        now: unix time, to read a `retry-after` given as an HTTP date.
        jitter: [0, 1), for the backoff used when a 429 carries no usable hint.

    """

    __slots__ = ("_clock", "_jitter", "_lock", "_now", "not_before", "pauses")

    def __init__(
        self,
        clock: Callable[[], float],
        now: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._clock = clock
        self._now = now
        self._jitter = jitter
        self._lock = threading.Lock()
        self.not_before = -float("inf")
        self.pauses = 0
        """How many 429s paused the group (for reports and tests)."""

    def delay(self) -> float:
        """Seconds to wait before starting a request now (0 when the group is not paused)."""
        return max(0.0, self.not_before - self._clock())

    def observe(self, response: httpx.Response) -> None:
        """Take in a response: a 429 pauses the whole group for the server's `retry-after` (else a first backoff)."""
        if response.status_code != 429:
            return
        pause = retry_delay(response.headers, 0, self._now(), self._jitter())
        until = self._clock() + pause
        with self._lock:
            self.pauses += 1
            self.not_before = max(self.not_before, until)


class GroupWait:
    """Polls the batches a bulk cancel stopped until each is terminal, in rounds: every decision, no I/O.

    Each round the client retrieves every batch in `pending` (concurrently) and passes each result to `observe`,
    then sleeps `next_delay()`. A batch leaves `pending` with its final outcome when it is terminal (`stopped`), when
    a poll fails for good (`failed`), or when the deadline passes (`failed` with `errors.WaitTimeoutError`).

    Args:
        stopped: the outcomes of the cancels, each `stopped` with the batch not yet terminal.
        wait_options: `timeout` (one deadline for the whole group), `poll_interval`, `on_update` (told about each
            batch's changes).
        clock: the monotonic clock.

    """

    __slots__ = ("_pollers", "deadline")

    def __init__(
        self, stopped: Iterable[CancelOutcome], wait_options: Mapping[str, Any], clock: Callable[[], float]
    ) -> None:
        timeout = wait_options.get("timeout", DEFAULT_WAIT_TIMEOUT_S)
        self.deadline = Deadline(timeout, clock)
        """The group's one deadline: it bounds every poll request and retry too."""
        self._pollers = {
            outcome.batch_id: Poller(
                outcome.batch_id,
                timeout=timeout,
                poll_interval=wait_options.get("poll_interval"),
                on_update=wait_options.get("on_update"),
                clock=clock,
                deadline=self.deadline,
            )
            for outcome in stopped
        }
        for outcome in stopped:
            self._pollers[outcome.batch_id].batch = outcome.batch  # the last state seen, should nothing else come

    @property
    def pending(self) -> list[str]:
        """The batches still to poll, in the order they were given."""
        return list(self._pollers)

    def observe(self, batch_id: str, result: Batch | APIError) -> CancelOutcome | None:
        """Take in one poll's result; the batch's final outcome when this ends its wait, else None."""
        poller = self._pollers[batch_id]
        if isinstance(result, Batch):
            if not poller.observe(result):
                return None
            del self._pollers[batch_id]
            return CancelOutcome(batch_id, "stopped", result)
        if is_transient(result):
            poller.observe_failure(result)
            return None
        del self._pollers[batch_id]
        return CancelOutcome(batch_id, "failed", poller.batch, result)

    def next_delay(self) -> tuple[float, list[CancelOutcome]]:
        """The wait before the next round, and the outcomes of the batches whose deadline has passed (now removed)."""
        delays = []
        expired = []
        for batch_id, poller in list(self._pollers.items()):
            try:
                delays.append(poller.next_delay(None))
            except WaitTimeoutError as exc:
                del self._pollers[batch_id]
                expired.append(CancelOutcome(batch_id, "failed", poller.batch, exc))
        return (min(delays) if delays else 0.0), expired


class CancelReport:
    """What `cancel_many` did: iterate it for one `CancelOutcome` per batch, in the order the batches were given.

    `counts` maps each outcome to how many batches had it; `ok` is True when every batch is stopped or already
    finished; `str()` is a summary with a line per batch that is not.
    """

    __slots__ = ("_outcomes",)

    def __init__(self, outcomes: Iterable[CancelOutcome]) -> None:
        self._outcomes = list(outcomes)

    @property
    def outcomes(self) -> list[CancelOutcome]:
        """Every outcome, in the order the batches were given (a new list)."""
        return list(self._outcomes)

    @property
    def counts(self) -> dict[Outcome, int]:
        """How many batches had each outcome (every outcome is a key, 0 included)."""
        tally = Counter(outcome.outcome for outcome in self._outcomes)
        return {name: tally[name] for name in OUTCOMES}

    @property
    def ok(self) -> bool:
        """True when no batch is left running because of a failure (every one stopped or already finished)."""
        return all(outcome.ok for outcome in self._outcomes)

    @property
    def problems(self) -> list[CancelOutcome]:
        """The outcomes that are not ok (`not_found` and `failed`), in order."""
        return [outcome for outcome in self._outcomes if not outcome.ok]

    def __iter__(self) -> Iterator[CancelOutcome]:
        return iter(self._outcomes)

    def __len__(self) -> int:
        return len(self._outcomes)

    def summary(self) -> str:
        """One line: `12 batches: 9 stopped, 2 already finished, 0 not found, 1 failed`."""
        counts = self.counts
        parts = ", ".join(f"{counts[name]} {name.replace('_', ' ')}" for name in OUTCOMES)
        return f"{batches(len(self))}: {parts}"

    def __str__(self) -> str:
        lines = [self.summary()]
        for outcome in self.problems:
            reason = str(outcome.error) if outcome.error is not None else outcome.outcome.replace("_", " ")
            lines.append(f"  {clean(outcome.batch_id)}: {outcome.outcome.replace('_', ' ')}: {clean(reason)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"CancelReport({self.summary()})"
