"""The clearing core: Numba kernels behind validating wrappers, and slow references.

Public entry point (keep it stable; the contract is docs/CLEARING.md): prices in yuan/MWh and
quantities in MW go on the tick grid once, at intake, and the kernels work on int64 ticks.

>>> from clearing import OrderBook, clear
>>> book = OrderBook.from_arrays(ids=[1, 2, 3, 4], sides=[1, 1, -1, -1],  # +1 sell, -1 buy
...                              prices=[200.0, 280.0, 400.0, 250.0],
...                              quantities=[100.0, 100.0, 100.0, 100.0])
>>> result = clear(book, pricing="uniform", price_rule="midpoint")
>>> result.price, result.volume, result.welfare
(265.0, 100.0, 20000.0)
>>> result.accepted.tolist()
[100.0, 0.0, 100.0, 0.0]

Also here: :func:`clear_batch` (many hours in one call), :func:`clear_capacity` (sloped
demand), :func:`clear_clock` (descending clock), :class:`ContinuousBook` (price-time order
book). Kernels are private (``clearing.kernels``); slow exact references are in
``clearing.reference``.
"""

from clearing.book import BUY, SELL, OrderBook
from clearing.capacity import CapacityResult, DemandCurve, clear_capacity
from clearing.clock import ClockResult, clear_clock
from clearing.continuous import ContinuousBook
from clearing.errors import ClearingInputError, OrderBookError, OrderProblem
from clearing.uniform import BatchResult, ClearingResult, clear, clear_batch

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
