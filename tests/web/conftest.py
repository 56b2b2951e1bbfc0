"""Fixtures of the browser tests: a real server (``mengxi serve`` in a subprocess, SQLite in a
temporary folder, a free loopback port) and Debian's Chromium driven by Playwright (no
browser download: ``/usr/bin/chromium``). Screenshots go to ``$MENGXI_WEB_SHOTS`` when set,
else to the test's temporary folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import serve

CHROMIUM = Path("/usr/bin/chromium")
NO_CHROMIUM = "Debian chromium not installed (apt-get install chromium)"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT``) of a fresh server on an empty SQLite file."""
    folder = tmp_path_factory.mktemp("web-server")
    with serve(f"sqlite:///{folder / 'web.sqlite'}", folder, stop="kill") as live:
        yield live.url


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
