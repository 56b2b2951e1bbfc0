"""Issue 12 item 9: the gateway under load, on PostgreSQL, with every promise checked.

``clients`` bots (one genco seat and token each) send ``requests`` whole batches of ``batch``
energy offers each, all at once, through real HTTP to a real ``mengxi serve`` (one uvicorn
process) on loopback; every batch carries its own Idempotency-Key. Reported per run: request
latency p50/p99/max (ms, from sending to the full answer, on the bots' side), accepted bids per
second of wall time, and from the database afterwards:

* ``lost``: acknowledged batches (201 with a ``batch_id``) with no row of that id and key;
* ``duplicated``: keys stored more than once, or stored rows no bot was answered 201 for;
* ``refused``: answers other than 201 (a 429 or 503 counts here, never silently), and
  ``statuses``: how many of each status (0: no answer).

The game is the Mengxi preset at fleet scale 1.2 with ``clients`` + 10 genco seats (the first
``clients`` that have something to offer in the round send). The server runs with the
defaults (rate limits, audit trail, lock timeouts) but
``MENGXI_LIMIT_BID_BATCHES``, which is raised so that the rate limit does not cap the load
being measured. Run (PostgreSQL, a schema of its own, dropped afterwards)::

    python benchmarks/gateway_load.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test \
        --clients 50 200 --batch 100 --requests 10

and the figures go to ``benchmarks/RESULTS.md`` (section "Gateway under load").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from service_load import LoadGame, Seat  # noqa: E402
from sqlalchemy import text  # noqa: E402

from tests.live_server import LiveServer, environment, free_port, mengxi  # noqa: E402


@dataclass
class Answer:
    key: str
    status: int
    batch_id: int | None
    seconds: float


@dataclass
class Run:
    clients: int
    batch: int
    requests: int
    acknowledged: int
    refused: int
    bids: int
    seconds: float
    bids_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    lost: int
    duplicated: int
    statuses: dict[str, int]


#: Seats joined beyond ``clients``: a genco whose only thermal unit is on outage in the round
#: has nothing to offer, and the first ``clients`` seats that have something send.
SPARE_SEATS = 10
#: Fleet scale of the game: the Mengxi preset has 200 coal units at scale 1, one per genco; a
#: genco beyond them owns only storage. 1.2 gives every one of 210 gencos a coal unit.
SCALE = 1.2


class GatewayGame(LoadGame):
    """:class:`service_load.LoadGame` at fleet scale :data:`SCALE`."""

    def __init__(self, base: str, bots: int, energy_rounds: int, seed: int = 1) -> None:
        self.base = base
        made = httpx.post(f"{base}/sessions", json={
            "name": "gateway load", "seed": seed, "scale": SCALE, "gencos": bots,
            "retailers": 5, "energy_rounds": energy_rounds}, timeout=120)
        made.raise_for_status()
        body = made.json()
        self.id = body["session"]["id"]
        self.boss = httpx.Client(base_url=f"{base}/sessions", timeout=300, headers={
            "Authorization": f"Bearer {body['instructor_token']}"})
        self.seats = []
        limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
        for k in range(1, bots + 1):
            joined = httpx.post(f"{base}/sessions/{self.id}/participants",
                                json={"participant": f"genco-{k}"}, timeout=60)
            joined.raise_for_status()
            token = joined.json()["token"]
            self.seats.append(Seat(f"genco-{k}", token, httpx.Client(
                base_url=f"{base}/sessions/{self.id}", timeout=120, limits=limits,
                headers={"Authorization": f"Bearer {token}"})))


def _pairs(view: dict[str, Any]) -> list[tuple[dict[str, Any], int, float]]:
    return [(u, h, mw) for u in view["units"] if u["technology"] != "storage"
            for h, mw in zip(view["hours"], u["available_mw"], strict=True) if mw >= 0.1]


def can_offer(view: dict[str, Any]) -> bool:
    return bool(_pairs(view))


def offers(view: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """``size`` valid offers as :func:`service_load.offers` makes them, but from every (unit,
    hour) with at least 0.1 MW available."""
    pairs = _pairs(view)
    if not pairs:
        raise RuntimeError(f"{view['participant']} has nothing to offer in these hours")
    blocks = math.ceil(size / len(pairs))
    out = []
    for k in range(blocks):
        for u, h, mw in pairs:
            q = math.floor(mw / blocks * 1000) / 1000
            cost = u["marginal_cost_yuan_per_mwh"] or 0.0
            out.append({"unit": u["unit"], "hour": h, "price": round(cost + k, 2),
                        "quantity": q})
    return out[:size]


def post(seat: Seat, round_id: str, bids: list[dict[str, Any]]) -> Answer:
    key = uuid.uuid4().hex
    t0 = time.perf_counter()
    try:
        r = seat.http.post(f"/rounds/{round_id}/bids", json={"bids": bids},
                           headers={"Idempotency-Key": key})
        status = r.status_code
        batch_id = int(r.json()["batch_id"]) if status == 201 else None
    except httpx.HTTPError:
        status, batch_id = 0, None  # no answer: neither acknowledged nor refused by the server
    return Answer(key, status, batch_id, time.perf_counter() - t0)


def hammer(game: LoadGame, round_id: str, batches: list[list[dict[str, Any]]],
           requests: int) -> tuple[list[Answer], float]:
    answers: list[list[Answer]] = [[] for _ in game.seats]
    start = threading.Barrier(len(game.seats) + 1)

    def bot(k: int) -> None:
        start.wait()
        for r in range(requests):
            bids = [{**b, "price": round(b["price"] + (r % 10) / 100, 2)} for b in batches[k]]
            answers[k].append(post(game.seats[k], round_id, bids))

    threads = [threading.Thread(target=bot, args=(k,), daemon=True)
               for k in range(len(game.seats))]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return [a for xs in answers for a in xs], time.perf_counter() - t0


def check(engine: Any, session_id: str, round_id: str, answers: list[Answer]
          ) -> tuple[int, int]:
    """(lost, duplicated) of the run's answers against the stored rows."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, idempotency_key FROM bid_batches WHERE session_id = :s AND "
            "round_id = :r"), {"s": session_id, "r": round_id}).all()
    sent = {a.key for a in answers}
    stored: dict[str, list[int]] = {}
    for batch_id, key in rows:
        if key in sent:
            stored.setdefault(key, []).append(int(batch_id))
    acked = [a for a in answers if a.status == 201]
    lost = sum(1 for a in acked if a.batch_id not in stored.get(a.key, []))
    acked_keys = {a.key for a in acked}
    duplicated = sum(len(ids) - 1 for ids in stored.values() if len(ids) > 1)
    duplicated += sum(1 for key in stored if key not in acked_keys)
    return lost, duplicated


@contextmanager
def server(database_url: str, schema: str, folder: Path, **env: str) -> Iterator[LiveServer]:
    port = free_port()
    log = folder / "server.log"
    command = mengxi("serve", "--host", "127.0.0.1", "--port", str(port), "--database-url",
                     database_url, "--log-level", "warning")
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env={**environment(schema), **env}, stdout=out,
                                stderr=subprocess.STDOUT, cwd=folder)
    live = LiveServer(f"http://127.0.0.1:{port}", proc, log)
    try:
        live._wait_until_healthy()
        yield live
    finally:
        live.stop()


def run(base: str, engine: Any, clients: int, batch: int, requests: int) -> Run:
    game = GatewayGame(base, clients + SPARE_SEATS, energy_rounds=2)
    try:
        game.clear(game.open())  # the capacity auction, no bids
        rid = game.open()
        views = [s.http.get("/me", params={"round_id": rid}).json() for s in game.seats]
        able = [k for k, v in enumerate(views) if can_offer(v)][:clients]
        if len(able) < clients:
            raise RuntimeError(f"only {len(able)} seats have something to offer")
        game.seats = [game.seats[k] for k in able]
        batches = [offers(views[k], batch) for k in able]
        hammer(game, rid, batches, 1)  # warm: connections, the live session
        answers, seconds = hammer(game, rid, batches, requests)
        lost, duplicated = check(engine, game.id, rid, answers)
    finally:
        game.close()
    acked = [a for a in answers if a.status == 201]
    lat = np.array([a.seconds for a in answers]) * 1000
    assert all(len(b) == batch for b in batches)
    bids = len(acked) * batch
    return Run(clients, batch, requests, len(acked), len(answers) - len(acked), bids,
               seconds, bids / seconds, float(np.percentile(lat, 50)),
               float(np.percentile(lat, 99)), float(lat.max()), lost, duplicated,
               dict(Counter(str(a.status) for a in answers)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("MENGXI_TEST_DATABASE_URL"),
                        help="SQLAlchemy URL of PostgreSQL (default: MENGXI_TEST_DATABASE_URL)")
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--requests", type=int, default=10, help="batches per client")
    parser.add_argument("--code", help="serve the service of this checkout instead (e.g. a "
                                       "git worktree of an earlier commit, for a before/after)")
    args = parser.parse_args()
    if not args.database or not args.database.startswith("postgresql"):
        parser.error("--database must be a PostgreSQL URL (or set MENGXI_TEST_DATABASE_URL)")
    from api.service.db.engine import make_engine

    schema = f"mengxi_gwload_{secrets.token_hex(4)}"
    admin = make_engine(args.database)
    engine = make_engine(args.database, schema)
    try:
        with tempfile.TemporaryDirectory() as folder, \
                server(args.database, schema, Path(folder),
                       MENGXI_LIMIT_BID_BATCHES="100000/minute",
                       **({"PYTHONPATH": args.code} if args.code else {})) as live:
            for n in args.clients:
                result = run(live.api, engine, n, args.batch, args.requests)
                print(json.dumps(asdict(result)), flush=True)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
