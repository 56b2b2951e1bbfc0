"""A compiled scan of the neutral CSV order book (private), for files that are plainly
written: the header ``id,side,price,quantity`` exactly, every other line exactly four
non-empty fields of printable ASCII without quotes, sides ``buy``/``sell`` (any case), and
prices and quantities written as plain decimals (``-12.5``, ``3``, ``.25``) with at most 15
significant digits.

:func:`scan_csv` never raises: anything else (a blank line, a quote, a tab, an exponent, a
bad side, a missing field, a byte outside ASCII) returns ``SCAN_FALLBACK`` and the caller
(:meth:`clearing.OrderBook.from_csv`) reads the file the slow way, which reports every
problem with its line. A plain decimal d with at most 15 digits and k <= 15 after the point is
read as int(d without the point) / 10**k: both are exact floats and IEEE division rounds
once, so the value is the float nearest to d, exactly what ``float()`` returns.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clearing.config import NJIT

SCAN_OK = 0
SCAN_FALLBACK = 1

HEADER = np.frombuffer(b"id,side,price,quantity", dtype=np.uint8)
POW10 = np.array([10.0**k for k in range(16)])


@njit(inline="always", **NJIT)
def _decimal(buf, a, b, pow10):  # pragma: no cover - compiled
    """(ok, value) of the plain decimal in buf[a:b]."""
    neg = False
    if buf[a] == 45 or buf[a] == 43:  # - or +
        neg = buf[a] == 45
        a += 1
    mant = np.int64(0)
    digits = 0
    frac = 0
    seen_point = False
    for j in range(a, b):
        c = buf[j]
        if 48 <= c <= 57:
            if digits > 0 or c != 48:
                digits += 1
            if digits > 15:
                return False, 0.0
            mant = mant * 10 + (c - 48)
            if seen_point:
                frac += 1
        elif c == 46 and not seen_point:
            seen_point = True
        else:
            return False, 0.0
    if b - a - (1 if seen_point else 0) <= 0 or frac > 15:  # no digit at all
        return False, 0.0
    value = mant / pow10[frac]
    return True, -value if neg else value


@njit(**NJIT)
def scan_csv(buf, header, pow10):  # pragma: no cover - compiled
    """Scan a whole file (uint8). Returns (status, id_start, id_end, sides int8, prices,
    quantities), the arrays one entry per order; ``id_start``/``id_end`` are byte offsets of
    each id in ``buf``."""
    size = buf.shape[0]
    hl = header.shape[0]
    empty_i = np.zeros(0, dtype=np.int64)
    empty_s = np.zeros(0, dtype=np.int8)
    empty_f = np.zeros(0, dtype=np.float64)
    fail = (SCAN_FALLBACK, empty_i, empty_i, empty_s, empty_f, empty_f)
    if size < hl:
        return fail
    for j in range(hl):
        if buf[j] != header[j]:
            return fail
    if size > hl and buf[hl] != 10:
        return fail
    lines = 0
    odd = 0
    for j in range(hl, size):  # branch-free, so that it vectorises
        c = buf[j]
        newline = c == 10
        lines += newline
        odd += ((c < 32) & (not newline)) | (c > 126) | (c == 34)  # control, non-ASCII, quote
    if odd:
        return fail
    id_start = np.empty(lines, dtype=np.int64)
    id_end = np.empty(lines, dtype=np.int64)
    sides = np.empty(lines, dtype=np.int8)
    prices = np.empty(lines, dtype=np.float64)
    qtys = np.empty(lines, dtype=np.float64)
    starts = np.empty(4, dtype=np.int64)
    ends = np.empty(4, dtype=np.int64)
    n = 0
    pos = hl + 1
    while pos < size:
        end = pos
        field = 0
        starts[0] = pos
        while end < size:  # one pass over the line: its commas and its end
            c = buf[end]
            if c == 10:
                break
            if c == 44:
                if field == 3:
                    return fail
                ends[field] = end
                field += 1
                starts[field] = end + 1
            end += 1
        if field != 3:
            return fail
        ends[3] = end
        for f in range(4):
            if ends[f] <= starts[f] or buf[starts[f]] == 32 or buf[ends[f] - 1] == 32:
                return fail  # empty, or spaces to strip: the slow way
        id_start[n] = starts[0]
        id_end[n] = ends[0]
        a = starts[1]
        w = ends[1] - a
        c0 = buf[a] | 32
        if w == 3 and c0 == 98 and (buf[a + 1] | 32) == 117 and (buf[a + 2] | 32) == 121:
            sides[n] = -1
        elif (w == 4 and c0 == 115 and (buf[a + 1] | 32) == 101 and (buf[a + 2] | 32) == 108
              and (buf[a + 3] | 32) == 108):
            sides[n] = 1
        else:
            return fail
        ok, v = _decimal(buf, starts[2], ends[2], pow10)
        if not ok:
            return fail
        prices[n] = v
        ok, v = _decimal(buf, starts[3], ends[3], pow10)
        if not ok:
            return fail
        qtys[n] = v
        n += 1
        pos = end + 1
    return SCAN_OK, id_start[:n], id_end[:n], sides[:n], prices[:n], qtys[:n]


@njit(**NJIT)
def _integer_ids(buf, start, end):  # pragma: no cover - compiled
    """The ids as int64 when every one is a plain non-negative integer written without a
    leading zero ("0", "17", never "017"), so distinct text is a distinct number; else an
    empty array."""
    n = start.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        a, b = start[i], end[i]
        if b - a > 18 or (buf[a] == 48 and b - a > 1):
            return out[:0]
        v = np.int64(0)
        for j in range(a, b):
            c = buf[j]
            if c < 48 or c > 57:
                return out[:0]
            v = v * 10 + (c - 48)
        out[i] = v
    return out


@njit(**NJIT)
def unique_spans(buf, start, end):  # pragma: no cover - compiled
    """True when the byte strings buf[start[i]:end[i]] are all distinct: integer ids (the
    common case of a generated book) by marks in an array as long as the largest id, when
    that is at most 16 x the rows; anything else by a hash set."""
    n = start.shape[0]
    if n >= 2**30:  # row numbers are kept as int32
        return False
    numbers = _integer_ids(buf, start, end)
    if n > 0 and numbers.shape[0] == n:
        top = numbers.max()
        if top < 16 * n + 1024:
            seen = np.zeros(top + 1, dtype=np.bool_)
            for i in range(n):
                k = numbers[i]
                if seen[k]:
                    return False
                seen[k] = True
            return True
    size = 1
    while size < 2 * n:
        size *= 2
    mask = size - 1
    table = np.full(size, -1, dtype=np.int32)  # row numbers: callers keep n below 2**31
    for i in range(n):
        h = np.int64(0)
        for j in range(start[i], end[i]):
            h = (h * 31 + np.int64(buf[j])) & 0xFFFFFFFFFFFFFF  # below 2**56: no overflow
        slot = ((((h & 0xFFFFFFF) * 0x5BD1E995) ^ ((h >> 28) * 0x27D4EB2F)) >> 8) & mask
        while table[slot] >= 0:
            k = table[slot]
            w = end[k] - start[k]
            if w == end[i] - start[i]:
                same = True
                for j in range(w):
                    if buf[start[k] + j] != buf[start[i] + j]:
                        same = False
                        break
                if same:
                    return False
            slot = (slot + 1) & mask
        table[slot] = i
    return True


@njit(**NJIT)
def gather_spans(buf, start, end, width):  # pragma: no cover - compiled
    """uint8 (n, width): the byte strings buf[start[i]:end[i]] left-aligned and zero-padded,
    to be viewed as a fixed-width ``S{width}`` array (the ids, without a Python object each)."""
    n = start.shape[0]
    out = np.zeros((n, width), dtype=np.uint8)
    for i in range(n):
        a = start[i]
        for j in range(end[i] - a):
            out[i, j] = buf[a + j]
    return out


@njit(**NJIT)
def contiguous_spans(buf, start, end):  # pragma: no cover - compiled
    """The byte strings buf[start[i]:end[i]] end to end (uint8) and their int64 offsets
    (n + 1,): an Arrow large-string array's two buffers, so the ids become Python str
    objects in Arrow's one conversion pass."""
    n = start.shape[0]
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    for i in range(n):
        offsets[i + 1] = offsets[i] + (end[i] - start[i])
    data = np.empty(offsets[n], dtype=np.uint8)
    for i in range(n):
        a, o = start[i], offsets[i]
        for j in range(end[i] - a):
            data[o + j] = buf[a + j]
    return data, offsets
