"""Order-book intake in one compiled pass (private): the grid, side, quantity and limit checks
of :meth:`clearing.OrderBook.from_arrays`, and a duplicate check for integer ids.

Nothing here raises or formats a message. :func:`validate_rows` returns the book's arrays
and the number of rows with a problem; only when that is not 0 does the wrapper
(:mod:`clearing.book`) call :func:`problem_codes` (one ``uint16`` code per row, bits
``PROBLEM_*``) and turn the codes of the problem rows, and only those, into the messages.
The grid check is exactly :func:`clearing.grid.to_ticks`.

>>> import numpy as np
>>> from clearing.kernels.validate import unique_ints
>>> bool(unique_ints(np.array([3, 1, 2]))), bool(unique_ints(np.array([5, 9, 5])))
(True, False)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clearing.config import MAX_ABS_PRICE_TICKS, MAX_TOTAL_TICKS, NJIT
from clearing.grid import GRID_TOLERANCE_TICKS, MAX_EXACT_TICKS

PROBLEM_SIDE = 1  # side is not +1 / -1
PROBLEM_PRICE_INF = 2  # price is +-inf
PROBLEM_PRICE_NAN = 4  # price is NaN
PROBLEM_PRICE_GRID = 8  # finite price off the grid (or beyond MAX_EXACT_TICKS)
PROBLEM_QTY_NONFINITE = 16  # quantity NaN or +-inf
PROBLEM_QTY_NONPOSITIVE = 32  # finite quantity <= 0
PROBLEM_QTY_GRID = 64  # finite positive quantity off the grid
PROBLEM_ABOVE_CAP = 128  # valid order priced above the cap
PROBLEM_BELOW_FLOOR = 256  # valid order priced below the floor
PROBLEM_PRICE_TOO_LARGE = 512  # on the grid but |ticks| > MAX_ABS_PRICE_TICKS

TOTAL_OK = 0  # the book's total quantity is surely below MAX_TOTAL_TICKS
TOTAL_CHECK = 1  # too close to call exactly as the float64 sum does: the wrapper sums

#: Totals below this are below MAX_TOTAL_TICKS whatever the float rounding of a sum.
_TOTAL_SURE = MAX_TOTAL_TICKS - (MAX_TOTAL_TICKS >> 20)


@njit(**NJIT)
def grid_ticks(value, tick):  # pragma: no cover - compiled
    """(on_grid, ticks) of one float, as :func:`clearing.grid.to_ticks` decides: finite,
    within GRID_TOLERANCE_TICKS + |rounded| x 2e-15 ticks of a multiple, |rounded| below
    MAX_EXACT_TICKS. Off the grid: (False, 0). A NaN or infinite value (or quotient) makes
    the difference NaN, so it fails the test without a separate finiteness check."""
    scaled = value / tick
    rounded = np.rint(scaled)
    tolerance = GRID_TOLERANCE_TICKS + abs(rounded) * 2e-15
    if abs(scaled - rounded) <= tolerance and abs(rounded) < MAX_EXACT_TICKS:
        return True, np.int64(rounded)
    return False, np.int64(0)


@njit(**NJIT)
def validate_rows(sides, prices, qtys, price_tick, qty_tick, has_cap, cap, has_floor,
                  floor):  # pragma: no cover - compiled
    """Check every row in one branch-free pass (it vectorises) and convert it to ticks.

    ``sides`` any numeric array (+1 sell, -1 buy, anything else a problem); ``prices`` and
    ``qtys`` float64. The cap and floor (floats) are checked, when ``has_cap`` /
    ``has_floor``. Returns (n_bad, total_status, side_codes int8, price_ticks int64,
    qty_ticks int64), the three arrays views of one buffer (one allocation: fewer fresh pages
    to fault in); rows off the grid get tick 0. ``n_bad`` counts the rows with any problem
    (:func:`problem_codes` says which); ``total_status`` is TOTAL_OK, or TOTAL_CHECK when the
    total quantity is too close to MAX_TOTAL_TICKS to call without the float64 sum.
    """
    n = prices.shape[0]
    buf = np.empty(2 * n + (n + 7) // 8, dtype=np.int64)
    price_ticks = buf[:n]
    qty_ticks = buf[n:2 * n]
    side_codes = buf[2 * n:].view(np.int8)[:n]
    n_good = 0
    high = np.int64(0)  # sum of qty_ticks >> 20 and of the low 20 bits: no int64 overflow
    low = np.int64(0)
    no_cap = not has_cap
    no_floor = not has_floor
    for i in range(n):
        s = sides[i]
        sc = np.int8(int(s == 1) - int(s == -1))
        side_codes[i] = sc
        p = prices[i]
        sp = p / price_tick
        rp = np.rint(sp)
        p_ok = ((abs(sp - rp) <= GRID_TOLERANCE_TICKS + abs(rp) * 2e-15)
                & (abs(rp) < MAX_EXACT_TICKS))
        pt = np.int64(rp if p_ok else 0.0)
        price_ticks[i] = pt
        q = qtys[i]
        sq = q / qty_tick
        rq = np.rint(sq)
        q_ok = ((abs(sq - rq) <= GRID_TOLERANCE_TICKS + abs(rq) * 2e-15)
                & (abs(rq) < MAX_EXACT_TICKS))
        qt = np.int64(rq if q_ok else 0.0)
        qty_ticks[i] = qt
        high += qt >> 20
        low += qt & 0xFFFFF
        good = ((sc != 0) & p_ok & q_ok & (q > 0) & (abs(pt) <= MAX_ABS_PRICE_TICKS)
                & (no_cap | (p <= cap)) & (no_floor | (p >= floor)))
        n_good += good
    # total = high * 2**20 + low < (high + n) * 2**20 when no quantity is negative (a negative
    # one is a problem, and then the total is not looked at).
    sure = float(high) + float(n) <= float(_TOTAL_SURE >> 20)
    total_status = TOTAL_OK if sure else TOTAL_CHECK
    return n - n_good, total_status, side_codes, price_ticks, qty_ticks


@njit(**NJIT)
def problem_codes(sides, prices, qtys, price_tick, qty_tick, has_cap, cap, has_floor,
                  floor):  # pragma: no cover - compiled
    """The problems of each row as bits ``PROBLEM_*`` (uint16, 0 for a good row): what
    :func:`validate_rows` counted, told apart. Only a refused book pays for this pass."""
    n = prices.shape[0]
    codes = np.zeros(n, dtype=np.uint16)
    for i in range(n):
        code = 0
        s = sides[i]
        if s != 1 and s != -1:
            code |= PROBLEM_SIDE
        p = prices[i]
        p_ok, pt = grid_ticks(p, price_tick)
        if not p_ok:
            if np.isnan(p):
                code |= PROBLEM_PRICE_NAN
            elif np.isinf(p):
                code |= PROBLEM_PRICE_INF
            else:
                code |= PROBLEM_PRICE_GRID
        elif abs(pt) > MAX_ABS_PRICE_TICKS:  # never while MAX_EXACT_TICKS is below it
            code |= PROBLEM_PRICE_TOO_LARGE
        q = qtys[i]
        q_ok, qt = grid_ticks(q, qty_tick)
        if not np.isfinite(q):
            code |= PROBLEM_QTY_NONFINITE
        elif q <= 0:
            code |= PROBLEM_QTY_NONPOSITIVE
        elif not q_ok:
            code |= PROBLEM_QTY_GRID
        elif p_ok:  # a valid row (even one too large in magnitude, as before): the limits
            if has_cap and p > cap:
                code |= PROBLEM_ABOVE_CAP
            if has_floor and p < floor:
                code |= PROBLEM_BELOW_FLOOR
        codes[i] = code
    return codes


@njit(**NJIT)
def _slot(v, mask):  # pragma: no cover - compiled
    """Hash slot of an int64: the two 32-bit halves multiplied by odd 31-bit constants
    (products stay below 2**63, so no overflow even in plain Python), middle bits kept."""
    lo = v & 0xFFFFFFFF
    hi = (v >> 32) & 0xFFFFFFFF
    return ((lo * 0x5BD1E995) ^ (hi * 0x27D4EB2F)) >> 16 & mask


@njit(**NJIT)
def unique_ints(values):  # pragma: no cover - compiled
    """True when the int64 ``values`` are all distinct.

    Strictly increasing (ids 0..n-1, the common case): one pass. A dense range (at most
    4n + 1024 wide): a table of seen values. Otherwise an open-addressing hash set of twice
    the size, linear probing.
    """
    n = values.shape[0]
    if n < 2:
        return True
    increasing = True
    lo = values[0]
    hi = values[0]
    for i in range(1, n):
        v = values[i]
        if v <= values[i - 1]:
            increasing = False
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    if increasing:
        return True
    if float(hi) - float(lo) < 4.0 * n + 1024.0:  # no int64 overflow in hi - lo below
        seen = np.zeros(hi - lo + 1, dtype=np.bool_)
        for i in range(n):
            j = values[i] - lo
            if seen[j]:
                return False
            seen[j] = True
        return True
    size = 1
    while size < 2 * n:
        size *= 2
    mask = size - 1
    keys = np.empty(size, dtype=np.int64)
    used = np.zeros(size, dtype=np.bool_)
    for i in range(n):
        v = values[i]
        h = _slot(v, mask)
        while used[h]:
            if keys[h] == v:
                return False
            h = (h + 1) & mask
        used[h] = True
        keys[h] = v
    return True
