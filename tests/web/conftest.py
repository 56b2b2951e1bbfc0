"""Fixtures of the browser tests: a real server (``mengxi serve`` in a subprocess, SQLite in a
temporary folder, a free loopback port) and Debian's Chromium driven by Playwright (no
browser download: ``/usr/bin/chromium``). Screenshots go to ``$MENGXI_WEB_SHOTS`` when set,
else to the test's temporary folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = "Debian chromium not installed (apt-get install chromium)"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STARTUP_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT``) of a fresh server on an empty SQLite file."""
    folder = tmp_path_factory.mktemp("web-server")
    log = folder / "server.log"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENGXI_")}
    command = [sys.executable, "-m", "api.cli_serve", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--database-url", f"sqlite:///{folder / 'web.sqlite'}",
               "--log-level", "warning"]
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer in {STARTUP_SECONDS} s:\n"
                            f"{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (skips when it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go."""
    folder = Path(os.environ.get("MENGXI_WEB_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
