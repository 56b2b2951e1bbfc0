"""The storage programme's direct HiGHS path gives exactly what ``scipy.optimize.linprog`` gives.

``agents.strategies.storage.solve_schedule`` hands its linear programme to SciPy's HiGHS
binding directly (``_solve_lp``: the model, options and solver linprog would use, without
linprog's per-call checks). These tests solve the same programmes both ways, through the fast
path and through ``linprog`` (the path taken when the binding is missing), and require the
schedules and the values of stored energy to be equal bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

import agents.strategies.storage as storage
from market.rules import load_preset


def _both(monkeypatch: pytest.MonkeyPatch, *args, **kwargs):
    storage._SOLVED.clear()
    fast = storage.solve_schedule(*args, **kwargs)
    storage._SOLVED.clear()
    with monkeypatch.context() as m:
        m.setattr(storage, "_CORE", None)
        slow = storage.solve_schedule(*args, **kwargs)
    storage._SOLVED.clear()
    return fast, slow


@pytest.mark.parametrize("basis", ["dispatched", "available"])
def test_the_direct_path_equals_linprog_bit_for_bit(monkeypatch, basis):
    assert storage._highs_core() is not None, "SciPy's HiGHS binding should load here"
    rules = load_preset("mengxi").with_overrides({"capacity.performance_basis": basis})
    rng = np.random.default_rng(11)
    solved_with_obligation = 0
    for case in range(40):
        t_n = int(rng.integers(8, 41))
        hour0 = int(rng.integers(0, 48))
        price = np.round(rng.uniform(-50, 1500, t_n) * rng.uniform(0, 1, t_n), 2)
        stress = rng.random(t_n) < 0.15
        obligation = float(rng.choice([0.0, 0.25, 0.5, 1.0]))
        energy = float(rng.choice([1.0, 2.0, 4.0]))
        soc = round(float(rng.uniform(0, energy)), 3)
        done = round(float(rng.uniform(0, energy)), 3) if case % 3 else 0.0
        window = int(rng.integers(1, t_n + 1))
        fast, slow = _both(monkeypatch, price, hour0, soc, energy, done, obligation, stress,
                           rules, window)
        for a, b in zip(fast, slow, strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert np.array_equal(a, b), f"case {case}: {a} != {b}"
        solved_with_obligation += obligation > 0 and bool(stress.any())
    assert solved_with_obligation >= 5  # the penalty columns were exercised


def test_a_failed_programme_is_reported_the_same_way(monkeypatch):
    # An obligation the unit cannot hold is still feasible (the shortfall z is free, at a
    # penalty), so force a failure with a bad model: negative energy capacity.
    rules = load_preset("mengxi")
    price = np.full(10, 300.0)
    stress = np.zeros(10, dtype=bool)
    storage._SOLVED.clear()
    with pytest.raises(storage.StrategyError, match="storage schedule: the programme failed"):
        storage.solve_schedule(price, 0, 2.0, -1.0, 0.0, 0.0, stress, rules, 4)
    storage._SOLVED.clear()
    monkeypatch.setattr(storage, "_CORE", None)
    with pytest.raises(storage.StrategyError, match="storage schedule: the programme failed"):
        storage.solve_schedule(price, 0, 2.0, -1.0, 0.0, 0.0, stress, rules, 4)
    storage._SOLVED.clear()


def test_the_binding_loads_without_importing_scipy_optimize():
    import subprocess
    import sys

    code = ("import sys, agents.strategies.storage as s; core = s._highs_core(); "
            "print(core.HighsLp.__name__, 'scipy.optimize' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["HighsLp", "False"]
