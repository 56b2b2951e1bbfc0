"""The one tick grid: default ticks, the on-grid check, conversion to and from int64 ticks, and
the number conventions every layer shares (named tolerances, kW per MW).

Prices and quantities are checked against their tick once, at intake, and the kernels work on
int64 ticks; everything above the clearing core (the markets, the game's bid checks, the bots,
the web form through the API) uses these same definitions instead of its own copy.
"""

from __future__ import annotations

import math

import numpy as np

#: Default price tick, yuan per unit (yuan/MWh in the energy market, yuan/kW·yr in capacity).
PRICE_TICK = 0.01
#: Default quantity tick, MW or MWh.
QUANTITY_TICK = 0.001

#: How far from a grid point (in ticks) a float may sit and still count as on it: the float
#: noise of a decimal written on the grid is far below it.
GRID_TOLERANCE_TICKS = 1e-6
#: Slack (in ticks) added before rounding a quantity *down* to the grid, so that a value
#: written on the grid (0.3 MW, stored as 0.29999999999999999) is not floored one tick low.
FLOOR_SLACK_TICKS = 1e-9
#: Slack (ticks) of the capacity market's floors: accredited and offered MW keep 0.9 x 1000 MW
#: at 900 MW.
CAPACITY_SLACK_TICKS = 1e-6
#: Beyond 2**52 ticks a float64 cannot tell grid points apart: such values are refused.
MAX_EXACT_TICKS = 2.0**52

#: kW per MW: capacity prices are yuan/kW·yr, quantities MW.
KW_PER_MW = 1000.0
#: Hours of a day: hourly auctions are grouped into days (storage cycle caps, daily calls).
HOURS_PER_DAY = 24


def decimals(tick: float) -> int:
    """Digits after the point needed to write a multiple of ``tick`` exactly (at most 12)."""
    for d in range(0, 13):
        if abs(round(tick * 10**d) - tick * 10**d) < 1e-9:
            return d
    return 12


def to_ticks(values: np.ndarray, tick: float) -> tuple[np.ndarray, np.ndarray]:
    """Convert float values to int64 ticks; returns (ticks, on_grid mask), both shaped as
    ``values``.

    A value is on the grid when it is finite, within :data:`GRID_TOLERANCE_TICKS` of a
    multiple of ``tick`` (plus the float64 spacing of large values) and below
    :data:`MAX_EXACT_TICKS` ticks in size. Off-grid and non-finite values get tick 0 and
    ``on_grid`` False; callers report them.
    """
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(values)
        scaled = np.where(finite, values / tick, 0.0)
        rounded = np.rint(scaled)
        tolerance = GRID_TOLERANCE_TICKS + np.abs(rounded) * 2e-15
        ok = finite & (np.abs(scaled - rounded) <= tolerance) & (np.abs(rounded) < MAX_EXACT_TICKS)
        ticks = np.where(ok, rounded, 0.0).astype(np.int64)
    return ticks, ok


def on_grid(value: float, tick: float) -> bool:
    """True when the scalar ``value`` is a finite multiple of ``tick`` (as :func:`to_ticks`
    decides); never raises, whatever the float (NaN, ±inf, ±1e308)."""
    try:
        v = float(value)
    except (OverflowError, TypeError, ValueError):
        return False
    # to_ticks's test on one Python float, without a one-element array (about 10x faster;
    # the markets check prices one at a time): np.rint and round() both round half to even.
    scaled = v / tick
    if not math.isfinite(scaled):
        return False
    rounded = float(round(scaled))
    return (abs(scaled - rounded) <= GRID_TOLERANCE_TICKS + abs(rounded) * 2e-15
            and abs(rounded) < MAX_EXACT_TICKS)


def integer_inverse(tick: float) -> int | None:
    """The integer inverse of ``tick`` (1000 for 0.001), or None when it has none."""
    inverse = 1.0 / tick
    k = round(inverse)
    return k if k >= 1 and abs(inverse - k) < 1e-9 else None


def scaled(values: np.ndarray | float, tick: float) -> np.ndarray:
    """``values`` in units of ``tick`` as float64 (any shape): times the integer inverse of the
    tick when it has one (0.3 x 1000 = 300 exactly), else divided by the tick."""
    per = integer_inverse(tick)
    x = np.asarray(values, dtype=np.float64)
    return x * per if per is not None else x / tick


def floor_ticks(values: np.ndarray | float, tick: float,
                slack: float = FLOOR_SLACK_TICKS) -> np.ndarray:
    """Values rounded *down* to whole ticks (int64, any shape), with ``slack`` ticks of slack:
    an offer never grows."""
    return np.floor(scaled(values, tick) + slack).astype(np.int64)


def floor_to(values: np.ndarray | float, tick: float,
             slack: float = FLOOR_SLACK_TICKS) -> np.ndarray:
    """Values rounded down to the grid of ``tick``, as float64 (any shape)."""
    return np.asarray(from_ticks(floor_ticks(values, tick, slack), tick), dtype=np.float64)


def from_ticks(ticks: np.ndarray | int, tick: float) -> np.ndarray | float:
    """Decode ticks to floats, dividing by the integer inverse tick when there is one.

    ``30 / 100`` gives the float nearest 0.3, ``30 * 0.01`` does not.
    """
    per = integer_inverse(tick)
    if per is not None:
        return np.asarray(ticks, dtype=np.float64) / float(per)
    return np.asarray(ticks, dtype=np.float64) * tick
