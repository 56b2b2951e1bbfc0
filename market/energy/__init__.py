"""The hourly energy spot market: bids, batched uniform-price clearing, settlement, storage.

Entry points: :class:`EnergyBids`, :func:`clear_energy` (-> :class:`EnergyResult`),
:func:`settle_energy` (energy payments and storage compensation) and
:func:`recover_storage_compensation` (charged to loads).

>>> from market.rules import load_preset
>>> rules = load_preset("mengxi")
>>> bids = EnergyBids.from_arrays([0, 0], ["g", "l"], ["u", "l"], [SELL, BUY], [100.0, 1500.0],
...                               [5.0, 5.0], rules=rules, n_hours=1)
>>> clear_energy(bids, 1, rules).accepted_mw.tolist()
[5.0, 5.0]
"""

from market.energy.auction import clear_energy
from market.energy.bids import BUY, SELL, EnergyBids
from market.energy.result import EnergyResult
from market.energy.settlement import recover_storage_compensation, settle_energy

__all__ = ["BUY", "SELL", "EnergyBids", "EnergyResult", "clear_energy",
           "recover_storage_compensation", "settle_energy"]
