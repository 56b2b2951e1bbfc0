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
* **Must-run MW**: ``min_output_fraction`` x nameplate, and for a winter must-run unit at least
  ``fleet.heat_led_output_fraction`` x nameplate in ``fleet.heating_season_months``; never above
  the hour's available MW (as :func:`agents.inprocess.forecast.availability`).
* **Capacity observation**: going-forward cost = the class's fixed cost x
  ``fleet.going_forward_cost_share`` (per kW of nameplate); the expected energy margin is the
  forecast's margin over the session's energy hours (every unit's available MW from its views),
  scaled to a year (yuan/kW·yr of nameplate); storage earns the daily spread of its ``E / P``
  dearest and cheapest forecast hours plus one compensated cycle a day. Must-offer: coal, when
  ``capacity.must_offer_existing_coal``.
* **Green**: a seller's sellable certificates per unit come from its view; a buyer's need is
  ``green.obligation_weight`` x the demand of its obligated loads in the energy hours of the
  months so far, less the certificates it holds, shared among its loads by demand.

Quantities go to bids floored to the grids (MW 0.001, certificates 0.001 MWh or whole
certificates when unbundled), prices rounded to 0.01 yuan; zero quantities are no bid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agents.fleet import fixed_costs
from agents.strategies.base import CapacityObservation, CapacityOffers, OfferObservation, Offers
from agents.strategies.green import GreenBuyerObservation, GreenSellerObservation
from agents.strategies.storage import StorageObservation, StorageSchedule
from market.capacity.demand import MW_TICK
from market.certificates.registry import TICKS_PER_MWH
from market.energy.storage import clip_schedule
from market.rules import MarketRules

#: Days of published energy prices the forecast averages over, by hour of the day.
FORECAST_DAYS = 7
HOURS_PER_DAY = 24
HOURS_PER_YEAR = 8760
KW_PER_MW = 1000.0

View = Mapping[str, Any]
"""A participant view as JSON (``ParticipantView`` of the API)."""


# --------------------------------------------------------------------- grids

def floor_to(value: np.ndarray | float, tick: float) -> np.ndarray:
    """Quantities (any shape) floored to ``tick`` (an offer never grows)."""
    per = round(1 / tick)
    return np.floor(np.asarray(value, dtype=np.float64) * per + 1e-9) / per


def cents(value: float) -> float:
    """A price on the 0.01 yuan grid, as a plain float."""
    return round(float(value), 2)


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


def must_run_mw(view: View, idx: np.ndarray, rules: MarketRules) -> np.ndarray:
    """float64 (H, U): MW the units at ``idx`` must run in the view's hours."""
    cols = unit_arrays(view, idx)
    units = [view["units"][int(i)] for i in idx]
    base = np.array([u["min_output_fraction"] for u in units], dtype=np.float64) \
        * cols["nameplate"]
    heat = np.array([u["winter_must_run"] for u in units], dtype=bool)
    chp = np.where(heat, rules.fleet.heat_led_output_fraction * cols["nameplate"], 0.0)
    season = np.isin(np.asarray(view["month_of_hour"], dtype=np.int64),
                     rules.fleet.heating_season_months)
    must = np.where(season[:, None], np.maximum(base, chp)[None, :], base[None, :])
    return np.minimum(must, cols["available"])


def offer_observation(owner: str, view: View, idx: np.ndarray, profile: np.ndarray,
                      rules: MarketRules, state: Any = None) -> OfferObservation:
    """The energy observation of the generator units at ``idx`` for the view's hours."""
    cols = unit_arrays(view, idx)
    return OfferObservation(
        owner, np.asarray(view["hour_of_year"], dtype=np.int64), cols["unit_ids"],
        cols["technology"], cols["cost"], cols["available"], must_run_mw(view, idx, rules),
        forecast_at(profile, view["hours"]), state)


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
    """float64 (U,) yuan/kW·yr of nameplate: the forecast's energy margin of the units at
    ``idx`` over the hours of ``energy_views`` (the views of the session's energy rounds),
    scaled to a year."""
    n = len(idx)
    total = np.zeros(n)
    hours = 0
    first = unit_arrays(energy_views[0], idx) if energy_views else None
    if first is None:
        return total
    storage = first["technology"] == "storage"
    e = rules.energy
    for view in energy_views:
        cols = unit_arrays(view, idx)
        price = forecast_at(profile, view["hours"])
        spread = np.maximum(price[:, None] - cols["cost"][None, :], 0.0)
        total += np.where(storage, 0.0, (spread * cols["available"]).sum(axis=0))
        hours += len(view["hours"])
    if storage.any():
        ordered = np.sort(profile)
        for k in np.flatnonzero(storage).tolist():
            power = max(first["nameplate"][k], 1e-9)
            m = max(1, min(HOURS_PER_DAY, math.ceil(first["energy"][k] / power - 1e-9)))
            buy = max(float(ordered[:m].mean()), 0.0) / e.storage_round_trip_efficiency
            daily = max(float(ordered[-m:].mean()) - buy, 0.0) \
                + e.storage_discharge_compensation_yuan_per_mwh
            total[k] = daily * first["energy"][k] * hours / HOURS_PER_DAY
    per_kw = total / np.maximum(first["nameplate"] * KW_PER_MW, 1e-9)
    return per_kw * (HOURS_PER_YEAR / hours if hours else 0.0)


def capacity_observation(owner: str, view: View, idx: np.ndarray,
                         energy_views: Sequence[View], profile: np.ndarray,
                         rules: MarketRules, state: Any = None) -> CapacityObservation:
    """The capacity observation of the units at ``idx`` (see the module docstring)."""
    cols = unit_arrays(view, idx)
    going = fixed_costs(np.asarray(cols["technology"]), rules) \
        * rules.fleet.going_forward_cost_share
    coal = np.char.startswith(cols["technology"].astype(str), "coal")
    must = coal & bool(rules.capacity.must_offer_existing_coal)
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
    """float64 (L,) MWh of certificates each load still needs: ``obligation_weight`` x the
    obligated loads' demand so far (``demand_mwh`` (L,)) less what the owner holds, shared
    by demand."""
    obligated = np.array([bool(ld["obligated"]) for ld in loads], dtype=bool)
    due = np.where(obligated, demand_mwh, 0.0) * rules.green.obligation_weight
    short = max(float(due.sum()) - held_mwh, 0.0)
    return due / due.sum() * short if due.sum() > 0 else np.zeros(len(loads))


def buyer_observation(view: View, month: int, need: np.ndarray, premium: float,
                      certificate: float) -> GreenBuyerObservation:
    return GreenBuyerObservation(month, np.array([ld["load"] for ld in view["loads"]], dtype=str),
                                 need, premium, certificate)


# --------------------------------------------------------------------- decisions -> bids

def offer_bids(offers: Offers, view: View, unit_ids: np.ndarray, rules: MarketRules
               ) -> list[dict[str, Any]]:
    """Energy offer blocks (H, U, B) as sell bids, hour-major, zero quantities dropped."""
    qty = floor_to(offers.quantity_mw, float(rules.ticks.quantity_mw))
    price = np.asarray(offers.price_yuan_per_mwh, dtype=np.float64)
    hours = view["hours"]
    return [{"unit": str(unit_ids[u]), "side": "sell", "hour": int(hours[h]),
             "price": cents(price[h, u, b]), "quantity": float(qty[h, u, b])}
            for h, u, b in zip(*np.nonzero(qty > 0), strict=True)]


def storage_bids(schedule: StorageSchedule, obs: StorageObservation, view: View,
                 rules: MarketRules) -> list[dict[str, Any]]:
    """A storage schedule cut by :func:`market.energy.storage.clip_schedule` (the market's limits,
    days by session hour), as sell (discharge) and buy (charge) bids."""
    hours = view["hours"]
    dis, chg = clip_schedule(np.asarray(schedule.desired_mw, dtype=np.float64), obs.soc_mwh,
                             obs.energy_mwh, obs.power_mw, rules,
                             hour_offset=int(hours[0]) if hours else 0)
    out = []
    for side, mw, price in (("sell", dis, schedule.discharge_price_yuan_per_mwh),
                            ("buy", chg, schedule.charge_price_yuan_per_mwh)):
        p = np.asarray(price, dtype=np.float64)
        for h, u in zip(*np.nonzero(mw > 0), strict=True):
            out.append({"unit": str(obs.unit_ids[u]), "side": side, "hour": int(hours[h]),
                        "price": cents(p[h, u]), "quantity": float(mw[h, u])})
    out.sort(key=lambda b: (b["hour"], b["unit"], b["side"]))
    return out


def load_bids(view: View, rules: MarketRules) -> list[dict[str, Any]]:
    """Each load's demand as the in-process runner bids it: ``fleet.loads.responsive_share``
    at ``responsive_price_yuan_per_mwh`` (at most the cap), the rest at the cap."""
    loads, cap = rules.fleet.loads, rules.energy.price_cap_yuan_per_mwh
    per_mw = round(1 / float(rules.ticks.quantity_mw))
    out = []
    for ld in view["loads"]:
        for h, mw in zip(view["hours"], ld["demand_mw"], strict=True):
            total = math.floor(mw * per_mw + 1e-9)
            resp = round(total * loads.responsive_share)
            for price, ticks in ((cap, total - resp),
                                 (min(loads.responsive_price_yuan_per_mwh, cap), resp)):
                if ticks > 0:
                    out.append({"unit": ld["load"], "side": "buy", "hour": int(h),
                                "price": cents(price), "quantity": ticks / per_mw})
    return out


def capacity_bids(offers: CapacityOffers, obs: CapacityObservation) -> list[dict[str, Any]]:
    """One capacity offer per unit with MW > 0 (floored to the capacity grid, at most its
    accredited MW)."""
    mw = np.minimum(floor_to(offers.mw, MW_TICK), obs.accredited_mw)
    price = np.asarray(offers.price_yuan_per_kw_yr, dtype=np.float64)
    return [{"unit": str(obs.unit_ids[k]), "side": "sell", "price": cents(price[k]),
             "quantity": float(mw[k])} for k in np.flatnonzero(mw > 0).tolist()]


def certificate_ticks(mwh: np.ndarray | float, lot_ticks: int) -> np.ndarray:
    """MWh floored to whole lots of ``lot_ticks`` registry ticks, as MWh."""
    t = np.floor(np.asarray(mwh, dtype=np.float64) * TICKS_PER_MWH + 1e-6) // lot_ticks
    return t * lot_ticks / TICKS_PER_MWH
