"""The compiled kernels (private): ``@njit`` functions on int64 tick arrays and scalars that
never raise and return status codes. Call them through the public wrappers in ``clearing``
(:func:`clearing.clear`, :func:`clearing.clear_batch`, :func:`clearing.clear_capacity`,
:func:`clearing.clear_clock`, :class:`clearing.ContinuousBook`), which validate, allocate and
decode.

Modules: ``uniform`` (the double auction, one or many), ``capacity`` (sloped demand),
``clock`` (descending clock), ``continuous`` (price-time order book), ``common`` (exact
integer pro rata, the marginal-level fill), ``validate`` (the order-book intake of
:meth:`clearing.OrderBook.from_arrays` in one pass: grid, side, quantity, limit and total
checks, problem codes for bad rows only, duplicate integer ids) and ``csvscan`` (the scan of a
plainly written CSV book for :meth:`clearing.OrderBook.from_csv`, and a duplicate check of its
ids by hashing their bytes).

>>> import numpy as np
>>> from clearing.kernels.common import mul_div_rem
>>> [int(v) for v in mul_div_rem(2, 7, 3)]  # 2 x 7 = 3 x 4 + 2, without int64 overflow
[4, 2]
"""
