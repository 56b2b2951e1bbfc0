"""The in-process year: every participant's energy bids as arrays, cleared window by window
and settled to the ledger.

Entry points: :func:`run_energy_year` (the year's energy market) and its
:class:`EnergyYear`; :func:`availability` and :func:`merit_order_forecast` (what every
participant knows before the gates close); the bid rows (:class:`Actors`, :data:`Rows`,
:func:`offer_blocks`, :func:`load_blocks`), rounded by the code the game's bots share
(:mod:`agents.observe`).

A load's demand as the year bids it, in quantity and price ticks:

>>> import numpy as np
>>> from market.rules import load_preset
>>> from agents.inprocess.bids import load_blocks
>>> qty, price = load_blocks(np.array([[10.0004]]), load_preset("mengxi"))
>>> qty.tolist(), price.tolist()
([[[9500, 500]]], [[[150000, 100000]]])
"""

from agents.inprocess.bids import Actors, Rows, load_blocks, offer_blocks
from agents.inprocess.forecast import availability, merit_order_forecast
from agents.inprocess.runner import EnergyYear, run_energy_year

__all__ = [
    "Actors",
    "EnergyYear",
    "Rows",
    "availability",
    "load_blocks",
    "merit_order_forecast",
    "offer_blocks",
    "run_energy_year",
]
