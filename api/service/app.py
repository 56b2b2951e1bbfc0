"""The FastAPI app of the service: :func:`create_app`.

Every route lives under ``settings.api_prefix`` (``/api/v1``), the OpenAPI document at
``/api/v1/openapi.json`` and its browsable page at ``/api/v1/docs``. On start the app upgrades
its database to the newest migration (``migrate_on_start``), creating the tables of an empty
one, and creates the PostgreSQL schema it is told to work in.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.service.db.engine import Database
from api.service.db.migrate import upgrade
from api.service.deps import gateway_limits
from api.service.errors import document_errors, install_handlers
from api.service.gateway.audit import AuditTrail, AuditWriter
from api.service.gateway.limits import RateLimits, StreamSlots
from api.service.live import LiveSessions
from api.service.routers import api_router
from api.service.security import install_log_redaction
from api.service.settings import Settings
from api.web import install_web

log = logging.getLogger(__name__)


def prepare_database(database: Database, settings: Settings) -> None:
    """Create the schema (PostgreSQL, when one is set) and upgrade to the newest migration,
    one process at a time (:func:`api.service.db.migrate.upgrade`)."""
    upgrade(database.engine, schema=settings.database_schema)


class BodySizeLimit:
    """Refuse a request body above ``limit`` bytes with a JSON 413: at once when its declared
    ``Content-Length`` is above it; a body sent without a length is read first (the app reads
    bodies whole anyway), up to the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _refuse(self) -> JSONResponse:
        return JSONResponse({"detail": f"the request body is above this server's limit of "
                                       f"{self.limit} bytes; send fewer bids per batch",
                             "code": "too_large"}, status_code=413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if length.isdigit() and int(length) > self.limit:
                await self._refuse()(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # disconnected: let the app see it
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse()(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app, on the database of ``settings`` (default: read from ``MENGXI_*``)."""
    settings = settings or Settings()
    install_log_redaction()
    database = Database(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await run_in_threadpool(prepare_database, database, settings)
            log.info("database ready: %s", database.engine.url.render_as_string())
        try:
            yield
        finally:
            # the audit rows still queued are written before the engine goes
            await run_in_threadpool(_app.state.audit.close)
            database.dispose()

    app = FastAPI(
        title="Mengxi capacity-market sandbox",
        summary="Trading games of the Mengxi capacity, energy and green-power markets.",
        version="1",
        openapi_url=f"{settings.api_prefix}/openapi.json",
        docs_url=f"{settings.api_prefix}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.live = LiveSessions(settings.session_cache_size, single_writer=database.is_sqlite,
                                  lock_timeout=settings.lock_timeout_seconds)
    app.state.stream_slots = StreamSlots(settings.max_streams_per_token)
    app.state.limits = RateLimits(settings)
    app.state.audit = AuditWriter(database, app.state.live)
    install_handlers(app)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    app.add_middleware(AuditTrail, prefix=settings.api_prefix)  # outermost: sees every refusal
    app.include_router(api_router, prefix=settings.api_prefix,
                       dependencies=[Depends(gateway_limits)])
    install_web(app)  # the game's pages: /, /play/{id}, /console/{id}, /static
    document_errors(app)
    return app
