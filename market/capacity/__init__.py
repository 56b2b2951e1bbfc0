"""The capacity market: the annual auction, performance in stress hours, and its settlement.

Entry points: :class:`CapacityAuction` (submit offers, clear; ``forecast_uniform_price``),
:func:`derive_credits` (accreditation measured on the simulated year), :func:`delivered_mw` and
:func:`assess_performance` (penalties), :func:`settle_capacity` (monthly payments and the
charge to loads) and :func:`charge_performance` (penalties and their refund to loads).

>>> import numpy as np
>>> load_weights("energy_share", energy_mwh=np.array([3.0, 1.0])).tolist()
[3.0, 1.0]
"""

from market.capacity.accreditation import derive_credits
from market.capacity.auction import CapacityAuction, CapacityResult, accredited_mw
from market.capacity.performance import (
    PERFORMANCE_BASES,
    Committed,
    PerformanceResult,
    assess_performance,
    delivered_mw,
)
from market.capacity.settlement import (
    allocate_capacity_cost,
    charge_performance,
    load_weights,
    settle_capacity,
)

__all__ = ["PERFORMANCE_BASES", "CapacityAuction", "CapacityResult", "Committed",
           "PerformanceResult", "accredited_mw", "allocate_capacity_cost", "assess_performance",
           "charge_performance", "delivered_mw", "derive_credits", "load_weights",
           "settle_capacity"]
