"""Slow, readable reference implementations of every kernel, for tests only.

Plain Python on exact integers and fractions: no NumPy tricks, no Numba. Each function
follows the words of docs/CLEARING.md as directly as it can, so a reader can check it by eye.
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["reference_price_x2", "reference_uniform"]


def reference_uniform(sides, price_ticks, qty_ticks, sequence=None, time_priority=False):
    """Uniform-price double auction on ticks.

    ``sides``: +1 sell / -1 buy; ``price_ticks`` and ``qty_ticks``: integers.
    Returns ``(volume, (lo, hi) or None, accepted)`` with ``accepted`` a list of ints.
    """
    n = len(sides)
    seq = list(range(n)) if sequence is None else [int(s) for s in sequence]
    sells = [i for i in range(n) if sides[i] > 0]
    buys = [i for i in range(n) if sides[i] < 0]
    levels = sorted(set(int(p) for p in price_ticks))

    def supply_at(p):  # quantity offered at or below p
        return sum(int(qty_ticks[i]) for i in sells if price_ticks[i] <= p)

    def demand_at(p):  # quantity bid at or above p
        return sum(int(qty_ticks[i]) for i in buys if price_ticks[i] >= p)

    # Welfare-maximising and then volume-maximising volume: the largest min(S, D) over prices.
    volume = max((min(supply_at(p), demand_at(p)) for p in levels), default=0)
    accepted = [0] * n
    if volume == 0:
        return 0, None, accepted

    def fill(indices, cheapest_first):
        # Walk price levels in merit order; the level where the volume runs out shares it.
        by_level = {}
        for i in indices:
            by_level.setdefault(int(price_ticks[i]), []).append(i)
        left = volume
        for p in sorted(by_level, reverse=not cheapest_first):
            members = by_level[p]
            total = sum(int(qty_ticks[i]) for i in members)
            if total <= left:
                for i in members:
                    accepted[i] = int(qty_ticks[i])
                left -= total
            else:
                share_out(members, total, left)
                left = 0
            if left == 0:
                break

    def share_out(members, total, amount):
        if time_priority:
            left = amount
            for i in sorted(members, key=lambda i: seq[i]):
                take = min(int(qty_ticks[i]), left)
                accepted[i] = take
                left -= take
            return
        exact = {i: Fraction(amount * int(qty_ticks[i]), total) for i in members}
        for i in members:
            accepted[i] = int(exact[i])  # floor, the shares are non-negative
        left = amount - sum(accepted[i] for i in members)
        ranked = sorted(members, key=lambda i: (-(exact[i] - int(exact[i])), seq[i]))
        for i in ranked[:left]:
            accepted[i] += 1

    fill(sells, cheapest_first=True)
    fill(buys, cheapest_first=False)

    # The price range from the competitive-equilibrium conditions, order by order.
    lo, hi = None, None
    for i in range(n):
        p = int(price_ticks[i])
        a = accepted[i]
        full = a == int(qty_ticks[i])
        if sides[i] > 0:
            if a > 0:
                lo = p if lo is None else max(lo, p)  # an accepted sell needs price >= p
            if not full:
                hi = p if hi is None else min(hi, p)  # a sell left out needs price <= p
        else:
            if a > 0:
                hi = p if hi is None else min(hi, p)
            if not full:
                lo = p if lo is None else max(lo, p)
    return volume, (lo, hi), accepted


def reference_price_x2(lo, hi, rule, cap=None, floor=None):
    """Twice the clearing price in ticks from the range, closed by cap/floor (see kernel)."""
    if floor is not None and (lo is None or lo < floor):
        lo = floor
    if cap is not None and (hi is None or hi > cap):
        hi = cap
    lo = hi if lo is None else lo
    hi = lo if hi is None else hi
    return {"supply": 2 * lo, "demand": 2 * hi, "midpoint": lo + hi}[rule]
