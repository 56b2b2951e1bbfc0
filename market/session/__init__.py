"""A trading session (the game): rounds opened, bid, gated and cleared in plan order.

Entry points: :class:`Session`, its set-up (:class:`Load`, :class:`Profiles`,
:class:`RoundSpec`, :func:`standard_plan`), :class:`RoundStatus`, and the typed results
(:class:`RoundResult` and one class per kind of round, :mod:`market.session.results`).

>>> RoundStatus.GATE_CLOSED == "gate_closed"
True
"""

from market.session.game import Bid, Load, Profiles, RoundSpec, Session, standard_plan
from market.session.results import (
    CapacityRoundResult,
    CompensationResult,
    EnergyRoundResult,
    GreenRoundResult,
    IssuanceResult,
    ObligationResult,
    RoundResult,
    RoundState,
    result_from_dict,
)
from market.session.setup import RoundStatus

__all__ = ["Bid", "CapacityRoundResult", "CompensationResult", "EnergyRoundResult",
           "GreenRoundResult", "IssuanceResult", "Load", "ObligationResult", "Profiles",
           "RoundResult", "RoundSpec", "RoundState", "RoundStatus", "Session",
           "result_from_dict", "standard_plan"]
