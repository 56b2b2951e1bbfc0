"""API schemas of the classroom layer: round deadlines, briefings, standings (profit as the
class counts it) and a game's clone. Money in fen (0.01 yuan) unless a name says yuan."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.service.schemas.sessions import RoundKind, RoundOpen, RoundPublic, UtcDatetime

MAX_DEADLINE_SECONDS = 7 * 24 * 3600
"""The longest round deadline an instructor may set, seconds (a week: a class or a
homework) [E]."""


class RoundOpenTimed(RoundOpen):
    """Opening the next round, optionally with a deadline: ``deadline_seconds`` after opening
    the server closes the round's gate itself, and clears the round too when ``auto_clear``
    is true."""

    deadline_seconds: Annotated[int | None, Field(
        ge=1, le=MAX_DEADLINE_SECONDS,
        description="Seconds from now until the gate closes by itself (none: no deadline)")] = None
    auto_clear: Annotated[bool, Field(
        description="Clear the round at the deadline too (needs deadline_seconds)")] = False


class RoundOpened(RoundPublic):
    """The opened round and its deadline (``None``: the instructor closes the gate)."""

    deadline_at: UtcDatetime | None = None
    auto_clear: bool = False


class DemandPointPublic(BaseModel):
    """A point of the capacity demand curve."""

    mw: float = Field(description="Capacity bought at this point, MW")
    price_yuan_per_kw_yr: float = Field(description="Price at this point, yuan/kW·yr")


class BriefingPublic(BaseModel):
    """A role's briefing: ``text`` is Markdown generated from the game's rules; the capacity
    demand curve and offer cap come as numbers too, for a page to show before bidding."""

    role: Literal["genco", "storage", "retailer"]
    participant: str | None = Field(
        description="The seat whose own units and costs the briefing lists (none: the role "
                    "in general, for the instructor)")
    text: str
    capacity_demand: list[DemandPointPublic] = Field(
        description="The capacity auction's demand curve (empty: no capacity round)")
    capacity_offer_cap_yuan_per_kw_yr: float = Field(description="Offer cap, yuan/kW·yr")


class RoundMoneyPublic(BaseModel):
    """One seat's money in one cleared round, fen; ``lines`` explain each part."""

    round_id: str
    kind: RoundKind
    revenue_fen: int
    cost_fen: int
    profit_fen: int
    penalties_fen: int
    compensation_fen: int
    lines: list[str]


class StandingPublic(BaseModel):
    """One seat's profit over the game's hours: revenue - cost, where cost holds market
    payments, variable cost and the game's hours' share of fixed cost (fen); monthly money
    counts at the game's hours' share of its months. ``seat``: ``player`` (a person joined),
    ``bot`` (the server plays it) or ``empty`` (nobody: its loads and must-offer units are
    entered for it)."""

    rank: int
    participant: str
    display_name: str | None
    seat: Literal["player", "bot", "empty"]
    revenue_fen: int
    cost_fen: int
    variable_cost_fen: int
    fixed_cost_fen: int
    penalties_fen: int
    compensation_fen: int
    retail_revenue_fen: int
    uncounted_fen: int = Field(
        description="Monthly ledger money (capacity payments and their cost to loads, "
                    "compensation and deductions) outside the game's hours, fen: the ledger "
                    "pays whole months, profit counts the game's hours' share")
    profit_fen: int
    rounds: list[RoundMoneyPublic]


class StandingsPublic(BaseModel):
    """Every seat of the game ranked by profit, highest first, and the retail tariff
    (yuan/MWh) retailers are paid on served load."""

    data: list[StandingPublic]
    count: int
    retail_tariff_yuan_per_mwh: float


class SessionClone(BaseModel):
    """A clone of a game, optionally with changes (each field left out: as in the game).
    ``overrides`` apply on top of the game's rules (``{"capacity.enabled": false}``)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    scale: Annotated[float | None, Field(gt=0, allow_inf_nan=False)] = None
    energy_rounds: Annotated[int | None, Field(ge=1, le=366)] = None
    hours_per_round: Annotated[int | None, Field(ge=1, le=168)] = None
    gencos: Annotated[int | None, Field(ge=1, le=1000)] = None
    retailers: Annotated[int | None, Field(ge=1, le=1000)] = None
    obligation: bool | None = None
