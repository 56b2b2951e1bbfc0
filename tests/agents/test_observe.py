"""The shared observation formulas and grid roundings (agents.observe): the year's numbers
(expected margins equal ``studies.year.markets.expected_margins`` on the Mengxi fleet, capacity
and certificate floors equal the year's expressions), and an HTTP bot bidding exactly what
the in-process runner bids from the same observation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import agents.http.observe as http_observe
from agents.fleet import SynthFleet, synthesize_fleet
from agents.inprocess.bids import load_blocks, offer_blocks
from agents.inprocess.forecast import availability, merit_order_forecast
from agents.inprocess.window import WindowClearing
from agents.observe import (
    CAPACITY_SLACK_TICKS,
    KW_PER_MW,
    capacity_offer_mw,
    certificate_need,
    certificate_quantity,
    certificates_to_buy,
    floor_to,
    load_block_ticks,
    margin_per_kw_yr,
    must_offer,
    obligation_due,
    price_grid,
    price_ticks,
    ticks_down,
)
from agents.profiles import Profiles, year_profiles
from agents.strategies.assign import Group, assign
from agents.strategies.base import CapacityObservation, CapacityOffers
from clearing.grid import KW_PER_MW as GRID_KW_PER_MW
from clearing.grid import from_ticks
from market.certificates.registry import TICKS_PER_MWH
from market.rules import MarketRules, load_preset

SEED = 7
RULES = load_preset("mengxi")


@pytest.fixture(scope="module")
def year() -> tuple[MarketRules, SynthFleet, Profiles]:
    synth = synthesize_fleet(RULES, SEED, 0.05)
    return RULES, synth, year_profiles(synth, RULES.meta.year, SEED)


def _energy_by_unit(synth: SynthFleet) -> np.ndarray:
    out = np.zeros(len(synth.fleet))
    out[synth.storage_index] = synth.storage_energy_mwh
    return out


# --------------------------------------------------------------------- the year's numbers

def test_margins_equal_the_years_expected_margins(year: Any) -> None:
    from studies.year.markets import expected_margins

    rules, synth, profiles = year
    avail, must = availability(synth, profiles, rules)
    forecast = merit_order_forecast(synth, profiles, rules, avail, must)
    want = expected_margins(synth, profiles, rules, forecast, avail)
    rate = float(profiles.outage.mean())
    power = np.array(synth.fleet.nameplate_mw, dtype=np.float64)
    power[synth.storage_index] = synth.storage_power_mw
    got = margin_per_kw_yr(synth.fleet.technologies, synth.marginal_cost_yuan_per_mwh,
                           synth.fleet.nameplate_mw, _energy_by_unit(synth), forecast, avail,
                           rate, rules, power_mw=power)
    assert {"coal", "wind", "solar", "storage"} <= {t.split("_")[0] for t in
                                                     synth.fleet.technologies.tolist()}
    for kind in (synth.coal_index, synth.wind_index, synth.solar_index, synth.storage_index):
        assert want[kind].max() > 0
    np.testing.assert_array_equal(got, want)  # bit for bit


def test_margins_of_some_hours_are_scaled_to_a_year() -> None:
    tech = np.array(["coal_usc", "wind", "storage"])
    price = np.tile(np.r_[np.full(12, 100.0), np.full(12, 300.0)], 2)  # two days
    avail = np.tile([[600.0, 50.0, 0.0]], (48, 1))
    got = margin_per_kw_yr(tech, np.array([200.0, 0.0, 0.0]), np.array([600.0, 100.0, 50.0]),
                           np.array([0.0, 0.0, 100.0]), price, avail, 0.05, RULES,
                           hours_per_year=8760)
    e = RULES.energy
    coal = 24 * 100.0 * 0.95 / KW_PER_MW * 8760 / 48
    wind = 48 * 200.0 * 50.0 / (100.0 * KW_PER_MW) * 8760 / 48
    daily = max(300.0 - 100.0 / e.storage_round_trip_efficiency, 0.0) \
        + e.storage_discharge_compensation_yuan_per_mwh
    storage = 2 * daily * 100.0 / (50.0 * KW_PER_MW) * 365 / 2
    np.testing.assert_allclose(got, [coal, wind, storage])
    assert KW_PER_MW == GRID_KW_PER_MW


def test_capacity_offers_floor_as_the_years_auction() -> None:
    rng = np.random.default_rng(1)
    mw = np.r_[rng.uniform(0, 1000, 10_000), np.round(rng.uniform(0, 1000, 10_000), 3),
               0.9 * 1000.0, 0.3, 1.2345, 999.9999995]
    acc = np.full(mw.shape, 950.0)
    per = round(1 / 0.001)  # studies/year/markets.run_capacity_auction, as written there
    year_mw = np.minimum(np.floor(mw * per + 1e-6) / per, acc)
    got = capacity_offer_mw(mw, acc)
    np.testing.assert_array_equal(got, year_mw)
    assert got[-4] == 900.0 and CAPACITY_SLACK_TICKS == 1e-6
    assert got[-1] == 950.0 and got[-2] == 1.234


def test_certificates_floor_as_the_years_green_market() -> None:
    rng = np.random.default_rng(2)
    mwh = np.r_[rng.uniform(0, 1e5, 10_000), np.round(rng.uniform(0, 1e5, 10_000), 3), 0.3]
    # studies/year/green.py: bundled offers, then whole certificates of registry ticks
    bundled = np.floor(mwh * TICKS_PER_MWH + 1e-9) / TICKS_PER_MWH
    np.testing.assert_array_equal(certificate_quantity(mwh), bundled)
    ticks = np.floor(mwh * TICKS_PER_MWH + 1e-9).astype(np.int64)
    np.testing.assert_array_equal(certificate_quantity(mwh, TICKS_PER_MWH) * TICKS_PER_MWH,
                                  (ticks // TICKS_PER_MWH) * TICKS_PER_MWH)
    need, bought = np.array([2.5, 3.0, 0.2, 0.0]), np.array([0.5, 3.0 - 1e-12, 0.0, 1.0])
    np.testing.assert_array_equal(certificates_to_buy(need, bought),
                                  np.ceil(np.maximum(need - bought, 0.0) - 1e-9))
    assert certificates_to_buy(need, bought).tolist() == [2.0, 0.0, 1.0, 0.0]
    demand, held = np.array([1000.0, 500.0]), np.array([100.0, 200.0])
    weight = RULES.green.obligation_weight
    np.testing.assert_array_equal(certificate_need(obligation_due(weight, demand), held),
                                  np.maximum(weight * demand - held, 0.0))


def test_grids_round_one_way() -> None:
    assert ticks_down([0.3, 0.0029999999], 0.001).tolist() == [300, 2]
    assert floor_to(0.1 + 0.2, 0.001).tolist() == 0.3
    assert price_ticks([0.125, 0.135, -0.005], 0.01).tolist() == [12, 14, 0]  # nearest, even
    assert price_grid(199.994999, 0.01).tolist() == 199.99
    assert load_block_ticks(np.array([10.0006]), 0.1, 0.001).tolist() == [[9001, 1000]]
    tech = np.array(["coal_usc", "coal_subcritical", "wind"])
    existing = np.array([True, False, True])
    assert must_offer(tech, existing, True).tolist() == [True, False, False]
    assert not must_offer(tech, existing, False).any()


# --------------------------------------------------------------------- one rounding, two engines

def _view(synth: SynthFleet, profiles: Profiles, avail: np.ndarray, hours: np.ndarray,
          owner: str) -> dict[str, Any]:
    """A game view (``GET .../me``) of ``owner``'s units and loads in ``hours`` of the year."""
    f = synth.fleet
    units = []
    for i in np.flatnonzero(f.owners == owner).tolist():
        storage = f.technologies[i] == "storage"
        j = int(np.searchsorted(synth.storage_index, i))
        units.append({
            "unit": str(f.unit_ids[i]), "technology": str(f.technologies[i]),
            "nameplate_mw": float(f.nameplate_mw[i]), "accredited_mw": float(f.nameplate_mw[i]),
            "capacity_credit": 1.0,
            "marginal_cost_yuan_per_mwh": None if storage
            else float(synth.marginal_cost_yuan_per_mwh[i]),
            "storage_energy_mwh": float(synth.storage_energy_mwh[j]) if storage else None,
            "storage_soc_mwh": 0.0 if storage else None,
            "min_output_fraction": float(synth.min_output_fraction[i]),
            "winter_must_run": bool(synth.winter_must_run[i]),
            "available_mw": avail[hours, i].tolist()})
    loads = [{"load": str(synth.load_ids[j]), "obligated": True,
              "demand_mw": profiles.load_mw[hours, j].tolist()}
             for j in np.flatnonzero(synth.load_owners == owner).tolist()]
    return {"hours": hours.tolist(), "hour_of_year": hours.tolist(),
            "month_of_hour": profiles.month[hours].tolist(), "units": units, "loads": loads}


def _rows(qty: np.ndarray, price: np.ndarray, hours: np.ndarray, ids: np.ndarray,
          rules: MarketRules) -> list[tuple[int, str, float, float]]:
    """(hour, unit, price, MW) of (H, U, B) tick blocks, as the market decodes them."""
    p = from_ticks(price, float(rules.ticks.price_yuan))
    q = from_ticks(qty, float(rules.ticks.quantity_mw))
    return sorted((int(hours[h]), str(ids[u]), float(p[h, u, b]), float(q[h, u, b]))
                  for h, u, b in zip(*np.nonzero(qty > 0), strict=True))


@pytest.mark.parametrize("strategy", ["opportunity_cost", "truthful", "markup", "withholding",
                                      "learning"])
def test_an_http_bot_bids_what_the_in_process_runner_bids(year: Any, strategy: str) -> None:
    rules, synth, profiles = year
    f = synth.fleet
    groups = assign({o: strategy for o in np.unique(f.owners).tolist()}, f.owners,
                    f.technologies, synth.n_loads,
                    defaults=rules.agents.strategies.params_by_name())
    gens: list[Group] = [g for g in groups if g.role == "generator"]
    rngs = {g.label: np.random.default_rng(0) for g in groups}
    runner = WindowClearing(rules, synth, profiles, groups, rngs)
    s, e = 24 * 40, 24 * 41  # a winter day: must-run of heat-led units
    hours = np.arange(s, e)
    compared = 0
    for g in gens:
        obs = runner.offer_obs(g, s, e, None)
        view = _view(synth, profiles, runner.avail, hours, g.owner)
        pos = {u["unit"]: k for k, u in enumerate(view["units"])}
        idx = np.array([pos[str(u)] for u in f.unit_ids[g.members]])
        seen = http_observe.offer_observation(g.owner, view, idx, np.zeros(24), rules)
        # the same observation, but for the forecast (a bot's comes from published prices)
        np.testing.assert_array_equal(seen.available_mw, obs.available_mw)
        np.testing.assert_array_equal(seen.must_run_mw, obs.must_run_mw)
        np.testing.assert_array_equal(seen.marginal_cost_yuan_per_mwh,
                                      obs.marginal_cost_yuan_per_mwh)
        offers = g.spec.strategy.offer(obs, rules, np.random.default_rng(5), g.spec.param_dict())
        qty_t, price_t = offer_blocks(offers, rules, g.label)
        year_rows = _rows(qty_t, price_t, hours, obs.unit_ids, rules)
        bot_rows = sorted((b["hour"], b["unit"], b["price"], b["quantity"]) for b in
                          http_observe.offer_bids(offers, view, obs.unit_ids, rules))
        assert bot_rows == year_rows
        compared += len(bot_rows)
    assert compared > 0
    owner = str(synth.load_owners[0])
    view = _view(synth, profiles, runner.avail, hours, owner)
    mine = np.flatnonzero(synth.load_owners == owner)
    on_grid = floor_to(profiles.load_mw[s:e][:, mine], float(rules.ticks.quantity_mw))
    qty_t, price_t = load_blocks(on_grid, rules)
    year_rows = _rows(qty_t, price_t, hours, synth.load_ids[mine], rules)
    grid = dict(view, loads=[dict(ld, demand_mw=on_grid[:, k].tolist())
                             for k, ld in enumerate(view["loads"])])
    bot_rows = sorted((b["hour"], b["unit"], b["price"], b["quantity"])
                      for b in http_observe.load_bids(grid, rules))
    assert bot_rows == year_rows and bot_rows  # demand on the grid: the same blocks


def test_capacity_bids_are_the_years_offers(year: Any) -> None:
    rules, synth, _ = year
    f = synth.fleet
    ids = f.unit_ids[:4]
    acc = np.array([300.0, 280.5, 100.0, 50.0])
    obs = CapacityObservation("genco-1", ids, f.technologies[:4], acc, np.ones(4),
                              np.zeros(4), np.zeros(4), np.zeros(4, dtype=bool))
    offers = CapacityOffers(np.array([0.9 * 300.0, 280.5004, 0.0, 70.0]),
                            np.array([10.004, 20.0, 30.0, 40.126]))
    bids = http_observe.capacity_bids(offers, obs, rules)
    assert [(b["unit"], b["quantity"], b["price"]) for b in bids] == [
        (str(ids[0]), 270.0, 10.0), (str(ids[1]), 280.5, 20.0), (str(ids[3]), 50.0, 40.13)]


@given(st.lists(st.floats(allow_nan=False, allow_infinity=True, width=64), min_size=0,
                max_size=30))
def test_strategies_price_grid_is_the_observe_grid_clipped(prices):
    """The strategies' one-pass grid (floor, cap, nearest tick) gives the same bytes as the
    plain composition: clip, agents.observe.price_grid, clip (no -0.0 from a tiny negative)."""
    from agents.observe import price_grid as observe_grid
    from agents.strategies.base import price_grid as strategy_grid
    rules = load_preset("mengxi")
    e, tick = rules.energy, float(rules.ticks.price_yuan)
    x = np.array(prices + [-1e-9, -0.004, 0.005, 0.015, 1e308], dtype=np.float64)
    want = np.clip(observe_grid(np.clip(x, e.price_floor_yuan_per_mwh,
                                        e.price_cap_yuan_per_mwh), tick),
                   e.price_floor_yuan_per_mwh, e.price_cap_yuan_per_mwh)
    assert strategy_grid(x, rules).tobytes() == want.tobytes()


def test_storage_owners_asked_together_decide_as_when_asked_alone() -> None:
    """Storage owners on a unit-separable strategy with the same parameters are asked once a
    window for all their units (agents.inprocess.window.storage_batches): the rows of every
    window, and the state of charge they lead to, are those of asking each owner alone."""
    from agents.inprocess.window import storage_batches

    synth = synthesize_fleet(RULES, SEED, 0.3)
    profiles = year_profiles(synth, RULES.meta.year, SEED)
    f = synth.fleet
    groups = assign({}, f.owners, f.technologies, synth.n_loads,
                    defaults=RULES.agents.strategies.params_by_name())
    storage = [g for g in groups if g.role == "storage"]
    assert len(storage) >= 2 and all(g.spec.strategy.unit_separable for g in storage)
    runs = []
    for together in (True, False):
        rngs = {g.label: np.random.default_rng(0) for g in groups}
        w = WindowClearing(RULES, synth, profiles, groups, rngs)
        if together:
            assert len(w.storage_batches) == 1
        else:
            w.storage_batches = [b for g in w.storage
                                 for b in storage_batches([g], w.storage_cols)]
            assert len(w.storage_batches) == len(storage)
        rows = []
        for s in range(0, 24 * 6, 8):  # six days of windows; the charge moves in between
            r = w.storage_rows(s, s + 8)
            rows.append([np.asarray(x).tobytes() for x in r])
            # a different charge in every unit and window, as clearing would leave it
            share = (0.37 * (s + 1) + 0.13 * np.arange(w.soc.shape[0])) % 1.0
            w.soc = synth.storage_energy_mwh * share
        runs.append(rows)
    assert runs[0] == runs[1]
