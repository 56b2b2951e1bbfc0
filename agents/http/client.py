"""The game API as an HTTP client sees it: calls with bounded retries, refusals as exceptions,
and the session's server-sent events.

* :class:`GameClient` sends a call and retries it (with :mod:`tenacity`), with exponential
  backoff, a bounded number of times: always when the request never reached the server
  (connection refused, connect timeout), and, for calls that are safe to repeat (reads, a bid
  batch with its ``Idempotency-Key``, closing and clearing), also when the connection dropped
  after the request was sent or the server answered 429/502/503/504. A 4xx answer is a
  :class:`Refusal` (status, code, detail, problems), never retried.
* Server-sent events are read with :mod:`httpx_sse`: :func:`parse_events` decodes the
  ``text/event-stream`` format, :meth:`GameClient.stream_events` follows
  ``GET /sessions/{id}/events`` from an event id (``Last-Event-ID``), and
  :meth:`GameClient.events_after` reads the same events as JSON pages (for polling).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent, connect_sse
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

log = logging.getLogger(__name__)

#: Answers worth trying again: the server is busy, restarting or behind a proxy that is.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Transport errors raised before the request was sent: always safe to try again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
API_PREFIX = "/api/v1"


class Refusal(Exception):
    """The server refused a call (4xx, or 5xx after the retries): ``status``, ``code``,
    ``detail`` and ``problems`` of the API's error body."""

    def __init__(self, status: int, code: str, detail: str,
                 problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.problems = problems or []

    @classmethod
    def of(cls, response: httpx.Response) -> Refusal:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return cls(response.status_code, str(body.get("code", "http_error")),
                   str(body.get("detail", response.text[:500])), body.get("problems"))


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``attempts`` tries per call; the k-th wait is ``backoff_seconds`` x 2^k,
    at most ``max_backoff_seconds``."""

    attempts: int = 6
    backoff_seconds: float = 0.1
    max_backoff_seconds: float = 5.0

    def wait(self, attempt: int) -> float:
        return float(min(self.backoff_seconds * 2 ** attempt, self.max_backoff_seconds))


@dataclass(frozen=True)
class Event:
    """One server-sent event: ``id`` (increasing in the session), ``kind`` (``round_opened``,
    ...) and its ``data`` (the event as ``/events/log`` shows it)."""

    id: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def events_of(sse: Iterable[ServerSentEvent]) -> Iterator[Event]:
    """The session's events among server-sent events: those with an id that moves on (an event
    without an id of its own repeats the last one, and is skipped), their ``data`` read as
    JSON."""
    last = -1
    for item in sse:
        if not item.id.isdigit() or int(item.id) <= last:
            continue
        last = int(item.id)
        try:
            payload = json.loads(item.data) if item.data else {}
        except ValueError:
            payload = {"raw": item.data}
        yield Event(last, item.event or "message", payload if isinstance(payload, dict) else {})


def parse_events(lines: Iterable[str]) -> Iterator[Event]:
    """Events of a ``text/event-stream`` given line by line (without line ends), decoded by
    :mod:`httpx_sse`; comment lines (keep-alives) and events without an id are skipped.

    >>> [(e.id, e.kind, e.data) for e in parse_events(
    ...     [": keep-alive", "", "id: 4", "event: round_opened", 'data: {"round": 1}', ""])]
    [(4, 'round_opened', {'round': 1})]
    """
    body = (f"{line}\n".encode() for line in lines)
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    return events_of(EventSource(response).iter_sse())


def api_base(url: str) -> str:
    """``URL`` of a server (``http://host:port``) or of its API: the API's base URL."""
    url = url.rstrip("/")
    return url if url.endswith(API_PREFIX) else url + API_PREFIX


class GameClient:
    """Calls of the game API (see the module docstring). ``base_url``: the API's base
    (``http://127.0.0.1:8000/api/v1``); ``http``: the httpx client to send with (default: a
    new one; a test passes a ``TestClient``); ``token``: the bearer token, once known.
    ``retries`` counts the calls sent again."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None,
                 token: str | None = None, retry: RetryPolicy | None = None,
                 timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = api_base(base_url)
        self.http = http if http is not None else httpx.Client(timeout=timeout)
        self._own_http = http is None
        self.token = token
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.sleep = sleep
        self.retries = 0

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    def _headers(self, more: dict[str, str] | None) -> dict[str, str]:
        out = {} if self.token is None else {"Authorization": f"Bearer {self.token}"}
        return out | (more or {})

    def call(self, method: str, path: str, *, json_body: Any = None,
             params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
             repeatable: bool = True) -> httpx.Response:
        """Send one call, retried as the module docstring says; returns a 2xx response."""
        url = self.base + path

        def again(exc: BaseException) -> bool:
            if isinstance(exc, NOT_SENT):
                return True
            if isinstance(exc, Refusal):
                return repeatable and exc.status in RETRY_STATUSES
            return repeatable and isinstance(exc, httpx.TransportError)

        def before_sleep(state: RetryCallState) -> None:
            self.retries += 1
            exc = state.outcome.exception() if state.outcome is not None else None
            log.info("%s %s failed (%s); trying again", method, path, exc)

        def send() -> httpx.Response:
            r = self.http.request(method, url, json=json_body, params=params,
                                  headers=self._headers(headers))
            if r.status_code >= 400:
                raise Refusal.of(r)
            return r

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts), retry=retry_if_exception(again),
            wait=lambda state: self.retry.wait(state.attempt_number - 1), sleep=self.sleep,
            before_sleep=before_sleep, reraise=True)
        return retrying(send)

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None).json()

    def post(self, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
             repeatable: bool = True) -> Any:
        return self.call("POST", path, json_body=body, headers=headers,
                         repeatable=repeatable).json()

    def stream_events(self, session_id: str, after: int, *,
                      read_timeout: float = 60.0) -> Iterator[Event]:
        """Follow the session's events after id ``after`` (sent as ``Last-Event-ID``) until
        the server ends the stream or the connection drops (httpx errors propagate; an answer
        that is not an event stream raises :class:`httpx_sse.SSEError`, a transport error)."""
        headers = self._headers({"Last-Event-ID": str(after)})
        timeout = httpx.Timeout(self.timeout, read=read_timeout)
        with connect_sse(self.http, "GET", f"{self.base}/sessions/{session_id}/events",
                         headers=headers, timeout=timeout) as source:
            if source.response.status_code >= 400:
                source.response.read()
                raise Refusal.of(source.response)
            yield from events_of(source.iter_sse())

    def events_after(self, session_id: str, after: int, limit: int = 500) -> list[Event]:
        """Events after id ``after`` as one JSON page (``GET .../events/log``)."""
        page = self.get(f"/sessions/{session_id}/events/log", after=after, limit=limit)
        return [Event(int(e["id"]), str(e["kind"]), e) for e in page["data"]]
