"""What every participant knows before the gates close: day-ahead availability and must-run
output of each unit, and the shared merit-order price forecast."""

from __future__ import annotations

import numpy as np

from agents.fleet import SynthFleet
from agents.observe import must_run_mw
from agents.profiles import Profiles
from market.rules import MarketRules


def availability(synth: SynthFleet, profiles: Profiles, rules: MarketRules
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Day-ahead ``available_mw`` and ``must_run_mw``, float64 (H, n_units): coal out of
    service at the day's first hour offers nothing that day; wind and solar their profile.
    Coal must run its minimum output, and a winter must-run (CHP) unit at least
    ``fleet.heat_led_output_fraction`` of nameplate in the heating season
    (:func:`agents.observe.must_run_mw`)."""
    h, n = profiles.n_hours, len(synth.fleet)
    cap = synth.fleet.nameplate_mw
    avail = np.zeros((h, n))
    day_start = (np.arange(h) // 24) * 24
    known_out = profiles.outage[day_start]
    coal = synth.coal_index
    avail[:, coal] = np.where(known_out, 0.0, cap[coal][None, :])
    avail[:, synth.wind_index] = profiles.wind_cf * cap[synth.wind_index][None, :]
    avail[:, synth.solar_index] = profiles.solar_cf * cap[synth.solar_index][None, :]
    must = np.zeros((h, n))
    must[:, coal] = must_run_mw(synth.min_output_fraction[coal], cap[coal],
                                synth.winter_must_run[coal], profiles.heating_season,
                                avail[:, coal], rules.fleet.heat_led_output_fraction)
    return avail, must


def merit_order_forecast(synth: SynthFleet, profiles: Profiles, rules: MarketRules,
                         available_mw: np.ndarray, must_run_mw: np.ndarray) -> np.ndarray:
    """A price forecast (H,) yuan/MWh: net load (load + firm exports - wind - solar) against
    the coal stack at marginal cost, at the expected availability of every coal unit;
    the floor when must-run output alone covers it, the cap when the stack falls short."""
    e = rules.energy
    cap = synth.fleet.nameplate_mw
    coal = synth.coal_index
    firm = float(synth.export_mw[synth.export_price_yuan_per_mwh >= e.price_cap_yuan_per_mwh]
                 .sum())
    renew = available_mw[:, synth.wind_index].sum(axis=1) + available_mw[
        :, synth.solar_index].sum(axis=1)
    net = profiles.system_load_mw + firm - renew
    must = must_run_mw[:, coal].sum(axis=1)
    rate = float(profiles.outage.mean()) if profiles.outage.size else 0.0
    cost = synth.marginal_cost_yuan_per_mwh[coal]
    order = np.argsort(cost, kind="stable")
    flex = (1.0 - rate) * cap[coal][order] - must_run_mw[:, coal].mean(axis=0)[order]
    stack = np.cumsum(np.maximum(flex, 0.0))
    residual = net - must
    k = np.searchsorted(stack, residual, side="left")
    price = np.where(k < len(order), cost[order][np.minimum(k, len(order) - 1)],
                     e.price_cap_yuan_per_mwh) if len(order) else np.full(net.shape,
                                                                         e.price_cap_yuan_per_mwh)
    price = np.where(residual <= 0, np.where(net < must, e.price_floor_yuan_per_mwh, 0.0), price)
    return np.asarray(price, dtype=np.float64)

