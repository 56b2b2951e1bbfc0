"""The Mengxi pilot capacity market: accreditation, demand, offers and the auction.

Product: accredited capacity (MW) for one delivery year; prices in yuan/kW·yr. A unit's annual
capacity payment is cleared MW x 1000 kW/MW x its settlement price (yuan/kW·yr), in yuan.

* **Accreditation**: nameplate x capacity credit of the unit's technology (the rules' table),
  or the unit's own override; never above nameplate; floored to the 0.001 MW quantity tick.
  Under ``accreditation_method = "derived"`` the simulated year fills the table with credits
  measured on its own profiles (:mod:`market.capacity.accreditation`) before the auction.
* **Demand**: the requirement is peak load x (1 + reserve margin); the sloped curve runs through
  the rules' points (fractions of the requirement; prices multiples of Net CONE, or fixed in
  yuan/kW·yr), flat at the first point's price to its left and zero past the last; the
  vertical variant buys its one point's share of the requirement at any price up to the
  point's price. The shape is the sandbox's own [E] (see :mod:`market.rules.sections.capacity`).
* **Mitigation**: an offer priced above the offer cap is refused (the message names the unit and
  the cap) and leaves the auction as it was. Must-offer: when the rules require it, every
  *existing coal* unit sells all of its accredited MW; whatever such a unit has not offered when
  the auction clears (all of it if it sent nothing) is entered as a price-taking offer at
  0 yuan/kW·yr. We enter rather than refuse so that a round never fails because one student
  forgot to bid, and because a price-taker is what must-offer means in PJM and GB practice.
* **Formats**: looked up by name in :mod:`market.capacity.formats` (``sealed_uniform``,
  ``pay_as_bid``, ``clock``).

The curve is built in :mod:`market.capacity.demand`, penalties in
:mod:`market.capacity.performance`, ledger postings and cost allocation to loads in
:mod:`market.capacity.settlement`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from clearing.grid import CAPACITY_SLACK_TICKS, KW_PER_MW, PRICE_TICK, QUANTITY_TICK, on_grid
from market.capacity.demand import CapacityDemand, demand_curve, nearest, requirement_mw
from market.capacity.formats import AUCTION_FORMATS, FormatOutcome, get_format
from market.capacity.offers import OfferTable
from market.errors import (
    CapacityInputError,
    CapacityOfferError,
    MarketError,
    OfferAboveCapError,
)
from market.rules import CapacityRules
from market.units import Fleet

__all__ = [
    "AUCTION_FORMATS",
    "CapacityAuction",
    "CapacityDemand",
    "CapacityResult",
    "OfferTable",
    "accredited_mw",
    "capacity_credits",
    "demand_curve",
    "requirement_mw",
]


def _to_fen(yuan: np.ndarray) -> np.ndarray:
    """Yuan (float64) to int64 fen, rounded half to even once."""
    return np.rint(np.asarray(yuan, dtype=np.float64) * 100.0).astype(np.int64)


def capacity_credits(fleet: Fleet, rules: CapacityRules) -> np.ndarray:
    """Capacity credit per unit, float64 (n,) in [0, 1]: the unit's override, else the rules'
    credit of its technology. A technology without a credit and without an override is refused
    (:class:`CapacityInputError`, listing every such unit)."""
    credits = np.array(fleet.capacity_credit, dtype=np.float64)
    missing = []
    for i in np.flatnonzero(np.isnan(credits)):
        credit = rules.capacity_credit.get(str(fleet.technologies[i]))
        if credit is None:
            missing.append(f"{fleet.unit_ids[i]} ({fleet.technologies[i]})")
        else:
            credits[i] = credit
    if missing:
        raise CapacityInputError(
            "no capacity credit for units " + ", ".join(missing) + "; give the unit a "
            "capacity_credit override or use a technology of the rules' table: "
            + ", ".join(rules.capacity_credit.keys()))
    return credits


def accredited_mw(fleet: Fleet, rules: CapacityRules) -> np.ndarray:
    """Accredited capacity per unit, float64 (n,) MW: nameplate x capacity credit, floored to
    the 0.001 MW tick and never above nameplate."""
    per_mw = round(1 / QUANTITY_TICK)
    raw = fleet.nameplate_mw * capacity_credits(fleet, rules)
    ticks = np.floor(raw * per_mw + CAPACITY_SLACK_TICKS)  # 0.9 x 1000 is 900 ticks, not 899
    ticks -= ticks / per_mw > fleet.nameplate_mw  # the tolerance must not lift it above
    return ticks / per_mw


@dataclass(frozen=True, eq=False)
class CapacityResult:
    """Outcome of one capacity auction.

    * ``price_yuan_per_kw_yr``: the clearing price (the marginal price under pay-as-bid);
      ``None`` when nothing cleared.
    * ``offers``: the offers cleared (including imputed must-offer rows); ``accepted_mw`` and
      ``settlement_price`` (yuan/kW·yr, NaN where nothing accepted) are float64 (m,) per offer.
    * Per unit, in fleet order, length n: ``accredited_mw``, ``cleared_mw`` (float64, MW) and
      ``payment_fen`` (int64, annual capacity payment in fen = 0.01 yuan).
    * ``round_log``: the clock's round log (clock format only).
    """

    format: str
    delivery_year: int
    price_yuan_per_kw_yr: float | None
    demand: CapacityDemand
    offers: OfferTable
    accepted_mw: np.ndarray
    settlement_price: np.ndarray
    unit_ids: np.ndarray
    owners: np.ndarray
    accredited_mw: np.ndarray
    cleared_mw: np.ndarray
    payment_fen: np.ndarray
    round_log: Any = None

    @property
    def payment_yuan(self) -> np.ndarray:
        """Annual capacity payment per unit, float64 (n,) yuan."""
        return self.payment_fen / 100.0

    @property
    def total_cleared_mw(self) -> float:
        return float(self.cleared_mw.sum())

    @property
    def total_payment_fen(self) -> int:
        return int(self.payment_fen.sum())


class CapacityAuction:
    """One delivery year's capacity auction: offers are validated as they arrive, then
    :meth:`clear` runs the format of the rules.

    A refused offer raises (:class:`CapacityOfferError`, :class:`OfferAboveCapError`) before
    anything is stored, so the auction is exactly as it was before the call.
    """

    def __init__(self, rules: CapacityRules, fleet: Fleet, peak_load_mw: float) -> None:
        if not rules.enabled:
            raise CapacityInputError("the capacity market is disabled in these rules "
                                     "(capacity.enabled = false)")
        get_format(rules.format)  # an unknown format is refused now, not at gate closure
        self.rules = rules
        self.fleet = fleet
        self.accredited_mw = accredited_mw(fleet, rules)
        self.demand = demand_curve(rules, peak_load_mw)
        self._unit: list[int] = []
        self._mw: list[float] = []
        self._price: list[float] = []

    def submit(self, unit_id: str, mw: float, price_yuan_per_kw_yr: float) -> int:
        """Add one offer step of ``mw`` accredited MW at ``price_yuan_per_kw_yr``; returns its
        offer number. A unit may send several steps; together they may not exceed its
        accredited MW."""
        try:
            i = self.fleet.index_of(unit_id)
        except MarketError:
            raise CapacityOfferError(f"unit {unit_id!r} is not in the fleet") from None
        cap = self.rules.offer_cap_yuan_per_kw_yr
        # on_grid first: it refuses what float() cannot take (a 400-digit int) without raising
        if not on_grid(price_yuan_per_kw_yr, PRICE_TICK) or float(price_yuan_per_kw_yr) < 0:
            raise CapacityOfferError(f"unit {unit_id!r}: offer price must be a finite number "
                                     f">= 0 on the {PRICE_TICK:g} yuan/kW·yr grid, got "
                                     f"{price_yuan_per_kw_yr!r}")
        price = float(price_yuan_per_kw_yr)
        if price > cap:
            raise OfferAboveCapError(f"unit {unit_id!r}: offer price {price:g} yuan/kW·yr is "
                                     f"above the offer cap {cap:g} yuan/kW·yr")
        start = self.rules.clock_start_price_yuan_per_kw_yr
        if self.rules.format == "clock" and price > start:
            raise OfferAboveCapError(f"unit {unit_id!r}: exit price {price:g} yuan/kW·yr is "
                                     f"above the clock's start price {start:g} yuan/kW·yr")
        if not on_grid(mw, QUANTITY_TICK) or float(mw) <= 0:
            raise CapacityOfferError(f"unit {unit_id!r}: offered MW must be a positive number "
                                     f"on the {QUANTITY_TICK:g} MW grid, got {mw!r}")
        mw = float(mw)
        offered = sum(m for u, m in zip(self._unit, self._mw, strict=True) if u == i)
        limit = float(self.accredited_mw[i])
        if offered + mw > limit + QUANTITY_TICK / 2:
            raise CapacityOfferError(
                f"unit {unit_id!r}: offers total {offered + mw:g} MW, above its accredited "
                f"capacity {limit:g} MW (already offered {offered:g} MW)")
        self._unit.append(i)
        self._mw.append(mw)
        self._price.append(price)
        return len(self._unit) - 1

    def withdraw(self, unit_id: str) -> None:
        """Remove every offer of ``unit_id`` (before the auction clears)."""
        i = self.fleet.index_of(unit_id)
        keep = [k for k, u in enumerate(self._unit) if u != i]
        self._unit = [self._unit[k] for k in keep]
        self._mw = [self._mw[k] for k in keep]
        self._price = [self._price[k] for k in keep]

    def offers(self) -> OfferTable:
        """The offers submitted so far (a snapshot; no must-offer rows)."""
        return OfferTable(np.array(self._unit, dtype=np.int64), np.array(self._mw, dtype=float),
                          np.array(self._price, dtype=float), np.zeros(len(self._unit), bool))

    def offers_with_must_offer(self) -> OfferTable:
        """The submitted offers plus, under must-offer, each existing coal unit's unoffered
        accredited MW at 0 yuan/kW·yr (appended in fleet order)."""
        table = self.offers()
        if not self.rules.must_offer_existing_coal:
            return table
        offered = np.bincount(table.unit, weights=table.mw, minlength=len(self.fleet))
        rest = nearest(self.accredited_mw - offered, QUANTITY_TICK)
        must = np.flatnonzero(self.fleet.is_coal & self.fleet.existing & (rest > 0))
        return OfferTable(
            np.concatenate([table.unit, must]), np.concatenate([table.mw, rest[must]]),
            np.concatenate([table.price_yuan_per_kw_yr, np.zeros(len(must))]),
            np.concatenate([table.imputed, np.ones(len(must), bool)]))

    def forecast_uniform_price(self, price_yuan_per_kw_yr: np.ndarray,
                               offered_mw: np.ndarray | None = None) -> float | None:
        """The uniform price (yuan/kW·yr, ``None`` if nothing clears) of a hypothetical sealed
        auction in which every unit offers ``offered_mw`` (n,) (default: all its accredited
        MW) at ``price_yuan_per_kw_yr`` (n,), against this auction's demand curve, whatever
        the rules' format. Offers submitted so far are not touched."""
        mw = self.accredited_mw if offered_mw is None else np.asarray(offered_mw, dtype=float)
        keep = np.flatnonzero(mw > 0)
        price = np.clip(np.asarray(price_yuan_per_kw_yr, dtype=float)[keep], 0.0,
                        self.rules.offer_cap_yuan_per_kw_yr)
        table = OfferTable(keep.astype(np.int64), nearest(mw[keep], QUANTITY_TICK),
                           nearest(price, PRICE_TICK), np.zeros(keep.shape[0], bool))
        return get_format("sealed_uniform")(table, self.demand, self.rules).price

    def clear(self) -> CapacityResult:
        """Clear the auction with the rules' format and price the result per unit."""
        table = self.offers_with_must_offer()
        outcome = get_format(self.rules.format)(table, self.demand, self.rules)
        return self._result(table, outcome)

    def _result(self, table: OfferTable, outcome: FormatOutcome) -> CapacityResult:
        n = len(self.fleet)
        accepted = outcome.accepted_mw
        settle = outcome.settlement_price
        paid = np.where(accepted > 0, accepted * KW_PER_MW * np.nan_to_num(settle), 0.0)
        cleared = np.bincount(table.unit, weights=accepted, minlength=n)
        payment_yuan = np.bincount(table.unit, weights=paid, minlength=n)
        return CapacityResult(
            format=self.rules.format, delivery_year=self.rules.delivery_year,
            price_yuan_per_kw_yr=outcome.price, demand=self.demand, offers=table,
            accepted_mw=accepted, settlement_price=settle, unit_ids=self.fleet.unit_ids,
            owners=self.fleet.owners, accredited_mw=self.accredited_mw,
            cleared_mw=nearest(cleared, QUANTITY_TICK),
            payment_fen=_to_fen(payment_yuan), round_log=outcome.round_log)
