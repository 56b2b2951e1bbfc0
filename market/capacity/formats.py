"""Capacity auction formats, one contract and a registry keyed by name (STYLE rule 3).

A format takes the offers (:class:`market.capacity.auction.OfferTable`, m rows), the demand curve
(:class:`market.capacity.auction.CapacityDemand`) and the rules, and returns a
:class:`FormatOutcome`:
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
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from clearing.capacity import DemandCurve, clear_capacity
from clearing.clock import ROUND_DTYPE, clear_clock
from market.errors import CapacityInputError

if TYPE_CHECKING:
    from market.capacity.demand import CapacityDemand
    from market.capacity.offers import OfferTable
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


def _sealed(offers: OfferTable, demand: CapacityDemand, rules: CapacityRules,
            pricing: Literal["uniform", "pay_as_bid"]) -> FormatOutcome:
    m = len(offers)
    if m == 0:
        return FormatOutcome(None, np.zeros(0), np.zeros(0))
    curve = DemandCurve.from_points(list(zip(demand.quantity_mw.tolist(),
                                             demand.price_yuan_per_kw_yr.tolist(), strict=True)))
    ids = np.arange(m, dtype=np.int64)
    # midpoint: where a vertical requirement meets a supply gap the price is the middle of the
    # range (the coupling rule docs/DOMAIN.md section 2 cites); elsewhere the price is unique.
    out = clear_capacity((ids, offers.mw, offers.price_yuan_per_kw_yr), curve, pricing=pricing,
                         price_rule="midpoint", offer_cap=rules.offer_cap_yuan_per_kw_yr)
    return FormatOutcome(out.price, np.asarray(out.accepted, dtype=np.float64),
                         np.asarray(out.settlement_price, dtype=np.float64))


@register_format("sealed_uniform")
def sealed_uniform(offers: OfferTable, demand: CapacityDemand,
                   rules: CapacityRules) -> FormatOutcome:
    """Sealed offers, one clearing price for every accepted MW."""
    return _sealed(offers, demand, rules, "uniform")


@register_format("pay_as_bid")
def pay_as_bid(offers: OfferTable, demand: CapacityDemand,
               rules: CapacityRules) -> FormatOutcome:
    """Sealed offers, the uniform auction's quantities, each accepted MW paid its own price;
    ``price`` is still the marginal (uniform) price, for reference."""
    return _sealed(offers, demand, rules, "pay_as_bid")


@register_format("clock")
def descending_clock(offers: OfferTable, demand: CapacityDemand,
                     rules: CapacityRules) -> FormatOutcome:
    """Descending clock from ``clock_start_price_yuan_per_kw_yr`` down by
    ``clock_decrement_yuan_per_kw_yr`` to 0; each offer's price is its exit price. With the
    start at the curve's first price this gives the sealed auction's quantities and price
    (the upper end of the range where that is not a single price). ``round_log`` is the clock's
    structured round log (``clearing.clock.ROUND_DTYPE``)."""
    if len(offers) == 0:
        return FormatOutcome(None, np.zeros(0), np.zeros(0), np.zeros(0, dtype=ROUND_DTYPE))
    curve = DemandCurve.from_points(list(zip(demand.quantity_mw.tolist(),
                                             demand.price_yuan_per_kw_yr.tolist(), strict=True)))
    ids = np.arange(len(offers), dtype=np.int64)
    out = clear_clock((ids, offers.mw, offers.price_yuan_per_kw_yr), curve,
                      start_price=rules.clock_start_price_yuan_per_kw_yr,
                      decrement=rules.clock_decrement_yuan_per_kw_yr, floor_price=0.0)
    return FormatOutcome(out.price, np.asarray(out.accepted, dtype=np.float64),
                         np.asarray(out.settlement_price, dtype=np.float64), out.rounds)
