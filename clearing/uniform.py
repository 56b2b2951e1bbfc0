"""Public wrappers of the uniform-price double auction: :func:`clear` (one auction) and
:func:`clear_batch` (many independent auctions, e.g. the 8,760 hours of a year, in one call)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from typing import Literal

import numpy as np

from clearing.book import OrderBook
from clearing.errors import ClearingInputError, OrderBookError, OrderProblem
from clearing.grid import from_ticks, integer_inverse, to_ticks
from clearing.kernels import uniform as k

Pricing = Literal["uniform", "pay_as_bid"]
PriceRule = Literal["midpoint", "supply", "demand"]
Priority = Literal["pro_rata", "time"]

PRICE_RULES = {"midpoint": k.RULE_MIDPOINT, "supply": k.RULE_SUPPLY, "demand": k.RULE_DEMAND}
PRICINGS = ("uniform", "pay_as_bid")
PRIORITIES = ("pro_rata", "time")
_INT64_MIN = int(np.iinfo(np.int64).min)
_INT64_MAX = int(np.iinfo(np.int64).max)


class ClearingResult:
    """Outcome of one auction (immutable).

    * ``price``: clearing price (yuan per unit), ``None`` when nothing trades. It may fall
      half-way between two ticks when the midpoint rule splits an odd range.
    * ``price_range``: (lowest, highest) price satisfying the equilibrium conditions, or ``None``.
    * ``volume``: traded quantity (accepted supply = accepted demand, exactly).
    * ``welfare``: sum of buy price x accepted minus sum of sell price x accepted (yuan).
    * ``accepted``: float64 (n,), accepted quantity per order in input order.
    * ``settlement_price``: float64 (n,), the price each order is settled at: the clearing price
      (uniform) or its own limit price (pay-as-bid); NaN where nothing was accepted.
    * ``accepted_ticks``: int64 (n,), the exact accepted quantities in quantity ticks
      (read-only).

    :func:`clear` decodes ``accepted`` and ``settlement_price`` from ``accepted_ticks`` (and,
    for pay-as-bid, the book's price ticks) on first read, once; the values are those an eager
    decode gives.
    """

    __slots__ = ("price", "price_range", "volume", "welfare", "accepted_ticks", "pricing",
                 "price_rule", "_accepted", "_settlement", "_book")

    price: float | None
    price_range: tuple[float, float] | None
    volume: float
    welfare: float
    accepted_ticks: np.ndarray
    pricing: str
    price_rule: str
    _accepted: np.ndarray | None
    _settlement: np.ndarray | None
    _book: OrderBook | None

    def __init__(self, price: float | None, price_range: tuple[float, float] | None,
                 volume: float, welfare: float, accepted: np.ndarray | None,
                 settlement_price: np.ndarray | None, accepted_ticks: np.ndarray,
                 pricing: str = "uniform", price_rule: str = "midpoint",
                 *, book: OrderBook | None = None) -> None:
        """``accepted`` and ``settlement_price`` may be ``None`` when ``book`` is given: they are
        then decoded from ``accepted_ticks`` and the book's ticks when first read."""
        if (accepted is None or settlement_price is None) and book is None:
            raise TypeError("ClearingResult needs accepted and settlement_price, or the book")
        put = object.__setattr__
        put(self, "price", price)
        put(self, "price_range", price_range)
        put(self, "volume", volume)
        put(self, "welfare", welfare)
        put(self, "accepted_ticks", accepted_ticks)
        put(self, "pricing", pricing)
        put(self, "price_rule", price_rule)
        put(self, "_accepted", accepted)
        put(self, "_settlement", settlement_price)
        put(self, "_book", book)

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    @property
    def accepted(self) -> np.ndarray:
        """float64 (n,): accepted quantity per order in input order."""
        out = self._accepted
        if out is None:
            book = self._book
            assert book is not None
            out = _array_from_ticks(self.accepted_ticks, book.quantity_tick)
            object.__setattr__(self, "_accepted", out)
        return out

    @property
    def settlement_price(self) -> np.ndarray:
        """float64 (n,): the price each order settles at, NaN where nothing was accepted."""
        out = self._settlement
        if out is None:
            book = self._book
            assert book is not None
            if self.price is None:
                out = np.full(self.accepted_ticks.shape[0], np.nan)
            elif self.pricing == "uniform":
                out = np.where(self.accepted_ticks > 0, self.price, np.nan)
            else:
                out = np.where(self.accepted_ticks > 0, book.prices, np.nan)
            object.__setattr__(self, "_settlement", out)
        return out

    def __reduce__(self) -> tuple[type[ClearingResult], tuple[object, ...]]:
        # Pickled and copied decoded, without the book.
        return (ClearingResult, (self.price, self.price_range, self.volume, self.welfare,
                                 self.accepted, self.settlement_price, self.accepted_ticks,
                                 self.pricing, self.price_rule))

    def __repr__(self) -> str:
        return (f"ClearingResult(price={self.price!r}, price_range={self.price_range!r}, "
                f"volume={self.volume!r}, welfare={self.welfare!r}, "
                f"accepted={self.accepted!r}, settlement_price={self.settlement_price!r}, "
                f"accepted_ticks={self.accepted_ticks!r}, pricing={self.pricing!r}, "
                f"price_rule={self.price_rule!r})")


def check_options(pricing: str, price_rule: str, priority: str) -> None:
    """Raise :class:`ClearingInputError` for an unknown option name."""
    if pricing not in PRICINGS:
        raise ClearingInputError(f"pricing must be one of {', '.join(PRICINGS)}; got {pricing!r}")
    if price_rule not in PRICE_RULES:
        raise ClearingInputError(
            f"price_rule must be one of {', '.join(PRICE_RULES)}; got {price_rule!r}")
    if priority not in PRIORITIES:
        raise ClearingInputError(
            f"priority must be one of {', '.join(PRIORITIES)}; got {priority!r}")


def limit_ticks(book_tick: float, price_cap: float | None,
                price_floor: float | None) -> tuple[int, int, bool, bool]:
    """Cap and floor as ticks of the book's grid; refuse off-grid or crossed limits."""
    cap_t = floor_t = 0
    for name, value in (("price_cap", price_cap), ("price_floor", price_floor)):
        if value is None:
            continue
        ticks, ok = to_ticks(np.array([value], dtype=np.float64), book_tick)
        if not ok[0]:
            raise ClearingInputError(
                f"{name} {value!r} must be a finite number on the {book_tick:g} tick grid")
        if name == "price_cap":
            cap_t = int(ticks[0])
        else:
            floor_t = int(ticks[0])
    if price_cap is not None and price_floor is not None and cap_t < floor_t:
        raise ClearingInputError(f"price_cap {price_cap} is below price_floor {price_floor}")
    return cap_t, floor_t, price_cap is not None, price_floor is not None


def book_limit_ticks(book: OrderBook, price_cap: float | None,
                     price_floor: float | None) -> tuple[int, int, bool, bool]:
    """:func:`limit_ticks` on the book's price grid, and refuse the book with
    :class:`OrderBookError` (every order priced above the cap or below the floor) if any is."""
    if price_cap is None and price_floor is None:  # the book is on its grid already
        return 0, 0, False, False
    cap_t, floor_t, has_cap, has_floor = limit_ticks(book.price_tick, price_cap, price_floor)
    if len(book) and ((has_cap and int(book.price_ticks.max()) > cap_t)
                      or (has_floor and int(book.price_ticks.min()) < floor_t)):
        raise OrderBookError(book.limit_problems(price_cap, price_floor)
                             or [OrderProblem(None, "prices outside the limits")])
    return cap_t, floor_t, has_cap, has_floor


def clear(
    book: OrderBook,
    pricing: Pricing = "uniform",
    price_rule: PriceRule = "midpoint",
    price_cap: float | None = None,
    price_floor: float | None = None,
    *,
    priority: Priority = "pro_rata",
) -> ClearingResult:
    """Clear one uniform-price double auction (the contract of docs/CLEARING.md).

    Quantities maximise welfare, then traded volume; orders at the marginal price share the
    rest pro rata (``priority="time"``: by submission sequence). ``price_rule`` picks the
    midpoint, lowest (``supply``) or highest (``demand``) end of the equilibrium price range.
    Orders priced above ``price_cap`` or below ``price_floor`` (yuan per unit) are refused with
    :class:`OrderBookError`. ``pricing="pay_as_bid"`` settles accepted orders at their own
    limit price; the quantities are the same.

    The book was validated when it was built, so only the options and the limits are checked
    here; the per-order arrays of the result are decoded when first read.
    """
    if not isinstance(book, OrderBook):
        raise ClearingInputError(f"clear() needs an OrderBook, got {type(book).__name__}")
    if pricing not in PRICINGS or price_rule not in PRICE_RULES or priority not in PRIORITIES:
        check_options(pricing, price_rule, priority)
    cap_t, floor_t, has_cap, has_floor = book_limit_ticks(book, price_cap, price_floor)
    status, volume_t, lo_t, hi_t, welfare_t, accepted_t = k.clear_uniform(
        book.sides, book.price_ticks, book.quantity_ticks, book.sequence, priority == "time")
    return decode_result(book, int(status), int(volume_t), int(lo_t), int(hi_t), float(welfare_t),
                         accepted_t, pricing, price_rule, cap_t, floor_t, has_cap, has_floor)


#: The integer inverse of each tick seen (:func:`clearing.grid.integer_inverse`), as a float.
_INVERSES: dict[float, float | None] = {}


def _inverse(tick: float) -> float | None:
    try:
        return _INVERSES[tick]
    except KeyError:
        inv = integer_inverse(tick)
        per = None if inv is None else float(inv)
        if len(_INVERSES) < 256:
            _INVERSES[tick] = per
        return per


def _scalar_from_ticks(ticks: int, tick: float) -> float:
    """:func:`clearing.grid.from_ticks` of one int, as a Python float (the same IEEE operation,
    without NumPy's scalar overhead)."""
    per = _inverse(tick)
    return float(ticks) / per if per is not None else float(ticks) * tick


def _array_from_ticks(ticks: np.ndarray, tick: float) -> np.ndarray:
    """:func:`clearing.grid.from_ticks` of an int64 array: NumPy casts to float64 inside the
    division (or product), the same values without the intermediate float64 copy."""
    per = _inverse(tick)
    return ticks / per if per is not None else ticks * tick


def decode_result(book: OrderBook, status: int, volume_t: int, lo_t: int, hi_t: int,
                  welfare_t: float, accepted_t: np.ndarray, pricing: str, price_rule: str,
                  cap_t: int, floor_t: int, has_cap: bool, has_floor: bool) -> ClearingResult:
    """Turn kernel outputs (ticks) into a :class:`ClearingResult` (yuan, MW). The scalars are
    decoded now; ``accepted`` and ``settlement_price`` when first read."""
    accepted_t.flags.writeable = False  # the lazily decoded arrays follow it
    if status != k.STATUS_TRADE:
        return ClearingResult(None, None, 0.0, 0.0, None, None, accepted_t, pricing, price_rule,
                              book=book)
    if has_cap or has_floor or lo_t == _INT64_MIN or hi_t == _INT64_MAX:
        lo2 = int(k.pick_price_x2(lo_t, hi_t, k.RULE_SUPPLY, cap_t, floor_t, has_cap, has_floor))
        hi2 = int(k.pick_price_x2(lo_t, hi_t, k.RULE_DEMAND, cap_t, floor_t, has_cap, has_floor))
    else:  # what pick_price_x2 does with a closed range and no limits
        lo2, hi2 = 2 * lo_t, 2 * hi_t
    rule = PRICE_RULES[price_rule]
    # twice the price in ticks: pick_price_x2 gives lo + hi, 2 lo, 2 hi for the three rules
    x2 = (lo2 + hi2) // 2 if rule == k.RULE_MIDPOINT else (lo2 if rule == k.RULE_SUPPLY else hi2)
    tick = book.price_tick
    price = _scalar_from_ticks(x2, tick) / 2.0
    price_range = (_scalar_from_ticks(lo2 // 2, tick), _scalar_from_ticks(hi2 // 2, tick))
    volume = _scalar_from_ticks(volume_t, book.quantity_tick)
    welfare = welfare_t * tick * book.quantity_tick
    return ClearingResult(price, price_range, volume, welfare, None, None, accepted_t,
                          pricing, price_rule, book=book)


# --------------------------------------------------------------------- batched

@dataclass(frozen=True, eq=False)
class BatchResult:
    """Outcome of many auctions; per-auction arrays have shape (n_auctions,).

    * ``price``: float64 clearing price (yuan per unit), NaN where nothing traded;
    * ``traded``: bool, whether the auction traded;
    * ``volume``, ``welfare``: float64;
    * ``accepted``: float64 (n_orders,), per order in input order;
    * ``settlement_price``: float64 (n_orders,), NaN where not accepted;
    * ``accepted_ticks``: int64 (n_orders,).
    """

    price: np.ndarray
    traded: np.ndarray
    volume: np.ndarray
    welfare: np.ndarray
    accepted: np.ndarray
    settlement_price: np.ndarray
    accepted_ticks: np.ndarray


def auction_of_orders(offsets: np.ndarray) -> np.ndarray:
    """The auction index of every order, int64 (n_orders,), from the offsets array."""
    offsets = np.asarray(offsets, dtype=np.int64)
    return np.repeat(np.arange(offsets.shape[0] - 1, dtype=np.int64), np.diff(offsets))


def check_offsets(offsets: np.ndarray | list[int], n_orders: int) -> np.ndarray:
    """Validate an offsets array: int, starts at 0, non-decreasing, ends at ``n_orders``."""
    arr = np.asarray(offsets)
    if arr.ndim != 1 or arr.shape[0] < 1 or arr.dtype.kind not in "iu":
        raise ClearingInputError(
            "offsets must be a one-dimensional integer array of length n_auctions + 1")
    arr = arr.astype(np.int64)
    if arr[0] != 0 or arr[-1] != n_orders:
        raise ClearingInputError(
            f"offsets must start at 0 and end at the number of orders ({n_orders}); "
            f"got {int(arr[0])} ... {int(arr[-1])}")
    bad = np.flatnonzero(np.diff(arr) < 0)
    if bad.shape[0]:
        raise ClearingInputError(
            f"offsets must be non-decreasing; auction {int(bad[0])} ends before it starts")
    return np.ascontiguousarray(arr)


def clear_batch(
    book: OrderBook,
    offsets: np.ndarray | list[int],
    pricing: str = "uniform",
    price_rule: str = "midpoint",
    price_cap: float | None = None,
    price_floor: float | None = None,
    *,
    priority: str = "pro_rata",
) -> BatchResult:
    """Clear auction k on the orders ``offsets[k]:offsets[k+1]`` of ``book``, for every k.

    One compiled call for all auctions, no Python loop over them. Same contract and options as
    :func:`clearing.clear`, applied to each auction on its own. Order ids need only be unique
    within the book.
    """
    check_options(pricing, price_rule, priority)
    offs = check_offsets(offsets, len(book))
    cap_t, floor_t, has_cap, has_floor = book_limit_ticks(book, price_cap, price_floor)
    status, vol_t, x2, _lo, _hi, welfare_t, acc_t = k.clear_batched(
        book.sides, book.price_ticks, book.quantity_ticks, book.sequence, offs,
        priority == "time", PRICE_RULES[price_rule], cap_t, floor_t, has_cap, has_floor)
    traded = status == k.STATUS_TRADE
    price = np.where(traded, np.asarray(from_ticks(x2, book.price_tick)) / 2.0, np.nan)
    accepted = np.asarray(from_ticks(acc_t, book.quantity_tick))
    if pricing == "uniform":
        settle = np.where(acc_t > 0, price[auction_of_orders(offs)], np.nan)
    else:
        settle = np.where(acc_t > 0, book.prices, np.nan)
    return BatchResult(price, traded, np.asarray(from_ticks(vol_t, book.quantity_tick)),
                       welfare_t * book.price_tick * book.quantity_tick, accepted, settle, acc_t)
