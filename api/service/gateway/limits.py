"""Rate limits of the gateway, kept with the ``limits`` library (moving windows, in memory).

Four limits, each a setting in ``limits`` notation (``"30/minute;300/hour"``; empty: none):

========================  ==================  ===========================  ================
what                      counted per         setting (``MENGXI_...``)     429 ``code``
========================  ==================  ===========================  ================
sessions created          client address      ``LIMIT_SESSION_CREATION``   too_many_sessions
unknown bearer tokens     client address      ``LIMIT_WRONG_TOKENS``       too_many_wrong_tokens
bid batches sent          token               ``LIMIT_BID_BATCHES``        too_many_bids
event streams opened      token               ``LIMIT_STREAM_OPENS``       too_many_stream_opens
========================  ==================  ===========================  ================

plus the streams a token holds open at once (``MENGXI_MAX_STREAMS_PER_TOKEN``,
:class:`StreamSlots`, 429 ``too_many_streams``). Every 429 carries ``Retry-After`` (seconds
until the window lets the next one through) and the error body ``{detail, code}``.

The counters live in the memory of each server process: with ``--workers N`` a client may
reach up to N times a limit (the workers do not share counters). A token is counted by its
sha256, never stored or logged as is. The client address is the connection's, or the one a
trusted proxy forwards when uvicorn runs with ``--proxy-headers``.
"""

from __future__ import annotations

import math
import threading
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.service.errors import TooMany
from api.service.settings import Settings


class TooManySessions(TooMany):
    code = "too_many_sessions"


class TooManyWrongTokens(TooMany):
    code = "too_many_wrong_tokens"


class TooManyBids(TooMany):
    code = "too_many_bids"


class TooManyStreamOpens(TooMany):
    code = "too_many_stream_opens"


class TooManyStreams(TooMany):
    code = "too_many_streams"


def _items(spec: str) -> list[RateLimitItem]:
    return list(parse_many(spec)) if spec else []


class RateLimits:
    """The rate limits of one app (one process), from its settings."""

    def __init__(self, settings: Settings) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.sessions = _items(settings.limit_session_creation)
        self.wrong_tokens = _items(settings.limit_wrong_tokens)
        self.bids = _items(settings.limit_bid_batches)
        self.stream_opens = _items(settings.limit_stream_opens)

    def _retry_after(self, items: list[RateLimitItem], *key: str) -> int:
        now = time.time()
        waits = [self.limiter.get_window_stats(item, *key).reset_time - now
                 for item in items if not self.limiter.test(item, *key)]
        return max(1, math.ceil(max(waits, default=1.0)))

    def _hit(self, items: list[RateLimitItem], kind: type[TooMany], what: str,
             *key: str) -> None:
        for item in items:
            if not self.limiter.hit(item, *key):
                wait = self._retry_after(items, *key)
                raise kind(f"{what}: at most {item} (this server's limit); try again in "
                           f"{wait} s", headers={"Retry-After": str(wait)})

    def hit_session_creation(self, address: str) -> None:
        self._hit(self.sessions, TooManySessions,
                  "too many sessions created from this address", "sessions", address)

    def check_wrong_tokens(self, address: str) -> None:
        """429 while ``address`` is over its wrong-token limit (counts nothing)."""
        for item in self.wrong_tokens:
            if not self.limiter.test(item, "wrong_tokens", address):
                wait = self._retry_after(self.wrong_tokens, "wrong_tokens", address)
                raise TooManyWrongTokens(
                    f"too many unknown tokens were sent from this address (at most {item}); "
                    f"no token is checked from it for {wait} s: use the token you got when "
                    "you created or joined the session", headers={"Retry-After": str(wait)})

    def count_wrong_token(self, address: str) -> None:
        for item in self.wrong_tokens:
            self.limiter.hit(item, "wrong_tokens", address)

    def hit_bids(self, token_key: str) -> None:
        self._hit(self.bids, TooManyBids, "too many bid batches from this token", "bids",
                  token_key)

    def hit_stream_opens(self, token_key: str) -> None:
        self._hit(self.stream_opens, TooManyStreamOpens,
                  "too many event streams opened by this token", "streams", token_key)


class StreamSlots:
    """Open event streams per token (sha256) in this process, at most ``limit`` each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        with self._lock:
            n = self._open.get(key, 0)
            if n >= self.limit:
                raise TooManyStreams(
                    f"this token has {n} event streams open, the most this server allows "
                    f"({self.limit}); close one (a page or bot following this session) before "
                    "opening another", headers={"Retry-After": "5"})
            self._open[key] = n + 1

    def give_back(self, key: str) -> None:
        with self._lock:
            n = self._open.get(key, 0) - 1
            if n > 0:
                self._open[key] = n
            else:
                self._open.pop(key, None)

    def count(self, key: str) -> int:
        with self._lock:
            return self._open.get(key, 0)
