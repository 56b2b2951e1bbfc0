"""Load on the game service through real HTTP: bid ingestion by many concurrent bots, and the
clearing of a round holding many stored bids, end to end.

Used by ``benchmarks/test_bench_service.py``; also a script:

    python benchmarks/service_load.py --database sqlite --bots 50 --batch 100 --requests 20
    python benchmarks/service_load.py --url http://127.0.0.1:8000 --bots 50   # a running server

The game: the Mengxi preset at scale 1 with one genco seat per bot (every one owns coal) and
five retailers. Each bot joins its seat and sends whole batches of ``batch`` energy offers
(its units' available MW in the round's hours, split into blocks on the MW grid, priced from
marginal cost up); every batch replaces the bot's earlier one and carries its own
Idempotency-Key, as the HTTP runner's batches do. Latency is measured per request, from
sending to the full answer, on the bots' side.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

# The server helper is the tests' (tests/live_server.py); this file also runs as a script from
# any folder, where the repository's root is not on the path.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.live_server import API, serve  # noqa: E402


@dataclass
class Seat:
    """A bot's seat: participant, token, and its client."""

    participant: str
    token: str
    http: httpx.Client


class LoadGame:
    """A session for load (see the module docstring): ``bots`` genco seats taken."""

    def __init__(self, base: str, bots: int, energy_rounds: int, seed: int = 1) -> None:
        self.base = base
        made = httpx.post(f"{base}/sessions", json={
            "name": "load", "seed": seed, "scale": 1.0, "gencos": bots, "retailers": 5,
            "energy_rounds": energy_rounds}, timeout=120)
        made.raise_for_status()
        body = made.json()
        self.id = body["session"]["id"]
        self.boss = httpx.Client(base_url=f"{base}/sessions", timeout=300, headers={
            "Authorization": f"Bearer {body['instructor_token']}"})
        self.seats: list[Seat] = []
        for k in range(1, bots + 1):
            joined = httpx.post(f"{base}/sessions/{self.id}/participants",
                                json={"participant": f"genco-{k}"}, timeout=60)
            joined.raise_for_status()
            token = joined.json()["token"]
            limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
            self.seats.append(Seat(f"genco-{k}", token, httpx.Client(
                base_url=f"{base}/sessions/{self.id}", timeout=120, limits=limits,
                headers={"Authorization": f"Bearer {token}"})))

    def close(self) -> None:
        for s in self.seats:
            s.http.close()
        self.boss.close()

    def open(self) -> str:
        r = self.boss.post(f"/{self.id}/rounds/open")
        r.raise_for_status()
        return str(r.json()["round_id"])

    def clear(self, round_id: str) -> dict[str, Any]:
        r = self.boss.post(f"/{self.id}/rounds/{round_id}/clear")
        r.raise_for_status()
        return dict(r.json())

    def batches(self, round_id: str, size: int) -> list[list[dict[str, Any]]]:
        """Each seat's batch of ``size`` offers for the energy round (untimed)."""
        return [offers(s.http.get("/me", params={"round_id": round_id}).json(), size)
                for s in self.seats]


def offers(view: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """``size`` valid offers: every (unit, hour) with at least 1 MW available split into equal
    blocks (floored to 0.001 MW), block k priced at marginal cost + k yuan/MWh."""
    pairs = [(u, h, mw) for u in view["units"] if u["technology"] != "storage"
             for h, mw in zip(view["hours"], u["available_mw"], strict=True) if mw >= 1.0]
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


def post_batch(seat: Seat, round_id: str, bids: list[dict[str, Any]]) -> float:
    """Send one batch with a fresh Idempotency-Key; seconds from sending to the answer."""
    t0 = time.perf_counter()
    r = seat.http.post(f"/rounds/{round_id}/bids", json={"bids": bids},
                       headers={"Idempotency-Key": uuid.uuid4().hex})
    elapsed = time.perf_counter() - t0
    if r.status_code != 201:
        raise RuntimeError(f"{seat.participant}: {r.status_code} {r.text[:300]}")
    return elapsed


@dataclass
class Ingestion:
    """One ingestion run: ``bids`` accepted in ``seconds`` of wall time by ``bots`` concurrent
    bots; per-request latency percentiles in ms."""

    bots: int
    batch: int
    requests: int
    bids: int
    seconds: float
    bids_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float


def ingest(game: LoadGame, round_id: str, batches: list[list[dict[str, Any]]],
           requests_per_bot: int) -> Ingestion:
    """Every bot sends ``requests_per_bot`` batches as fast as it is answered, all at once."""
    latencies: list[list[float]] = [[] for _ in game.seats]
    errors: list[BaseException] = []
    start = threading.Barrier(len(game.seats) + 1)

    def bot(k: int) -> None:
        start.wait()
        try:
            for r in range(requests_per_bot):
                bids = [{**b, "price": round(b["price"] + (r % 10) / 100, 2)}
                        for b in batches[k]]
                latencies[k].append(post_batch(game.seats[k], round_id, bids))
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=bot, args=(k,), daemon=True)
               for k in range(len(game.seats))]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} bots failed; first: {errors[0]}")
    lat = np.array([x for xs in latencies for x in xs]) * 1000
    n_bids = sum(len(b) for b in batches) * requests_per_bot
    return Ingestion(len(game.seats), len(batches[0]), int(lat.size), n_bids, seconds,
                     n_bids / seconds, float(np.percentile(lat, 50)),
                     float(np.percentile(lat, 99)), float(lat.max()))


def store_round(game: LoadGame, round_id: str, total_bids: int) -> int:
    """Every seat sends one batch so that the round holds ``total_bids`` bids (untimed);
    returns the number stored."""
    size = math.ceil(total_bids / len(game.seats))
    batches = game.batches(round_id, size)
    left = total_bids
    stored = 0
    for seat, bids in zip(game.seats, batches, strict=True):
        part = bids[:min(size, left)]
        if part:
            post_batch(seat, round_id, part)
            stored += len(part)
            left -= len(part)
    return stored


def clear_seconds(game: LoadGame, round_id: str) -> float:
    """Seconds of ``POST .../clear`` from sending to the full answer (the instructor's)."""
    t0 = time.perf_counter()
    game.clear(round_id)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--database", default="sqlite",
                        help="sqlite, or a SQLAlchemy URL of PostgreSQL, when starting one")
    parser.add_argument("--bots", type=int, default=50)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20, help="batches per bot")
    parser.add_argument("--clear-bids", type=int, default=10_000)
    args = parser.parse_args()

    def run(base: str) -> dict[str, Any]:
        game = LoadGame(base, args.bots, energy_rounds=3)
        try:
            game.clear(game.open())  # the capacity auction, no bids
            rid = game.open()
            batches = game.batches(rid, args.batch)
            ingest(game, rid, batches, 1)  # warm
            out: dict[str, Any] = {"ingestion": asdict(ingest(game, rid, batches,
                                                              args.requests))}
            game.clear(rid)  # warm: the first energy clearing of the server
            rid = game.open()
            out["clear_bids"] = store_round(game, rid, args.clear_bids)
            out["clear_seconds"] = clear_seconds(game, rid)
            return out
        finally:
            game.close()

    if args.url:
        result = run(args.url.rstrip("/").removesuffix(API) + API)
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            url = (f"sqlite:///{Path(folder) / 'load.sqlite'}" if args.database == "sqlite"
                   else args.database)
            with serve(url, Path(folder)) as server:
                result = run(server.api)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
