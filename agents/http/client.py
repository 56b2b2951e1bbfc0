"""The game API as an HTTP client sees it: calls with bounded retries, refusals as exceptions,
and the session's server-sent events.

* :class:`GameClient` sends a call and retries it, with exponential backoff, a bounded number
  of times: always when the request never reached the server (connection refused, connect
  timeout), and, for calls that are safe to repeat (reads, a bid batch with its
  ``Idempotency-Key``, closing and clearing), also when the connection dropped after the
  request was sent or the server answered 429/502/503/504. A 4xx answer is a
  :class:`Refusal` (status, code, detail, problems), never retried.
* :func:`parse_events` reads the ``text/event-stream`` format; :meth:`GameClient.stream_events`
  follows ``GET /sessions/{id}/events`` from an event id (``Last-Event-ID``), and
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


def parse_events(lines: Iterable[str]) -> Iterator[Event]:
    """Events of a ``text/event-stream`` (one line per item, without line ends); comment lines
    (keep-alives) and events without an id are skipped."""
    eid: str | None = None
    kind = "message"
    data: list[str] = []
    for line in lines:
        if line == "":
            if eid is not None and eid.isdigit():
                text = "\n".join(data)
                try:
                    payload = json.loads(text) if text else {}
                except ValueError:
                    payload = {"raw": text}
                yield Event(int(eid), kind, payload if isinstance(payload, dict) else {})
            eid, kind, data = None, "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            eid = value
        elif name == "event":
            kind = value
        elif name == "data":
            data.append(value)


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
        last: Exception | None = None
        for attempt in range(self.retry.attempts):
            if attempt:
                self.retries += 1
                self.sleep(self.retry.wait(attempt - 1))
            try:
                r = self.http.request(method, url, json=json_body, params=params,
                                      headers=self._headers(headers))
            except NOT_SENT as exc:
                last = exc
                log.info("%s %s not sent (%s); trying again", method, path, exc)
                continue
            except httpx.TransportError as exc:
                if not repeatable:
                    raise
                last = exc
                log.info("%s %s: connection lost (%s); trying again", method, path, exc)
                continue
            if r.status_code in RETRY_STATUSES and repeatable:
                last = Refusal.of(r)
                continue
            if r.status_code >= 400:
                raise Refusal.of(r)
            return r
        assert last is not None
        raise last

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None).json()

    def post(self, path: str, body: Any = None, *, headers: dict[str, str] | None = None,
             repeatable: bool = True) -> Any:
        return self.call("POST", path, json_body=body, headers=headers,
                         repeatable=repeatable).json()

    def stream_events(self, session_id: str, after: int, *,
                      read_timeout: float = 60.0) -> Iterator[Event]:
        """Follow the session's events after id ``after`` (sent as ``Last-Event-ID``) until
        the server ends the stream or the connection drops (httpx errors propagate)."""
        headers = self._headers({"Accept": "text/event-stream", "Last-Event-ID": str(after)})
        timeout = httpx.Timeout(self.timeout, read=read_timeout)
        with self.http.stream("GET", f"{self.base}/sessions/{session_id}/events",
                              headers=headers, timeout=timeout) as r:
            if r.status_code >= 400:
                r.read()
                raise Refusal.of(r)
            yield from parse_events(r.iter_lines())

    def events_after(self, session_id: str, after: int, limit: int = 500) -> list[Event]:
        """Events after id ``after`` as one JSON page (``GET .../events/log``)."""
        page = self.get(f"/sessions/{session_id}/events/log", after=after, limit=limit)
        return [Event(int(e["id"]), str(e["kind"]), e) for e in page["data"]]
