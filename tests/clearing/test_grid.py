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
