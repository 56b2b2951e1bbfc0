"""The offer table of a capacity auction: one row per offer, in submission order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class OfferTable:
    """Offers of one auction, m rows in submission order.

    * ``unit``: int64 (m,), position of the offering unit in the fleet;
    * ``mw``: float64 (m,), accredited MW offered;
    * ``price_yuan_per_kw_yr``: float64 (m,);
    * ``imputed``: bool (m,), True for the price-taking rest of a must-offer unit.
    """

    unit: np.ndarray
    mw: np.ndarray
    price_yuan_per_kw_yr: np.ndarray
    imputed: np.ndarray

    def __len__(self) -> int:
        return len(self.unit)

    def same_as(self, other: OfferTable) -> bool:
        """True when both tables hold the same offers in the same order."""
        return all(np.array_equal(getattr(self, f), getattr(other, f))
                   for f in ("unit", "mw", "price_yuan_per_kw_yr", "imputed"))
