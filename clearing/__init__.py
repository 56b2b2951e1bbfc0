"""The clearing core: Numba kernels behind validating wrappers, and slow references.

Public entry point (keep it stable)::

    from clearing import OrderBook, clear
    book = OrderBook.from_arrays(ids, sides, prices, quantities)  # sides: +1 sell, -1 buy
    result = clear(book, pricing="uniform", price_rule="midpoint", price_cap=None,
                   price_floor=None)
"""

from clearing.batch import BatchResult, clear_batch
from clearing.book import BUY, SELL, OrderBook
from clearing.capacity import CapacityResult, DemandCurve, clear_capacity
from clearing.clock import ClockResult, clear_clock
from clearing.continuous import ContinuousBook
from clearing.errors import ClearingInputError, OrderBookError, OrderProblem
from clearing.uniform import ClearingResult, clear

__all__ = [
    "BUY",
    "BatchResult",
    "CapacityResult",
    "ClockResult",
    "DemandCurve",
    "SELL",
    "ClearingInputError",
    "ClearingResult",
    "ContinuousBook",
    "OrderBook",
    "OrderBookError",
    "OrderProblem",
    "clear",
    "clear_batch",
    "clear_capacity",
    "clear_clock",
]
