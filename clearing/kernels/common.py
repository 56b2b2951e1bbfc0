"""Shared compiled helpers: exact integer pro-rata, the marginal-level fill, and the bucket
sizing of the crossing searches (``_uniform`` and ``_capacity``).

Everything here is ``@njit`` and never raises; inputs are int64 arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clearing.config import NJIT


@njit(**NJIT)
def mul_div_rem(a, b, c):  # pragma: no cover - compiled
    """floor(a * b / c) and (a * b) mod c, exactly, for 0 <= a <= c, 0 <= b, 0 < c < 2**62.

    Binary long multiplication keeps every intermediate below 2c, so no int64 overflow even
    when a * b would not fit in 64 bits.
    """
    if a == 0 or b == 0:
        return np.int64(0), np.int64(0)
    if b <= 4611686018427387903 // a:  # a * b fits: the fast path for realistic books
        p = a * b
        return p // c, p % c
    q = np.int64(0)
    r = np.int64(0)
    top = 62
    while top >= 0 and ((b >> top) & 1) == 0:
        top -= 1
    for bit in range(top, -1, -1):
        q = q * 2
        r = r * 2
        if r >= c:
            r -= c
            q += 1
        if (b >> bit) & 1:
            r += a
            if r >= c:
                r -= c
                q += 1
    return q, r


@njit(**NJIT)
def bucket_shift(span, m):  # pragma: no cover - compiled
    """Bucket shift and count for one pass of a crossing search over ``span`` >= 2 price ticks
    holding ``m`` candidate orders.

    Returns (sh, count): ``sh`` is the smallest shift for which buckets of 2**sh ticks cover
    the span in at most max(m, 16) buckets, capped at 2**20 (so a pass costs O(m) plus the
    histogram); ``count`` is the number of buckets. Bucket k holds the ticks
    [lo + (k << sh), lo + ((k + 1) << sh) - 1], the last cut at the span's end, so the
    bucket of tick p is ``(p - lo) >> sh``.
    """
    nb = m if m > 16 else 16
    if nb > 1 << 20:
        nb = 1 << 20
    sh = 0
    while ((span - 1) >> sh) + 1 > nb:
        sh += 1
    return sh, ((span - 1) >> sh) + 1


@njit(**NJIT)
def fill_level(members, m, qty, seq, remaining, time_priority, accepted):  # pragma: no cover
    """Share ``remaining`` ticks among the orders ``members[:m]`` of one price level.

    Pro rata (default): each gets floor(remaining * q_i / total); the ticks left over go one each
    to the largest remainders, ties to the earlier submission sequence (largest-remainder
    rounding, so the shares sum to ``remaining`` exactly). Time priority: earlier sequence fills
    first. Writes into ``accepted``.
    """
    if m == 0 or remaining <= 0:
        return
    total = np.int64(0)
    for j in range(m):
        total += qty[members[j]]
    if remaining >= total:
        for j in range(m):
            accepted[members[j]] = qty[members[j]]
        return
    if time_priority:
        keys = np.empty(m, dtype=np.int64)
        for j in range(m):
            keys[j] = seq[members[j]]
        order = np.argsort(keys)
        left = remaining
        for j in range(m):
            i = members[order[j]]
            take = qty[i] if qty[i] < left else left
            accepted[i] = take
            left -= take
            if left == 0:
                break
        return
    rems = np.empty(m, dtype=np.int64)
    given = np.int64(0)
    for j in range(m):
        i = members[j]
        share, rem = mul_div_rem(remaining, qty[i], total)
        accepted[i] = share
        rems[j] = rem
        given += share
    left = remaining - given  # < m
    if left == 0:
        return
    if left == 1:
        best = 0
        for j in range(1, m):
            if rems[j] > rems[best] or (rems[j] == rems[best]
                                        and seq[members[j]] < seq[members[best]]):
                best = j
        accepted[members[best]] += 1
        return
    # Largest remainder first, then earlier sequence: sort on (-rem, seq) via two stable passes.
    keys = np.empty(m, dtype=np.int64)
    for j in range(m):
        keys[j] = seq[members[j]]
    by_seq = np.argsort(keys, kind="mergesort")
    neg = np.empty(m, dtype=np.int64)
    for j in range(m):
        neg[j] = -rems[by_seq[j]]
    by_rem = np.argsort(neg, kind="mergesort")
    for j in range(left):
        accepted[members[by_seq[by_rem[j]]]] += 1
