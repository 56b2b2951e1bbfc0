"""Bots that play a game of the service over HTTP, with the same strategies and the same
observation formulas (:mod:`agents.observe`) as the in-process year.

Entry points: :func:`run_bots` (seat and play bots in threads; ``mengxi agents run``),
:class:`Bot` and its :class:`BotReport`, the :class:`Bidder` of one seat over any
:class:`GameData`, and the API client (:class:`GameClient`, :class:`RetryPolicy`,
:class:`Refusal`, :func:`parse_events`).

A load bids as the year's loads do, rounded by the shared code:

>>> from market.rules import load_preset
>>> from agents.http.observe import load_bids
>>> view = {"hours": [0], "loads": [{"load": "load-1", "demand_mw": [10.0004]}]}
>>> [(b["price"], b["quantity"]) for b in load_bids(view, load_preset("mengxi"))]
[(1500.0, 9.5), (1000.0, 0.5)]
"""

from agents.http.bidder import Bidder, GameData
from agents.http.client import Event, GameClient, Refusal, RetryPolicy, parse_events
from agents.http.runner import Bot, BotReport, HttpGameData, run_bots

__all__ = [
    "Bidder",
    "Bot",
    "BotReport",
    "Event",
    "GameClient",
    "GameData",
    "HttpGameData",
    "Refusal",
    "RetryPolicy",
    "parse_events",
    "run_bots",
]
