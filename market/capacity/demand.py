"""Capacity demand: the reliability requirement and the buyer's curve built from the rules.

The requirement is peak load x (1 + reserve margin). The sloped curve runs through the rules'
points (fractions of the requirement, yuan/kW·yr): flat at the first point's price to its left,
nothing bought past the last. The vertical variant buys its one point's share of the
requirement at any price up to the point's price (two points at the same MW).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from clearing.grid import PRICE_TICK, QUANTITY_TICK
from market.errors import CapacityInputError
from market.rules import CapacityRules

# The capacity market's grids are the clearing core's default ticks: MW on QUANTITY_TICK
# (offers, accreditation, the curve), yuan/kW·yr on PRICE_TICK.


def nearest(values: np.ndarray | float, tick: float) -> np.ndarray:
    """``values`` (any shape) rounded to the nearest multiple of ``tick`` (half to even):
    divided by the tick, rounded, divided by the tick's integer inverse (float64)."""
    return np.round(np.asarray(values, dtype=np.float64) / tick) / round(1 / tick)


def requirement_mw(rules: CapacityRules, peak_load_mw: float) -> float:
    """Reliability requirement, MW: peak load x (1 + reserve margin), rounded to the MW tick."""
    if not (math.isfinite(peak_load_mw) and peak_load_mw > 0):
        raise CapacityInputError(f"peak_load_mw must be a positive finite number (MW), "
                                 f"got {peak_load_mw!r}")
    return float(nearest(peak_load_mw * (1.0 + rules.reserve_margin), QUANTITY_TICK))


@dataclass(frozen=True, eq=False)
class CapacityDemand:
    """The buyer's curve, piecewise linear through points.

    * ``quantity_mw``: float64 (k,), non-decreasing, MW on the 0.001 MW tick;
    * ``price_yuan_per_kw_yr``: float64 (k,), non-increasing.

    Left of the first point the price is the first point's; right of the last, nothing more
    is bought. A vertical curve is two points at the same quantity.
    """

    shape: str
    requirement_mw: float
    quantity_mw: np.ndarray
    price_yuan_per_kw_yr: np.ndarray

    def price_at(self, mw: float) -> float:
        """Highest price (yuan/kW·yr) the buyer pays for the ``mw``-th MW; 0 past the curve."""
        q, p = self.quantity_mw, self.price_yuan_per_kw_yr
        if mw <= q[0]:
            return float(p[0])
        if mw > q[-1]:
            return 0.0
        j = int(np.searchsorted(q, mw, side="left"))
        if q[j] == q[j - 1]:
            return float(p[j - 1])
        return float(p[j - 1] + (p[j] - p[j - 1]) * (mw - q[j - 1]) / (q[j] - q[j - 1]))

    def quantity_at(self, price: float) -> float:
        """Largest quantity (MW) demanded at ``price`` (yuan/kW·yr); 0 above the first price."""
        q, p = self.quantity_mw, self.price_yuan_per_kw_yr
        if price > p[0]:
            return 0.0
        for j in range(len(q) - 1, 0, -1):
            if p[j] <= price <= p[j - 1]:
                if p[j] == p[j - 1]:
                    return float(q[j])
                return float(q[j - 1] + (q[j] - q[j - 1]) * (p[j - 1] - price) / (p[j - 1] - p[j]))
        return float(q[-1]) if price <= p[-1] else float(q[0])


def demand_curve(rules: CapacityRules, peak_load_mw: float) -> CapacityDemand:
    """The capacity demand curve of the rules for a system with ``peak_load_mw`` (MW): points
    at fraction x requirement, rounded to the 0.001 MW tick, prices to the 0.01 yuan/kW·yr
    tick (the grids the clearing core works on)."""
    rr = requirement_mw(rules, peak_load_mw)
    fractions, prices = rules.demand_curve()
    quantity = nearest(fractions * rr, QUANTITY_TICK)
    prices = nearest(prices, PRICE_TICK)
    return CapacityDemand(rules.demand_shape, rr, quantity, prices)
