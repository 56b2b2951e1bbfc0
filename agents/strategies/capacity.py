"""Capacity offers of generators and storage: at net going-forward cost, shaded under
pay-as-bid, marked up, or withheld.

**Net going-forward cost** (yuan per accredited kW·yr): what a unit must earn from capacity to
stay for the year, ``max(0, going-forward cost - expected energy margin) / capacity credit``,
plus what the obligation is expected to cost it (``expected_obligation_cost_yuan_per_kw_yr``:
penalties on its expected shortfall in stress hours, and a performance bonus its committed
output would no longer earn; a unit that cannot deliver in stress hours asks more);
the going-forward cost is the avoidable share of the unit's fixed cost
(``fleet.going_forward_cost_share``), the expected energy margin comes from the unit's own
price forecast (:func:`agents.observe.margin_per_kw_yr`), both per kW of nameplate; floored at
0, capped at the offer cap, on the capacity market's price grid.

**The default offer** (:func:`truthful_capacity`, used by the ``truthful`` generators and by
``storage_arbitrage``) responds to the auction format:

* ``sealed_uniform``: all accredited MW at the net going-forward cost (the price does not
  depend on one's own offer unless one is marginal, so offering the cost is the best response);
* ``clock``: the same price is the exit price: stay in while the clock is above the net
  going-forward cost, leave at it (the dominant strategy of a descending clock with
  single-unit bidders). Clock and sealed uniform therefore clear alike, as they should;
* ``pay_as_bid``: each accepted MW is paid its own offer, so offering the cost would give the
  margin away. The unit best-responds to a point forecast ``P`` of the uniform price (the
  observation's ``expected_price_yuan_per_kw_yr``; the year computes it by clearing every
  unit's net going-forward offer against the demand curve): it offers ``max(c, P - one price
  tick)``, the highest price that still clears if the forecast is right, and never below its
  own net going-forward cost ``c``. Without a forecast it offers ``c``. When the forecast is
  right, every unit is paid about the uniform price, as revenue equivalence says.

The older rules stay selectable: :func:`cost_capacity` (net going-forward cost in every format,
also the ``markup`` strategy with ``markup = 0``), :func:`markup_capacity` and
:func:`withholding_capacity`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from agents.observe import floor_to
from agents.strategies.base import CapacityObservation, CapacityOffers
from clearing.grid import PRICE_TICK, QUANTITY_TICK
from market.rules import MarketRules


def truthful_capacity_price(obs: CapacityObservation, rules: MarketRules) -> np.ndarray:
    """Net going-forward cost per accredited kW, yuan/kW·yr (U,): what the unit must earn from
    capacity to stay, max(0, going-forward cost - expected energy margin) / capacity credit,
    plus the expected cost of the obligation itself (penalty risk, bonus forgone) when the
    observation carries it; capped at the offer cap."""
    return net_going_forward_cost(obs.going_forward_cost_yuan_per_kw_yr,
                                  obs.expected_energy_margin_yuan_per_kw_yr,
                                  obs.capacity_credit, rules,
                                  obs.expected_obligation_cost_yuan_per_kw_yr)


def net_going_forward_cost(going_forward_yuan_per_kw_yr: np.ndarray,
                           margin_yuan_per_kw_yr: np.ndarray, credit: np.ndarray,
                           rules: MarketRules,
                           obligation_cost_yuan_per_kw_yr: np.ndarray | None = None
                           ) -> np.ndarray:
    """max(0, going-forward cost - expected margin) (both per kW of nameplate) / credit
    + the obligation's expected cost (per accredited kW, default 0), on the capacity price
    grid (a unit without credit is priced per nameplate kW)."""
    net = np.maximum(np.asarray(going_forward_yuan_per_kw_yr, dtype=np.float64)
                     - np.asarray(margin_yuan_per_kw_yr, dtype=np.float64), 0.0)
    credit = np.asarray(credit, dtype=np.float64)
    per_accredited = net / np.where(credit > 0, credit, 1.0)
    if obligation_cost_yuan_per_kw_yr is not None:
        per_accredited = per_accredited + np.maximum(
            np.asarray(obligation_cost_yuan_per_kw_yr, dtype=np.float64), 0.0)
    return capacity_price_grid(per_accredited, rules)


def capacity_price_grid(price: np.ndarray, rules: MarketRules) -> np.ndarray:
    """Capacity prices clipped to [0, offer cap], rounded down to the capacity market's price
    grid (``clearing.grid.PRICE_TICK`` yuan/kW·yr; :func:`agents.observe.floor_to`)."""
    cap = rules.capacity.offer_cap_yuan_per_kw_yr
    if rules.capacity.format == "clock":
        cap = min(cap, rules.capacity.clock_start_price_yuan_per_kw_yr)
    return floor_to(np.clip(price, 0.0, cap), PRICE_TICK)


def shaded_price(cost: np.ndarray, expected_price: float | None,
                 rules: MarketRules) -> np.ndarray:
    """The pay-as-bid offer: max(net going-forward cost, forecast uniform price - one tick),
    on the grid; the cost itself without a forecast."""
    cost = np.asarray(cost, dtype=np.float64)
    if expected_price is None or not np.isfinite(expected_price):
        return cost
    target = capacity_price_grid(np.full(cost.shape, float(expected_price) - PRICE_TICK), rules)
    return np.maximum(cost, target)


def truthful_capacity(obs: CapacityObservation, rules: MarketRules, rng: np.random.Generator,
                      params: Mapping[str, Any]) -> CapacityOffers:
    """All accredited MW at the net going-forward cost; under pay-as-bid shaded up to just
    below the forecast uniform price (see the module docstring)."""
    cost = truthful_capacity_price(obs, rules)
    if rules.capacity.format == "pay_as_bid":
        cost = shaded_price(cost, obs.expected_price_yuan_per_kw_yr, rules)
    return CapacityOffers(obs.accredited_mw.copy(), cost)


def cost_capacity(obs: CapacityObservation, rules: MarketRules, rng: np.random.Generator,
                  params: Mapping[str, Any]) -> CapacityOffers:
    """All accredited MW at the net going-forward cost in every format (the sandbox's offer
    before shading; no best response to pay-as-bid)."""
    return CapacityOffers(obs.accredited_mw.copy(), truthful_capacity_price(obs, rules))


def markup_capacity(obs: CapacityObservation, rules: MarketRules, rng: np.random.Generator,
                    params: Mapping[str, Any]) -> CapacityOffers:
    """All accredited MW at the net going-forward cost x (1 + markup), yuan/kW·yr."""
    base = truthful_capacity_price(obs, rules)
    price = base * (1.0 + float(params["markup"]))
    return CapacityOffers(obs.accredited_mw.copy(), capacity_price_grid(price, rules))


def withholding_capacity(obs: CapacityObservation, rules: MarketRules, rng: np.random.Generator,
                         params: Mapping[str, Any]) -> CapacityOffers:
    """Only ``1 - share`` of the accredited MW at the net going-forward cost (must-offer
    units are made to offer the rest at 0 by the market, not by the strategy)."""
    mw = floor_to(obs.accredited_mw * (1.0 - float(params["share"])), QUANTITY_TICK)
    return CapacityOffers(mw, truthful_capacity_price(obs, rules))
