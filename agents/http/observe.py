"""Observations of the registered strategies, built from what the game API shows a participant.

A bot in a game sees its own view (``GET /sessions/{id}/me``: its units with availability per
hour, its loads with demand, limits), the published results of cleared rounds and its
certificates. This module turns those JSON documents into the frozen observations of
:mod:`agents.strategies` (and back: decisions into bid dicts of ``POST .../bids``). The HTTP
runner (:mod:`agents.http.runner`) and the server's seat fillers (``api/service/services/bots.py``)
both call it, so every bot bids with the same strategy code as the in-process runner.

What a bot knows that the in-process runner computes from the whole fleet:

* **Price forecast** (yuan/MWh): the mean published energy price at the same hour of the day
  over the latest :data:`FORECAST_DAYS` days of cleared energy rounds; hours of the day not
  seen yet take ``energy.coal_benchmark_price_yuan_per_mwh`` of the rules (a public figure).
* **Must-run MW**, **expected energy margin**, **must-offer**, **certificate need** and every
  rounding to the grids are the in-process year's formulas, in :mod:`agents.observe`; this
  module only gathers their arrays from the views:

  * must-run from each unit's ``min_output_fraction``, ``winter_must_run`` and the view's
    months (``fleet.heating_season_months``);
  * the capacity observation's going-forward cost is the class's fixed cost x
    ``fleet.going_forward_cost_share``; its expected margin is
    :func:`agents.observe.margin_per_kw_yr` of the forecast over the session's energy hours
    (every unit's available MW from its views), coal at the expected availability
    ``1 - agents.outages.forced_outage_rate``, scaled to a year; must-offer: existing coal
    (a view without ``existing`` counts every unit as existing), when
    ``capacity.must_offer_existing_coal``;
  * a buyer's need is ``green.obligation_weight`` x the demand of its obligated loads in the
    energy hours of the months so far, less the certificates it holds (shared among its
    loads by what is due).

Quantities go to bids floored to the grids (MW 0.001 with one slack; capacity MW with the
capacity market's; certificates 0.001 MWh, or whole certificates when unbundled), prices to
the nearest 0.01 yuan; zero quantities are no bid. Loads bid as the year's loads do, except
that the demand goes down to the tick, not to the nearest (the game refuses bids above it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agents.fleet import fixed_costs
from agents.observe import (
    HOURS_PER_DAY,
    HOURS_PER_YEAR,
    capacity_offer_mw,
    certificate_need,
    certificate_quantity,
    floor_to,
    load_block_prices,
    load_block_ticks,
    margin_per_kw_yr,
    must_offer,
    must_run_mw,
    obligation_due,
    price_grid,
    share_by,
)
from agents.strategies.base import (
    CapacityObservation,
    CapacityOffers,
    OfferObservation,
    Offers,
    certificate_value,
)
from agents.strategies.green import GreenBuyerObservation, GreenSellerObservation
from agents.strategies.storage import StorageObservation, StorageSchedule
from clearing.grid import from_ticks
from market.energy.storage import clip_schedule
from market.rules import MarketRules

#: Days of published energy prices the forecast averages over, by hour of the day.
FORECAST_DAYS = 7

View = Mapping[str, Any]
"""A participant view as JSON (``ParticipantView`` of the API)."""


# --------------------------------------------------------------------- grids

def cents(value: float, rules: MarketRules) -> float:
    """A price on the rules' price grid (nearest tick), as a plain float."""
    return float(price_grid(value, float(rules.ticks.price_yuan)))


# --------------------------------------------------------------------- forecast

def hourly_profile(energy_results: Sequence[Mapping[str, Any]], rules: MarketRules
                   ) -> np.ndarray:
    """float64 (24,) yuan/MWh: the forecast by hour of the day (see the module docstring).
    ``energy_results``: published energy round results (``RoundResultPublic`` JSON), oldest
    first."""
    hours: list[int] = []
    prices: list[float] = []
    for res in energy_results:
        for h, p in zip(res["result"]["hours"], res["hourly_price_yuan_per_mwh"] or [],
                        strict=False):
            if p is not None and math.isfinite(p):
                hours.append(int(h))
                prices.append(float(p))
    out = np.full(HOURS_PER_DAY, float(rules.energy.coal_benchmark_price_yuan_per_mwh))
    if not hours:
        return out
    h_arr, p_arr = np.array(hours), np.array(prices)
    recent = h_arr >= h_arr.max() - FORECAST_DAYS * HOURS_PER_DAY + 1
    h_arr, p_arr = h_arr[recent], p_arr[recent]
    total = np.bincount(h_arr % HOURS_PER_DAY, weights=p_arr, minlength=HOURS_PER_DAY)
    count = np.bincount(h_arr % HOURS_PER_DAY, minlength=HOURS_PER_DAY)
    return np.where(count > 0, total / np.maximum(count, 1), out)


def forecast_at(profile: np.ndarray, hours: Sequence[int] | np.ndarray) -> np.ndarray:
    """float64 (H,): the forecast of session hours ``hours`` (hour of the day = hour % 24)."""
    return profile[np.asarray(hours, dtype=np.int64) % HOURS_PER_DAY].astype(np.float64)


# --------------------------------------------------------------------- units of a view

def unit_arrays(view: View, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Columns of the view's units at positions ``idx``: ``unit_ids``, ``technology`` str;
    ``cost`` (marginal cost, 0 where none), ``nameplate``, ``accredited``, ``credit``,
    ``energy`` (storage MWh, 0 else), ``soc`` float64 (U,); ``available`` float64 (H, U)."""
    units = [view["units"][int(i)] for i in idx]
    n_hours = len(view["hours"])
    return {
        "unit_ids": np.array([u["unit"] for u in units], dtype=str),
        "technology": np.array([u["technology"] for u in units], dtype=str),
        "cost": np.array([u["marginal_cost_yuan_per_mwh"] or 0.0 for u in units]),
        "nameplate": np.array([u["nameplate_mw"] for u in units], dtype=np.float64),
        "accredited": np.array([u["accredited_mw"] for u in units], dtype=np.float64),
        "credit": np.array([u["capacity_credit"] for u in units], dtype=np.float64),
        "energy": np.array([u["storage_energy_mwh"] or 0.0 for u in units]),
        "soc": np.array([u["storage_soc_mwh"] or 0.0 for u in units]),
        "available": (np.array([u["available_mw"] for u in units], dtype=np.float64).T
                      if units else np.zeros((n_hours, 0))).reshape(n_hours, len(units)),
    }


def view_must_run_mw(view: View, idx: np.ndarray, rules: MarketRules) -> np.ndarray:
    """float64 (H, U): MW the units at ``idx`` must run in the view's hours
    (:func:`agents.observe.must_run_mw`)."""
    cols = unit_arrays(view, idx)
    units = [view["units"][int(i)] for i in idx]
    season = np.isin(np.asarray(view["month_of_hour"], dtype=np.int64),
                     rules.fleet.heating_season_months)
    return must_run_mw(np.array([u["min_output_fraction"] for u in units], dtype=np.float64),
                       cols["nameplate"],
                       np.array([u["winter_must_run"] for u in units], dtype=bool), season,
                       cols["available"], rules.fleet.heat_led_output_fraction)


def offer_observation(owner: str, view: View, idx: np.ndarray, profile: np.ndarray,
                      rules: MarketRules, state: Any = None,
                      certificate_price_yuan: float | None = None) -> OfferObservation:
    """The energy observation of the generator units at ``idx`` for the view's hours; the
    certificate value is the last cleared unbundled certificate price
    ``certificate_price_yuan`` per MWh (``None`` or NaN: the rules' starting belief,
    :func:`agents.strategies.base.certificate_value`)."""
    cols = unit_arrays(view, idx)
    return OfferObservation(
        owner, np.asarray(view["hour_of_year"], dtype=np.int64), cols["unit_ids"],
        cols["technology"], cols["cost"], cols["available"], view_must_run_mw(view, idx, rules),
        forecast_at(profile, view["hours"]), state,
        certificate_value(rules, certificate_price_yuan))


def storage_observation(owner: str, view: View, idx: np.ndarray, profile: np.ndarray,
                        rules: MarketRules) -> StorageObservation:
    """The storage observation of the units at ``idx``: the round's hours as the window,
    the next ``agents.runner.storage_lookahead_hours`` hours as the lookahead."""
    cols = unit_arrays(view, idx)
    hours = np.asarray(view["hours"], dtype=np.int64)
    last = int(hours[-1]) if hours.size else -1
    ahead = np.arange(last + 1, last + 1 + rules.agents.runner.storage_lookahead_hours)
    return StorageObservation(
        owner, np.asarray(view["hour_of_year"], dtype=np.int64), cols["unit_ids"],
        cols["soc"], cols["energy"], cols["nameplate"], forecast_at(profile, hours),
        forecast_at(profile, ahead))


def expected_margin(energy_views: Sequence[View], idx: np.ndarray, profile: np.ndarray,
                    rules: MarketRules) -> np.ndarray:
    """float64 (U,) yuan/kW·yr of nameplate: :func:`agents.observe.margin_per_kw_yr` of the
    units at ``idx`` over the hours of ``energy_views`` (the views of the session's energy
    rounds, in hour order), scaled to a year."""
    if not energy_views:
        return np.zeros(len(idx))
    first = unit_arrays(energy_views[0], idx)
    price = np.concatenate([forecast_at(profile, v["hours"]) for v in energy_views])
    available = np.concatenate([unit_arrays(v, idx)["available"] for v in energy_views])
    return margin_per_kw_yr(first["technology"], first["cost"], first["nameplate"],
                            first["energy"], price, available,
                            rules.agents.outages.forced_outage_rate, rules,
                            hours_per_year=HOURS_PER_YEAR)


def capacity_observation(owner: str, view: View, idx: np.ndarray,
                         energy_views: Sequence[View], profile: np.ndarray,
                         rules: MarketRules, state: Any = None) -> CapacityObservation:
    """The capacity observation of the units at ``idx`` (see the module docstring)."""
    cols = unit_arrays(view, idx)
    going = fixed_costs(np.asarray(cols["technology"]), rules) \
        * rules.fleet.going_forward_cost_share
    existing = np.array([bool(view["units"][int(i)].get("existing", True)) for i in idx],
                        dtype=bool)
    must = must_offer(cols["technology"], existing, rules.capacity.must_offer_existing_coal)
    return CapacityObservation(
        owner, cols["unit_ids"], cols["technology"], cols["accredited"], cols["credit"], going,
        expected_margin(energy_views, idx, profile, rules), must, state)


def seller_observation(owner: str, view: View, idx: np.ndarray, month: int,
                       premium: float, certificate: float) -> GreenSellerObservation:
    """The green seller's observation: never-sold certificates per unit at ``idx``."""
    units = [view["units"][int(i)] for i in idx]
    return GreenSellerObservation(
        owner, month, np.array([u["unit"] for u in units], dtype=str),
        np.array([u["sellable_certificates_mwh"] or 0.0 for u in units], dtype=np.float64),
        premium, certificate)


def obligation_need(loads: Sequence[Mapping[str, Any]], demand_mwh: np.ndarray,
                    held_mwh: float, rules: MarketRules) -> np.ndarray:
    """float64 (L,) MWh of certificates each load still needs
    (:func:`agents.observe.certificate_need`): what is due for the obligated loads' demand so
    far (``demand_mwh`` (L,)) less what the owner holds, its holdings shared among the loads
    by what is due."""
    obligated = np.array([bool(ld["obligated"]) for ld in loads], dtype=bool)
    due = obligation_due(rules.green.obligation_weight, demand_mwh, obligated)
    return certificate_need(due, share_by(held_mwh, due))


def buyer_observation(view: View, month: int, need: np.ndarray, premium: float,
                      certificate: float) -> GreenBuyerObservation:
    return GreenBuyerObservation(month, np.array([ld["load"] for ld in view["loads"]], dtype=str),
                                 need, premium, certificate)


# --------------------------------------------------------------------- decisions -> bids

def offer_bids(offers: Offers, view: View, unit_ids: np.ndarray, rules: MarketRules
               ) -> list[dict[str, Any]]:
    """Energy offer blocks (H, U, B) as sell bids, hour-major, zero quantities dropped."""
    qty = floor_to(offers.quantity_mw, float(rules.ticks.quantity_mw))
    price = price_grid(offers.price_yuan_per_mwh, float(rules.ticks.price_yuan))
    hours = view["hours"]
    return [{"unit": str(unit_ids[u]), "side": "sell", "hour": int(hours[h]),
             "price": float(price[h, u, b]), "quantity": float(qty[h, u, b])}
            for h, u, b in zip(*np.nonzero(qty > 0), strict=True)]


def storage_bids(schedule: StorageSchedule, obs: StorageObservation, view: View,
                 rules: MarketRules) -> list[dict[str, Any]]:
    """A storage schedule cut by :func:`market.energy.storage.clip_schedule` (the market's limits,
    days by session hour), as sell (discharge) and buy (charge) bids."""
    hours = view["hours"]
    dis, chg = clip_schedule(np.asarray(schedule.desired_mw, dtype=np.float64), obs.soc_mwh,
                             obs.energy_mwh, obs.power_mw, rules,
                             hour_offset=int(hours[0]) if hours else 0)
    tick = float(rules.ticks.price_yuan)
    out = []
    for side, mw, price in (("sell", dis, schedule.discharge_price_yuan_per_mwh),
                            ("buy", chg, schedule.charge_price_yuan_per_mwh)):
        p = price_grid(price, tick)
        for h, u in zip(*np.nonzero(mw > 0), strict=True):
            out.append({"unit": str(obs.unit_ids[u]), "side": side, "hour": int(hours[h]),
                        "price": float(p[h, u]), "quantity": float(mw[h, u])})
    out.sort(key=lambda b: (b["hour"], b["unit"], b["side"]))
    return out


def load_bids(view: View, rules: MarketRules) -> list[dict[str, Any]]:
    """Each load's demand as the in-process year bids it (:func:`agents.observe.load_block_ticks`
    at :func:`agents.observe.load_block_prices`): the rest at
    ``energy.inelastic_bid_yuan_per_mwh`` (default the cap), then
    ``fleet.loads.responsive_share`` at ``responsive_price_yuan_per_mwh``; the demand (MW) is
    taken to the nearest 0.001 MW tick, as the year takes it (the game accepts a load's bids
    up to its demand rounded so)."""
    loads, e = rules.fleet.loads, rules.energy
    qtick = float(rules.ticks.quantity_mw)
    prices = price_grid(load_block_prices(e.inelastic_bid(),
                                          loads.responsive_price_yuan_per_mwh),
                        float(rules.ticks.price_yuan)).tolist()
    out = []
    for ld in view["loads"]:
        blocks = load_block_ticks(np.asarray(ld["demand_mw"], dtype=np.float64),
                                  loads.responsive_share, qtick)
        mw = np.asarray(from_ticks(blocks, qtick), dtype=np.float64)
        for k, h in enumerate(view["hours"]):
            for b in range(2):
                if blocks[k, b] > 0:
                    out.append({"unit": ld["load"], "side": "buy", "hour": int(h),
                                "price": prices[b], "quantity": float(mw[k, b])})
    return out


def capacity_bids(offers: CapacityOffers, obs: CapacityObservation, rules: MarketRules
                  ) -> list[dict[str, Any]]:
    """One capacity offer per unit with MW > 0 (:func:`agents.observe.capacity_offer_mw`: the
    capacity grid, at most its accredited MW)."""
    mw = capacity_offer_mw(np.asarray(offers.mw, dtype=np.float64), obs.accredited_mw)
    price = price_grid(offers.price_yuan_per_kw_yr, float(rules.ticks.price_yuan))
    return [{"unit": str(obs.unit_ids[k]), "side": "sell", "price": float(price[k]),
             "quantity": float(mw[k])} for k in np.flatnonzero(mw > 0).tolist()]


def certificate_ticks(mwh: np.ndarray | float, lot_ticks: int) -> np.ndarray:
    """MWh floored to whole lots of ``lot_ticks`` registry ticks, as MWh
    (:func:`agents.observe.certificate_quantity`)."""
    return certificate_quantity(mwh, lot_ticks)
