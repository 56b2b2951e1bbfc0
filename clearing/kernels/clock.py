"""The descending-clock capacity auction kernel (docs/CLEARING.md, "Other kernels").

Every offer has a quantity and an exit price e (ticks): it stays in at any price P >= e and is
out below e. Supply at P is S(P) = the quantity of offers with e <= P; demand at P is D(>=P)
of the curve floored to the quantity tick (``_capacity.demand_at``). Exit prices below the
floor are never reached, so they count as the floor.

Round r (1, 2, ...) runs from start - (r-1) x decrement down to max(start - r x decrement,
floor). The auction ends in the first round whose end price has S <= D (or that reaches the
floor). Inside that round the exit bids set the final price P*: the highest price of the round
at which the offers staying in strictly above it fit, S(<P*) <= D(P*). Offers exiting below
P* are out, offers with e < P* are accepted in full, and those exiting exactly at P* share
D(P*) - S(<P*) pro rata (or by sequence). If supply already fits at the start price no round
is run and P* is the start price.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clearing.config import NJIT
from clearing.kernels.capacity import demand_at
from clearing.kernels.common import fill_level


@njit(**NJIT)
def _fits(exits, qty, members, m, base, cq, cp, p):  # pragma: no cover - compiled
    """S(<p) <= D(p), with ``base`` = S(<=w) and ``members[:m]`` the offers with e > w."""
    s = base
    for j in range(m):
        i = members[j]
        if exits[i] < p:
            s += qty[i]
    whole, _ = demand_at(cq, cp, p)
    return s <= whole


@njit(**NJIT)
def run_clock(exit_t, qty, seq, cq, cp, start, decrement, floor, time_priority):  # pragma: no cover
    """Run the clock on int64 (n,) exit price ticks (all <= ``start``), quantity ticks, sequence.

    ``start``, ``decrement`` (> 0) and ``floor`` (<= start) are price ticks. Returns
    (price_tick, volume, accepted, rounds): ``accepted`` int64 (n,) ticks in input order,
    ``rounds`` int64 (n_rounds, 7) with columns round, start price, end price, supply at the
    start, supply at the end, demand at the end, excess supply (end supply - end demand).
    """
    n = exit_t.shape[0]
    exits = np.empty(n, dtype=np.int64)
    total = np.int64(0)
    for i in range(n):
        exits[i] = exit_t[i] if exit_t[i] > floor else floor
        total += qty[i]
    n_rounds = np.int64(0)
    if start > floor:
        n_rounds = (start - floor + decrement - 1) // decrement
    # Quantity leaving in each round: an offer with floor < e <= start is in at the round's
    # start and out at its end in round (start - e) // decrement + 1.
    leaving = np.zeros(n_rounds, dtype=np.int64)
    for i in range(n):
        if exits[i] > floor:
            leaving[(start - exits[i]) // decrement] += qty[i]
    rounds = np.zeros((n_rounds, 7), dtype=np.int64)
    w_lo = start
    w_hi = start
    supply = total
    done = np.int64(0)
    whole, _ = demand_at(cq, cp, start)
    if supply > whole:
        for r in range(n_rounds):
            top = start - r * decrement
            end = top - decrement if top - floor > decrement else floor
            s_start = supply
            supply -= leaving[r]
            whole, _ = demand_at(cq, cp, end)
            rounds[r, 0] = r + 1
            rounds[r, 1] = top
            rounds[r, 2] = end
            rounds[r, 3] = s_start
            rounds[r, 4] = supply
            rounds[r, 5] = whole
            rounds[r, 6] = supply - whole
            done = r + 1
            w_lo = end
            w_hi = top
            if supply <= whole:
                break
    # The final price: binary search in [w_lo, w_hi]; w_lo fits (S(w_lo) <= D(w_lo), or it is
    # the floor where S(<floor) = 0), and fitting is monotone (S(<p) rises, D(p) falls).
    base = np.int64(0)
    m = 0
    members = np.empty(n, dtype=np.int64)
    for i in range(n):
        if exits[i] <= w_lo:
            base += qty[i]
        elif exits[i] <= w_hi:
            members[m] = i
            m += 1
    lo = w_lo
    hi = w_hi
    while lo < hi:
        mid = lo + (hi - lo + 1) // 2
        if _fits(exits, qty, members, m, base, cq, cp, mid):
            lo = mid
        else:
            hi = mid - 1
    final = lo
    accepted = np.zeros(n, dtype=np.int64)
    below = np.int64(0)
    n_at = 0
    at_final = np.empty(n, dtype=np.int64)
    for i in range(n):
        if exits[i] < final:
            accepted[i] = qty[i]
            below += qty[i]
        elif exits[i] == final:
            at_final[n_at] = i
            n_at += 1
    whole, _ = demand_at(cq, cp, final)
    fill_level(at_final, n_at, qty, seq, whole - below, time_priority, accepted)
    volume = np.int64(0)
    for i in range(n):
        volume += accepted[i]
    return final, volume, accepted, rounds[:done]
