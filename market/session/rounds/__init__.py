"""The kinds of round a session plays, one module each, registered by name.

Bid rounds: :mod:`~market.session.rounds.capacity`, :mod:`~market.session.rounds.energy`,
:mod:`~market.session.rounds.green`; settlement steps (no bids):
:mod:`~market.session.rounds.issuance`, :mod:`~market.session.rounds.compensation`,
:mod:`~market.session.rounds.obligation`. Importing this package registers them all;
:func:`round_kind` looks one up (:mod:`~market.session.rounds.registry`).
"""

from market.session.rounds import capacity, compensation, energy, green, issuance, obligation
from market.session.rounds.registry import Entries, RoundKind, kind_names, round_kind

__all__ = ["Entries", "RoundKind", "capacity", "compensation", "energy", "green", "issuance",
           "kind_names", "obligation", "round_kind"]
