"""A real server: ``mengxi serve`` in a subprocess on a free loopback port, killed with
SIGKILL after bids were acknowledged, started again on the same database: the acknowledged
bids are there, a retried batch replays its first answer, and the round clears with them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api.settings import Settings
from tests.api.conftest import API, DATABASES, settings_for

STARTUP_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _command(port: int, url: str) -> list[str]:
    from api import cli

    names = {c.name for c in cli.app.registered_commands}
    module = "api.cli" if "serve" in names else "api.cli_serve"
    return [sys.executable, "-m", module, "serve", "--host", "127.0.0.1", "--port", str(port),
            "--database-url", url, "--log-level", "warning"]


@contextmanager
def server(settings: Settings, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = dict(os.environ)
    env.pop("MENGXI_DATABASE_URL", None)
    if settings.database_schema:
        env["MENGXI_DATABASE_SCHEMA"] = settings.database_schema
    with log.open("ab") as out:
        proc = subprocess.Popen(_command(port, settings.database_url), env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=log.parent)
    base = f"http://127.0.0.1:{port}{API}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer in {STARTUP_SECONDS} s:\n"
                            f"{log.read_text()}")
            time.sleep(0.2)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


@pytest.mark.parametrize("db_kind", DATABASES)
def test_acknowledged_bids_survive_a_killed_server(db_kind: str,
                                                   request: pytest.FixtureRequest,
                                                   tmp_path: Path) -> None:
    if db_kind == "sqlite":  # an empty file: the server creates its tables on start
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'served.sqlite'}")
    else:
        settings = settings_for(db_kind, request, tmp_path)
    log = tmp_path / "server.log"
    offer = [{"unit": "coal_usc-001", "price": 60.0, "quantity": 900.0}]
    with server(settings, log) as (base, proc):
        made = httpx.post(f"{base}/sessions", json={"seed": 5}).json()
        sid = made["session"]["id"]
        boss = {"Authorization": f"Bearer {made['instructor_token']}"}
        token = httpx.post(f"{base}/sessions/{sid}/participants",
                           json={"participant": "genco-1"}).json()["token"]
        me = {"Authorization": f"Bearer {token}", "Idempotency-Key": "first-offer"}
        assert httpx.post(f"{base}/sessions/{sid}/rounds/open", headers=boss).status_code == 200
        first = httpx.post(f"{base}/sessions/{sid}/rounds/capacity/bids", headers=me,
                           json={"bids": offer})
        assert first.status_code == 201
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    with server(settings, log) as (base, _proc):
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
    with server(settings, tmp_path / "server.log") as (base, _proc):
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
