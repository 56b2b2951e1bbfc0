"""A real server: ``mengxi serve`` in a subprocess on a free loopback port, killed with
SIGKILL after bids were acknowledged, started again on the same database: the acknowledged
bids are there, a retried batch replays its first answer, and the round clears with them."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from api.service.settings import Settings
from tests.api.conftest import DATABASES, settings_for
from tests.live_server import LiveServer, serve


def server(settings: Settings, folder: Path) -> AbstractContextManager[LiveServer]:
    """A server on ``settings``' database, killed (SIGKILL) at the end if it still runs."""
    return serve(settings.database_url, folder, schema=settings.database_schema, stop="kill")


@pytest.mark.parametrize("db_kind", DATABASES)
@pytest.mark.slow
def test_acknowledged_bids_survive_a_killed_server(db_kind: str,
                                                   request: pytest.FixtureRequest,
                                                   tmp_path: Path) -> None:
    if db_kind == "sqlite":  # an empty file: the server creates its tables on start
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'served.sqlite'}")
    else:
        settings = settings_for(db_kind, request, tmp_path)
    with server(settings, tmp_path) as live:
        base = live.api
        made = httpx.post(f"{base}/sessions", json={"seed": 5}).json()
        sid = made["session"]["id"]
        boss = {"Authorization": f"Bearer {made['instructor_token']}"}
        joined = httpx.post(f"{base}/sessions/{sid}/participants",
                            json={"participant": "genco-1"}).json()
        token = joined["token"]
        unit = next(u for u in joined["view"]["units"] if u["accredited_mw"] > 0)
        offer = [{"unit": unit["unit"], "price": 60.0, "quantity": unit["accredited_mw"]}]
        me = {"Authorization": f"Bearer {token}", "Idempotency-Key": "first-offer"}
        assert httpx.post(f"{base}/sessions/{sid}/rounds/open", headers=boss).status_code == 200
        first = httpx.post(f"{base}/sessions/{sid}/rounds/capacity/bids", headers=me,
                           json={"bids": offer})
        assert first.status_code == 201
        live.kill()
    with server(settings, tmp_path) as live:
        base = live.api
        seen = httpx.get(f"{base}/sessions/{sid}/rounds/capacity/bids", headers=boss).json()
        assert seen["data"] == [{"participant": "genco-1", "revision": 1,
                                 "bids": [{**offer[0], "side": "sell", "hour": None,
                                           "counterparty": None}]}]
        retry = httpx.post(f"{base}/sessions/{sid}/rounds/capacity/bids", headers=me,
                           json={"bids": offer})
        assert retry.status_code == 201 and retry.json() == first.json()
        cleared = httpx.post(f"{base}/sessions/{sid}/rounds/capacity/clear", headers=boss)
        assert cleared.status_code == 200
        offers = [o for o in cleared.json()["result"]["offers"] if not o["imputed"]]
        assert [(o["participant"], o["price_yuan_per_kw_yr"]) for o in offers] == \
            [("genco-1", 60.0)]


def test_events_are_pushed_while_the_stream_is_open(tmp_path: Path) -> None:
    import threading

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'served.sqlite'}")
    with server(settings, tmp_path) as live:
        base = live.api
        made = httpx.post(f"{base}/sessions", json={"seed": 5}).json()
        sid = made["session"]["id"]
        boss = {"Authorization": f"Bearer {made['instructor_token']}"}
        seen: list[str] = []
        listening = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", f"{base}/sessions/{sid}/events", headers=boss,
                              timeout=30) as r:
                listening.set()
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        seen.append(line.removeprefix("event: "))
                    if "round_cleared" in seen:
                        return

        reader = threading.Thread(target=listen, daemon=True)
        reader.start()
        assert listening.wait(30)
        time.sleep(0.5)
        httpx.post(f"{base}/sessions/{sid}/rounds/open", headers=boss)
        httpx.post(f"{base}/sessions/{sid}/rounds/capacity/clear", headers=boss)
        reader.join(30)
        assert not reader.is_alive()
        assert seen == ["session_created", "round_opened", "gate_closed", "round_cleared"]
