"""Slow, exact references of every kernel, for tests and benchmarks only: plain Python on
integers and fractions that follows docs/CLEARING.md as directly as it can, and the auctions as
linear programs solved by HiGHS (:mod:`clearing.reference.lp`, imported on its own because it
needs ``highspy``, a dev dependency).

>>> from clearing.reference import reference_uniform
>>> volume, price_range, accepted = reference_uniform([1, -1], [200, 300], [5, 3])
>>> volume, price_range, accepted  # the seller is partly accepted, so it sets the price
(3, (200, 200), [3, 3])
"""

from clearing.reference.capacity import reference_capacity, reference_clock
from clearing.reference.continuous import ReferenceContinuousBook, reference_continuous
from clearing.reference.uniform import reference_price_x2, reference_uniform

__all__ = [
    "ReferenceContinuousBook",
    "reference_capacity",
    "reference_clock",
    "reference_continuous",
    "reference_price_x2",
    "reference_uniform",
]
