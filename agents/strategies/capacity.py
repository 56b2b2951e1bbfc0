"""Capacity offers of generators: at net going-forward cost, marked up, or withheld.

A unit must earn its going-forward cost less its expected energy margin from capacity to stay;
a truthful offer asks exactly that per accredited kW (yuan/kW·yr), on the capacity market's
price grid.
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
    capped at the offer cap."""
    net = np.maximum(obs.going_forward_cost_yuan_per_kw_yr
                     - obs.expected_energy_margin_yuan_per_kw_yr, 0.0)
    per_accredited = net / np.where(obs.capacity_credit > 0, obs.capacity_credit, 1.0)
    return capacity_price_grid(per_accredited, rules)


def capacity_price_grid(price: np.ndarray, rules: MarketRules) -> np.ndarray:
    """Capacity prices clipped to [0, offer cap], rounded down to the capacity market's price
    grid (``clearing.grid.PRICE_TICK`` yuan/kW·yr; :func:`agents.observe.floor_to`)."""
    cap = rules.capacity.offer_cap_yuan_per_kw_yr
    if rules.capacity.format == "clock":
        cap = min(cap, rules.capacity.clock_start_price_yuan_per_kw_yr)
    return floor_to(np.clip(price, 0.0, cap), PRICE_TICK)


def truthful_capacity(obs: CapacityObservation, rules: MarketRules, rng: np.random.Generator,
                      params: Mapping[str, Any]) -> CapacityOffers:
    """All accredited MW at the net going-forward cost."""
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
