"""The HTTP runner: bots that play a game of the service as any client would.

A :class:`Bot` takes a seat (``POST /sessions/{id}/participants``), follows the session's
server-sent events, and whenever a round opens sends its whole batch for it, computed by a
:class:`~agents.http.bidder.Bidder` (the registered strategies, the same code as the
in-process runner). It stops when every round of the session has cleared.

Robustness:

* **Events**: the bot reads the backlog as JSON pages, then follows the stream from the last id
  it saw; after a dropped connection it resumes with ``Last-Event-ID`` (nothing missed, nothing
  twice). After ``stream_failures`` drops in a row it falls back to polling
  ``GET .../events/log`` every ``poll_seconds``. Events only wake the bot: what it does follows
  from the state it then reads (``GET .../rounds``), so a missed or repeated event is harmless.
* **Bids**: each batch carries an ``Idempotency-Key`` derived from (session, participant,
  round, revision) (:func:`batch_key`), and a call that lost its connection is sent again with
  the same key and body, so it takes effect once. Before bidding, the bot reads its own bids of
  the round and bids only when it has none: a bot never bids twice in a round, even when started
  again. A batch refused bid by bid (422) is sent once more without the refused bids.
* **Retries** are bounded with exponential backoff (:class:`~agents.http.client.RetryPolicy`).
  A join is sent again only when it never reached the server (a join is not idempotent: a
  repeated join could take a second seat).

:func:`run_bots` seats ``count`` bots one after the other (so seats are taken in lobby order)
and plays them in threads; ``mengxi agents run`` calls it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from agents.http.bidder import Bidder
from agents.http.client import Event, GameClient, Refusal, RetryPolicy
from market.rules import MarketRules

log = logging.getLogger(__name__)

#: Events after which the state of the rounds may have changed.
TRIGGERS = frozenset({"round_opened", "gate_closed", "round_cleared"})


def batch_key(session_id: str, participant: str, round_id: str, revision: int) -> str:
    """The ``Idempotency-Key`` of a bot's batch: the same for a retry of the same batch,
    another for any other (session, participant, round, revision)."""
    text = f"{session_id}\x1f{participant}\x1f{round_id}\x1f{revision}"
    return "mxbot-" + hashlib.sha256(text.encode()).hexdigest()[:40]


class HttpGameData:
    """:class:`~agents.http.bidder.GameData` over the API: rules and the results of cleared
    rounds are fetched once; views of rounds other than the one being bid are remembered
    (what a view says about another round's hours does not change)."""

    def __init__(self, api: GameClient, session_id: str, participant: str) -> None:
        self.api = api
        self.session_id = session_id
        self.participant = participant
        self._rules: MarketRules | None = None
        self._views: dict[str, dict[str, Any]] = {}
        self._results: dict[str, dict[str, Any]] = {}

    def _path(self, tail: str) -> str:
        return f"/sessions/{self.session_id}{tail}"

    def rules(self) -> MarketRules:
        if self._rules is None:
            self._rules = MarketRules.model_validate(self.api.get(self._path("/rules")))
        return self._rules

    def rounds(self) -> list[dict[str, Any]]:
        return list(self.api.get(self._path("/rounds"))["data"])

    def view(self, round_id: str, *, fresh: bool = False) -> dict[str, Any]:
        if fresh or round_id not in self._views:
            self._views[round_id] = self.api.get(self._path("/me"), round_id=round_id)
        return self._views[round_id]

    def result(self, round_id: str) -> dict[str, Any]:
        if round_id not in self._results:
            self._results[round_id] = self.api.get(self._path(f"/rounds/{round_id}/result"))
        return self._results[round_id]

    def certificates(self) -> dict[str, Any]:
        return dict(self.api.get(self._path("/me/certificates")))

    def seats(self) -> list[dict[str, Any]]:
        return list(self.api.get(self._path("/lobby"))["seats"])


@dataclass
class BotReport:
    """What a bot did: its seat, the rounds it bid in (in order), the batches the server
    stored (``stored``) and answered again from an earlier call (``replayed``), bids the server
    refused (``refused``, left out of the batch sent again), calls sent again (``retries``),
    stream drops, whether it fell back to polling, whether it saw the session finish, and the
    error that stopped it (if any)."""

    participant: str | None = None
    rounds_bid: list[str] = field(default_factory=list)
    stored: int = 0
    replayed: int = 0
    refused: int = 0
    retries: int = 0
    events: int = 0
    stream_drops: int = 0
    polling: bool = False
    finished: bool = False
    error: str | None = None


class Bot:
    """One seat played over HTTP (see the module docstring). ``events``: ``"stream"`` (server-
    sent events, polling after ``stream_failures`` drops in a row) or ``"poll"``;
    ``deadline_seconds``: give up after this long (``None``: play to the end)."""

    def __init__(self, base_url: str, session_id: str, *,
                 strategy: str | Mapping[str, Any] | None = None, seed: int = 0,
                 seat: str | None = None, events: str = "stream", poll_seconds: float = 0.5,
                 stream_failures: int = 3, read_timeout: float = 60.0,
                 deadline_seconds: float | None = None, http: httpx.Client | None = None,
                 retry: RetryPolicy | None = None, display_name: str | None = None) -> None:
        if events not in ("stream", "poll"):
            raise ValueError(f"events must be 'stream' or 'poll', got {events!r}")
        self.api = GameClient(base_url, http=http, retry=retry)
        self.session_id = session_id
        self.strategy = strategy
        self.seed = seed
        self.seat = seat
        self.poll_seconds = poll_seconds
        self.stream_failures = stream_failures
        self.read_timeout = read_timeout
        self.deadline = None if deadline_seconds is None else time.monotonic() + deadline_seconds
        self.display_name = display_name
        self.report = BotReport(polling=events == "poll")
        self.bidder: Bidder | None = None
        self.done: set[str] = set()
        self.last_event = 0

    # ------------------------------------------------------------------ seat

    def join(self) -> str:
        """Take the seat (the named one, or the first free one); returns the participant."""
        body: dict[str, Any] = {} if self.seat is None else {"participant": self.seat}
        if self.display_name:
            body["display_name"] = self.display_name
        joined = self.api.post(f"/sessions/{self.session_id}/participants", body,
                               repeatable=False)
        me = self.attach(str(joined["participant"]), str(joined["token"]))
        log.info("bot joined session %s as %s", self.session_id, me)
        return me

    def attach(self, participant: str, token: str) -> str:
        """Play a seat already taken (a bot started again with its seat's token)."""
        self.api.token = token
        self.report.participant = participant
        self.bidder = Bidder(HttpGameData(self.api, self.session_id, participant),
                             self.strategy, self.seed)
        return participant

    # ------------------------------------------------------------------ play

    def run(self) -> BotReport:
        """Play until the session ends (or the deadline); never raises: an error that stops
        the bot is in the report."""
        try:
            if self.bidder is None:
                self.join()
            self._play()
        except Exception as exc:  # the report says why the bot stopped
            log.exception("bot %s stopped", self.report.participant)
            self.report.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.report.retries = self.api.retries
            self.api.close()
        return self.report

    def _timed_out(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def _play(self) -> None:
        while True:  # the backlog as pages, then the live events
            page = self.api.events_after(self.session_id, self.last_event)
            if not page:
                break
            self._seen(page)
        self.sync()
        drops = 0
        while not self.report.finished and not self._timed_out():
            if self.report.polling:
                page = self.api.events_after(self.session_id, self.last_event)
                if page:
                    self._seen(page)
                    self.sync()
                else:
                    time.sleep(self.poll_seconds)
                continue
            try:
                for event in self.api.stream_events(self.session_id, self.last_event,
                                                    read_timeout=self.read_timeout):
                    drops = 0
                    self._seen([event])
                    if event.kind in TRIGGERS:
                        self.sync()
                    if self.report.finished or self._timed_out():
                        return
            except httpx.ReadTimeout:
                continue  # a quiet stream: reconnect from the last id
            except (httpx.TransportError, Refusal) as exc:
                if isinstance(exc, Refusal) and exc.status < 500:
                    raise
                drops += 1
                self.report.stream_drops += 1
                log.info("event stream dropped (%s); resuming after id %d", exc,
                         self.last_event)
                if drops >= self.stream_failures:
                    log.warning("event stream failed %d times in a row; polling instead", drops)
                    self.report.polling = True
                time.sleep(self.api.retry.wait(drops - 1))
            self.sync()  # the state may have moved while the stream was down

    def _seen(self, events: list[Event]) -> None:
        self.report.events += len(events)
        self.last_event = max(self.last_event, *(e.id for e in events))

    def sync(self) -> None:
        """Read the rounds; bid in the current one if it is open and not bid yet; note the
        end of the session."""
        rounds = self.api.get(f"/sessions/{self.session_id}/rounds")["data"]
        pending = [r for r in rounds if r["status"] != "cleared"]
        if not pending:
            self.report.finished = True
            return
        current = pending[0]
        rid = current["round_id"]
        if current["status"] == "open" and current["takes_bids"] and rid not in self.done:
            self.bid(rid)

    def bid(self, round_id: str) -> None:
        """Send this seat's batch for the open round, once (see the module docstring)."""
        assert self.bidder is not None
        me = self.bidder.data.participant
        path = f"/sessions/{self.session_id}/rounds/{round_id}/bids"
        mine = [e for e in self.api.get(path)["data"] if e["participant"] == me]
        revision = max((int(e["revision"]) for e in mine), default=0)
        if revision:
            self.done.add(round_id)
            return
        bids = self.bidder.batch(round_id)
        key = batch_key(self.session_id, me, round_id, revision + 1)
        for attempt in range(2):
            try:
                r = self.api.call("POST", path, json_body={"bids": bids},
                                  headers={"Idempotency-Key": key})
            except Refusal as exc:
                if exc.status == 422 and exc.code == "bids_refused" and attempt == 0:
                    bad = {int(p["index"]) for p in exc.problems}
                    self.report.refused += len(bad)
                    log.warning("%s: %d of %d bids refused in %s: %s", me, len(bad), len(bids),
                                round_id, exc.problems[:3])
                    bids = [b for i, b in enumerate(bids) if i not in bad]
                    continue
                if exc.status == 409:  # the gate closed before the batch arrived
                    log.warning("%s: no bids in %s: %s", me, round_id, exc.detail)
                    self.done.add(round_id)
                    return
                raise
            if r.headers.get("Idempotent-Replayed") == "true":
                self.report.replayed += 1
            else:
                self.report.stored += 1
            break
        self.done.add(round_id)
        self.report.rounds_bid.append(round_id)


def run_bots(base_url: str, session_id: str, count: int = 1, *,
             strategy: str | Mapping[str, Any] | None = None, seed: int = 0,
             seats: list[str] | None = None, events: str = "stream",
             deadline_seconds: float | None = None,
             http_factory: Callable[[], httpx.Client] | None = None,
             **options: Any) -> list[BotReport]:
    """Seat ``count`` bots (the ``seats`` named, else the first free ones, one after the
    other), play them in threads until the session ends, and return their reports in seat
    order. ``options`` go to :class:`Bot`."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if seats is not None and len(seats) != count:
        raise ValueError(f"{len(seats)} seats named for {count} bots")
    bots = [Bot(base_url, session_id, strategy=strategy, seed=seed,
                seat=None if seats is None else seats[k], events=events,
                deadline_seconds=deadline_seconds,
                http=None if http_factory is None else http_factory(), **options)
            for k in range(count)]
    for bot in bots:
        bot.join()
    threads = [threading.Thread(target=bot.run, name=f"bot-{bot.report.participant}",
                                daemon=True) for bot in bots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [bot.report for bot in bots]
