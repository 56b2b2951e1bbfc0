"""Routes of the pages and their static files.

Pages carry a strict Content-Security-Policy: scripts and styles only from this origin, no
inline script, requests only to this origin. The tokens live in ``sessionStorage``, so an
injected script is what would steal them; the pages also build every text with
``textContent`` (never ``innerHTML`` of data) for the same reason.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
STATIC_URL = "/static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

#: Session ids are short URL-safe strings (``api.service.security.new_session_id``).
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def preset_names() -> list[str]:
    from market.rules.loading import preset_names as names

    return names()


@lru_cache(maxsize=1)
def strategy_names() -> list[str]:
    from agents.strategies.base import strategy_names as names

    return names()


def _page(request: Request, name: str, title: str, session_id: str | None = None,
          **context: object) -> HTMLResponse:
    if session_id is not None and not SESSION_ID.match(session_id):
        raise HTTPException(status_code=404, detail="no such session")
    prefix = request.app.state.settings.api_prefix
    response = templates.TemplateResponse(
        request, name, {"title": title, "api_prefix": prefix, "static": STATIC_URL,
                        "session_id": session_id or "", **context})
    response.headers.update(HEADERS)
    return response


@router.get("/", response_class=HTMLResponse)
def lobby(request: Request) -> HTMLResponse:
    """The lobby: join a game with its id or invitation link, or create one."""
    return _page(request, "lobby.html", "Lobby", presets=preset_names())


@router.get("/play/{session_id}", response_class=HTMLResponse)
def play(request: Request, session_id: str) -> HTMLResponse:
    """A participant's page: units, the current round, the bid form, results."""
    return _page(request, "play.html", "Trading desk", session_id)


@router.get("/console/{session_id}", response_class=HTMLResponse)
def console(request: Request, session_id: str) -> HTMLResponse:
    """The instructor's console: rounds, participants, bots, leaderboard, ledger."""
    return _page(request, "console.html", "Instructor console", session_id,
                 strategies=strategy_names())


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204)


def install_web(app: FastAPI) -> None:
    """Serve the pages and their static files from ``app``."""
    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="static")
