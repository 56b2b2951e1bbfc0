"""The uniform-price double auction kernel (docs/CLEARING.md).

No sort. The welfare-maximising, then volume-maximising, traded volume is found from the
crossing of the aggregate curves S(<=p) (sell quantity priced at or below p) and D(>=p) (buy
quantity priced at or above p). Let q be the smallest price tick with S(<=q) >= D(>=q+1); a
bucketed search finds it in O(n) passes (buckets of ticks, refined inside the one bucket that
holds q). Then

* volume Q = min(S(<=q), D(>=q));
* sells priced below q are fully accepted, sells at q share Q - S(<q), sells above q get none;
* buys priced above q are fully accepted, buys at q share Q - D(>q), buys below q get none.

Proof sketch: P(p) = [S(<=p) >= D(>=p+1)] is monotone; with P(q-1) false, S(<q) < D(>=q), so
the largest min(S(<=p), D(>=p)) over p is min(S(<=q), D(>=q)); the fills above reach it and
both remainders lie in [0, level quantity]. The price range then follows from the allocation
by the competitive-equilibrium conditions, order by order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clearing.config import NJIT
from clearing.kernels.common import bucket_shift, fill_level

STATUS_TRADE = 0
STATUS_NO_TRADE = 1

RULE_MIDPOINT = 0
RULE_SUPPLY = 1
RULE_DEMAND = 2

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


@njit(**NJIT)
def _crossing_tick(side, price, qty, lo_idx, hi_idx):  # pragma: no cover - compiled
    """Smallest tick q with S(<=q) >= D(>=q+1) over orders [lo_idx, hi_idx).

    Returns (found, q). ``found`` is False for an empty slice.
    """
    n = hi_idx - lo_idx
    if n <= 0:
        return False, np.int64(0)
    lo = price[lo_idx]
    hi = price[lo_idx]
    tot_b = np.int64(0)
    for i in range(lo_idx, hi_idx):
        p = price[i]
        if p < lo:
            lo = p
        if p > hi:
            hi = p
        if side[i] < 0:
            tot_b += qty[i]
    # P(lo - 1): no sell is priced below lo, so S(<=lo-1) = 0.
    if tot_b == 0:
        return True, lo - 1
    s_below = np.int64(0)
    d_above = np.int64(0)
    cand = np.empty(0, dtype=np.int64)
    m = n
    first = True
    # Invariant: P(lo - 1) is false, P(hi) is true; s_below = S(<lo), d_above = D(>hi); the
    # orders priced in [lo, hi] are the whole slice (first pass) or cand[:m].
    while True:
        span = hi - lo + 1
        if span == 1:
            return True, lo
        sh, nbe = bucket_shift(span, m)
        hs = np.zeros(nbe, dtype=np.int64)
        hb = np.zeros(nbe, dtype=np.int64)
        hn = np.zeros(nbe, dtype=np.int64)
        for j in range(m):
            i = lo_idx + j if first else cand[j]
            b = (price[i] - lo) >> sh
            hn[b] += 1
            if side[i] > 0:
                hs[b] += qty[i]
            else:
                hb[b] += qty[i]
        s_cum = s_below
        d_rest = d_above
        for kk in range(nbe):
            d_rest += hb[kk]
        k = nbe - 1
        for kk in range(nbe):
            s_cum += hs[kk]
            d_rest -= hb[kk]
            if s_cum >= d_rest:
                k = kk
                break
        start = lo + (np.int64(k) << sh)
        if sh == 0:
            return True, start
        end = start + (np.int64(1) << sh) - 1
        if end > hi:
            end = hi
        s_below = s_cum - hs[k]
        d_above = d_rest
        kept = np.empty(hn[k], dtype=np.int64)
        mm = 0
        for j in range(m):
            i = lo_idx + j if first else cand[j]
            if ((price[i] - lo) >> sh) == k:
                kept[mm] = i
                mm += 1
        cand = kept
        first = False
        m = mm
        lo = start
        hi = end


@njit(**NJIT)
def _clear_one(side, price, qty, seq, lo_idx, hi_idx, time_priority, accepted):  # pragma: no cover
    """Clear the orders [lo_idx, hi_idx) of flat arrays; writes ``accepted`` (ticks).

    Returns (status, volume_ticks, lo_tick, hi_tick, welfare_ticks2) where [lo_tick, hi_tick]
    is the range of equilibrium prices in ticks and ``welfare_ticks2`` is welfare in
    price-tick x quantity-tick units, as float64.
    """
    found, q = _crossing_tick(side, price, qty, lo_idx, hi_idx)
    if not found:
        return STATUS_NO_TRADE, np.int64(0), np.int64(0), np.int64(0), 0.0
    # One pass: orders off the level q are fully accepted or rejected whatever the volume, so
    # accept them now, gather the level, and keep the extremes the price range needs.
    s_lt = np.int64(0)
    s_eq = np.int64(0)
    b_gt = np.int64(0)
    b_eq = np.int64(0)
    n_eq = 0
    sell_below = _INT64_MIN  # highest sell priced below q (accepted)
    sell_above = _INT64_MAX  # lowest sell priced above q (rejected)
    buy_below = _INT64_MIN  # highest buy priced below q (rejected)
    buy_above = _INT64_MAX  # lowest buy priced above q (accepted)
    welfare = 0.0
    for i in range(lo_idx, hi_idx):
        p = price[i]
        if p == q:
            accepted[i] = 0
            n_eq += 1
            if side[i] > 0:
                s_eq += qty[i]
            else:
                b_eq += qty[i]
        elif side[i] > 0:
            if p < q:
                accepted[i] = qty[i]
                s_lt += qty[i]
                welfare -= float(p) * float(qty[i])
                if p > sell_below:
                    sell_below = p
            else:
                accepted[i] = 0
                if p < sell_above:
                    sell_above = p
        else:
            if p > q:
                accepted[i] = qty[i]
                b_gt += qty[i]
                welfare += float(p) * float(qty[i])
                if p < buy_above:
                    buy_above = p
            else:
                accepted[i] = 0
                if p > buy_below:
                    buy_below = p
    supply = s_lt + s_eq
    demand = b_gt + b_eq
    volume = supply if supply < demand else demand
    if volume <= 0:
        for i in range(lo_idx, hi_idx):
            accepted[i] = 0
        return STATUS_NO_TRADE, np.int64(0), np.int64(0), np.int64(0), 0.0
    sells_at = np.empty(n_eq, dtype=np.int64)
    buys_at = np.empty(n_eq, dtype=np.int64)
    ns = 0
    nb = 0
    if n_eq > 0:
        for i in range(lo_idx, hi_idx):
            if price[i] == q:
                if side[i] > 0:
                    sells_at[ns] = i
                    ns += 1
                else:
                    buys_at[nb] = i
                    nb += 1
    fill_level(sells_at, ns, qty, seq, volume - s_lt, time_priority, accepted)
    fill_level(buys_at, nb, qty, seq, volume - b_gt, time_priority, accepted)
    # Equilibrium price range from the allocation: an accepted sell or a not fully accepted buy
    # bounds the price from below; a not fully accepted sell or an accepted buy from above.
    lo_t = sell_below if sell_below > buy_below else buy_below
    hi_t = sell_above if sell_above < buy_above else buy_above
    level_accepted = volume - s_lt  # sells at q
    if level_accepted > 0:
        welfare -= float(q) * float(level_accepted)
        if q > lo_t:
            lo_t = q
    if level_accepted < s_eq and q < hi_t:
        hi_t = q
    level_accepted = volume - b_gt  # buys at q
    if level_accepted > 0:
        welfare += float(q) * float(level_accepted)
        if q < hi_t:
            hi_t = q
    if level_accepted < b_eq and q > lo_t:
        lo_t = q
    return STATUS_TRADE, volume, lo_t, hi_t, welfare


@njit(**NJIT)
def clear_uniform(side, price, qty, seq, time_priority):  # pragma: no cover - compiled
    """One auction: returns (status, volume, lo_tick, hi_tick, welfare, accepted)."""
    n = side.shape[0]
    accepted = np.zeros(n, dtype=np.int64)
    status, volume, lo_t, hi_t, welfare = _clear_one(side, price, qty, seq, 0, n,
                                                     time_priority, accepted)
    return status, volume, lo_t, hi_t, welfare, accepted


@njit(**NJIT)
def pick_price_x2(lo_t, hi_t, rule, cap_t, floor_t, has_cap, has_floor):  # pragma: no cover
    """Twice the clearing price in ticks (so a midpoint between ticks stays exact).

    The range [lo_t, hi_t] is clipped to [floor, cap] where given; a side left open (no order
    bounds it) is closed by the cap or floor, or by the other end when there is none.
    """
    lo = lo_t
    hi = hi_t
    if has_floor and (lo == _INT64_MIN or lo < floor_t):
        lo = floor_t
    if has_cap and (hi == _INT64_MAX or hi > cap_t):
        hi = cap_t
    if lo == _INT64_MIN:
        lo = hi
    if hi == _INT64_MAX:
        hi = lo
    if rule == RULE_SUPPLY:
        return 2 * lo
    if rule == RULE_DEMAND:
        return 2 * hi
    return lo + hi


@njit(**NJIT)
def clear_batched(side, price, qty, seq, offsets, time_priority, rule, cap_t, floor_t,
                  has_cap, has_floor):  # pragma: no cover - compiled
    """Many independent auctions; auction k holds orders [offsets[k], offsets[k+1]).

    Returns (status, volume, price_x2, lo_tick, hi_tick, welfare) per auction and ``accepted``
    per order.
    """
    n_auctions = offsets.shape[0] - 1
    n = side.shape[0]
    accepted = np.zeros(n, dtype=np.int64)
    status = np.empty(n_auctions, dtype=np.int8)
    volume = np.zeros(n_auctions, dtype=np.int64)
    price_x2 = np.zeros(n_auctions, dtype=np.int64)
    lo_out = np.zeros(n_auctions, dtype=np.int64)
    hi_out = np.zeros(n_auctions, dtype=np.int64)
    welfare = np.zeros(n_auctions, dtype=np.float64)
    for k in range(n_auctions):
        st, vol, lo_t, hi_t, w = _clear_one(side, price, qty, seq, offsets[k], offsets[k + 1],
                                            time_priority, accepted)
        status[k] = st
        volume[k] = vol
        lo_out[k] = lo_t
        hi_out[k] = hi_t
        welfare[k] = w
        if st == STATUS_TRADE:
            price_x2[k] = pick_price_x2(lo_t, hi_t, rule, cap_t, floor_t, has_cap, has_floor)
    return status, volume, price_x2, lo_out, hi_out, welfare, accepted
