"""Storage arbitrage: charge in the cheapest forecast hours, discharge in the dearest.

The observation is one clearing window of hours (W) for the owner's storage units (U) with
their state of charge, and a forecast that runs past the window (``lookahead``), so that the
strategy can value the energy it stores for later. The decision is a desired schedule
(+ discharge, - charge, MW) with the price limits of each hour's offer and bid; the market's
:func:`market.energy.storage.clip_schedule` cuts it to what stays feasible under any partial
acceptance (the energy discharged in a window is the energy stored at its start).

The rule [E]: over the window and the lookahead, ``high`` is the mean of the ``E / P`` dearest
forecast hours and ``low`` the mean of the ``E / P`` cheapest. A stored MWh is worth ``high``;
a MWh bought costs ``low / efficiency`` of delivered energy. Discharge in the window's dearest
hours whose forecast clears ``low / efficiency`` by the ``margin`` share, offering at that
price (never sell below the cost of buying back); charge in its cheapest hours below
``high x efficiency`` less the margin, bidding that price (never pay more than the energy is
worth).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.strategies.base import Strategy, price_grid, register_strategy
from agents.strategies.capacity import truthful_capacity
from market.errors import StrategyError
from market.rules import MarketRules, StorageArbitrageParams

#: Hours a schedule needs are rounded *up* after subtracting this much: an E / P that is a whole
#: number of hours in decimal (1,600 / 400) is not counted one hour too many for float noise.
#: A count of hours, not a grid tick, so it is not one of clearing.grid's slacks.
HOURS_SLACK = 1e-9


@dataclass(frozen=True, eq=False)
class StorageObservation:
    """A storage owner before a window's gate closes.

    * ``hours``: int64 (W,); ``unit_ids``: str (U,);
    * ``soc_mwh``, ``energy_mwh``, ``power_mw``: float64 (U,), state of charge at the start
      of the window, energy capacity E and power P;
    * ``price_forecast_yuan_per_mwh``: float64 (W,); ``lookahead_yuan_per_mwh``: float64 (L,),
      the forecast of the hours after the window (may be empty).
    """

    owner: str
    hours: np.ndarray
    unit_ids: np.ndarray
    soc_mwh: np.ndarray
    energy_mwh: np.ndarray
    power_mw: np.ndarray
    price_forecast_yuan_per_mwh: np.ndarray
    lookahead_yuan_per_mwh: np.ndarray
    state: Any = None


@dataclass(frozen=True, eq=False)
class StorageSchedule:
    """``desired_mw`` float64 (W, U): + discharge, - charge; ``discharge_price`` and
    ``charge_price`` float64 (W, U), yuan/MWh, the limits of the sell and buy."""

    desired_mw: np.ndarray
    discharge_price_yuan_per_mwh: np.ndarray
    charge_price_yuan_per_mwh: np.ndarray
    state: Any = None


def _mean_extreme(prices: np.ndarray, n: np.ndarray, dearest: bool) -> np.ndarray:
    """Mean of the n (per unit, (U,)) dearest or cheapest of ``prices`` (sorted ascending)."""
    k = np.clip(n, 1, prices.shape[0])
    cum = np.concatenate([[0.0], np.cumsum(prices if not dearest else prices[::-1])])
    return cum[k] / k


def arbitrage_schedule(obs: StorageObservation, rules: MarketRules, rng: np.random.Generator,
                       params: Mapping[str, Any]) -> StorageSchedule:
    """The arbitrage rule of the module docstring, vectorised over hours and units."""
    w = obs.hours.shape[0]
    forecast = np.asarray(obs.price_forecast_yuan_per_mwh, dtype=np.float64)
    if forecast.shape != (w,):
        raise StrategyError(f"storage forecast must have one price per window hour ({w}), "
                            f"got shape {forecast.shape}")
    margin = float(params["margin"])
    eff = rules.energy.storage_round_trip_efficiency
    power = np.asarray(obs.power_mw, dtype=np.float64)
    energy = np.asarray(obs.energy_mwh, dtype=np.float64)
    soc = np.asarray(obs.soc_mwh, dtype=np.float64)
    p_safe = np.where(power > 0, power, 1.0)
    horizon = np.sort(np.concatenate([forecast, np.asarray(obs.lookahead_yuan_per_mwh,
                                                           dtype=np.float64)]))
    n_full = np.ceil(energy / p_safe - HOURS_SLACK).astype(np.int64)
    high = _mean_extreme(horizon, n_full, dearest=True)
    low = _mean_extreme(horizon, n_full, dearest=False)
    sell_at = np.maximum(low, 0.0) / eff * (1.0 + margin)
    buy_at = high * eff * (1.0 - margin)
    # Rank hours dearest first (ties to the earlier hour); discharge the top ceil(SOC / P).
    order = np.argsort(-forecast, kind="stable")
    rank = np.empty(w, dtype=np.int64)
    rank[order] = np.arange(w)
    n_dis = np.where(power > 0, np.ceil(soc / p_safe - HOURS_SLACK), 0).astype(np.int64)
    dis = (rank[:, None] < n_dis[None, :]) & (forecast[:, None] >= sell_at[None, :])
    # Charge in the cheapest remaining hours below buy_at, as many as the room needs.
    n_chg = np.where(power > 0, np.ceil((energy - soc) / eff / p_safe - HOURS_SLACK), 0)
    cheap = order[::-1]
    candidate = (~dis[cheap]) & (forecast[cheap][:, None] <= buy_at[None, :])
    take = candidate & (np.cumsum(candidate, axis=0) <= n_chg[None, :])
    chg = np.zeros_like(dis)
    chg[cheap] = take
    desired = np.where(dis, power[None, :], np.where(chg, -power[None, :], 0.0))
    shape = desired.shape
    return StorageSchedule(desired, price_grid(np.broadcast_to(sell_at, shape), rules),
                           price_grid(np.broadcast_to(buy_at, shape), rules))


register_strategy(Strategy(
    "storage_arbitrage", "storage", arbitrage_schedule, truthful_capacity,
    defaults=StorageArbitrageParams().model_dump(),
    description="charges in the cheapest forecast hours, discharges in the dearest, with "
                "opportunity-cost price limits; capacity at net going-forward cost"))
