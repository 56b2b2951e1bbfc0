"""Forced outages of coal units: a two-state (available / forced out) Markov chain per unit.

A unit in service fails in an hour with probability ``p_fail`` and an outaged unit comes back
with probability ``p_repair = 1 / mean_outage_hours``; ``p_fail`` is set so that the long-run
share of hours out is the forced outage rate:
``FOR = p_fail / (p_fail + p_repair)``. Outage and service spells are geometric, with means
``mean_outage_hours`` and ``mean_outage_hours x (1 - FOR) / FOR``. The first hour is drawn
from the long-run distribution, so every hour of the year has the same outage probability.

Defaults are [E] estimates: FOR 5 %, mean outage 50 h (large coal units in China report
forced outage rates of a few per cent). A unit that is forced out cannot deliver a
compensation call, so these hours are where coal-compensation failures come from.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from clearing.config import NJIT
from market.errors import SynthesisError

#: Forced outage rate: long-run share of hours a coal unit is forced out [E].
FORCED_OUTAGE_RATE = 0.05
#: Mean length of a forced outage, hours [E].
MEAN_OUTAGE_HOURS = 50.0


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


def outage_problems(forced_outage_rate: object, mean_outage_hours: object) -> list[str]:
    """Messages for an unusable outage rate or mean outage length (empty when both are fine)."""
    out = []
    if not (isinstance(forced_outage_rate, int | float) and not isinstance(forced_outage_rate, bool)
            and 0.0 <= forced_outage_rate < 1.0):
        out.append(f"forced_outage_rate must be a share in [0, 1), got {forced_outage_rate!r}")
    if not (isinstance(mean_outage_hours, int | float) and not isinstance(mean_outage_hours, bool)
            and math.isfinite(mean_outage_hours) and mean_outage_hours >= 1.0):
        out.append(f"mean_outage_hours must be a finite number of hours >= 1, "
                   f"got {mean_outage_hours!r}")
    if out:
        return out
    rate, hours = float(forced_outage_rate), float(mean_outage_hours)  # type: ignore[arg-type]
    if rate > 0 and hours * (1.0 - rate) / rate < 1.0:
        out.append(f"a forced outage rate of {rate:g} with outages of {hours:g} h leaves less "
                   "than an hour in service between outages; lengthen mean_outage_hours or "
                   "lower the rate")
    return out


def forced_outages(n_hours: int, n_units: int, rng: np.random.Generator, *,
                   forced_outage_rate: float = FORCED_OUTAGE_RATE,
                   mean_outage_hours: float = MEAN_OUTAGE_HOURS) -> np.ndarray:
    """bool (n_hours, n_units): True where a unit is forced out in that hour.

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
