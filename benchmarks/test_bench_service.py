"""The service through real HTTP: bid ingestion by 50 concurrent bots in batches of 100, and
clearing an energy round of 10,000 stored bids end to end; on SQLite and on PostgreSQL (when
``MENGXI_TEST_DATABASE_URL`` is set, in a schema of its own, dropped afterwards).

Run: ``pytest benchmarks/test_bench_service.py --benchmark-only
--benchmark-columns=median,min,max,rounds``. A real server (``mengxi serve``: uvicorn, one
process) runs in a subprocess on a loopback port; the bots are threads of this process, on the
same 2-core machine. The load and the game are :mod:`service_load`'s. Everything is warmed
first (the live session, connections, the server's first energy clearing); each clearing is
the first energy round of a new session (see the test for the growth with a session's
history). ``extra_info``
records bids per second and request latency p50/p99 (ms; medians over the rounds) and the
targets: >= 5,000 bids/s with batches of 100; <= 1 s to clear 10,000 stored bids.
"""

from __future__ import annotations

import os
import secrets
import statistics
from collections.abc import Iterator

import pytest
from service_load import LoadGame, clear_seconds, ingest, serve, store_round
from sqlalchemy import text

BOTS, BATCH, REQUESTS, ROUNDS = 50, 100, 20, 3
CLEAR_BIDS = 10_000
TARGET_BIDS_PER_S, TARGET_CLEAR_S = 5_000, 1.0
PG_URL = os.environ.get("MENGXI_TEST_DATABASE_URL")
DATABASES = [pytest.param("sqlite", id="sqlite"),
             pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(
                 not PG_URL, reason="set MENGXI_TEST_DATABASE_URL for PostgreSQL"))]


@pytest.fixture(scope="module", params=DATABASES)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    folder = tmp_path_factory.mktemp(f"service-{request.param}")
    if request.param == "sqlite":
        with serve(f"sqlite:///{folder / 'bench.sqlite'}", folder) as live:
            yield live.api
        return
    from api.service.db.engine import make_engine

    assert PG_URL
    schema = f"mengxi_bench_{secrets.token_hex(4)}"
    try:
        with serve(PG_URL, folder, schema=schema) as live:
            yield live.api
    finally:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def _db(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["server"])


def test_bid_ingestion(benchmark, server: str, request: pytest.FixtureRequest) -> None:
    game = LoadGame(server, BOTS, energy_rounds=3)
    try:
        game.clear(game.open())  # the capacity auction
        rid = game.open()
        batches = game.batches(rid, BATCH)
        ingest(game, rid, batches, 2)  # warm: live session, connections
        runs = []
        benchmark.group = f"service: ingest {BOTS} bots x batches of {BATCH}"
        benchmark.pedantic(lambda: runs.append(ingest(game, rid, batches, REQUESTS)),
                           rounds=ROUNDS, iterations=1)
        rates = [r.bids_per_second for r in runs]
        benchmark.extra_info.update({
            "database": _db(request), "bots": BOTS, "batch": BATCH,
            "requests_per_round": BOTS * REQUESTS, "bids_per_round": runs[0].bids,
            "bids_per_second_median": round(statistics.median(rates)),
            "bids_per_second": [round(x) for x in rates],
            "p50_ms_median": round(statistics.median(r.p50_ms for r in runs), 1),
            "p99_ms_median": round(statistics.median(r.p99_ms for r in runs), 1),
            "max_ms": round(max(r.max_ms for r in runs), 1),
            "target_bids_per_second": TARGET_BIDS_PER_S,
            "target_met": statistics.median(rates) >= TARGET_BIDS_PER_S})
        seen = game.boss.get(f"/{game.id}/rounds/{rid}/bids").json()["data"]
        assert len(seen) == BOTS
        assert {e["revision"] for e in seen} == {2 + ROUNDS * REQUESTS}
        assert all(len(e["bids"]) == BATCH for e in seen)
    finally:
        game.close()


def test_clear_round_of_stored_bids(benchmark, server: str,
                                    request: pytest.FixtureRequest) -> None:
    """Each round clears the first energy round of a new session holding 10,000 bids; the
    same session's next 10,000-bid round is timed once more after the rounds, since a clear
    writes the whole session (every earlier round's bids and results) to its snapshot."""
    warm = LoadGame(server, BOTS, energy_rounds=2)
    try:
        warm.clear(warm.open())  # the capacity auction
        rid = warm.open()
        store_round(warm, rid, CLEAR_BIDS)
        warm.clear(rid)  # warm: the server's first energy clearing
    finally:
        warm.close()
    games: list[LoadGame] = []
    cleared: list[tuple[LoadGame, str]] = []
    times: list[float] = []

    def stored() -> tuple[tuple[LoadGame, str], dict[str, object]]:
        game = LoadGame(server, BOTS, energy_rounds=2)
        games.append(game)
        game.clear(game.open())  # the capacity auction
        rid = game.open()
        assert store_round(game, rid, CLEAR_BIDS) == CLEAR_BIDS
        cleared.append((game, rid))
        return (game, rid), {}

    def clear(game: LoadGame, rid: str) -> None:
        times.append(clear_seconds(game, rid))

    try:
        benchmark.group = f"service: clear an energy round of {CLEAR_BIDS:,} stored bids"
        benchmark.pedantic(clear, setup=stored, rounds=ROUNDS, iterations=1)
        last = games[-1]
        rid = last.open()
        store_round(last, rid, CLEAR_BIDS)
        second = clear_seconds(last, rid)
        cleared.append((last, rid))
        benchmark.extra_info.update({
            "database": _db(request), "stored_bids": CLEAR_BIDS,
            "clear_seconds_median": round(statistics.median(times), 3),
            "clear_seconds": [round(t, 3) for t in times],
            "second_round_same_session_seconds": round(second, 3),
            "target_seconds": TARGET_CLEAR_S,
            "target_met": statistics.median(times) <= TARGET_CLEAR_S})
        for game, rid in cleared:
            result = game.boss.get(f"/{game.id}/rounds/{rid}/result").json()
            mine = [b for b in result["result"]["bids"] if not b["imputed"]]
            assert result["status"] == "cleared" and len(mine) == CLEAR_BIDS
    finally:
        for game in games:
            game.close()


def test_load_helpers_make_valid_offers() -> None:
    from service_load import offers

    view = {"participant": "g", "hours": [0, 1],
            "units": [{"unit": "c", "technology": "coal_x", "marginal_cost_yuan_per_mwh": 200.0,
                       "available_mw": [10.0, 0.5]}]}
    out = offers(view, 5)
    assert len(out) == 5 and {b["hour"] for b in out} == {0}
    assert sum(b["quantity"] for b in out) <= 10.0
    assert [b["price"] for b in out] == [200.0, 201.0, 202.0, 203.0, 204.0]
