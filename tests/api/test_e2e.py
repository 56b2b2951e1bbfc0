"""End to end: a real server (``mengxi serve`` in a subprocess on a free loopback port, a
temporary SQLite file, or PostgreSQL when ``MENGXI_TEST_DATABASE_URL`` is set), real HTTP bots
(``mengxi agents run`` in another subprocess, following the event stream, and the runner in
threads) and an instructor driver that opens and clears every round of a small game: a
capacity auction, three energy rounds, a green round, and the settlement steps between them.

What must hold at the end: every bot saw the session finish without an error; every bot bid in
every bid round exactly once (revision 1 on the server, one stored batch per round in its
report, no batch stored twice); the ledger balances in every period and in total; the
leaderboard ranks the seven seats by profit, and each seat's revenue less cost is its net of
the ledger; the certificate registry balances (issued = held + retired + expired); the green
round traded.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.http.runner import BotReport, run_bots
from api.service.settings import Settings
from tests.api.conftest import DATABASES, settings_for
from tests.live_server import environment, mengxi, serve

ROUND_SECONDS = 120
CLI_BOTS, THREAD_BOTS = 5, 2
SEATS = CLI_BOTS + THREAD_BOTS


class Instructor:
    """Opens each round, waits until every seat has bid, clears it."""

    def __init__(self, base: str, session_id: str, token: str) -> None:
        self.http = httpx.Client(base_url=f"{base}/sessions",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=60)
        self.sid = session_id

    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(f"/{self.sid}{path}", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str) -> Any:
        r = self.http.post(f"/{self.sid}{path}")
        assert r.status_code == 200, r.text
        return r.json()

    def wait_for_seats(self, n: int) -> None:
        deadline = time.monotonic() + ROUND_SECONDS
        while len(self.get("/participants")["data"]) < n:
            assert time.monotonic() < deadline, "the bots did not take their seats"
            time.sleep(0.1)

    def play(self, bidders: int) -> list[str]:
        """Every bid round, in plan order: open, wait for ``bidders`` batches, clear."""
        played = []
        while not self.get("/rounds/current")["finished"]:
            rid = self.post("/rounds/open")["round_id"]
            deadline = time.monotonic() + ROUND_SECONDS
            while self.get(f"/rounds/{rid}")["bidders"] < bidders:
                assert time.monotonic() < deadline, f"the bots did not all bid in {rid}"
                time.sleep(0.1)
            self.post(f"/rounds/{rid}/clear")
            played.append(rid)
        return played

    def ledger(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            page = self.get("/ledger", offset=len(rows), limit=10_000)
            rows += page["data"]
            if len(rows) >= page["count"]:
                return rows


def _settings(db_kind: str, request: pytest.FixtureRequest, folder: Path) -> Settings:
    if db_kind == "sqlite":  # an empty file: the server creates its tables on start
        return Settings(database_url=f"sqlite:///{folder / 'e2e.sqlite'}")
    return settings_for(db_kind, request, folder)


@pytest.mark.parametrize("db_kind", DATABASES)
@pytest.mark.slow
def test_bots_play_a_whole_game_over_http(db_kind: str, request: pytest.FixtureRequest,
                                          tmp_path: Path) -> None:
    settings = _settings(db_kind, request, tmp_path)
    with serve(settings.database_url, tmp_path, schema=settings.database_schema) as server:
        base = server.api
        made = httpx.post(f"{base}/sessions", json={
            "name": "e2e", "seed": 11, "energy_rounds": 3, "hours_per_round": 24},
            timeout=60).json()
        sid, token = made["session"]["id"], made["instructor_token"]
        assert len(made["session"]["seats"]) == SEATS
        boss = Instructor(base, sid, token)
        plan = boss.get("/rounds")["data"]
        bid_rounds = [r["round_id"] for r in plan if r["takes_bids"]]
        assert [r["kind"] for r in plan if r["takes_bids"]] == [
            "capacity", "energy", "energy", "energy", "green"]

        cli = subprocess.Popen(
            mengxi("agents", "run", "--url", server.url, "--session", sid, "--count",
                   str(CLI_BOTS), "--strategy", "learning", "--seed", "3", "--json",
                   "--timeout", "600"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=environment(settings.database_schema), cwd=tmp_path)
        try:
            boss.wait_for_seats(CLI_BOTS)
            threaded: list[BotReport] = []
            runner = threading.Thread(target=lambda: threaded.extend(run_bots(
                base, sid, THREAD_BOTS, strategy="markup", seed=5, deadline_seconds=600)),
                daemon=True)
            runner.start()
            boss.wait_for_seats(SEATS)
            played = boss.play(bidders=SEATS)
            out, err = cli.communicate(timeout=ROUND_SECONDS)
            runner.join(ROUND_SECONDS)
        finally:
            if cli.poll() is None:
                cli.kill()
        assert cli.returncode == 0, err.decode()[-3000:]
        assert not runner.is_alive()
        reports = [BotReport(**r) for r in json.loads(out)] + threaded
        assert played == bid_rounds

        # every bot saw the end, bid once in every bid round, and never had a batch stored twice
        assert sorted(r.participant for r in reports) == sorted(made["session"]["seats"])
        for r in reports:
            assert r.error is None and r.finished, r
            assert r.rounds_bid == bid_rounds, r
            assert (r.stored, r.replayed) == (len(bid_rounds), 0), r
            assert not r.polling and r.events > 0, r
        for rid in bid_rounds:
            seen = boss.get(f"/rounds/{rid}/bids")["data"]
            assert sorted(e["participant"] for e in seen) == sorted(made["session"]["seats"])
            assert {e["revision"] for e in seen} == {1}
        assert boss.get("")["status"] == "finished"

        # the ledger balances, period by period
        legs = boss.ledger()
        assert legs
        by_period: dict[str, int] = {}
        net: dict[str, int] = {}
        for leg in legs:
            by_period[leg["period"]] = by_period.get(leg["period"], 0) + leg["amount_fen"]
            net[leg["participant"]] = net.get(leg["participant"], 0) + leg["amount_fen"]
        assert set(by_period.values()) == {0}
        assert sum(net.values()) == 0

        # the leaderboard: every seat, ranked by profit, each seat's money is its ledger net
        board = boss.get("/leaderboard")["data"]
        assert sorted(row["participant"] for row in board) == sorted(made["session"]["seats"])
        assert [row["rank"] for row in board] == list(range(1, SEATS + 1))
        profits = [row["profit_fen"] for row in board]
        assert profits == sorted(profits, reverse=True)
        for row in board:
            assert row["revenue_fen"] - row["cost_fen"] == net.get(row["participant"], 0)
            assert row["profit_fen"] == (row["revenue_fen"] - row["cost_fen"]
                                         - row["variable_cost_fen"])
        assert any(row["variable_cost_fen"] > 0 for row in board)

        # markets cleared: energy prices in every hour, a green trade, certificates balance
        for rid in bid_rounds:
            result = boss.get(f"/rounds/{rid}/result")
            if result["kind"] == "energy":
                assert len(result["hourly_price_yuan_per_mwh"]) == 24
                assert result["volume"] > 0
        green = boss.get(f"/rounds/{bid_rounds[-1]}/result")
        assert green["volume"] > 0 and green["result"]["trades"]
        totals = boss.get("/certificates")["totals"]
        assert totals["issued"] == pytest.approx(
            totals["held"] + totals["retired"] + totals["expired"])


@pytest.mark.parametrize("db_kind", DATABASES)
def test_server_bots_fill_the_seats_people_left_empty(db_kind: str,
                                                     request: pytest.FixtureRequest,
                                                     tmp_path: Path) -> None:
    """Two HTTP bots take seats; the instructor asked for bots at creation, so the server
    seats bots in the five seats still empty when the first round opens; the game plays out."""
    settings = _settings(db_kind, request, tmp_path)
    with serve(settings.database_url, tmp_path, schema=settings.database_schema) as server:
        base = server.api
        made = httpx.post(f"{base}/sessions", json={
            "name": "filled", "seed": 13, "energy_rounds": 2, "bots": {"strategy": "markup"}},
            timeout=60).json()
        sid, token = made["session"]["id"], made["instructor_token"]
        assert made["session"]["setup"]["bots"] == {"count": None, "strategy": "markup",
                                                    "seed": None}
        boss = Instructor(base, sid, token)
        people: list[BotReport] = []
        runner = threading.Thread(target=lambda: people.extend(run_bots(
            base, sid, 2, seats=["genco-1", "retailer-1"], seed=1, deadline_seconds=600)),
            daemon=True)
        runner.start()
        boss.wait_for_seats(2)
        played = boss.play(bidders=SEATS)
        runner.join(ROUND_SECONDS)
        assert not runner.is_alive()
        assert [(r.participant, r.rounds_bid, r.error) for r in people] == [
            ("genco-1", played, None), ("retailer-1", played, None)]
        names = {p["participant"]: p["display_name"] for p in boss.get("/participants")["data"]}
        assert {s for s, n in names.items() if n == "bot (markup)"} == set(
            made["session"]["seats"]) - {"genco-1", "retailer-1"}
        for rid in played:
            seen = boss.get(f"/rounds/{rid}/bids")["data"]
            assert len(seen) == SEATS and {e["revision"] for e in seen} == {1}
        assert boss.get("")["status"] == "finished"
        legs = boss.ledger()
        assert sum(leg["amount_fen"] for leg in legs) == 0
