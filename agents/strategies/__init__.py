"""Bidding strategies, registered by name: pure functions of an observation, the rules and a
seeded RNG that return arrays of offers for every hour at once.

Importing this package registers every built-in family (thermal, storage, learning, green).

>>> from agents.strategies import get_strategy, strategy_names
>>> get_strategy("markup").role
'generator'
>>> "storage_arbitrage" in strategy_names("storage")
True

A name a user gave (which may be a trained ``policy:PATH``) is looked up with
:func:`strategy_named`.
"""

from agents.strategies import capacity, green, learning, storage, thermal  # noqa: F401
from agents.strategies.assign import assign, parse_spec, strategy_named
from agents.strategies.base import (
    STRATEGIES,
    CapacityObservation,
    CapacityOffers,
    OfferObservation,
    Offers,
    Strategy,
    get_strategy,
    register_strategy,
    strategy_names,
)

__all__ = [
    "STRATEGIES",
    "CapacityObservation",
    "CapacityOffers",
    "OfferObservation",
    "Offers",
    "Strategy",
    "assign",
    "get_strategy",
    "parse_spec",
    "register_strategy",
    "strategy_named",
    "strategy_names",
]
