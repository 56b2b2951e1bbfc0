"""Capacity auction formats, one contract and a registry keyed by name (STYLE rule 3).

A format takes the offers (:class:`market.capacity.OfferTable`, m rows), the demand curve
(:class:`market.capacity.CapacityDemand`) and the rules, and returns a :class:`FormatOutcome`:
accepted MW and settlement price (yuan/kW·yr) per offer, the price, and an optional log.
Quantities come from the clearing core (``clearing.capacity`` for the sealed formats,
``clearing.clock`` for the clock); this module only translates.

* ``sealed_uniform``: sealed offers against the curve; every accepted MW is paid the clearing
  price;
* ``pay_as_bid``: the same quantities; every accepted MW is paid its own offer price;
* ``clock``: a descending clock from the rules' start price by their decrement; each offer's
  price is its exit price; the round log is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from market.errors import CapacityInputError

if TYPE_CHECKING:
    from market.capacity import CapacityDemand, OfferTable
    from market.rules import CapacityRules


@dataclass(frozen=True, eq=False)
class FormatOutcome:
    """What a format returns: ``accepted_mw`` and ``settlement_price`` float64 (m,) per offer
    (price NaN where nothing accepted); ``price`` yuan/kW·yr or None; ``round_log``."""

    price: float | None
    accepted_mw: np.ndarray
    settlement_price: np.ndarray
    round_log: Any = None


AuctionFormat = Callable[["OfferTable", "CapacityDemand", "CapacityRules"], FormatOutcome]

#: Formats by name; add one with :func:`register_format`.
AUCTION_FORMATS: dict[str, AuctionFormat] = {}


def register_format(name: str) -> Callable[[AuctionFormat], AuctionFormat]:
    """Decorator: register an auction format under ``name``."""

    def add(fn: AuctionFormat) -> AuctionFormat:
        AUCTION_FORMATS[name] = fn
        return fn

    return add


def get_format(name: str) -> AuctionFormat:
    """The format called ``name``; :class:`CapacityInputError` naming the known ones."""
    try:
        return AUCTION_FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(AUCTION_FORMATS))
        raise CapacityInputError(f"unknown capacity auction format {name!r}; known: {known}") \
            from None
