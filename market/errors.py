"""Domain errors of the markets: narrow ``ValueError`` subclasses with actionable messages.

Each message says what is wrong, which unit, bid or key, and the allowed range, so a student
or a rule author can fix it without reading code. ``api/`` maps these to 4xx responses.
"""

from __future__ import annotations

from collections.abc import Sequence


class MarketError(ValueError):
    """Base of every domain error of ``market/``."""


class FleetError(MarketError):
    """A fleet description was refused; ``problems`` lists every reason at once."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"fleet refused:\n{shown}{more}")


class CapacityOfferError(MarketError):
    """A capacity-market offer was refused (unknown unit, more MW than accredited, bad price)."""


class OfferAboveCapError(CapacityOfferError):
    """A capacity offer priced above the offer cap; the message names the unit and the cap."""


class CapacityInputError(MarketError):
    """A capacity-market call got inputs it cannot use (format, shapes, missing credit)."""


class CompensationInputError(MarketError):
    """A coal-compensation call got inputs it cannot use (shapes, counts, funding weights)."""


class LedgerError(MarketError):
    """A ledger posting was refused (NaN, infinite or negative amount, unknown category, ...)."""


class CertificateError(MarketError):
    """A certificate-registry operation was refused (storage unit, more than held, expired)."""


class CertificateInvariantError(CertificateError):
    """The registry's books do not add up (issued != held + retired + expired, double sale)."""


class GreenTradeError(MarketError):
    """A green-power trade, listing, bid or obligation settlement was refused."""


class RulesError(MarketError):
    """A rules file, preset or override was refused; ``problems`` lists every reason at once,
    each with its key path (``capacity.demand_points[1].price_yuan_per_kw_yr``) and file."""

    def __init__(self, problems: Sequence[object]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        count = f"{len(self.problems)} problem{'' if len(self.problems) == 1 else 's'}"
        super().__init__(f"rules refused ({count}):\n{shown}{more}")


class UnknownPresetError(RulesError):
    """No scenario preset has the given name; the message lists the available presets."""


class SynthesisError(MarketError):
    """Fleet or profile synthesis (``agents/``) got a seed, scale, year or assumption it cannot
    use; ``problems`` lists every reason at once, each with the allowed range."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"synthesis refused:\n{shown}")


class EnergyBidError(MarketError):
    """Energy-market bids were refused; nothing was cleared. ``problems`` lists every bad row
    at once as ``(row, reason)`` (``row`` is the 0-based index in the input arrays, ``None`` for
    a problem of the whole input), and ``rows`` the sorted distinct bad rows."""

    def __init__(self, problems: Sequence[tuple[int | None, str]]) -> None:
        self.problems = [(None if r is None else int(r), str(why)) for r, why in problems]
        self.rows = sorted({r for r, _ in self.problems if r is not None})
        lines = [why if r is None else f"row {r}: {why}" for r, why in self.problems]
        shown = "\n".join(f"  {line}" for line in lines[:50])
        more = f"\n  ... and {len(lines) - 50} more" if len(lines) > 50 else ""
        count = f"{len(lines)} problem{'' if len(lines) == 1 else 's'}"
        super().__init__(f"energy bids refused ({count}):\n{shown}{more}")


class EnergyInputError(MarketError):
    """An energy-market call got inputs it cannot use (shapes, hour counts, periods, ticks)."""


class StorageLimitError(MarketError):
    """A storage schedule or dispatch leaves its limits (state of charge outside [0, E], power
    above P, more full cycles a day than allowed); ``problems`` lists every violation."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"storage limits violated:\n{shown}{more}")


class SessionError(MarketError):
    """A trading-session action was refused (base of the session errors below)."""


class SessionSetupError(SessionError):
    """A session could not be created (rules, fleet, loads, profiles or round plan do not fit
    together); ``problems`` lists every reason at once."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"session refused:\n{shown}{more}")


class SessionStateError(SessionError):
    """A saved session could not be restored (unknown format, rules hash mismatch, books that
    do not replay to the saved state)."""


class ParticipantError(SessionError):
    """A participant is unknown, has not joined, has already joined, or uses a reserved name."""


class UnknownRoundError(SessionError):
    """No round of the session's plan has the given id; the message lists the round ids."""


class RoundStateError(SessionError):
    """A round is not in the state the action needs (opening out of plan order, bidding before
    it opens, clearing before its gate closes, reading a result not yet published)."""


class GateClosedError(RoundStateError):
    """Bids sent after the round's gate closed; nothing was stored."""


class RoundAlreadyClearedError(RoundStateError):
    """The round has cleared already; a round clears once (read it with ``result``)."""


class BidsRefused(SessionError):
    """A batch of bids was refused whole; nothing was stored. ``problems`` lists every bad bid
    as ``(index, reason)`` (``index`` is the 0-based position in the batch)."""

    def __init__(self, round_id: str, participant: str,
                 problems: Sequence[tuple[int, str]]) -> None:
        self.round_id = round_id
        self.participant = participant
        self.problems = [(int(i), str(why)) for i, why in problems]
        lines = [f"bid {i}: {why}" for i, why in self.problems]
        shown = "\n".join(f"  {line}" for line in lines[:50])
        more = f"\n  ... and {len(lines) - 50} more" if len(lines) > 50 else ""
        count = f"{len(lines)} problem{'' if len(lines) == 1 else 's'}"
        super().__init__(f"bids of {participant!r} for round {round_id!r} refused ({count}); "
                         f"nothing was stored:\n{shown}{more}")


class StudyInputError(MarketError):
    """A study (comparison, sweep) was refused before anything ran: an unknown grid key, a grid
    value that cannot be read as the key's type, no seeds, an unknown metric. ``problems`` lists
    every reason at once."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = [str(p) for p in problems]
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        count = f"{len(self.problems)} problem{'' if len(self.problems) == 1 else 's'}"
        super().__init__(f"study refused ({count}):\n{shown}{more}")


class StrategyError(MarketError):
    """A bidding strategy was named or configured wrongly (unknown name, unknown parameter, a
    strategy used for a role it does not play), or an observation it was given does not fit;
    the message names the strategy, the participant and what is allowed."""
