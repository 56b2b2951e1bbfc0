"""Build the domain :class:`~market.session.Session` of a game from a creation request.

The fleet and a year of hourly profiles are synthesised (:func:`agents.fleet.synthesize_fleet`,
:func:`agents.profiles.year_profiles`) from the rules, the seed and the scale; the session keeps
only the window of hours its energy rounds clear (``energy_rounds`` x ``hours_per_round`` hours
from ``start_day``), so its saved state stays small. Availability per unit and hour:

* wind and solar: nameplate MW x the hour's capacity factor;
* coal: nameplate MW, 0 in hours of a forced outage;
* storage: nameplate MW (its state of charge is tracked by the session).

Coal test calls (the compensation's call hours) are each day's peak-load hour. The plan is
:func:`market.session.standard_plan` over the window. Export blocks are not seated in a
game (the session's loads are the synthesised loads only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.fleet import FleetAssumptions, synthesize_fleet
from agents.profiles import year_profiles
from clearing.grid import HOURS_PER_DAY
from market.errors import SessionSetupError
from market.rules import MarketRules
from market.session import Load, Profiles, Session, standard_plan


@dataclass(frozen=True)
class GameSetup:
    """What a game is built from (see the module docstring). ``scale`` shrinks the fleet
    (0.01: a small system with the same shares); ``gencos`` and ``retailers`` are the seats that
    own units and loads (None: the rules' ``fleet.genco_count`` and
    ``fleet.loads.retailer_count``)."""

    seed: int
    scale: float
    energy_rounds: int
    hours_per_round: int = HOURS_PER_DAY
    start_day: int = 0
    gencos: int | None = None
    retailers: int | None = None
    green_product: str = "bundled"
    green_mode: str = "auction"
    obligation: bool = True


def build_session(rules: MarketRules, setup: GameSetup, session_id: str
                  ) -> tuple[Session, dict[str, dict[str, Any]]]:
    """The domain session of a new game, and per unit the traits the synthesis gave it that
    the session does not hold (``min_output_fraction``, share of nameplate;
    ``winter_must_run``; ``lowest_offer_yuan_per_mwh``), for bots. Raises
    :class:`~market.errors.SynthesisError` or :class:`~market.errors.SessionSetupError` (every
    problem listed) when it cannot be built."""
    synth = synthesize_fleet(rules, setup.seed, setup.scale, assumptions=FleetAssumptions(
        genco_count=setup.gencos, retailer_count=setup.retailers))
    year = year_profiles(synth, rules.meta.year, setup.seed)
    start = setup.start_day * HOURS_PER_DAY
    n_hours = setup.energy_rounds * setup.hours_per_round
    if start + n_hours > year.n_hours:
        raise SessionSetupError([
            f"the game's hours ({setup.energy_rounds} rounds x {setup.hours_per_round} h from "
            f"day {setup.start_day}) run past the end of {rules.meta.year} ({year.n_hours} h); "
            f"allowed: start_day x 24 + energy_rounds x hours_per_round <= {year.n_hours}"])
    window = slice(start, start + n_hours)
    fleet = synth.fleet
    nameplate = np.asarray(fleet.nameplate_mw, dtype=np.float64)
    ids = fleet.unit_ids.tolist()
    available: dict[str, tuple[float, ...]] = {}
    for index, factors in ((synth.wind_index, year.wind_cf), (synth.solar_index, year.solar_cf)):
        for k, i in enumerate(index.tolist()):
            available[ids[i]] = tuple(
                np.minimum(nameplate[i] * factors[window, k], nameplate[i]).tolist())
    for k, i in enumerate(synth.coal_index.tolist()):
        available[ids[i]] = tuple(np.where(year.outage[window, k], 0.0, nameplate[i]).tolist())
    loads = [Load(str(load_id), str(owner), tuple(year.load_mw[window, j].tolist()),
                  industrial_commercial=bool(synth.load_industrial_commercial[j]))
             for j, (load_id, owner) in enumerate(zip(synth.load_ids, synth.load_owners,
                                                      strict=True))]
    system = year.system_load_mw[window]
    days = range(0, n_hours, HOURS_PER_DAY)
    call_hours = [d + int(np.argmax(system[d:d + HOURS_PER_DAY])) for d in days]
    profiles = Profiles(tuple(int(m) for m in year.month[window]), available, tuple(call_hours))
    plan = standard_plan(rules, profiles, hours_per_energy_round=setup.hours_per_round,
                         green_product=setup.green_product, green_mode=setup.green_mode,
                         obligation=setup.obligation)
    costs = {ids[i]: float(synth.marginal_cost_yuan_per_mwh[i]) for i in range(len(ids))
             if fleet.technologies[i] != "storage"}
    session = Session(rules, fleet, loads, profiles, plan, seed=setup.seed,
                      marginal_cost_yuan_per_mwh=costs, session_id=session_id)
    traits = {ids[i]: {"min_output_fraction": float(synth.min_output_fraction[i]),
                       "winter_must_run": bool(synth.winter_must_run[i]),
                       "lowest_offer_yuan_per_mwh": (
                           None if fleet.technologies[i] == "storage"
                           else float(synth.lowest_offer_yuan_per_mwh[i]))}
              for i in range(len(ids))}
    return session, traits
