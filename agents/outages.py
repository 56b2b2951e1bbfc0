"""Forced outages of coal units: a two-state (available / forced out) Markov chain per unit.

A unit in service fails in an hour with probability ``p_fail`` and an outaged unit comes back
with probability ``p_repair = 1 / mean_outage_hours``; ``p_fail`` is set so that the long-run
share of hours out is the forced outage rate:
``FOR = p_fail / (p_fail + p_repair)``. Outage and service spells are geometric, with means
``mean_outage_hours`` and ``mean_outage_hours x (1 - FOR) / FOR``. The first hour is drawn
from the long-run distribution, so every hour of the year has the same outage probability.

The rate and the mean outage length are rules, ``agents.outages`` [E]. A unit that is forced
out cannot deliver a compensation call, so these hours are where coal-compensation failures
come from.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clearing.config import NJIT
from market.errors import SynthesisError
from market.rules import OutageRules, outage_problems

#: The defaults of ``agents.outages`` (the mengxi preset).
_DEFAULT = OutageRules()


@njit(**NJIT)
def _two_state_chain(uniform: np.ndarray, outage_rate: float, p_fail: float,
                     p_repair: float, out: np.ndarray) -> None:
    """Fill ``out`` (bool, n_hours x n_units) from ``uniform`` draws of the same shape."""
    n_hours, n_units = uniform.shape
    if n_hours == 0:
        return
    for j in range(n_units):
        out[0, j] = uniform[0, j] < outage_rate
    for t in range(1, n_hours):
        for j in range(n_units):
            if out[t - 1, j]:
                out[t, j] = uniform[t, j] >= p_repair
            else:
                out[t, j] = uniform[t, j] < p_fail


def forced_outages(n_hours: int, n_units: int, rng: np.random.Generator, *,
                   forced_outage_rate: float = _DEFAULT.forced_outage_rate,
                   mean_outage_hours: float = _DEFAULT.mean_outage_hours) -> np.ndarray:
    """bool (n_hours, n_units): True where a unit is forced out in that hour.

    ``forced_outage_rate`` (share of hours, in [0, 1)) and ``mean_outage_hours`` (hours, >= 1)
    default to the rules' ``agents.outages``.

    Draws n_hours x n_units uniforms from ``rng`` (a seeded :class:`numpy.random.Generator`).
    Raises :class:`~market.errors.SynthesisError` for negative sizes or unusable rates.
    """
    problems = outage_problems(forced_outage_rate, mean_outage_hours)
    for name, value in (("n_hours", n_hours), ("n_units", n_units)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            problems.append(f"{name} must be an integer >= 0, got {value!r}")
    if problems:
        raise SynthesisError(problems)
    p_repair = 1.0 / float(mean_outage_hours)
    rate = float(forced_outage_rate)
    p_fail = rate / (1.0 - rate) * p_repair
    uniform = rng.random((int(n_hours), int(n_units)))
    out = np.zeros((int(n_hours), int(n_units)), dtype=np.bool_)
    _two_state_chain(uniform, rate, p_fail, p_repair, out)
    return out
