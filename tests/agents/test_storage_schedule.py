"""The default storage strategy, ``storage_optimal``: golden schedules worked by hand on a
48-hour price series, the value of stored energy it offers at, the capacity obligation it keeps
charge for (weighed against the penalty), and a check against an independent linear programme.

The hand-worked series (unit of 1 MW / 2 MWh, round-trip efficiency 0.8, no compensation, no
degradation, windows starting at 00:00 and 16:00, so the windows of the 48 hours are
[0, 16), [16, 24), [24, 40), [40, 48)): every hour at 100 yuan/MWh except

    hour   2, 3 : 10     (cheap night)       hour  26, 27 : 20
    hour   5    : 90                          hour  29     : 95
    hour  18    : 210    (evening peak)       hour  42, 43 : 300
    hour  19    : 200

Energy charged in a window can be sold only from the next one on, at most the charge stored
at a window's start is sold in it, and at most the room left at its start is charged.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from agents.strategies.base import get_strategy
from agents.strategies.storage import (
    StorageObservation,
    end_value,
    solve_schedule,
    window_ids,
)
from market.rules import load_preset

HAND = {
    "energy.storage_round_trip_efficiency": 0.8,
    "energy.storage_discharge_compensation_yuan_per_mwh": 0.0,
    "energy.storage_degradation_cost_yuan_per_mwh": 0.0,
    "energy.storage_max_cycles_per_day": 1.5,
    "agents.runner.window_start_hours": [0, 16],
}


def series() -> np.ndarray:
    p = np.full(48, 100.0)
    p[[2, 3]] = 10.0
    p[5] = 90.0
    p[18], p[19] = 210.0, 200.0
    p[[26, 27]] = 20.0
    p[29] = 95.0
    p[[42, 43]] = 300.0
    return p


def observe(start: int, end: int, soc: float, *, obligation: float = 0.0,
            stress: list[int] | None = None) -> StorageObservation:
    p = series()
    flags = np.zeros(48 - start, dtype=bool)
    for h in stress or []:
        flags[h - start] = True
    return StorageObservation(
        "o", np.arange(start, end), np.array(["s"]), np.array([soc]), np.array([2.0]),
        np.array([1.0]), p[start:end], p[end:48], stress_forecast=flags,
        obligation_mw=np.array([obligation]))


def schedule(rules, start, end, soc, **kw):
    return get_strategy("storage_optimal").offer(observe(start, end, soc, **kw), rules,
                                                 np.random.default_rng(0), {})


def test_golden_first_window_charges_the_cheapest_hours_up_to_the_room():
    """Window [0, 16) from empty. Window 0 may charge room / eff = 2 / 0.8 = 2.5 MWh: hours 2
    and 3 (10 yuan) fully and 0.5 MWh in hour 5 (90), worth it because it is sold in window 1
    at 200-210 (0.8 x 200 = 160 > 90). Window 1 sells the 2 MWh stored (hours 18, 19: 410);
    window 2 charges 2.5 MWh again (26, 27 at 20, 0.5 at 29 at 95: 87.5) and window 3 sells
    at 300 (600). Energy left at the end would be worth what it costs to buy back, the
    cheapest price of the last day / eff = 20 / 0.8 = 25 < 300, so nothing is kept.
    Profit 410 + 600 - 65 - 87.5 = 857.5.

    Its limits are the plan's reservation prices: a charge is bid at 0.8 x the least a later
    planned sale earns (hour 19, 200), 160, so hour 5 is still bought if it clears above its
    90 forecast; a discharge is offered at the dearest later planned purchase per MWh stored
    (hour 29, 95 / 0.8 = 118.75): never sell for less than it costs to buy back."""
    rules = load_preset("mengxi").with_overrides(HAND)
    out = schedule(rules, 0, 16, 0.0)
    want = np.zeros(16)
    want[[2, 3]] = -1.0
    want[5] = -0.5
    np.testing.assert_allclose(out.desired_mw[:, 0], want, atol=1e-7)
    np.testing.assert_allclose(out.charge_price_yuan_per_mwh[[2, 3, 5], 0], 160.0)
    np.testing.assert_allclose(out.discharge_price_yuan_per_mwh[:, 0], 118.75)
    dis, chg, value = solve_schedule(series(), 0, 0.0, 2.0, 0.0, 0.0, np.zeros(48, bool),
                                     rules, 16)
    profit = float(((series()) * (dis - chg)).sum())
    assert profit == pytest.approx(410 + 600 - 65 - 87.5)
    assert 112.5 - 1e-6 <= value[-1] <= 210 + 1e-6


def test_golden_evening_window_sells_its_charge_in_the_dearest_hours():
    """Window [16, 24) with 2 MWh stored: sells 1 MWh at 210 (hour 18) and 1 at 200 (19),
    charges nothing (no room at the window's start)."""
    rules = load_preset("mengxi").with_overrides(HAND)
    out = schedule(rules, 16, 24, 2.0)
    want = np.zeros(8)
    want[18 - 16] = want[19 - 16] = 1.0
    np.testing.assert_allclose(out.desired_mw[:, 0], want, atol=1e-7)


@pytest.mark.parametrize("basis", ["available", "dispatched"])
def test_golden_an_obligation_keeps_charge_for_the_forecast_stress_hour(basis):
    """The same window owing 0.5 MW in a forecast stress hour, 22 (price 100), at the
    penalty rate (11,000 yuan/MWh): short by 0.5 MWh it would pay 5,500, far more than the
    margin it gives up (without the obligation: 410 - 87.5 + 600 = 922.5).

    "available" (delivered = discharge + what is left): hour 18 in full, 0.5 in hour 19 and x
    in hour 22 itself, leaving 0.5 - x, so delivered is 0.5 for any x <= 0.5. Each MWh of x
    earns 100 and costs 1 / 0.8 MWh more charge in window 2: at 20 while its 2 MWh of 20-yuan
    hours last (x <= 0.1, +75 a MWh), then at 95 (-18.75). So x = 0.1: 320 - 40 + 600 = 880
    (sold in hour 23 instead, also at 100, is as good).

    "dispatched" (delivered = net discharge): 0.5 sold in hour 22 itself, hour 18 in full and
    0.5 in 19: 360 - 87.5 + 600 = 872.5, better than leaving 19 out (310 - 37.5 + 600)."""
    rules = load_preset("mengxi").with_overrides({**HAND, "capacity.performance_basis": basis})
    out = schedule(rules, 16, 24, 2.0, obligation=0.5, stress=[22])
    d = out.desired_mw[:, 0]
    assert d[18 - 16] == pytest.approx(1.0)
    if basis == "available":
        assert d[19 - 16] == pytest.approx(0.5)
        assert d[22 - 16:].sum() == pytest.approx(0.1)  # in hour 22 or 23, both at 100
        assert d.sum() == pytest.approx(1.6)
    else:
        assert d[22 - 16] == pytest.approx(0.5)
        assert d.sum() == pytest.approx(2.0)
        # owing the MW by dispatch, the unit sells at any price in the stress hour
        assert out.discharge_price_yuan_per_mwh[22 - 16, 0] == rules.energy.price_floor_yuan_per_mwh


def test_a_small_penalty_is_not_worth_the_margin():
    """At a penalty rate of 0.33 yuan/MWh (a million penalty hours) the obligation is ignored:
    the schedule is the one without it."""
    rules = load_preset("mengxi").with_overrides({**HAND, "capacity.penalty_hours": 1e6})
    out = schedule(rules, 16, 24, 2.0, obligation=0.5, stress=[22])
    free = schedule(rules, 16, 24, 2.0)
    np.testing.assert_allclose(out.desired_mw, free.desired_mw, atol=1e-7)


def test_compensation_and_degradation_move_the_schedule():
    """At flat prices nothing trades without compensation; compensation makes cycling pay
    (350 - 50 per MWh sold against the 20 % lost), within the daily cycle cap; without it a
    degradation cost above every spread stops trade altogether."""
    base = load_preset("mengxi").with_overrides(HAND)
    flat = np.full(48, 100.0)
    stress = np.zeros(48, bool)
    d0, c0, _ = solve_schedule(flat, 0, 1.0, 2.0, 0.0, 0.0, stress, base, 16)
    # buying loses a fifth; what it holds is worth 100 kept or sold (so either)
    assert c0.sum() == pytest.approx(0.0, abs=1e-9) and d0.sum() <= 1.0 + 1e-9
    paid = base.with_overrides({"energy.storage_discharge_compensation_yuan_per_mwh": 350.0,
                                "energy.storage_degradation_cost_yuan_per_mwh": 50.0})
    d1, c1, _ = solve_schedule(flat, 0, 1.0, 2.0, 0.0, 0.0, stress, paid, 16)
    assert d1.sum() > 2.0 and c1.sum() > 1.0
    assert d1[:24].sum() <= 1.5 * 2.0 + 1e-9 and d1[24:].sum() <= 1.5 * 2.0 + 1e-9
    worn = base.with_overrides({"energy.storage_degradation_cost_yuan_per_mwh": 500.0})
    d2, c2, _ = solve_schedule(series(), 0, 0.0, 2.0, 0.0, 0.0, stress, worn, 16)
    assert d2.sum() == pytest.approx(0.0, abs=1e-9) and c2.sum() == pytest.approx(0.0, abs=1e-9)


def _dense_optimum(price, soc, energy, rules, done=0.0):
    """The optimum by a second formulation written out independently: one variable per hour
    and direction, state of charge eliminated (prefix sums), every budget a dense row."""
    e = rules.energy
    eff, comp, deg = (e.storage_round_trip_efficiency,
                      e.storage_discharge_compensation_yuan_per_mwh,
                      e.storage_degradation_cost_yuan_per_mwh)
    t = price.shape[0]
    wid = window_ids(np.arange(t), rules.agents.runner.window_start_hours)
    tri = np.tril(np.ones((t, t)))
    # soc after hour h = soc + eff * cumsum(c) - cumsum(d) in [0, E]
    a, b = [], []
    a.append(np.hstack([tri, -eff * tri]))
    b.append(np.full(t, soc))
    a.append(np.hstack([-tri, eff * tri]))
    b.append(np.full(t, energy - soc))
    a.append(np.hstack([np.eye(t), np.eye(t)]))
    b.append(np.ones(t))
    for w in range(wid.max() + 1):
        m = (wid == w).astype(float)
        first = int(np.flatnonzero(wid == w)[0])
        before = (np.arange(t) < first).astype(float)
        # discharge in w <= soc at its start; eff * charge in w <= room at its start
        a.append(np.hstack([m + before, -eff * before])[None, :])
        b.append(np.array([soc]))
        a.append(np.hstack([-before, eff * (m + before)])[None, :])
        b.append(np.array([energy - soc]))
    for day in range(t // 24):
        m = (np.arange(t) // 24 == day).astype(float)
        a.append(np.hstack([m, np.zeros(t)])[None, :])
        b.append(np.array([e.storage_max_cycles_per_day * energy - (done if day == 0 else 0)]))
    end = end_value(price, rules)
    cost = np.concatenate([-(price + comp - deg) + end, price - eff * end])
    res = linprog(cost, A_ub=np.vstack(a), b_ub=np.concatenate(b), bounds=(0, 1),
                  method="highs")
    assert res.status == 0
    return -res.fun


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("comp", [0.0, 350.0])
def test_the_programme_matches_an_independent_formulation(seed, comp):
    rng = np.random.default_rng(seed)
    rules = load_preset("mengxi").with_overrides(
        {"energy.storage_discharge_compensation_yuan_per_mwh": comp})
    price = np.round(rng.uniform(-50, 600, 48), 2)
    soc = float(rng.uniform(0, 4))
    dis, chg, _ = solve_schedule(price, 0, soc, 4.0, 0.5, 0.0, np.zeros(48, bool), rules, 16)
    e = rules.energy
    end = end_value(price, rules)
    final = soc + e.storage_round_trip_efficiency * chg.sum() - dis.sum()
    got = float((price + e.storage_discharge_compensation_yuan_per_mwh
                 - e.storage_degradation_cost_yuan_per_mwh) @ dis - price @ chg) + end * (
        final - soc)
    assert got == pytest.approx(_dense_optimum(price, soc, 4.0, rules, done=0.5), rel=1e-7,
                                abs=1e-5)
