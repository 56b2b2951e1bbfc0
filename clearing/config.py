"""Numba options and tick defaults, in one place (as stumpy keeps its config)."""

from __future__ import annotations

import os

#: Options for every kernel. ``cache`` keeps compiled machine code next to the sources, so a
#: second process (a test run, a CLI call) does not compile again; ``nogil`` lets Dask threads
#: clear auctions concurrently.
NJIT = {"cache": os.environ.get("MENGXI_NUMBA_CACHE", "1") != "0", "nogil": True}

#: Default price tick, yuan per unit (yuan/MWh in the energy market).
PRICE_TICK = 0.01
#: Default quantity tick, MW or MWh.
QUANTITY_TICK = 0.001

#: Largest total quantity of one book in ticks. Keeps every sum and every doubled remainder
#: of the pro-rata arithmetic inside int64 (2**62 leaves one bit of headroom).
MAX_TOTAL_TICKS = 2**62
#: Largest absolute price in ticks; midpoints are formed as ``lo + hi`` in int64.
MAX_ABS_PRICE_TICKS = 2**60
