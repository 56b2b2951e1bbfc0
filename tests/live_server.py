"""A real server for tests and benchmarks: ``mengxi serve`` (uvicorn, one process) in a
subprocess on a free loopback port, on the database it is given.

    with serve(f"sqlite:///{tmp_path / 'x.sqlite'}", tmp_path) as server:
        httpx.get(f"{server.api}/health")

:func:`serve` starts it, waits until ``/api/v1/health`` answers 200 and stops it at the end.
The server writes its output to ``folder / "server.log"`` (appended: a server started again
in the same folder adds to it) and runs in ``folder``. It sees none of the caller's
``MENGXI_*`` variables, only the schema it is given, so it runs on the given database and the
settings' defaults whatever the shell holds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

#: Path prefix of every route (``Settings.api_prefix``'s default).
API = "/api/v1"
#: How long a server may take to answer its first health check, seconds (migrations included).
STARTUP_SECONDS = 120


class ServerDidNotStart(RuntimeError):
    """The server exited, or did not answer in :data:`STARTUP_SECONDS`; carries its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mengxi(*args: str) -> list[str]:
    """The command line of ``mengxi ARGS...`` run by this interpreter (``python -m api.cli``)."""
    return [sys.executable, "-m", "api.cli", *args]


def environment(schema: str | None = None) -> dict[str, str]:
    """This process's environment without any ``MENGXI_*`` variable; with
    ``MENGXI_DATABASE_SCHEMA`` set when a (PostgreSQL) ``schema`` is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENGXI_")}
    if schema:
        env["MENGXI_DATABASE_SCHEMA"] = schema
    return env


@dataclass(frozen=True)
class LiveServer:
    """A started server: ``url`` is ``http://127.0.0.1:PORT``, ``api`` that plus ``/api/v1``."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def api(self) -> str:
        return f"{self.url}{API}"

    def kill(self) -> None:
        """SIGKILL, as a crash would end it (no shutdown, nothing flushed); waits for the end."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful shutdown), SIGKILL if it has not ended in 30 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.proc.poll() is not None:
                raise ServerDidNotStart(f"the server exited with {self.proc.returncode}:\n"
                                        f"{self.log.read_text()}")
            try:
                if httpx.get(f"{self.api}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServerDidNotStart(f"the server did not answer in {STARTUP_SECONDS} s:\n"
                                        f"{self.log.read_text()}")
            time.sleep(0.2)


@contextmanager
def serve(database_url: str, folder: Path, *, schema: str | None = None,
          stop: Literal["terminate", "kill"] = "terminate") -> Iterator[LiveServer]:
    """``mengxi serve`` on ``database_url`` (SQLAlchemy URL; an empty SQLite file is fine: the
    server migrates it on start) and, on PostgreSQL, ``schema``; yields the server once it is
    healthy. At the end it is stopped gracefully (``stop="terminate"``) or killed
    (``"kill"``: no wait for open connections such as a browser's event stream). Raises
    :class:`ServerDidNotStart` with the server's log when it does not come up."""
    port = free_port()
    log = folder / "server.log"
    command = mengxi("serve", "--host", "127.0.0.1", "--port", str(port), "--database-url",
                     database_url, "--log-level", "warning")
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env=environment(schema), stdout=out,
                                stderr=subprocess.STDOUT, cwd=folder)
    server = LiveServer(f"http://127.0.0.1:{port}", proc, log)
    try:
        server._wait_until_healthy()
        yield server
    finally:
        if stop == "kill":
            server.kill()
        else:
            server.stop()
