"""Slow, readable reference of the continuous double auction, for tests only.

Plain Python lists kept sorted by priority, exact integer ticks, no NumPy, no Numba. It follows
docs/CLEARING.md word by word: price-time priority, trades at the resting order's price,
partial fills, cancels. Status codes and event kinds are the kernel's
(``clearing.kernels.continuous``) so that the two can be compared event by event.
"""

from __future__ import annotations

LIMIT, CANCEL, IOC = 0, 1, 2
ACCEPTED, UNKNOWN_ID, DUPLICATE_ID, ALREADY_FILLED, ALREADY_CANCELLED, INVALID = range(6)
SELL, BUY = 1, -1


class ReferenceContinuousBook:
    """An order book on ticks. Resting orders are lists ``[id, side, price, remaining, seq]``."""

    def __init__(self):
        self.bids = []  # best first: highest price, then earliest sequence
        self.asks = []  # best first: lowest price, then earliest sequence
        self.finished = {}  # id -> ALREADY_FILLED or ALREADY_CANCELLED
        self.next_seq = 0

    def is_live(self, order_id):
        return any(o[0] == order_id for o in self.bids + self.asks)

    def apply(self, kind, order_id, side=0, price=0, quantity=0, event=0):
        """One event; returns ``(status, trades)`` with trades as tuples
        ``(taker id, maker id, price, quantity, event, taker side)``."""
        if kind == CANCEL:
            return self.cancel(order_id), []
        if kind not in (LIMIT, IOC) or side not in (SELL, BUY) or quantity <= 0:
            return INVALID, []
        if order_id in self.finished or self.is_live(order_id):
            return DUPLICATE_ID, []
        seq = self.next_seq
        self.next_seq += 1
        trades = []
        remaining = quantity
        resting = self.asks if side == BUY else self.bids
        while remaining > 0 and resting:
            maker = resting[0]
            crosses = price >= maker[2] if side == BUY else price <= maker[2]
            if not crosses:
                break
            traded = min(remaining, maker[3])
            trades.append((order_id, maker[0], maker[2], traded, event, side))
            remaining -= traded
            maker[3] -= traded
            if maker[3] == 0:
                resting.pop(0)
                self.finished[maker[0]] = ALREADY_FILLED
        if remaining == 0:
            self.finished[order_id] = ALREADY_FILLED
        elif kind == IOC:
            self.finished[order_id] = ALREADY_CANCELLED
        else:
            own = self.bids if side == BUY else self.asks
            own.append([order_id, side, price, remaining, seq])
            if side == BUY:
                own.sort(key=lambda o: (-o[2], o[4]))
            else:
                own.sort(key=lambda o: (o[2], o[4]))
        return ACCEPTED, trades

    def cancel(self, order_id):
        for orders in (self.bids, self.asks):
            for j, o in enumerate(orders):
                if o[0] == order_id:
                    del orders[j]
                    self.finished[order_id] = ALREADY_CANCELLED
                    return ACCEPTED
        return self.finished.get(order_id, UNKNOWN_ID)

    def open_orders(self):
        """Resting orders as tuples ``(id, side, price, remaining, seq)``: bids, then asks."""
        return [tuple(o) for o in self.bids] + [tuple(o) for o in self.asks]


def reference_continuous(events):
    """Run events ``(kind, id, side, price ticks, quantity ticks)`` through a fresh book.

    Returns ``(trades, statuses, open_orders)`` as lists of tuples / ints (see
    :class:`ReferenceContinuousBook`).
    """
    book = ReferenceContinuousBook()
    trades = []
    statuses = []
    for i, (kind, order_id, side, price, quantity) in enumerate(events):
        status, made = book.apply(kind, order_id, side, price, quantity, event=i)
        statuses.append(status)
        trades.extend(made)
    return trades, statuses, book.open_orders()
