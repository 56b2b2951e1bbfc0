"""Errors of the API and how every refusal becomes a response a student can act on.

Every error body is ``{"detail": "<what is wrong and what to do>", "code": "<kind>"}``, plus
``"problems"`` when there are several (a refused batch lists ``{"index", "reason"}`` per bad
bid; refused rules or a refused request list ``{"loc", "reason"}``). Domain errors
(:mod:`market.errors`) map to statuses by kind: a refused batch or set-up is 422, acting out
of turn (a closed gate, a round not open yet, a seat taken) is 409, an unknown round is 404.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from market.errors import (
    BidsRefused,
    GateClosedError,
    MarketError,
    ParticipantError,
    RoundStateError,
    SessionStateError,
    UnknownRoundError,
)

log = logging.getLogger(__name__)


class Problem(BaseModel):
    """One problem of a refusal: a bad bid (``index``) or a bad field (``loc``)."""

    index: int | None = None
    loc: str | None = None
    reason: str


class ErrorBody(BaseModel):
    """The body of every refusal and error."""

    detail: str = Field(description="What is wrong and what to do about it")
    code: str = Field(description="The kind of refusal, e.g. invalid_request, bids_refused, "
                                  "not_found, conflict, busy, unauthorized, token_expired, "
                                  "token_revoked, too_many_sessions, too_many_wrong_tokens, "
                                  "too_many_bids, too_many_streams")
    problems: list[Problem] | None = Field(
        default=None, description="Every problem when there are several")


#: Status codes and what they mean, for the OpenAPI document (see :func:`responses`).
STATUS_TEXT: dict[int, str] = {
    400: "Malformed JSON",
    401: "No bearer token, or an unknown, expired (token_expired) or revoked (token_revoked) "
         "one",
    403: "The token's role may not do this",
    404: "No such session for this token, or no such round or seat",
    409: "Out of turn: the round is not open, the seat is taken, the game is halted",
    412: "The stored revision differs from If-Match",
    413: "The body or the batch is too large",
    422: "The request was refused; every problem listed",
    429: "Too many requests: sessions created or unknown tokens sent from this address, bid "
         "batches or event streams of this token; see Retry-After",
    503: "Busy: a lock or a statement took longer than the server's timeout; see Retry-After",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of an operation: each status with the :class:`ErrorBody` model."""
    return {code: {"model": ErrorBody, "description": STATUS_TEXT[code]} for code in codes}


class ApiError(Exception):
    """A refusal with its HTTP status, a code and an actionable message."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str, *, problems: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems
        self.headers = headers


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Halted(Conflict):
    code = "halted"


class TooLarge(ApiError):
    status, code = 413, "too_large"


class Refused(ApiError):
    status, code = 422, "refused"


class InvalidRequest(ApiError):
    """A request field out of range (the same code as the schema's own refusals)."""

    status, code = 422, "invalid_request"


class TooMany(ApiError):
    status, code = 429, "too_many_requests"


class Busy(ApiError):
    """A lock or statement that took longer than the server's timeout: try again soon."""

    status, code = 503, "busy"

    def __init__(self, detail: str, retry_after: float = 1.0) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


#: SQLSTATEs of PostgreSQL that mean "waited too long, try again": lock_timeout,
#: statement_timeout (query canceled), deadlock, serialization failure.
RETRY_SQLSTATES = frozenset({"55P03", "57014", "40P01", "40001"})


def is_busy_error(exc: BaseException) -> bool:
    """A database error that means a timeout or lock conflict (a 503), not a bug."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text


def session_not_found(session_id: str) -> NotFound:
    """The one answer for a session that does not exist or is not the caller's."""
    return NotFound(f"no session {session_id!r} for this token: check the session id, and "
                    "use the token you got when you created or joined that session")


def _body(detail: str, code: str, problems: list[dict[str, Any]] | None = None
          ) -> dict[str, Any]:
    out: dict[str, Any] = {"detail": detail, "code": code}
    if problems is not None:
        out["problems"] = problems
    return out


def market_error_response(exc: MarketError) -> JSONResponse:
    """The response of a domain refusal (see the module docstring)."""
    problems: list[dict[str, Any]] | None = None
    if isinstance(exc, BidsRefused):
        status, code = 422, "bids_refused"
        problems = [{"index": i, "reason": why} for i, why in exc.problems]
        detail = (f"bids of {exc.participant!r} for round {exc.round_id!r} refused "
                  f"({len(problems)} problem{'s' if len(problems) != 1 else ''}); nothing was "
                  "stored: fix every listed bid and send the whole batch again")
    elif isinstance(exc, SessionStateError):
        log.error("saved session does not restore: %s", exc)
        return JSONResponse(_body("the saved state of this session does not restore; tell "
                                  "the instructor", "state_error"), status_code=500)
    else:
        detail = str(exc)
        reasons = getattr(exc, "problems", None)
        if reasons:
            problems = [{"loc": str(getattr(p, "path", "")) or None,
                         "reason": str(getattr(p, "message", p))} for p in reasons]
        if isinstance(exc, UnknownRoundError):
            status, code = 404, "unknown_round"
        elif isinstance(exc, GateClosedError):
            status, code = 409, "gate_closed"
        elif isinstance(exc, RoundStateError):
            status, code = 409, "round_state"
        elif isinstance(exc, ParticipantError):
            status, code = 409, "participant"
        else:
            status, code = 422, "refused"
    return JSONResponse(_body(detail, code, problems), status_code=status)


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def validation_error_response(exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        where = bad_json.get("loc", ("body", "?"))[-1]
        why = (bad_json.get("ctx") or {}).get("error", "JSON decode error")
        return JSONResponse(_body(f"the request body is not valid JSON: {why} at character "
                                  f"{where}; send a JSON object", "malformed_json"),
                            status_code=400)
    problems = [{"loc": _loc(tuple(e.get("loc", ()))), "reason": str(e.get("msg", ""))}
                for e in errors]
    shown = "; ".join(f"{p['loc']}: {p['reason']}" for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return JSONResponse(_body(f"request refused: {shown}{more}", "invalid_request", problems),
                        status_code=422)


def _statuses(path: str, method: str, op: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer with (see :func:`document_errors`)."""
    codes = {503}  # every operation reads the database, under the lock and statement timeouts
    if op.get("parameters") or op.get("requestBody"):
        codes.add(422)
    if op.get("requestBody"):
        codes |= {400, 413}
    if op.get("security"):
        codes |= {401, 403, 429}  # 429: the address sent too many unknown tokens
    if "{session_id}" in path:
        codes |= {404, 409}
    if op.get("operationId") == "stream_events":
        codes |= {401, 429}  # a ticket instead of a token: unknown or used ticket is 401
    return codes


UNIT_SUFFIXES = (("_yuan_per_kw_yr", "yuan/kW·yr"), ("_yuan_per_mwh", "yuan/MWh"),
                 ("_mwh", "MWh"), ("_mw", "MW"), ("_yuan", "yuan"), ("_fen", "fen (0.01 yuan)"),
                 ("_seconds", "seconds"))
"""A field's unit, read from the end of its name (the house naming rule)."""


def describe_units(schemas: dict[str, Any]) -> None:
    """Give every schema property whose name ends in a unit a description naming it (kept
    where the model has one already, with the unit appended when it does not say it)."""
    for schema in schemas.values():
        for name, prop in schema.get("properties", {}).items():
            unit = next((u for suffix, u in UNIT_SUFFIXES if name.endswith(suffix)), None)
            if unit is None:
                continue
            text = prop.get("description", "")
            if unit not in text:
                prop["description"] = f"{text} (unit: {unit})".strip() if text else \
                    f"Unit: {unit}"


TOKEN_OPTIONAL = frozenset({"create_session"})
"""Operations open to anyone that also read a token when one is sent (an instructor's token
adds the new game to that instructor's list)."""


def document_errors(app: FastAPI) -> None:
    """Make the app's OpenAPI document declare, for every operation, each error status it can
    return, all with :class:`ErrorBody` (FastAPI's default 422 body is never sent, so it is
    replaced): 401/403/429 where a token is read (429: rate limits), 404/409 under a
    session, 400/413/422 for bodies and parameters, 503 everywhere (timeouts)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = build()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in ErrorBody.model_json_schema(
                ref_template="#/components/schemas/{model}").get("$defs", {}).items():
            schemas[name] = schema
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        body.pop("$defs", None)
        schemas["ErrorBody"] = body
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        describe_units(schemas)
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for path, item in doc.get("paths", {}).items():
            for method, op in item.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                if op.get("operationId") in TOKEN_OPTIONAL and op.get("security"):
                    # open: {} (no token) is one of the accepted requirements
                    op["security"] = [{}, *op["security"]]
                responses = op["responses"]
                for code in sorted(_statuses(path, method, op)):
                    old = responses.get(str(code), {})
                    responses[str(code)] = {
                        "description": old.get("description") or STATUS_TEXT[code],
                        "content": ref}
                    if code in (429, 503):
                        responses[str(code)]["headers"] = {"Retry-After": {
                            "description": "Seconds to wait before trying again",
                            "schema": {"type": "integer"}}}
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def install_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the body of the module docstring."""

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(_body(exc.detail, exc.code, exc.problems), status_code=exc.status,
                            headers=exc.headers)

    async def on_market_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, MarketError)
        return market_error_response(exc)

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_error_response(exc)

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed",
                413: "too_large"}.get(exc.status_code, "http_error")
        detail = str(exc.detail)
        if exc.status_code == 400:
            detail = ("the request body could not be read as JSON (a number of more than "
                      "4,300 digits is not read); send a JSON object")
        if exc.status_code == 413:
            detail = "the request body is too large; send fewer bids per batch"
        return JSONResponse(_body(detail, code), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        if not is_busy_error(exc):
            log.error("database error on %s %s", request.method, request.url.path,
                      exc_info=exc)
            return JSONResponse(_body("the server failed to answer this request; tell the "
                                      "instructor", "internal_error"), status_code=500)
        settings = request.app.state.settings
        log.warning("busy: %s %s: %s", request.method, request.url.path,
                    str(exc).splitlines()[0])
        busy = Busy("the server is busy with this session (a lock or a statement took "
                    f"longer than {settings.lock_timeout_seconds:g} s); try again shortly",
                    settings.lock_timeout_seconds)
        return await on_api_error(request, busy)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(DBAPIError, on_database)
    app.add_exception_handler(PoolTimeout, on_database)
    app.add_exception_handler(MarketError, on_market_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
