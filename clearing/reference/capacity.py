"""Slow, readable references of the capacity kernels (sealed-bid and descending clock), for tests.

Plain Python on integers and fractions, in ticks. A curve is a list of ``(quantity, price)``
points in ticks; offers are parallel lists of price (or exit price) and quantity ticks.
Each function follows the words of the wrapper's docstring, not the kernel's search.
"""

from __future__ import annotations

import math
from fractions import Fraction

RULES = ("midpoint", "supply", "demand")


def demand_at_or_above(curve, p):
    """The largest quantity (a Fraction of ticks) at which the curve's price is >= p."""
    (q0, p0) = curve[0]
    best = Fraction(q0) if p <= p0 else Fraction(0)  # the flat piece left of the first point
    for (qa, pa), (qb, pb) in zip(curve, curve[1:], strict=False):
        if pb >= p:
            best = max(best, Fraction(qb))
        elif pa >= p:  # the segment falls through p inside it
            best = max(best, qa + Fraction((pa - p) * (qb - qa), pa - pb))
    return best


def curve_prices_at(curve, v):
    """(lowest, highest) price of the curve at quantity ``v`` > 0 (None for minus infinity)."""
    q0, p0 = curve[0]
    if v < q0:
        return Fraction(p0), Fraction(p0)
    at = [p for q, p in curve if q == v]
    if at:
        low = None if v == curve[-1][0] else Fraction(at[-1])
        return low, Fraction(at[0])
    for (qa, pa), (qb, pb) in zip(curve, curve[1:], strict=False):
        if qa < v < qb:
            price = pa + (v - qa) * Fraction(pb - pa, qb - qa)
            return price, price
    raise AssertionError("v is beyond the curve")


def share_out(members, qty, seq, amount, time_priority):
    """Share ``amount`` ticks among ``members`` (indices): pro rata with largest remainder,
    ties to the earlier sequence; or by sequence with time priority. Returns {index: ticks}."""
    total = sum(qty[i] for i in members)
    if amount >= total:
        return {i: qty[i] for i in members}
    out = {}
    if time_priority:
        left = amount
        for i in sorted(members, key=lambda i: seq[i]):
            out[i] = min(qty[i], left)
            left -= out[i]
        return out
    exact = {i: Fraction(amount * qty[i], total) for i in members}
    for i in members:
        out[i] = math.floor(exact[i])
    left = amount - sum(out.values())
    for i in sorted(members, key=lambda i: (-(exact[i] - out[i]), seq[i]))[:left]:
        out[i] += 1
    return out


def reference_capacity(price_ticks, qty_ticks, curve, sequence=None, time_priority=False,
                       rule="midpoint"):
    """Sealed-bid capacity clearing on ticks.

    Returns ``(volume, price_x2, (lo, hi), accepted, welfare)``: twice the price in ticks, the
    price range in ticks, accepted ticks per offer (list), and welfare as a Fraction in
    price-tick x quantity-tick units. ``price_x2`` and the range are None when nothing clears.
    """
    n = len(price_ticks)
    price = [int(p) for p in price_ticks]
    qty = [int(q) for q in qty_ticks]
    seq = list(range(n)) if sequence is None else [int(s) for s in sequence]
    curve = [(int(q), int(p)) for q, p in curve]

    def supply_at_or_below(p):
        return sum(qty[i] for i in range(n) if price[i] <= p)

    def supply_below(p):
        return sum(qty[i] for i in range(n) if price[i] < p)

    # The largest welfare-maximising quantity: the best min(supply, demand) over offer prices.
    exact = max((min(supply_at_or_below(p), demand_at_or_above(curve, p)) for p in set(price)),
                default=Fraction(0))
    volume = math.floor(exact)
    accepted = [0] * n
    if volume == 0:
        return 0, None, None, accepted, Fraction(0)
    left = volume
    for p in sorted(set(price)):  # merit order, the level where the volume runs out shares it
        members = [i for i in range(n) if price[i] == p]
        for i, a in share_out(members, qty, seq, left, time_priority).items():
            accepted[i] = a
        left -= sum(accepted[i] for i in members)
        if left == 0:
            break

    # Prices the supply allows at the exact quantity: at least every offer it reaches into,
    # at most every offer it does not use up; then the prices the curve takes there.
    reached = [price[i] for i in range(n) if supply_below(price[i]) < exact]
    unused = [price[i] for i in range(n) if supply_at_or_below(price[i]) > exact]
    d_low, d_high = curve_prices_at(curve, exact)
    lo = max(reached + ([d_low] if d_low is not None else []))
    hi = min(unused + [d_high])
    if lo == hi:
        x2 = 2 * math.floor(lo)  # one price; the curve's price between ticks is floored
    else:
        assert lo < hi and lo.denominator == 1 == Fraction(hi).denominator
        x2 = {"supply": 2 * lo, "demand": 2 * hi, "midpoint": lo + hi}[rule]
        lo, hi = int(lo), int(hi)
    rng = (math.floor(lo), math.floor(hi))

    area = Fraction(0)
    q0, p0 = curve[0]
    area += p0 * min(q0, volume)
    for (qa, pa), (qb, pb) in zip(curve, curve[1:], strict=False):
        if volume > qa and qb > qa:
            qe = min(qb, volume)
            pe = pa + (qe - qa) * Fraction(pb - pa, qb - qa)
            area += (qe - qa) * (pa + pe) / 2
    welfare = area - sum(price[i] * accepted[i] for i in range(n))
    return volume, int(x2), rng, accepted, welfare


def reference_clock(exit_ticks, qty_ticks, curve, start, decrement, floor=0, sequence=None,
                    time_priority=False):
    """Descending clock on ticks, round by round.

    An offer is in at price P when its exit price is <= P; an exit price below the floor is
    never reached, so it counts as the floor. Returns ``(price, volume, accepted, rounds)``
    with ``rounds`` a list of (round, start, end, supply_start, supply_end, demand_end, excess)
    and ``price`` None when nothing clears.
    """
    n = len(exit_ticks)
    exits = [max(int(e), floor) for e in exit_ticks]
    qty = [int(q) for q in qty_ticks]
    seq = list(range(n)) if sequence is None else [int(s) for s in sequence]
    curve = [(int(q), int(p)) for q, p in curve]

    def supply(p):
        return sum(qty[i] for i in range(n) if exits[i] <= p)

    def supply_below(p):
        return sum(qty[i] for i in range(n) if exits[i] < p)

    def demand(p):
        return math.floor(demand_at_or_above(curve, p))

    rounds = []
    window = (start, start)
    if supply(start) > demand(start):
        top = start
        while top > floor:
            end = max(top - decrement, floor)
            rounds.append((len(rounds) + 1, top, end, supply(top), supply(end), demand(end),
                           supply(end) - demand(end)))
            window = (end, top)
            if supply(end) <= demand(end):
                break
            top = end
    # The highest price in the last round at which the offers staying in strictly above it fit.
    final = next(p for p in range(window[1], window[0] - 1, -1) if supply_below(p) <= demand(p))
    accepted = [qty[i] if exits[i] < final else 0 for i in range(n)]
    at_final = [i for i in range(n) if exits[i] == final]
    room = demand(final) - supply_below(final)
    for i, a in share_out(at_final, qty, seq, room, time_priority).items():
        accepted[i] = a
    volume = sum(accepted)
    return (final if volume > 0 else None), volume, accepted, rounds
