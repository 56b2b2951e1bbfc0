"""The continuous double auction kernel: a price-time priority order book on int64 ticks.

All state lives in fixed-dtype int64 arrays owned by the wrapper (``clearing.continuous``):

* ``orders`` (C, 7): one row per slot, columns ``O_ID, O_SIDE, O_PRICE, O_REM, O_SEQ, O_STATE``
  and ``O_TPOS`` (the order's cell in ``table``). Only resting orders take a slot; a taker
  filled on arrival never does. A slot is reused (``free`` stack) once its order has left the
  book *and* its heap entry is gone.
* ``heaps`` (2, C): two binary heaps of slot numbers, row 0 bids (highest price, then earliest
  sequence, on top), row 1 asks (lowest price, then earliest sequence). A cancel only marks the
  slot dead (lazy deletion); dead entries are dropped when they reach the top, and a heap is
  rebuilt when more than half of it is dead, so it stays within twice the live orders.
  Invariant after every event: the top of each heap is a live order.
* ``table`` (T, 2): open-addressing hash table (linear probing, T a power of two, at most half
  full) from order id to its slot, or to ``DONE_FILLED`` / ``DONE_CANCELLED`` once it has left the
  book. Ids are never forgotten, so an id can be used once in the life of a book and a cancel
  can tell "unknown" from "already filled" from "already cancelled".
* ``meta`` (N_META,): counters (next sequence number, free slots, ids in the table, heap sizes,
  live and dead orders per side).

Why heaps and not price-level ladders: prices are unbounded int64 ticks (the cap and floor are
optional), so a ladder indexed by tick would need a bound or a hash of levels; a heap keyed on
(price, sequence) is O(log n) per insert/fill, needs no bound, and its lazy cancels are O(1).

``process_events`` never raises. It returns early with a ``NEED_*`` bit when an array is too
small for the next event (before touching anything for that event); the wrapper grows the array
by doubling and calls again from that event.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from clearing.config import NJIT

# order slot columns
O_ID = 0
O_SIDE = 1
O_PRICE = 2
O_REM = 3
O_SEQ = 4
O_STATE = 5
O_TPOS = 6
N_ORDER_COLS = 7

# slot states
SLOT_FREE = 0
SLOT_LIVE = 1
SLOT_DEAD = 2  # cancelled, its heap entry not yet removed

# hash table: columns and the values that are not slots
T_KEY = 0
T_VAL = 1
EMPTY = np.iinfo(np.int64).min
DONE_FILLED = -1
DONE_CANCELLED = -2

# meta counters; per-side counters are at base + side index (0 bids, 1 asks)
M_SEQ = 0
M_FREE = 1
M_KEYS = 2
M_SIZE = 3
M_LIVE = 5
M_DEAD = 7
N_META = 9

# event columns and kinds
E_KIND = 0
E_ID = 1
E_SIDE = 2
E_PRICE = 3
E_QTY = 4
N_EVENT_COLS = 5
KIND_LIMIT = 0
KIND_CANCEL = 1
KIND_IOC = 2  # immediate or cancel: trade what crosses now, cancel the rest

# per-event status codes
ACCEPTED = 0
UNKNOWN_ID = 1
DUPLICATE_ID = 2
ALREADY_FILLED = 3
ALREADY_CANCELLED = 4
INVALID = 5

# trade columns
TR_TAKER = 0
TR_MAKER = 1
TR_PRICE = 2
TR_QTY = 3
TR_EVENT = 4
TR_SIDE = 5  # the taker's side: +1 sell, -1 buy
N_TRADE_COLS = 6

# reasons for an early return
NEED_SLOT = 1
NEED_TRADES = 2
NEED_TABLE = 4

SELL = 1
BUY = -1
_COMPACT_MIN = 64  # dead entries tolerated in a heap before a rebuild is considered


def new_state(capacity, table_size):
    """Empty book arrays: (orders, free, heaps, table, meta). ``table_size`` a power of two."""
    orders = np.zeros((capacity, N_ORDER_COLS), dtype=np.int64)
    free = np.arange(capacity - 1, -1, -1, dtype=np.int64)  # slot 0 on top of the stack
    heaps = np.zeros((2, capacity), dtype=np.int64)
    table = np.zeros((table_size, 2), dtype=np.int64)
    table[:, T_VAL] = EMPTY
    meta = np.zeros(N_META, dtype=np.int64)
    meta[M_FREE] = capacity
    return orders, free, heaps, table, meta


# ------------------------------------------------------------------------- hash table

@njit(**NJIT)
def _find(table, key):  # pragma: no cover - compiled
    """(position, found): where ``key`` is, or the empty cell where it would go."""
    mask = table.shape[0] - 1
    # Ids usually come from counters, so eight consecutive ids share one block of eight cells
    # (two cache lines) and blocks are scattered by a mix of ``key >> 3``: twice as fast on a
    # counter stream as a full mix, about 1.3x slower when ids are all one multiple of 8 apart
    # (probes stay short: the table is at most half full). The mix multiplies two 32-bit halves
    # by odd constants below 2**31, so no product overflows int64 and the compiled and the
    # pure-Python (NUMBA_DISABLE_JIT) paths hash alike.
    g = key >> 3
    h = ((g & 0xFFFFFFFF) * 0x2545F491) ^ (((g >> 32) & 0xFFFFFFFF) * 0x6C8E9CF5)
    h ^= h >> 29
    pos = ((h << 3) | (key & 7)) & mask
    while True:
        if table[pos, T_VAL] == EMPTY:
            return pos, False
        if table[pos, T_KEY] == key:
            return pos, True
        pos = (pos + 1) & mask


@njit(**NJIT)
def lookup(table, key):  # pragma: no cover - compiled
    """Table value of order id ``key``: its slot (>= 0), DONE_FILLED, DONE_CANCELLED or EMPTY."""
    pos, found = _find(table, key)
    if not found:
        return EMPTY
    return table[pos, T_VAL]


@njit(**NJIT)
def rehash(old, new, orders):  # pragma: no cover - compiled
    """Insert every entry of ``old`` into the empty table ``new`` (larger), pointing the
    ``O_TPOS`` of resting orders at their new cells; returns the count."""
    n = 0
    for i in range(old.shape[0]):
        value = old[i, T_VAL]
        if value != EMPTY:
            pos, _ = _find(new, old[i, T_KEY])
            new[pos, T_KEY] = old[i, T_KEY]
            new[pos, T_VAL] = value
            if value >= 0:
                orders[value, O_TPOS] = pos
            n += 1
    return n


# ------------------------------------------------------------------------- heaps

@njit(**NJIT)
def _before(orders, a, b, k):  # pragma: no cover - compiled
    """True when slot ``a`` has priority over slot ``b`` on book side ``k`` (0 bids, 1 asks)."""
    pa = orders[a, O_PRICE]
    pb = orders[b, O_PRICE]
    if pa != pb:
        return pa > pb if k == 0 else pa < pb
    return orders[a, O_SEQ] < orders[b, O_SEQ]


@njit(**NJIT)
def _sift_up(h, pos, orders, k):  # pragma: no cover - compiled
    slot = h[pos]
    while pos > 0:
        parent = (pos - 1) >> 1
        if not _before(orders, slot, h[parent], k):
            break
        h[pos] = h[parent]
        pos = parent
    h[pos] = slot


@njit(**NJIT)
def _sift_down(h, size, pos, orders, k):  # pragma: no cover - compiled
    slot = h[pos]
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _before(orders, h[right], h[child], k):
            child = right
        if not _before(orders, h[child], slot, k):
            break
        h[pos] = h[child]
        pos = child
    h[pos] = slot


@njit(**NJIT)
def _pop_top(heaps, meta, orders, k):  # pragma: no cover - compiled
    h = heaps[k]
    size = meta[M_SIZE + k] - 1
    meta[M_SIZE + k] = size
    if size > 0:
        h[0] = h[size]
        _sift_down(h, size, 0, orders, k)


@njit(**NJIT)
def _free_slot(orders, free, meta, slot):  # pragma: no cover - compiled
    orders[slot, O_STATE] = SLOT_FREE
    free[meta[M_FREE]] = slot
    meta[M_FREE] += 1


@njit(**NJIT)
def _prune(heaps, meta, orders, free, k):  # pragma: no cover - compiled
    """Drop dead entries from the top of heap ``k`` so that its top is live (or it is empty)."""
    while meta[M_SIZE + k] > 0:
        top = heaps[k, 0]
        if orders[top, O_STATE] == SLOT_LIVE:
            return
        _pop_top(heaps, meta, orders, k)
        _free_slot(orders, free, meta, top)
        meta[M_DEAD + k] -= 1


@njit(**NJIT)
def _compact(heaps, meta, orders, free, k):  # pragma: no cover - compiled
    """Rebuild heap ``k`` from its live entries only (Floyd's heapify), freeing the dead slots."""
    h = heaps[k]
    size = meta[M_SIZE + k]
    kept = 0
    for j in range(size):
        slot = h[j]
        if orders[slot, O_STATE] == SLOT_LIVE:
            h[kept] = slot
            kept += 1
        else:
            _free_slot(orders, free, meta, slot)
    meta[M_SIZE + k] = kept
    meta[M_DEAD + k] = 0
    for j in range(kept // 2 - 1, -1, -1):
        _sift_down(h, kept, j, orders, k)


# ------------------------------------------------------------------------- events

@njit(**NJIT)
def _cancel(orders, free, table, heaps, meta, order_id):  # pragma: no cover - compiled
    pos, found = _find(table, order_id)
    if not found:
        return UNKNOWN_ID
    slot = table[pos, T_VAL]
    if slot == DONE_FILLED:
        return ALREADY_FILLED
    if slot == DONE_CANCELLED:
        return ALREADY_CANCELLED
    table[pos, T_VAL] = DONE_CANCELLED
    k = 0 if orders[slot, O_SIDE] == BUY else 1
    orders[slot, O_STATE] = SLOT_DEAD
    meta[M_LIVE + k] -= 1
    meta[M_DEAD + k] += 1
    if heaps[k, 0] == slot:
        _prune(heaps, meta, orders, free, k)
    elif meta[M_DEAD + k] > _COMPACT_MIN and meta[M_DEAD + k] > meta[M_LIVE + k]:
        _compact(heaps, meta, orders, free, k)
    return ACCEPTED


@njit(**NJIT)
def process_events(orders, free, table, heaps, meta, events, start, status, trades,
                   n_trades):  # pragma: no cover - compiled
    """Apply ``events[start:]`` in order; returns (next_event, n_trades, need).

    ``events``: int64 (n, 5), columns kind, order id, side (+1 sell / -1 buy), price ticks,
    quantity ticks (side, price and quantity are ignored for a cancel). ``status``: int8 (n,),
    written per event. ``trades``: int64 (m, 6), rows ``[n_trades:]`` are appended to: taker id,
    maker id, price ticks (the maker's limit price), quantity ticks, event index, taker side.
    ``need`` is 0 when every event is done, else the ``NEED_*`` bits of the arrays to grow
    before calling again with ``start = next_event``.
    """
    n = events.shape[0]
    for i in range(start, n):
        kind = events[i, E_KIND]
        order_id = events[i, E_ID]
        if kind == KIND_CANCEL:
            status[i] = _cancel(orders, free, table, heaps, meta, order_id)
            continue
        side = events[i, E_SIDE]
        price = events[i, E_PRICE]
        rem = events[i, E_QTY]
        if (kind != KIND_LIMIT and kind != KIND_IOC) or (side != BUY and side != SELL) or rem <= 0:
            status[i] = INVALID
            continue
        pos, found = _find(table, order_id)
        if found:
            status[i] = DUPLICATE_ID
            continue
        k = 0 if side == BUY else 1
        opp = 1 - k
        need = 0
        if meta[M_FREE] < 1:
            need |= NEED_SLOT
        if trades.shape[0] - n_trades < meta[M_SIZE + opp]:
            need |= NEED_TRADES
        if 2 * (meta[M_KEYS] + 1) > table.shape[0]:
            need |= NEED_TABLE
        if need != 0:
            return i, n_trades, need

        # Match against the opposite side while it crosses; each fill at the maker's price.
        while rem > 0 and meta[M_SIZE + opp] > 0:
            m = heaps[opp, 0]
            if orders[m, O_STATE] != SLOT_LIVE:  # cannot happen while tops are kept live
                _prune(heaps, meta, orders, free, opp)
                continue
            maker_price = orders[m, O_PRICE]
            if (side == BUY and price < maker_price) or (side == SELL and price > maker_price):
                break
            q = orders[m, O_REM]
            if rem < q:
                q = rem
            trades[n_trades, TR_TAKER] = order_id
            trades[n_trades, TR_MAKER] = orders[m, O_ID]
            trades[n_trades, TR_PRICE] = maker_price
            trades[n_trades, TR_QTY] = q
            trades[n_trades, TR_EVENT] = i
            trades[n_trades, TR_SIDE] = side
            n_trades += 1
            rem -= q
            orders[m, O_REM] -= q
            if orders[m, O_REM] == 0:
                _pop_top(heaps, meta, orders, opp)
                table[orders[m, O_TPOS], T_VAL] = DONE_FILLED
                _free_slot(orders, free, meta, m)
                meta[M_LIVE + opp] -= 1
        _prune(heaps, meta, orders, free, opp)

        # The matching above changed values only, so ``pos`` is still this id's empty cell.
        table[pos, T_KEY] = order_id
        meta[M_KEYS] += 1
        seq = meta[M_SEQ]
        meta[M_SEQ] = seq + 1
        if rem == 0:
            table[pos, T_VAL] = DONE_FILLED
        elif kind == KIND_IOC:
            table[pos, T_VAL] = DONE_CANCELLED
        else:
            meta[M_FREE] -= 1
            slot = free[meta[M_FREE]]
            orders[slot, O_ID] = order_id
            orders[slot, O_SIDE] = side
            orders[slot, O_PRICE] = price
            orders[slot, O_REM] = rem
            orders[slot, O_SEQ] = seq
            orders[slot, O_STATE] = SLOT_LIVE
            orders[slot, O_TPOS] = pos
            size = meta[M_SIZE + k]
            heaps[k, size] = slot
            meta[M_SIZE + k] = size + 1
            _sift_up(heaps[k], size, orders, k)
            meta[M_LIVE + k] += 1
            table[pos, T_VAL] = slot
        status[i] = ACCEPTED
    return n, n_trades, 0
