"""Continuous double auction: a price-time priority order book (the green-power game mode).

An incoming order trades at once against the resting orders of the other side that it crosses,
best price first and, at one price, earliest first; every trade is priced at the resting
(maker) order's limit price. What is left of a limit order rests in the book; what is left of an
immediate-or-cancel order is cancelled. Resting orders can be cancelled.

Prices are yuan per unit (yuan/MWh by default) on ``price_tick``; quantities are MW (or MWh) on
``quantity_tick``. The book works on int64 ticks inside a Numba kernel
(``clearing.kernels.continuous``)
and converts once, here, at the edge.

Example::

    book = ContinuousBook(price_tick=0.01, quantity_tick=0.001, price_cap=1500, price_floor=-50)
    book.submit(1, "sell", 300.0, 5.0)         # rests: no trade
    trades = book.submit(2, "buy", 310.0, 2.0)  # one trade: 2 MW at 300 (the maker's price)
    book.cancel(1)                              # returns the 3 MW that were still resting
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from clearing.book import BUY, SELL
from clearing.config import MAX_ABS_PRICE_TICKS
from clearing.errors import OrderBookError, OrderProblem
from clearing.grid import PRICE_TICK, QUANTITY_TICK, from_ticks, to_ticks
from clearing.kernels import continuous as k
from clearing.uniform import limit_ticks

LIMIT = k.KIND_LIMIT
CANCEL = k.KIND_CANCEL
IOC = k.KIND_IOC
KIND_NAMES = {"limit": LIMIT, "cancel": CANCEL, "ioc": IOC}
_SIDES = {"sell": SELL, "buy": BUY}

#: Per-event status codes returned by :meth:`ContinuousBook.process`.
ACCEPTED = k.ACCEPTED
UNKNOWN_ID = k.UNKNOWN_ID
DUPLICATE_ID = k.DUPLICATE_ID
ALREADY_FILLED = k.ALREADY_FILLED
ALREADY_CANCELLED = k.ALREADY_CANCELLED
STATUS_NAMES = {ACCEPTED: "accepted", UNKNOWN_ID: "unknown id", DUPLICATE_ID: "duplicate id",
                ALREADY_FILLED: "already filled", ALREADY_CANCELLED: "already cancelled",
                k.INVALID: "invalid"}

#: Largest order quantity in ticks; keeps depth sums of many orders inside int64.
MAX_ORDER_TICKS = 2**52

#: A batch of events for :meth:`ContinuousBook.process`. ``kind`` 0 limit, 1 cancel, 2 IOC;
#: ``side`` +1 sell, -1 buy; ``price`` yuan per unit; ``quantity`` MW. Cancels ignore the last
#: three fields.
EVENT_DTYPE = np.dtype([("kind", "i1"), ("order_id", "i8"), ("side", "i1"), ("price", "f8"),
                        ("quantity", "f8")])
#: One trade: ids, the taker's side (+1 sell, -1 buy), price (yuan per unit, the maker's limit
#: price) and quantity (MW), the same two in ticks, and the index of the event that caused it.
TRADE_DTYPE = np.dtype([("taker_id", "i8"), ("maker_id", "i8"), ("taker_side", "i1"),
                        ("price", "f8"), ("quantity", "f8"), ("price_ticks", "i8"),
                        ("quantity_ticks", "i8"), ("event", "i8")])
#: One resting order: remaining quantity, and its sequence number (time priority).
ORDER_DTYPE = np.dtype([("order_id", "i8"), ("side", "i1"), ("price", "f8"), ("quantity", "f8"),
                        ("price_ticks", "i8"), ("quantity_ticks", "i8"), ("sequence", "i8")])
#: One price level of :meth:`ContinuousBook.depth`: total resting quantity and order count.
LEVEL_DTYPE = np.dtype([("price", "f8"), ("quantity", "f8"), ("orders", "i8")])


class Depth(NamedTuple):
    """Aggregated book, best level first on each side (structured arrays of ``LEVEL_DTYPE``)."""

    bids: np.ndarray
    asks: np.ndarray


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Outcome of :meth:`ContinuousBook.process`.

    * ``trades``: ``TRADE_DTYPE`` (m,), in the order they happened;
    * ``status``: int8 (n,), one code per event (``ACCEPTED``, ``UNKNOWN_ID``, ``DUPLICATE_ID``,
      ``ALREADY_FILLED``, ``ALREADY_CANCELLED``); names in ``STATUS_NAMES``.
    """

    trades: np.ndarray
    status: np.ndarray


def make_events(kind: Any, order_id: Any, side: Any = None, price: Any = None,
                quantity: Any = None) -> np.ndarray:
    """Build an ``EVENT_DTYPE`` array from columns (scalars broadcast).

    ``kind`` holds 0/1/2 or ``"limit"``/``"cancel"``/``"ioc"``; ``side`` +1/-1 or
    ``"sell"``/``"buy"``. Missing columns are 0 (sides) or NaN (price, quantity). Unknown names
    become -99 so that :meth:`ContinuousBook.process` reports them.
    """
    ids = _id_column(np.atleast_1d(np.asarray(order_id)))
    n = ids.shape[0]
    out = np.zeros(n, dtype=EVENT_DTYPE)
    out["kind"] = _codes(kind, KIND_NAMES, n)
    out["order_id"] = ids
    out["side"] = 0 if side is None else _codes(side, _SIDES, n)
    out["price"] = np.nan if price is None else price
    out["quantity"] = np.nan if quantity is None else quantity
    return out


def _id_column(ids: np.ndarray) -> np.ndarray:
    """Order ids as int64; refuse (OrderBookError) anything that is not an int64 integer."""
    if ids.ndim != 1:
        raise OrderBookError([OrderProblem(None, "order_id must be one-dimensional")])
    if ids.dtype.kind == "i" or (ids.dtype.kind == "u" and (ids.size == 0 or ids.max() < 2**63)):
        return ids.astype(np.int64)
    problems = [OrderProblem(r, f"order id {v!r} is not an integer in the int64 range")
                for r, v in enumerate(ids.tolist()) if _one_id(v) is None]
    if problems:
        raise OrderBookError(problems)
    return np.array(ids.tolist(), dtype=np.int64)


def _codes(values: Any, names: Mapping[str, int], n: int) -> np.ndarray:
    if isinstance(values, (list, tuple)):  # keep each item's type: ["buy", -1] is not strings
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
    else:
        arr = np.asarray(values)
    arr = np.broadcast_to(arr, (n,))
    if arr.dtype.kind in "iu":
        return np.where((arr > -99) & (arr < 99), arr, -99).astype(np.int64)
    return np.array([names.get(v.strip().lower(), -99) if isinstance(v, str)
                     else (int(v) if isinstance(v, (int, np.integer)) and -99 < v < 99 else -99)
                     for v in arr.tolist()], dtype=np.int64)


class ContinuousBook:
    """A continuous double auction order book with price-time priority.

    ``price_cap`` / ``price_floor`` (yuan per unit, on the price grid) bound every limit price.
    ``capacity`` is the initial number of order slots; arrays grow by doubling as needed.
    """

    def __init__(self, price_tick: float = PRICE_TICK, quantity_tick: float = QUANTITY_TICK,
                 price_cap: float | None = None, price_floor: float | None = None, *,
                 capacity: int = 1024) -> None:
        for name, tick in (("price_tick", price_tick), ("quantity_tick", quantity_tick)):
            if not np.isfinite(tick) or tick <= 0:
                raise ValueError(f"{name} must be a positive finite number, got {tick!r}")
        self.price_tick = float(price_tick)
        self.quantity_tick = float(quantity_tick)
        self.price_cap = price_cap
        self.price_floor = price_floor
        cap_t, floor_t, has_cap, has_floor = limit_ticks(self.price_tick, price_cap, price_floor)
        self._cap_t = cap_t if has_cap else None
        self._floor_t = floor_t if has_floor else None
        capacity = max(int(capacity), 1)
        table_size = 1 << max(2 * capacity - 1, 1).bit_length()
        self._orders, self._free, self._heaps, self._table, self._meta = k.new_state(
            capacity, table_size)
        self._trades = np.zeros((max(capacity, 16), k.N_TRADE_COLS), dtype=np.int64)

    # ----------------------------------------------------------------- events

    def submit(self, order_id: int, side: int | str, price: float, quantity: float, *,
               ioc: bool = False) -> np.ndarray:
        """Enter one order; returns its trades (``TRADE_DTYPE``, possibly empty).

        ``side``: ``"buy"``/``"sell"`` or -1/+1; ``price`` yuan per unit; ``quantity`` MW.
        With ``ioc=True`` the part that does not trade at once is cancelled instead of resting.
        Raises :class:`OrderBookError` (nothing changes) for a malformed order or an id already
        used in this book.
        """
        oid = _one_id(order_id)
        if oid is None:
            raise OrderBookError([OrderProblem(None, f"order id {order_id!r} is not an integer")])
        kind = IOC if ioc else LIMIT
        ev = self._encode_one(kind, oid, side, price, quantity)
        problems: list[OrderProblem] = []
        if ev is None:  # something is off: the batch intake finds and words every problem
            try:
                events = make_events(kind, oid, side, price, quantity)
            except (ValueError, TypeError):
                raise OrderBookError([OrderProblem(None, (
                    f"order id {oid}: price {price!r} and quantity {quantity!r} must be numbers"
                ))]) from None
            ev, problems = self._encode(events)
        if not problems:
            value = int(k.lookup(self._table, int(ev[0, k.E_ID])))
            if value != k.EMPTY:
                problems.append(OrderProblem(None, f"order id {order_id}: {_used(value)}"))
        if problems:
            raise OrderBookError([OrderProblem(None, p.reason) for p in problems])
        return self._run(ev).trades

    def cancel(self, order_id: int) -> float:
        """Cancel a resting order; returns the quantity (MW) that was still resting.

        Raises :class:`OrderBookError` naming the order when the id is unknown or the order is
        already filled or cancelled.
        """
        oid = _one_id(order_id)
        if oid is None:
            raise OrderBookError([OrderProblem(None, f"order id {order_id!r} is not an integer")])
        value = int(k.lookup(self._table, oid))
        if value < 0:
            reason = "is unknown" if value == k.EMPTY else _used(value)
            raise OrderBookError([OrderProblem(None, f"cannot cancel order id {oid}: {reason}")])
        remaining = int(self._orders[value, k.O_REM])
        self._run(np.array([[CANCEL, oid, 0, 0, 0]], dtype=np.int64))
        return float(from_ticks(remaining, self.quantity_tick))

    def process(self, events: Any) -> BatchResult:
        """Apply a batch of events in order, in one kernel call.

        ``events``: an ``EVENT_DTYPE`` array (see :func:`make_events`) or any mapping of the
        columns ``kind, order_id, side, price, quantity``. A malformed event (NaN or infinite
        price, off-grid or out-of-limits price, quantity <= 0 or off-grid, unknown side or kind)
        refuses the whole batch with :class:`OrderBookError` listing every problem, and the book
        is unchanged. Ids that clash with the book's state (a duplicate add, a cancel of an
        unknown, filled or cancelled order) are not errors: they get a status code.
        """
        if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
            try:
                events = make_events(events["kind"], events["order_id"],
                                     _get(events, "side"), _get(events, "price"),
                                     _get(events, "quantity"))
            except OrderBookError:
                raise
            except (KeyError, ValueError, TypeError, IndexError) as err:
                raise OrderBookError([OrderProblem(None, (
                    "events must hold the columns kind, order_id, side, price, quantity "
                    f"of one length ({err})"))]) from None
        ev, problems = self._encode(events)
        if problems:
            raise OrderBookError(problems)
        return self._run(ev)

    # ----------------------------------------------------------------- queries

    def best_bid(self) -> float | None:
        """Highest resting buy price (yuan per unit), or None."""
        return self._top(0)

    def best_ask(self) -> float | None:
        """Lowest resting sell price (yuan per unit), or None."""
        return self._top(1)

    def depth(self, levels: int | None = 5) -> Depth:
        """Resting quantity (MW) and order count per price, the best ``levels`` per side."""
        if levels is not None and (isinstance(levels, bool) or int(levels) != levels
                                   or levels < 1):
            raise ValueError(f"levels must be a positive integer or None, got {levels!r}")
        live = self._live_rows()
        sides = []
        for side, sign in ((BUY, -1), (SELL, 1)):
            rows = live[live[:, k.O_SIDE] == side]
            keys = sign * rows[:, k.O_PRICE]  # ascending keys = best price first
            order = np.argsort(keys, kind="stable")
            prices, first, count = np.unique(keys[order], return_index=True, return_counts=True)
            qty = np.add.reduceat(rows[order, k.O_REM], first) if rows.shape[0] else first
            out = np.zeros(prices.shape[0], dtype=LEVEL_DTYPE)
            out["price"] = from_ticks(sign * prices, self.price_tick)
            out["quantity"] = from_ticks(qty, self.quantity_tick)
            out["orders"] = count
            sides.append(out if levels is None else out[:levels])
        return Depth(sides[0], sides[1])

    def open_orders(self) -> np.ndarray:
        """Resting orders (``ORDER_DTYPE``): bids in priority order, then asks in priority order."""
        live = self._live_rows()
        order = np.lexsort((live[:, k.O_SEQ], live[:, k.O_SIDE] * live[:, k.O_PRICE],
                            live[:, k.O_SIDE]))
        live = live[order]
        out = np.zeros(live.shape[0], dtype=ORDER_DTYPE)
        out["order_id"] = live[:, k.O_ID]
        out["side"] = live[:, k.O_SIDE]
        out["price_ticks"] = live[:, k.O_PRICE]
        out["quantity_ticks"] = live[:, k.O_REM]
        out["sequence"] = live[:, k.O_SEQ]
        out["price"] = from_ticks(out["price_ticks"], self.price_tick)
        out["quantity"] = from_ticks(out["quantity_ticks"], self.quantity_tick)
        return out

    def order_status(self, order_id: int) -> str | None:
        """``"live"``, ``"filled"``, ``"cancelled"`` (IOC remainders too), or None if unknown."""
        oid = _one_id(order_id)
        value = k.EMPTY if oid is None else int(k.lookup(self._table, oid))
        if value == k.EMPTY:
            return None
        return {k.DONE_FILLED: "filled", k.DONE_CANCELLED: "cancelled"}.get(value, "live")

    def __len__(self) -> int:
        """Number of resting orders."""
        return int(self._meta[k.M_LIVE] + self._meta[k.M_LIVE + 1])

    # ----------------------------------------------------------------- internals

    def _top(self, side_index: int) -> float | None:
        if self._meta[k.M_SIZE + side_index] == 0:
            return None
        slot = self._heaps[side_index, 0]  # the kernel keeps each top live
        return float(from_ticks(int(self._orders[slot, k.O_PRICE]), self.price_tick))

    def _live_rows(self) -> np.ndarray:
        return self._orders[self._orders[:, k.O_STATE] == k.SLOT_LIVE]

    def _encode_one(self, kind: int, oid: int, side: Any, price: Any,
                    quantity: Any) -> np.ndarray | None:
        """The (1, 5) int64 event of one well-formed order, or None to take the batch intake.

        Few NumPy calls: ``submit`` is called once per order, where NumPy on one-element arrays
        costs more than the kernel. It accepts exactly what ``_encode`` accepts for plain
        numbers, with the same ticks (tested).
        """
        code = _SIDES.get(side.strip().lower()) if isinstance(side, str) else (
            int(side) if _is_int(side) and side in (SELL, BUY) else None)
        if not (_is_number(price) and _is_number(quantity)):
            return None
        # to_ticks only ever looks at value / tick, so one call on the two quotients (tick 1)
        # gives exactly the ticks of two calls, at half the NumPy overhead.
        with np.errstate(all="ignore"):
            scaled = np.array([float(price) / self.price_tick,
                               float(quantity) / self.quantity_tick])
            ticks, ok = to_ticks(scaled, 1.0)
        if not ok.all():
            return None
        price_t, qty_t = int(ticks[0]), int(ticks[1])
        if (code is None or not 0 < qty_t <= MAX_ORDER_TICKS
                or abs(price_t) > MAX_ABS_PRICE_TICKS
                or (self._cap_t is not None and price_t > self._cap_t)
                or (self._floor_t is not None and price_t < self._floor_t)):
            return None
        return np.array([[kind, oid, code, price_t, qty_t]], dtype=np.int64)

    def _encode(self, events: np.ndarray) -> tuple[np.ndarray, list[OrderProblem]]:
        """Validate an ``EVENT_DTYPE`` array; int64 (n, 5) events and the problems found."""
        n = events.shape[0]
        kind = events["kind"].astype(np.int64)
        side = events["side"].astype(np.int64)
        with np.errstate(all="ignore"):  # overflowing quotients come out as not on the grid
            price_t, price_ok = to_ticks(events["price"], self.price_tick)
            qty_t, qty_ok = to_ticks(events["quantity"], self.quantity_tick)
        good = price_ok & qty_ok & (qty_t > 0) & (qty_t <= MAX_ORDER_TICKS)
        good &= (np.abs(price_t) <= MAX_ABS_PRICE_TICKS) & ((side == SELL) | (side == BUY))
        if self._cap_t is not None:
            good &= price_t <= self._cap_t
        if self._floor_t is not None:
            good &= price_t >= self._floor_t
        good = (good & ((kind == LIMIT) | (kind == IOC))) | (kind == CANCEL)
        problems: list[OrderProblem] = []
        if not good.all():
            problems = self._problems(events)
            worded = {p.row for p in problems}
            for r in np.flatnonzero(~good):  # a safety net: no malformed event reaches the kernel
                if int(r) not in worded:
                    problems.append(OrderProblem(int(r), (
                        f"order id {events['order_id'][r]}: not a valid order")))
            problems.sort(key=lambda p: p.row if p.row is not None else -1)
        ev = np.empty((n, k.N_EVENT_COLS), dtype=np.int64)
        ev[:, k.E_KIND] = kind
        ev[:, k.E_ID] = events["order_id"]
        ev[:, k.E_SIDE] = side
        ev[:, k.E_PRICE] = price_t
        ev[:, k.E_QTY] = qty_t
        return ev, problems

    def _problems(self, events: np.ndarray) -> list[OrderProblem]:
        """Every reason why events are refused, one :class:`OrderProblem` each (row = event)."""
        kind = events["kind"].astype(np.int64)
        ids = events["order_id"]
        side = events["side"].astype(np.int64)
        problems: list[OrderProblem] = []

        def problem(rows: np.ndarray, text: Any) -> None:
            for r in np.flatnonzero(rows):
                problems.append(OrderProblem(int(r), f"order id {ids[r]}: {text(int(r))}"))

        bad_kind = (kind != LIMIT) & (kind != CANCEL) & (kind != IOC)
        problem(bad_kind, lambda r: "kind must be 'limit', 'cancel' or 'ioc'")
        add = (kind == LIMIT) | (kind == IOC)
        problem(add & (side != SELL) & (side != BUY), lambda r: "side must be 'buy' or 'sell'")

        price = events["price"]
        with np.errstate(all="ignore"):
            price_t, price_ok = to_ticks(price, self.price_tick)
            qty_t, qty_ok = to_ticks(events["quantity"], self.quantity_tick)
        problem(add & np.isnan(price), lambda r: "price is NaN")
        problem(add & np.isinf(price), lambda r: f"price {price[r]} is infinite")
        problem(add & np.isfinite(price) & ~price_ok,
                lambda r: f"price {float(price[r])!r} is not on the {self.price_tick:g} tick grid")
        price_ok &= np.abs(price_t) <= MAX_ABS_PRICE_TICKS
        problem(add & np.isfinite(price) & ~price_ok & (np.abs(price_t) > MAX_ABS_PRICE_TICKS),
                lambda r: f"price {float(price[r])!r} is too large in magnitude")
        if self._cap_t is not None:
            problem(add & price_ok & (price_t > self._cap_t),
                    lambda r: f"price {price[r]:g} is above the price cap {self.price_cap:g}")
        if self._floor_t is not None:
            problem(add & price_ok & (price_t < self._floor_t),
                    lambda r: f"price {price[r]:g} is below the price floor {self.price_floor:g}")

        qty = events["quantity"]
        problem(add & ~np.isfinite(qty), lambda r: f"quantity {qty[r]} is not a finite number")
        problem(add & np.isfinite(qty) & (qty <= 0),
                lambda r: f"quantity {float(qty[r])!r} is {'zero' if qty[r] == 0 else 'negative'}; "
                          "it must be > 0")
        problem(add & (qty > 0) & np.isfinite(qty) & ~qty_ok,
                lambda r: f"quantity {float(qty[r])!r} is not on the "
                          f"{self.quantity_tick:g} tick grid")
        problem(add & (qty > 0) & qty_ok & (qty_t == 0),
                lambda r: f"quantity {float(qty[r])!r} rounds to zero on the "
                          f"{self.quantity_tick:g} tick grid; it must be > 0")
        problem(add & (qty > 0) & qty_ok & (qty_t > MAX_ORDER_TICKS),
                lambda r: f"quantity {float(qty[r])!r} is too large")
        problems.sort(key=lambda p: p.row if p.row is not None else -1)
        return problems

    def _run(self, ev: np.ndarray, presize: bool = True) -> BatchResult:
        """Run validated int64 events through the kernel, growing arrays when it asks.

        ``presize=False`` (tests) leaves all growth of the id table to the kernel's requests.
        """
        status = np.empty(ev.shape[0], dtype=np.int8)
        # Size the id table for the whole batch at once: one rehash instead of one per doubling.
        want = 2 * (int(self._meta[k.M_KEYS]) + int(np.count_nonzero(ev[:, k.E_KIND] != CANCEL)))
        if presize and want > self._table.shape[0]:
            self._grow_table(1 << (want - 1).bit_length())
        start = 0
        n_trades = 0
        while True:
            start, n_trades, need = k.process_events(
                self._orders, self._free, self._table, self._heaps, self._meta, ev, start,
                status, self._trades, n_trades)
            if need == 0:
                break
            if need & k.NEED_SLOT:
                self._grow_slots()
            if need & k.NEED_TABLE:
                self._grow_table()
            if need & k.NEED_TRADES:
                room = n_trades + int(self._meta[k.M_SIZE] + self._meta[k.M_SIZE + 1]) + 1
                grown = np.zeros((max(2 * self._trades.shape[0], room), k.N_TRADE_COLS),
                                 dtype=np.int64)
                grown[:n_trades] = self._trades[:n_trades]
                self._trades = grown
        return BatchResult(self._decode_trades(self._trades[:n_trades]), status)

    def _grow_slots(self) -> None:
        cap = self._orders.shape[0]
        orders = np.zeros((2 * cap, k.N_ORDER_COLS), dtype=np.int64)
        orders[:cap] = self._orders
        heaps = np.zeros((2, 2 * cap), dtype=np.int64)
        heaps[:, :cap] = self._heaps
        n_free = int(self._meta[k.M_FREE])
        free = np.zeros(2 * cap, dtype=np.int64)
        free[:n_free] = self._free[:n_free]
        free[n_free:n_free + cap] = np.arange(2 * cap - 1, cap - 1, -1)
        self._orders, self._heaps, self._free = orders, heaps, free
        self._meta[k.M_FREE] = n_free + cap

    def _grow_table(self, size: int | None = None) -> None:
        """Move the id table to ``size`` cells (a power of two; default twice as many)."""
        table = np.zeros((size or 2 * self._table.shape[0], 2), dtype=np.int64)
        table[:, k.T_VAL] = k.EMPTY
        k.rehash(self._table, table, self._orders)
        self._table = table

    def _decode_trades(self, rows: np.ndarray) -> np.ndarray:
        out = np.zeros(rows.shape[0], dtype=TRADE_DTYPE)
        out["taker_id"] = rows[:, k.TR_TAKER]
        out["maker_id"] = rows[:, k.TR_MAKER]
        out["taker_side"] = rows[:, k.TR_SIDE]
        out["price_ticks"] = rows[:, k.TR_PRICE]
        out["quantity_ticks"] = rows[:, k.TR_QTY]
        out["event"] = rows[:, k.TR_EVENT]
        out["price"] = from_ticks(out["price_ticks"], self.price_tick)
        out["quantity"] = from_ticks(out["quantity_ticks"], self.quantity_tick)
        return out


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    return _is_int(value) or isinstance(value, (float, np.floating))


def _one_id(order_id: Any) -> int | None:
    """An int64 order id, or None when ``order_id`` is not an integer in range."""
    if isinstance(order_id, (bool, np.bool_)) or not isinstance(order_id, (int, np.integer)):
        return None
    value = int(order_id)
    return value if -(2**63) <= value < 2**63 else None


def _used(value: int) -> str:
    if value == k.DONE_FILLED:
        return "was already used by an order that is filled (ids are never reused)"
    if value == k.DONE_CANCELLED:
        return "was already used by an order that is cancelled (ids are never reused)"
    return "is already resting in the book"


def _get(events: Any, name: str) -> Any:
    try:
        return events[name]
    except (KeyError, ValueError):
        return None
