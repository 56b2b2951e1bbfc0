"""Issue 12 item 9: concurrent bid batches of one session are committed in groups
(:mod:`api.service.intake`), and each still behaves as if it came alone: stored exactly once
with its own receipt, a refused batch stores nothing and the others of its group land, an
idempotent retry inside a group gets the first receipt, ``If-Match`` is checked in order.

The group is made deterministic: the test holds the session's lock, so the first request
(the leader) waits for it with its own batch while the next ones queue behind it, in the
order they are started; when the lock is let go, the queued ones are taken as one group."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from api.service.db.engine import Database
from api.service.db.tables import BidBatchRow, EventRow
from api.service.live import LiveSessions
from api.service.settings import Settings
from tests.api.conftest import Game, capacity_offers

GENCOS = ("genco-1", "genco-2", "genco-3", "genco-4", "genco-5", "genco-6")


def _live(game: Game) -> LiveSessions:
    return game.client.app.state.live  # type: ignore[attr-defined,no-any-return]


def _queued(live: LiveSessions, session_id: str) -> int:
    with live.intake._lock:
        queue = live.intake._queues.get(session_id)
        return len(queue) if queue else 0


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def in_one_group(game: Game, sends: list[Callable[[], Any]]) -> list[Any]:
    """Run ``sends`` (each one request) concurrently: the first leads alone, the others queue
    in this order and are taken as one group. Returns the responses in the same order."""
    live = _live(game)
    out: list[Any] = [None] * len(sends)

    def run(k: int) -> None:
        out[k] = sends[k]()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(sends))]
    groups = live.intake.groups
    with live.writing(game.id):  # the session's lock: the leader waits for it
        threads[0].start()
        _until(lambda: live.intake.groups > groups, "the leader")
        for k, t in enumerate(threads[1:], start=1):
            t.start()
            _until(lambda k=k: _queued(live, game.id) == k, f"request {k} to queue")
    for t in threads:
        t.join(timeout=30)
    assert live.intake.largest >= len(sends) - 1
    return out


def _rows(settings: Settings, session_id: str) -> list[BidBatchRow]:
    database = Database(settings)
    try:
        with database.session() as db, db.begin():
            return list(db.scalars(select(BidBatchRow).where(
                BidBatchRow.session_id == session_id).order_by(BidBatchRow.id)))
    finally:
        database.dispose()


def _events(settings: Settings, session_id: str, kind: str) -> int:
    database = Database(settings)
    try:
        with database.session() as db, db.begin():
            return len(db.scalars(select(EventRow).where(EventRow.session_id == session_id,
                                                         EventRow.kind == kind)).all())
    finally:
        database.dispose()


def _send(game: Game, who: str, bids: list[Any], **headers: str) -> Callable[[], Any]:
    h = game.as_(who) | {k.replace("_", "-"): v for k, v in headers.items()}
    return lambda: game.client.post(game.url("/rounds/capacity/bids"), headers=h,
                                    json={"bids": bids})


def test_concurrent_batches_are_each_stored_once_with_their_own_receipt(
        game: Game, settings: Settings) -> None:
    assert game.open() == "capacity"
    offers = {g: capacity_offers(game.view(g), 40.0 + k) for k, g in enumerate(GENCOS)}
    sends = [_send(game, g, offers[g]) for g in GENCOS]
    sends += [_send(game, "genco-1", capacity_offers(game.view("genco-1"), 77.0))]
    answers = in_one_group(game, sends)
    assert [a.status_code for a in answers] == [201] * 7, [a.text for a in answers]
    receipts = [a.json() for a in answers]
    assert [r["participant"] for r in receipts] == [*GENCOS, "genco-1"]
    assert [r["revision"] for r in receipts] == [1] * 6 + [2]
    rows = _rows(settings, game.id)
    assert [r.id for r in rows] == [r["batch_id"] for r in receipts]  # in queue order
    assert [r.participant for r in rows] == [*GENCOS, "genco-1"]
    assert _events(settings, game.id, "bids_received") == 7
    # the live session and a rebuilt one agree: genco-1's second batch replaced its first
    mine = game.client.get(game.url("/rounds/capacity/bids"), headers=game.as_("genco-1"))
    assert [b["revision"] for b in mine.json()["data"]] == [2]
    assert {b["price"] for b in mine.json()["data"][0]["bids"]} == {77.0}
    _live(game).evict(game.id)
    again = game.client.get(game.url("/rounds/capacity/bids"), headers=game.as_("genco-1"))
    assert again.json() == mine.json()
    everyone = game.client.get(game.url("/rounds/capacity/bids"),
                               headers=game.as_("instructor")).json()["data"]
    assert sorted(e["participant"] for e in everyone) == sorted(GENCOS)


def test_a_refused_batch_in_a_group_stores_nothing_and_the_others_land(
        game: Game, settings: Settings) -> None:
    assert game.open() == "capacity"
    good = {g: capacity_offers(game.view(g)) for g in GENCOS}
    bad_unit = [{**good["genco-2"][0], "unit": good["genco-1"][0]["unit"]}]  # genco-1's unit
    huge = [{**good["genco-4"][0], "price": 1e308}]
    sends = [_send(game, "genco-1", good["genco-1"]), _send(game, "genco-2", bad_unit),
             _send(game, "genco-3", good["genco-3"]), _send(game, "genco-4", huge),
             _send(game, "genco-5", [{"unit": "x", "price": "many", "quantity": 10**401}]),
             _send(game, "genco-6", good["genco-6"])]
    answers = in_one_group(game, sends)
    assert [a.status_code for a in answers] == [201, 422, 201, 422, 422, 201], \
        [a.text for a in answers]
    assert answers[1].json()["problems"][0]["index"] == 0
    rows = _rows(settings, game.id)
    assert [r.participant for r in rows] == ["genco-1", "genco-3", "genco-6"]
    assert _events(settings, game.id, "bids_received") == 3
    for g in ("genco-2", "genco-4", "genco-5"):
        r = game.client.get(game.url("/rounds/capacity/bids"), headers=game.as_(g))
        assert r.json()["data"] == []
    # a refused seat may bid afterwards, at revision 1
    late = game.bid("genco-2", "capacity", good["genco-2"])
    assert late.status_code == 201 and late.json()["revision"] == 1


def test_idempotent_retries_inside_a_group_get_the_first_receipt(
        game: Game, settings: Settings) -> None:
    assert game.open() == "capacity"
    offers = capacity_offers(game.view("genco-1"))
    other = capacity_offers(game.view("genco-1"), 66.0)
    earlier = game.bid("genco-1", "capacity", offers, key="k-earlier")
    assert earlier.status_code == 201
    sends = [_send(game, "genco-2", capacity_offers(game.view("genco-2"))),
             _send(game, "genco-1", other, Idempotency_Key="k-new"),
             _send(game, "genco-1", other, Idempotency_Key="k-new"),       # its retry
             _send(game, "genco-1", offers, Idempotency_Key="k-earlier"),  # an older retry
             _send(game, "genco-1", offers, Idempotency_Key="k-new"),      # key reused: 422
             _send(game, "genco-3", capacity_offers(game.view("genco-3")),
                   Idempotency_Key="k-new")]                               # another seat's
    answers = in_one_group(game, sends)
    assert [a.status_code for a in answers] == [201, 201, 201, 201, 422, 201], \
        [a.text for a in answers]
    first, retry, older = answers[1], answers[2], answers[3]
    assert retry.json() == first.json()
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert first.headers.get("Idempotent-Replayed") is None
    assert older.json() == earlier.json()
    assert older.headers.get("Idempotent-Replayed") == "true"
    assert answers[4].json()["code"] == "refused"
    rows = _rows(settings, game.id)
    assert sorted((r.participant, r.idempotency_key) for r in rows) == sorted([
        ("genco-1", "k-earlier"), ("genco-2", None), ("genco-1", "k-new"),
        ("genco-3", "k-new")])
    mine = game.client.get(game.url("/rounds/capacity/bids"), headers=game.as_("genco-1"))
    assert mine.json()["data"][0]["revision"] == 2


def test_if_match_is_checked_in_queue_order_inside_a_group(game: Game,
                                                           settings: Settings) -> None:
    assert game.open() == "capacity"
    a = capacity_offers(game.view("genco-1"), 51.0)
    b = capacity_offers(game.view("genco-1"), 52.0)
    c = capacity_offers(game.view("genco-1"), 53.0)
    sends = [_send(game, "genco-2", capacity_offers(game.view("genco-2"))),
             _send(game, "genco-1", a, If_Match="0"),
             _send(game, "genco-1", b, If_Match="0"),   # stale: a is revision 1 by then
             _send(game, "genco-1", c, If_Match="1")]
    answers = in_one_group(game, sends)
    assert [x.status_code for x in answers] == [201, 201, 412, 201], [x.text for x in answers]
    assert answers[2].json()["code"] == "revision_mismatch"
    assert answers[3].json()["revision"] == 2
    assert [r.revision for r in _rows(settings, game.id) if r.participant == "genco-1"] == [1, 2]


def test_a_batch_queued_past_the_lock_timeout_is_503_and_stores_nothing(
        game: Game, settings: Settings) -> None:
    assert game.open() == "capacity"
    live = _live(game)
    live.lock_timeout = 0.3
    groups = live.intake.groups
    out: dict[str, Any] = {}
    offers = {g: capacity_offers(game.view(g)) for g in ("genco-1", "genco-2")}

    def send(who: str) -> None:
        out[who] = game.bid(who, "capacity", offers[who])

    leader = threading.Thread(target=send, args=("genco-1",))
    waiter = threading.Thread(target=send, args=("genco-2",))
    with live.writing(game.id):
        leader.start()
        _until(lambda: live.intake.groups > groups, "the leader")
        waiter.start()
        leader.join(timeout=10)
        waiter.join(timeout=10)
    assert out["genco-1"].status_code == 503 and out["genco-2"].status_code == 503
    assert out["genco-2"].json()["code"] == "busy"
    assert "Retry-After" in out["genco-2"].headers
    assert _rows(settings, game.id) == []
    assert _queued(live, game.id) == 0
    live.lock_timeout = settings.lock_timeout_seconds
    assert game.bid("genco-2", "capacity", capacity_offers(game.view("genco-2"))
                    ).status_code == 201
