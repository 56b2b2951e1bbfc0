"""The sloped-demand capacity clearing kernel (docs/CLEARING.md, "Other kernels").

Offers are steps (price tick, quantity ticks); the demand curve is given by points
``(cq[j], cp[j])`` in quantity and price ticks, ``cq`` non-decreasing and ``cp`` non-increasing.
Left of the first point the curve is flat at ``cp[0]``; right of the last point there is no
demand, so below ``cp[-1]`` the quantity demanded stays ``cq[-1]``.

The curve enters through D(>=p), the largest quantity at which the curve's price is at or above
p (a rational number of ticks). No sort: with S(<=p) the offers priced at or below p, let q be
the smallest price tick with S(<=q) >= D(>=q+1) (a bucketed search, as in ``_uniform``). The
welfare-maximising, then volume-maximising, quantity is V = min(S(<=q), D(>=q)), exactly as for
the uniform auction (between price ticks supply is flat and demand only falls). Then

* V = D(>=q) < S(<=q): the curve crosses the step of the offers at q. They are partly
  accepted and the price is q. V is floored to the quantity tick (the crossing quantity is
  rarely a whole tick), so those offers may get less, even nothing, of their step.
* V = S(<=q) <= D(>=q): the curve passes through the supply gap (or the vertical end of the
  supply) at V. The supply allows prices [pa, pb] (the dearest accepted offer, the cheapest
  offer left out), the curve the prices it takes at V: one price inside a segment, a range on a
  vertical piece, and down to minus infinity at the curve's last point. The intersection is
  the price range; a single curve price between two ticks is floored to the price tick.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clearing.config import NJIT
from clearing.kernels.common import bucket_shift, fill_level, mul_div_rem
from clearing.kernels.uniform import pick_price_x2

STATUS_TRADE = 0
STATUS_NO_TRADE = 1

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


@njit(**NJIT)
def demand_at(cq, cp, p):  # pragma: no cover - compiled
    """D(>=p): the largest quantity where the curve's price is >= p, in quantity ticks.

    Returns (whole, fractional): ``whole`` = floor of it, ``fractional`` True when it is not a
    whole number of ticks. D(>=p) = 0 above the curve's first price.
    """
    m = cq.shape[0]
    if cp[0] < p:
        return np.int64(0), False
    lo = 0  # cp[lo] >= p; find the last such point
    hi = m - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if cp[mid] >= p:
            lo = mid
        else:
            hi = mid - 1
    if lo == m - 1:
        return cq[m - 1], False
    # cp[lo] >= p > cp[lo + 1]: the segment lo -> lo + 1 reaches price p inside it.
    whole, rem = mul_div_rem(cp[lo] - p, cq[lo + 1] - cq[lo], cp[lo] - cp[lo + 1])
    return cq[lo] + whole, rem > 0


@njit(**NJIT)
def _meets(s_le, cq, cp, p):  # pragma: no cover - compiled
    """S(<=p) >= D(>=p+1), exactly, given ``s_le`` = S(<=p)."""
    whole, frac = demand_at(cq, cp, p + 1)
    return s_le > whole or (s_le == whole and not frac)


@njit(**NJIT)
def curve_prices_at(cq, cp, c):  # pragma: no cover - compiled
    """(lowest, highest) price of the curve at quantity ``c`` ticks, 0 < c <= cq[-1].

    The highest is the price just left of ``c``, the lowest the price just right of it
    (INT64_MIN at the curve's last quantity: no demand beyond it). Inside a sloped segment both
    are the one price there, floored to the price tick.
    """
    m = cq.shape[0]
    if c < cq[0]:
        return cp[0], cp[0]
    j = 0  # last point left of c, if any
    while j + 1 < m and cq[j + 1] < c:
        j += 1
    if cq[j] < c:
        # c lies in (cq[j], cq[j + 1]]; j + 1 < m because c <= cq[-1].
        if cq[j + 1] > c:
            whole, rem = mul_div_rem(c - cq[j], cp[j] - cp[j + 1], cq[j + 1] - cq[j])
            price = cp[j] - whole
            if rem > 0:
                price -= 1
            return price, price
        first = j + 1
    else:
        first = 0  # c == cq[0]
    last = first
    while last + 1 < m and cq[last + 1] == c:
        last += 1
    high = cp[first]
    low = _INT64_MIN if last == m - 1 else cp[last]
    return low, high


@njit(**NJIT)
def demand_area(cq, cp, v):  # pragma: no cover - compiled
    """Area under the curve from 0 to ``v`` ticks, in price-tick x quantity-tick, float64."""
    m = cq.shape[0]
    head = cq[0] if cq[0] < v else v
    area = float(cp[0]) * float(head)
    for j in range(m - 1):
        qa = cq[j]
        qb = cq[j + 1]
        if v <= qa:
            break
        if qb == qa:
            continue
        qe = qb if qb < v else v
        pe = float(cp[j]) - float(qe - qa) * float(cp[j] - cp[j + 1]) / float(qb - qa)
        area += float(qe - qa) * (float(cp[j]) + pe) / 2.0
    return area


@njit(**NJIT)
def _crossing_tick(price, qty, cq, cp, lo, hi):  # pragma: no cover - compiled
    """Smallest tick q in [lo, hi] with S(<=q) >= D(>=q+1); needs P(lo - 1) false, P(hi) true.

    Bucketed, no sort: each pass histograms the candidate offers into the buckets of
    ``bucket_shift`` and keeps only the bucket that holds q. Unlike ``_uniform._crossing_tick``
    (buy orders bucketed beside the sells), demand is the curve, tested exactly at each
    bucket's top tick, so only offers are candidates.
    """
    n = price.shape[0]
    cand = np.empty(n, dtype=np.int64)
    for i in range(n):
        cand[i] = i
    m = n
    s_below = np.int64(0)  # S(<lo)
    while True:
        span = hi - lo + 1
        if span == 1:
            return lo
        sh, nbe = bucket_shift(span, m)
        hs = np.zeros(nbe, dtype=np.int64)
        for j in range(m):
            i = cand[j]
            if price[i] >= lo and price[i] <= hi:
                hs[(price[i] - lo) >> sh] += qty[i]
        s_cum = s_below
        k = nbe - 1
        for kk in range(nbe):
            s_cum += hs[kk]
            end = lo + (np.int64(kk + 1) << sh) - 1
            if end > hi:
                end = hi
            if _meets(s_cum, cq, cp, end):
                k = kk
                break
        start = lo + (np.int64(k) << sh)
        if sh == 0:
            return start
        end = start + (np.int64(1) << sh) - 1
        if end > hi:
            end = hi
        s_below = s_cum - hs[k]
        mm = 0
        for j in range(m):
            i = cand[j]
            if price[i] >= start and price[i] <= end:
                cand[mm] = i
                mm += 1
        m = mm
        lo = start
        hi = end


@njit(**NJIT)
def clear_capacity(price, qty, seq, cq, cp, time_priority, rule):  # pragma: no cover - compiled
    """Clear offers (int64 (n,) price ticks, quantity ticks > 0, sequence) against the curve.

    Returns (status, volume, lo_tick, hi_tick, price_x2, welfare, accepted): the price range
    and twice the price in price ticks (``rule`` as in ``_uniform``), welfare (area under the
    curve minus offer cost) in price-tick x quantity-tick units as float64, and ``accepted``
    int64 (n,) quantity ticks in input order.
    """
    n = price.shape[0]
    accepted = np.zeros(n, dtype=np.int64)
    none = (STATUS_NO_TRADE, np.int64(0), np.int64(0), np.int64(0), np.int64(0), 0.0, accepted)
    if n == 0:
        return none
    minp = price[0]
    maxp = price[0]
    total = np.int64(0)
    for i in range(n):
        if price[i] < minp:
            minp = price[i]
        if price[i] > maxp:
            maxp = price[i]
        total += qty[i]
    whole, frac = demand_at(cq, cp, minp)
    if whole == 0 and not frac:  # S(<=minp-1) = 0 >= D(>=minp): not even the cheapest offer
        return none
    if _meets(total, cq, cp, maxp):
        q = _crossing_tick(price, qty, cq, cp, minp, maxp)
    else:
        q = maxp  # demand at maxp + 1 exceeds all supply: every offer is accepted
    s_lt = np.int64(0)
    s_eq = np.int64(0)
    n_eq = 0
    pa = _INT64_MIN  # dearest offer priced <= q
    pb = _INT64_MAX  # cheapest offer priced > q
    for i in range(n):
        p = price[i]
        if p < q:
            s_lt += qty[i]
        elif p == q:
            s_eq += qty[i]
            n_eq += 1
        elif p < pb:
            pb = p
        if p <= q and p > pa:
            pa = p
    at_q = np.empty(n_eq, dtype=np.int64)
    k = 0
    for i in range(n):
        if price[i] < q:
            accepted[i] = qty[i]
        elif price[i] == q:
            at_q[k] = i
            k += 1
    supply = s_lt + s_eq
    whole, frac = demand_at(cq, cp, q)
    if supply <= whole:
        # The curve passes through the supply gap at V = supply (> 0: some offer is <= q).
        volume = supply
        fill_level(at_q, n_eq, qty, seq, volume - s_lt, time_priority, accepted)
        d_low, d_high = curve_prices_at(cq, cp, volume)
        lo_t = pa if pa > d_low else d_low
        hi_t = pb if pb < d_high else d_high
    else:
        # The curve crosses the step at q: the offers there share the floored crossing.
        volume = whole
        fill_level(at_q, n_eq, qty, seq, volume - s_lt, time_priority, accepted)
        lo_t = q
        hi_t = q
    if volume <= 0:
        return none
    price_x2 = pick_price_x2(lo_t, hi_t, rule, np.int64(0), np.int64(0), False, False)
    welfare = demand_area(cq, cp, volume)
    for i in range(n):
        if accepted[i] > 0:
            welfare -= float(price[i]) * float(accepted[i])
    return STATUS_TRADE, volume, lo_t, hi_t, price_x2, welfare, accepted
