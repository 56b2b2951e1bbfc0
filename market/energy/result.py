"""The outcome of clearing hours of the energy spot market (``clear_energy``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market.rules import MarketRules


@dataclass(frozen=True, eq=False)
class EnergyResult:
    """Outcome of the spot market for ``n_hours`` hours.

    Per hour, shape (n_hours,):

    * ``price``: float64 yuan/MWh; NaN where nothing traded, except the cap in an hour with
      inelastic load and no supply (see the module docstring);
    * ``traded``: bool, whether the hour's auction traded;
    * ``volume_mwh``: float64, energy traded (accepted supply = accepted demand), MWh;
    * ``curtailed_mwh``: float64, inelastic demand (bid at the cap) not served, MWh;
    * ``reserve_margin``: float64, (available - load) / load; NaN without ``available_mw``
      (+inf where the load is zero);
    * ``stress``: bool, stress hour per the rules;
    * ``price_half_ticks``: int64, the price in half price ticks (exact; 0 where NaN).

    Per bid row, in the input order of the bids, shape (n,):

    * ``accepted_mw``: float64, MW accepted (= MWh, hourly products);
    * ``accepted_ticks``: int64, the same in quantity ticks (exact);
    * ``settlement_price``: float64 yuan/MWh, the hour's price where accepted, else NaN.

    ``rules`` are the rules the hours were cleared under (settlement reads them).
    """

    price: np.ndarray
    traded: np.ndarray
    volume_mwh: np.ndarray
    curtailed_mwh: np.ndarray
    reserve_margin: np.ndarray
    stress: np.ndarray
    price_half_ticks: np.ndarray
    accepted_mw: np.ndarray
    accepted_ticks: np.ndarray
    settlement_price: np.ndarray
    rules: MarketRules
    n_hours: int

    @property
    def stress_hours(self) -> np.ndarray:
        """Indices (int64) of the stress hours."""
        return np.flatnonzero(self.stress)
