"""A trading session (the game): rounds opened, bid, gated and cleared in plan order.

Entry points: :class:`Session`, its set-up (:class:`Load`, :class:`Profiles`,
:class:`RoundSpec`, :func:`standard_plan`) and :class:`RoundStatus`.

>>> RoundStatus.GATE_CLOSED == "gate_closed"
True
"""

from market.session.game import Bid, Load, Profiles, RoundSpec, Session, standard_plan
from market.session.setup import RoundState, RoundStatus

__all__ = ["Bid", "Load", "Profiles", "RoundSpec", "RoundState", "RoundStatus", "Session",
           "standard_plan"]
