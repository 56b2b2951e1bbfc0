"""The one tick grid: on-grid checks that never raise, exact ticks, floors with slack."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearing.grid import (
    MAX_EXACT_TICKS,
    PRICE_TICK,
    QUANTITY_TICK,
    floor_ticks,
    from_ticks,
    on_grid,
    to_ticks,
)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e308, -1e308,
                                   10**400, "12a", None, 0.005, 1e16])
def test_on_grid_refuses_what_is_not_a_finite_grid_point_without_raising(value):
    assert on_grid(value, PRICE_TICK) is False


@pytest.mark.parametrize("value", [0.0, 0.01, -50.0, 1500.0, 282.9, 0.3, 12345678.91])
def test_decimals_written_on_the_grid_are_on_it(value):
    assert on_grid(value, PRICE_TICK) is True


@given(st.integers(min_value=-(2**50), max_value=2**50))
def test_ticks_round_trip_exactly(n):
    value = from_ticks(np.array([n]), QUANTITY_TICK)
    ticks, ok = to_ticks(value, QUANTITY_TICK)
    assert ok.all() and int(ticks[0]) == n


def test_beyond_exact_float_ticks_is_refused():
    _, ok = to_ticks(np.array([MAX_EXACT_TICKS * PRICE_TICK * 2]), PRICE_TICK)
    assert not ok[0]


def test_floor_keeps_a_value_written_on_the_grid():
    # 0.3 / 0.001 = 299.99999999999994 in floats: a plain floor would lose one tick.
    assert floor_ticks(np.array([0.3, 0.3004, 900.0]), QUANTITY_TICK).tolist() == [300, 300, 900000]


_NEAR_GRID = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**53), max_value=2**53).map(lambda n: n * PRICE_TICK),
    st.tuples(st.integers(min_value=-10**9, max_value=10**9),
              st.floats(min_value=-1e-5, max_value=1e-5)).map(
        lambda t: t[0] * PRICE_TICK + t[1]),
)


@given(_NEAR_GRID, st.sampled_from([PRICE_TICK, QUANTITY_TICK, 0.005, 0.3, 1.0, 2.5]))
def test_scalar_on_grid_decides_as_to_ticks_does(value, tick):
    """The scalar check (the markets call it once per price) and the array check are one
    rule: the same answer for every float, grid points, near misses and the extremes."""
    assert on_grid(value, tick) is bool(to_ticks(np.array([value]), tick)[1][0])
