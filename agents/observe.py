"""What a bidding agent observes, and how its decisions go to the market's grids: one set of
formulas shared by the in-process year (:mod:`agents.inprocess`) and the game's bots
(:mod:`agents.http`). Pure functions on arrays (no JSON, no session, no fleet object); each
caller gathers the arrays from what it knows (the synthesised fleet and profiles, or the
views of the game API).

The definitions are the in-process year's, so the year's output does not depend on which
engine calls them:

* **Grids** (docs/CLEARING.md): a quantity goes *down* to whole ticks with
  :data:`~clearing.grid.FLOOR_SLACK_TICKS` of slack (:func:`ticks_down`, :func:`floor_to`);
  a price to the *nearest* tick (:func:`price_ticks`, :func:`price_grid`). A value is scaled
  by the integer inverse of its tick when there is one (``x * 1000`` for 0.001), as
  :func:`clearing.grid.from_ticks` decodes it. A capacity offer is the one exception: it is
  floored with :data:`CAPACITY_SLACK_TICKS`, as the capacity auction accredits MW, so that
  0.9 x 1000 MW stays 900 MW (:func:`capacity_offer_mw`).
* **Loads** bid their demand in two blocks: ``responsive_share`` of the demand's ticks
  (nearest) at the responsive price (at most the inelastic bid), the rest at
  ``energy.inelastic_bid_yuan_per_mwh`` (default the cap), in every driver
  (:func:`load_block_ticks`, :func:`load_block_prices`). The demand goes to the nearest
  tick, in the year and in the game alike (a game accepts a load's bids up to its demand
  rounded to the nearest tick).
* **Must-run** MW: minimum output x nameplate, and for a winter must-run unit at least the
  heat-led fraction of nameplate in the heating season; never above the hour's available MW
  (:func:`must_run_mw`).
* **Expected energy margin** (yuan/kW·yr of nameplate, :func:`margin_per_kw_yr`): coal
  ``Σ_h (forecast - cost)+ x (1 - outage rate)``; wind and solar the forecast (at least 0) on
  their available output; storage, day by day, the spread of its ``E / P`` dearest and
  cheapest hours (the charge cost grossed up by the round-trip efficiency) plus one
  compensated cycle. The year passes its whole forecast; a bot passes the hours it knows and
  scales them to a year.
* **Must-offer**: existing coal, when the rules say so (:func:`must_offer`).
* **Certificates**: quantities go down to whole lots of registry ticks (:func:`certificate_ticks`);
  a load's need is ``obligation_weight`` x its demand so far less what it holds
  (:func:`obligation_due`, :func:`certificate_need`); whole certificates are bought for what
  the need still lacks (:func:`certificates_to_buy`).

>>> floor_to([0.3, 1.2345], 0.001).tolist()
[0.3, 1.234]
>>> price_grid([199.995, -50.004], 0.01).tolist()
[200.0, -50.0]
>>> load_block_ticks(np.array([10.0]), 0.25, 0.001).tolist()
[[7500, 2500]]
"""

from __future__ import annotations

import numpy as np

from clearing.grid import (
    CAPACITY_SLACK_TICKS,
    FLOOR_SLACK_TICKS,
    HOURS_PER_DAY,
    KW_PER_MW,
    QUANTITY_TICK,
    floor_ticks,
    floor_to,
    from_ticks,
    scaled,
)
from market.certificates.registry import TICKS_PER_MWH
from market.rules import MarketRules

__all__ = [
    "CAPACITY_SLACK_TICKS",
    "FLOOR_SLACK_TICKS",
    "HOURS_PER_DAY",
    "HOURS_PER_YEAR",
    "KW_PER_MW",
    "capacity_offer_mw",
    "certificate_quantity",
    "certificate_ticks",
    "certificate_need",
    "certificates_to_buy",
    "floor_to",
    "is_coal",
    "load_block_prices",
    "load_block_ticks",
    "margin_per_kw_yr",
    "must_offer",
    "must_run_mw",
    "obligation_due",
    "price_grid",
    "price_ticks",
    "scaled",
    "share_by",
    "ticks_down",
]

HOURS_PER_YEAR = 8760


# --------------------------------------------------------------------- grids

def ticks_down(x: np.ndarray | float, tick: float, slack: float = FLOOR_SLACK_TICKS
               ) -> np.ndarray:
    """int64 ticks of ``x`` (any shape), rounded down with ``slack`` ticks of slack
    (:func:`clearing.grid.floor_ticks`): an offer never grows."""
    return floor_ticks(x, tick, slack)


def price_ticks(price: np.ndarray | float, tick: float) -> np.ndarray:
    """int64 ticks of the nearest grid price (ties to even), any shape."""
    return np.rint(scaled(price, tick)).astype(np.int64)


def price_grid(price: np.ndarray | float, tick: float) -> np.ndarray:
    """Prices (any shape) on the grid of ``tick`` (nearest), as float64 values."""
    return np.asarray(from_ticks(price_ticks(price, tick), tick), dtype=np.float64)


# --------------------------------------------------------------------- loads

def load_block_ticks(load_mw: np.ndarray, responsive_share: float, tick: float) -> np.ndarray:
    """int64 (..., 2) quantity ticks of each load's two blocks, [rest at the inelastic bid,
    responsive]: the demand (MW) to the nearest tick, and ``responsive_share`` of it
    (nearest) responsive."""
    total = np.rint(scaled(load_mw, tick)).astype(np.int64)
    responsive = np.rint(total * responsive_share).astype(np.int64)
    return np.stack([total - responsive, responsive], axis=-1)


def load_block_prices(inelastic: float, responsive_price: float) -> np.ndarray:
    """float64 (2,) yuan/MWh of the blocks of :func:`load_block_ticks`: the inelastic bid
    (``rules.energy.inelastic_bid()``: ``energy.inelastic_bid_yuan_per_mwh``, default the
    cap), then the responsive price (at most the inelastic bid)."""
    return np.array([inelastic, min(responsive_price, inelastic)], dtype=np.float64)


# --------------------------------------------------------------------- energy

def must_run_mw(min_output_fraction: np.ndarray, nameplate_mw: np.ndarray,
                winter_must_run: np.ndarray, heating: np.ndarray, available_mw: np.ndarray,
                heat_led_fraction: float) -> np.ndarray:
    """float64 (H, U) MW the units must run: ``min_output_fraction`` (U,) x nameplate, and
    for a ``winter_must_run`` unit at least ``heat_led_fraction`` x nameplate in the hours of
    the heating season (``heating`` bool (H,)); at most ``available_mw`` (H, U)."""
    base = np.asarray(min_output_fraction, dtype=np.float64) * nameplate_mw
    chp = np.where(np.asarray(winter_must_run, dtype=bool), heat_led_fraction * nameplate_mw,
                   0.0)
    must = np.where(np.asarray(heating, dtype=bool)[:, None], np.maximum(base, chp), base)
    return np.minimum(must, available_mw)


# --------------------------------------------------------------------- capacity

def is_coal(technology: np.ndarray) -> np.ndarray:
    """bool (U,): the technology's name starts with ``coal``."""
    return np.char.startswith(np.asarray(technology).astype(str), "coal")


def must_offer(technology: np.ndarray, existing: np.ndarray, rule: bool) -> np.ndarray:
    """bool (U,): the unit must offer all its accredited MW (existing coal, under ``rule``:
    ``capacity.must_offer_existing_coal``)."""
    return is_coal(technology) & np.asarray(existing, dtype=bool) & bool(rule)


def margin_per_kw_yr(technology: np.ndarray, cost: np.ndarray, nameplate_mw: np.ndarray,
                     energy_mwh: np.ndarray, price: np.ndarray, available_mw: np.ndarray,
                     outage_rate: float, rules: MarketRules, *,
                     power_mw: np.ndarray | None = None,
                     hours_per_year: float | None = None) -> np.ndarray:
    """float64 (U,) expected energy margin, yuan/kW·yr of nameplate (see the module
    docstring), from the price forecast ``price`` (H,) of hours starting at midnight.

    ``technology``, ``cost`` (yuan/MWh), ``nameplate_mw``, ``energy_mwh`` (storage, else
    ignored) (U,); ``available_mw`` (H, U) (used for wind and solar); ``outage_rate``: the
    share of hours a coal unit is expected out; ``power_mw``: storage power (default its
    nameplate). ``hours_per_year``: None when ``price`` covers the year; else the margins of
    the hours given are scaled to that many hours (storage: of its whole days).
    """
    tech = np.asarray(technology).astype(str)
    cap = np.asarray(nameplate_mw, dtype=np.float64)
    cost = np.asarray(cost, dtype=np.float64)
    price = np.asarray(price, dtype=np.float64)
    power = cap if power_mw is None else np.asarray(power_mw, dtype=np.float64)
    out = np.zeros(tech.shape[0])
    coal = np.flatnonzero(is_coal(tech))
    spread = np.maximum(price[:, None] - cost[coal][None, :], 0)
    out[coal] = spread.sum(axis=0) * (1.0 - outage_rate) / KW_PER_MW
    for name in ("wind", "solar"):
        idx = np.flatnonzero(tech == name)
        out[idx] = (np.maximum(price, 0)[:, None] * available_mw[:, idx]).sum(axis=0) / (
            cap[idx] * KW_PER_MW)
    e = rules.energy
    n_days = price.shape[0] // HOURS_PER_DAY
    ordered = np.sort(price[: n_days * HOURS_PER_DAY].reshape(-1, HOURS_PER_DAY), axis=1)
    storage = np.flatnonzero(tech == "storage")
    for i in storage.tolist() if n_days else ():
        energy = np.float64(energy_mwh[i])
        n = max(1, min(HOURS_PER_DAY, int(np.ceil(energy / power[i]))))
        buy = np.maximum(ordered[:, :n].mean(axis=1), 0) / e.storage_round_trip_efficiency
        value = np.maximum(ordered[:, -n:].mean(axis=1) - buy, 0.0) \
            + e.storage_discharge_compensation_yuan_per_mwh
        out[i] = float(value.sum()) * energy / (cap[i] * KW_PER_MW)
    if hours_per_year is not None:
        hours = price.shape[0]
        out *= hours_per_year / hours if hours else 0.0
        if storage.size:
            out[storage] *= hours / (n_days * HOURS_PER_DAY) if n_days else 0.0
    return out


def capacity_offer_mw(mw: np.ndarray, accredited_mw: np.ndarray, tick: float = QUANTITY_TICK
                      ) -> np.ndarray:
    """float64 (U,) MW a capacity offer goes to the auction with: ``mw`` floored to the
    capacity grid with :data:`CAPACITY_SLACK_TICKS`, at most the accredited MW."""
    return np.minimum(floor_to(mw, tick, CAPACITY_SLACK_TICKS), accredited_mw)


# --------------------------------------------------------------------- certificates

def certificate_ticks(mwh: np.ndarray | float, lot_ticks: int = 1) -> np.ndarray:
    """int64 registry ticks (0.001 MWh) of ``mwh`` (any shape) rounded down to whole lots of
    ``lot_ticks`` ticks (1: the registry's grid; ``certificate_mwh`` x 1000: whole
    certificates)."""
    return ticks_down(mwh, 1 / TICKS_PER_MWH) // lot_ticks * lot_ticks


def certificate_quantity(mwh: np.ndarray | float, lot_ticks: int = 1) -> np.ndarray:
    """MWh (float64, any shape) of :func:`certificate_ticks`."""
    return certificate_ticks(mwh, lot_ticks) / TICKS_PER_MWH


def obligation_due(weight: float, demand_mwh: np.ndarray,
                   obligated: np.ndarray | None = None) -> np.ndarray:
    """float64 (L,) MWh of certificates each load must retire for ``demand_mwh`` (L,):
    ``weight`` x its demand, 0 for a load not ``obligated`` (default: every load is)."""
    demand = np.asarray(demand_mwh, dtype=np.float64)
    if obligated is not None:
        demand = np.where(np.asarray(obligated, dtype=bool), demand, 0.0)
    return weight * demand


def certificate_need(due_mwh: np.ndarray, held_mwh: np.ndarray | float) -> np.ndarray:
    """float64 (L,) MWh each load still needs: what is due less what it holds, at least 0."""
    return np.maximum(np.asarray(due_mwh, dtype=np.float64) - held_mwh, 0.0)


def certificates_to_buy(need_mwh: np.ndarray, bought_mwh: np.ndarray | float = 0.0
                        ) -> np.ndarray:
    """float64 (L,) whole certificates (MWh) to bid for: the need not yet bought, rounded up
    (with :data:`~clearing.grid.FLOOR_SLACK_TICKS` of slack)."""
    return np.ceil(np.maximum(np.asarray(need_mwh, dtype=np.float64) - bought_mwh, 0.0)
                   - FLOOR_SLACK_TICKS)


def share_by(total: float, weights: np.ndarray) -> np.ndarray:
    """float64 (L,): ``total`` shared in proportion to ``weights`` (zeros when they sum to 0)."""
    w = np.asarray(weights, dtype=np.float64)
    s = float(w.sum())
    return w / s * total if s > 0 else np.zeros(w.shape[0])

