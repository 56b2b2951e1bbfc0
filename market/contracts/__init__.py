"""Contracts settled as differences: medium/long-term CfDs between coal and loads
(:mod:`market.contracts.cfd`) and the 2025 new-energy mechanism price for wind and solar, with
its annual auction for new projects and the system charge on loads that funds it
(:mod:`market.contracts.mechanism`). The spot market settles full volumes; a contract moves
only the difference (strike - spot) x contracted MWh, so a unit under a CfD still earns the
spot price at the margin and keeps offering at its marginal value."""

from market.contracts.cfd import CoalCfd, ContractError, coal_strike, settle_coal_cfds
from market.contracts.mechanism import (
    MechanismContract,
    MechanismSettlement,
    mechanism_auction,
    settle_mechanism,
)

__all__ = [
    "CoalCfd",
    "ContractError",
    "MechanismContract",
    "MechanismSettlement",
    "coal_strike",
    "mechanism_auction",
    "settle_coal_cfds",
    "settle_mechanism",
]
