"""The batches waiting for a session, and who takes them: a per-session queue with a leader.

A caller puts its batch in its session's queue. If nobody is taking that session's batches,
it becomes the *leader*: it takes the batches at the head of the queue (its own first, then
those that arrived while it waited, up to :data:`GROUP_BIDS` bids), hands them to ``take``
(one transaction for the group, :mod:`api.service.intake.group`), gives every caller of the
group its own outcome, and passes the lead to the caller now at the head of the queue, if
any. The others wait for their outcome; each gets it only after ``take`` returned, that is
after the group's commit. Batches are taken in the order they were queued.

A caller still waiting in the queue (not yet taken) after ``wait_seconds`` leaves it and is
refused with :class:`api.service.errors.Busy` (503, nothing stored); a caller whose batch
was taken waits for its outcome, which the leader's own timeouts bound.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from api.service.errors import Busy

T = TypeVar("T")
R = TypeVar("R")

#: Most bids one group holds (a group holds at least one batch, however large).
GROUP_BIDS = 20_000


@dataclass
class Outcome(Generic[R]):
    """What a batch got: a result, or the error its caller raises."""

    result: R | None = None
    error: BaseException | None = None


@dataclass(eq=False)
class Waiting(Generic[T, R]):
    """One caller's batch in a queue."""

    item: T
    size: int
    ready: threading.Event = field(default_factory=threading.Event)
    leader: bool = False
    outcome: Outcome[R] | None = None


def own_copy(error: BaseException) -> BaseException:
    """A copy of a group-wide error for one more caller to raise (the same one if it cannot
    be copied), so that threads do not raise one object at once."""
    try:
        return copy.copy(error)
    except Exception:
        return error


class BatchQueue(Generic[T, R]):
    """The queues of every session of a process (see the module docstring)."""

    def __init__(self, group_bids: int = GROUP_BIDS) -> None:
        self.group_bids = group_bids
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Waiting[T, R]]] = {}
        self.groups = 0
        """Groups taken so far (for tests and benchmarks)."""
        self.largest = 0
        """The most batches one group held."""

    def submit(self, session_id: str, item: T, size: int,
               take: Callable[[Sequence[T]], Sequence[Outcome[R]]],
               wait_seconds: float | None) -> R:
        """Queue ``item`` (``size`` bids) for ``session_id``; its result once its group is
        committed, or its error raised. ``take`` is called by whichever caller leads, with
        the group's items in queue order, and returns one outcome per item in that order
        (an exception from it is every item's outcome)."""
        me: Waiting[T, R] = Waiting(item, size)
        with self._lock:
            queue = self._queues.get(session_id)
            if queue is None:
                queue = self._queues[session_id] = deque()
                me.leader = True
            queue.append(me)
        if not me.leader and not me.ready.wait(wait_seconds):
            with self._lock:
                if not me.leader and me.outcome is None and me in queue:
                    queue.remove(me)  # not taken: leave, nothing was stored
                    raise Busy(f"session {session_id!r} is busy (bid batches queued for "
                               f"more than {wait_seconds:g} s); try again shortly with the "
                               "same Idempotency-Key", wait_seconds or 1.0)
            me.ready.wait()
        if me.outcome is None:  # the lead passed to this caller
            self._lead(session_id, queue, take)
        assert me.outcome is not None
        if me.outcome.error is not None:
            raise me.outcome.error
        return me.outcome.result  # type: ignore[return-value]

    def _lead(self, session_id: str, queue: deque[Waiting[T, R]],
              take: Callable[[Sequence[T]], Sequence[Outcome[R]]]) -> None:
        with self._lock:
            group = [queue.popleft()]
            bids = group[0].size
            while queue and bids + queue[0].size <= self.group_bids:
                bids += queue[0].size
                group.append(queue.popleft())
            self.groups += 1
            self.largest = max(self.largest, len(group))
        try:
            outcomes = list(take([w.item for w in group]))
            if len(outcomes) != len(group):
                raise RuntimeError(f"{len(outcomes)} outcomes for a group of {len(group)}")
        except BaseException as exc:
            outcomes = [Outcome(error=exc if k == 0 else own_copy(exc))
                        for k in range(len(group))]
        with self._lock:
            for w, outcome in zip(group, outcomes, strict=True):
                w.outcome = outcome
            nxt = queue[0] if queue else None
            if nxt is None:
                del self._queues[session_id]
            else:
                nxt.leader = True
        for w in group[1:]:
            w.ready.set()
        if nxt is not None:
            nxt.ready.set()
