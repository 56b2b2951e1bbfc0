"""API schemas (pydantic v2) of sessions, participants, rounds and bids: a family per entity,
``XCreate`` (what a client sends), ``XPublic`` (what it gets), ``XsPublic`` (``{data, count}``).

Units as in the domain: energy prices yuan/MWh, capacity prices yuan/kW·yr, green premiums
yuan/MWh, quantities MW (MWh per hour), money in fen (0.01 yuan) unless a name says yuan.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from api.service.schemas.paging import PageFields
from market.session import RoundStatus
from market.session.rounds import kind_names

Name = Annotated[str, Field(min_length=1, max_length=100)]


def as_utc(value: datetime) -> datetime:
    """Times are UTC; SQLite gives them back without a zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]


PRICE_UNITS = ("Price: energy yuan/MWh, capacity yuan/kW·yr, green premium yuan/MWh; on the "
               "price grid (MarketLimits.price_tick_yuan)")
QUANTITY_UNITS = ("Quantity: energy MW for the hour, capacity accredited MW, green MWh; on the "
                  "quantity grid (MarketLimits.quantity_tick_mw)")
ROUND_KINDS = kind_names()
"""The round kinds a session plays, for the document."""
ROUND_STATUSES = tuple(status.value for status in RoundStatus)
"""A round's lifecycle, for the document."""
RoundKind = Annotated[str, Field(json_schema_extra={"enum": list(ROUND_KINDS)})]
RoundStatusName = Annotated[str, Field(json_schema_extra={"enum": list(ROUND_STATUSES)})]


class BotsCreate(BaseModel):
    """Bots for empty seats: whenever a round opens, seats still empty are taken, in lobby
    order, by bots the server plays (until the session has ``count`` bot seats; every empty
    seat when ``None``), and every bot bids in the round at once with ``strategy`` (a
    registered strategy name applied to the seat's units or loads of its role; ``None``: each
    role's default strategy), drawing from ``seed`` (``None``: the session's seed)."""

    model_config = ConfigDict(extra="forbid")

    count: Annotated[int | None, Field(ge=0, le=1000)] = None
    strategy: Name | None = None
    seed: Annotated[int | None, Field(ge=0, le=2**63 - 1)] = None


#: Longest token lifetime a session may set: ten years, seconds.
MAX_TTL_SECONDS = 10 * 366 * 24 * 3600


class SessionCreate(BaseModel):
    """A new game. The rules are a preset by name or a TOML body (``extends = "mengxi"``
    and the tables it changes), then ``overrides`` by dotted key
    (``{"capacity.net_cone_yuan_per_kw_yr": 300}``). The fleet is synthesised from ``seed``
    at ``scale``; the game clears ``energy_rounds`` energy rounds of ``hours_per_round`` hours
    from ``start_day`` of the rules' year, with the capacity auction first and each month's
    certificate issue, coal compensation and green round after its energy rounds."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)] = "Mengxi game"
    preset: Name | None = None
    rules_toml: Annotated[str | None, Field(max_length=200_000)] = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    seed: Annotated[int | None, Field(ge=0, le=2**63 - 1)] = None
    scale: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 0.01
    energy_rounds: Annotated[int, Field(ge=1, le=366)] = 2
    hours_per_round: Annotated[int, Field(ge=1, le=168)] = 24
    start_day: Annotated[int, Field(ge=0, le=365)] = 0
    gencos: Annotated[int | None, Field(ge=1, le=1000)] = None
    """Generation companies owning the units; None: the rules' ``fleet.genco_count``."""
    retailers: Annotated[int | None, Field(ge=1, le=1000)] = None
    """Retailers owning the loads; None: the rules' ``fleet.loads.retailer_count``."""
    green_product: Literal["bundled", "unbundled"] = "bundled"
    green_mode: Literal["auction", "listing"] = "auction"
    obligation: bool = True
    bots: BotsCreate | None = None
    token_ttl_seconds: Annotated[int | None, Field(ge=1, le=MAX_TTL_SECONDS)] = None
    """Seconds a participant token of this session lives after it is issued (the session's
    token policy, ``PUT S/token-policy`` later); None: the server's default."""
    """Fill the seats still empty with bots whenever a round opens (see ``BotsCreate``)."""


class SessionHalt(BaseModel):
    """Halting a game: no round opens, closes or clears, no bid or seat is taken, until the
    instructor resumes it; everything stays readable. ``reason`` is shown in the session's
    ``setup.halted``."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str | None, Field(max_length=500)] = None


class RoundOpen(BaseModel):
    """Opening the next round; ``bots`` (optional) sets the session's bots policy first and
    fills the seats still empty now (see ``BotsCreate``)."""

    model_config = ConfigDict(extra="forbid")

    bots: BotsCreate | None = None


class RoundPublic(BaseModel):
    """A round of the plan. ``hours`` are session hour indices (energy rounds); ``bidders``
    counts the participants with bids stored (their bids stay sealed until it clears)."""

    round_id: str
    kind: RoundKind
    status: Literal["pending", "open", "gate_closed", "cleared"]
    takes_bids: bool
    hours: list[int]
    month: int | None
    product: str | None
    mode: str | None
    bidders: int


class RoundsPublic(BaseModel):
    data: list[RoundPublic]
    count: int


class CurrentRoundPublic(BaseModel):
    """The first round of the plan that has not cleared (``None`` once every round has)."""

    finished: bool
    round: RoundPublic | None


class SessionPublic(BaseModel):
    id: str
    name: str
    rules_name: str
    rules_sha256: str
    created_at: UtcDatetime
    setup: dict[str, Any]
    status: Literal["waiting", "running", "finished", "halted"]
    current_round: RoundPublic | None
    rounds_total: int
    rounds_cleared: int
    participants: list[str]
    seats: list[str]


class SessionsPublic(PageFields):
    """A page of the instructor's sessions; ``count`` is kept and equals ``total``."""

    data: list[SessionPublic]
    count: int


class SessionCreated(BaseModel):
    """The new session, and the instructor token when the request came without one (shown
    once: keep it; it opens, closes and clears the rounds of every session it creates)."""

    session: SessionPublic
    instructor_token: str | None


class SeatPublic(BaseModel):
    participant: str
    units: int
    loads: int
    taken: bool


class LobbyPublic(BaseModel):
    """What anyone with the session id sees before joining."""

    id: str
    name: str
    rules_name: str
    status: Literal["waiting", "running", "finished", "halted"]
    seats: list[SeatPublic]


class ParticipantJoin(BaseModel):
    """Take a seat: ``participant`` names it (a seat of the lobby); ``None`` takes the first
    free one."""

    model_config = ConfigDict(extra="forbid")

    participant: Name | None = None
    display_name: Annotated[str | None, Field(max_length=200)] = None


class ParticipantPublic(BaseModel):
    participant: str
    display_name: str | None
    joined_at: UtcDatetime


class ParticipantsPublic(BaseModel):
    data: list[ParticipantPublic]
    count: int


class UnitView(BaseModel):
    """A unit you own. ``available_mw`` has one value per hour of ``ParticipantView.hours``;
    ``marginal_cost_yuan_per_mwh`` is ``None`` where the game gives none (storage);
    ``min_output_fraction`` (share of nameplate) must run in the heating season when
    ``winter_must_run``; ``lowest_offer_yuan_per_mwh`` is the lowest price its class offers."""

    unit: str
    technology: str
    nameplate_mw: float
    capacity_credit: float
    accredited_mw: float
    declared_max_mw: float
    marginal_cost_yuan_per_mwh: float | None
    supported_units: list[str]
    storage_energy_mwh: float | None
    storage_soc_mwh: float | None
    sellable_certificates_mwh: float | None
    min_output_fraction: float
    winter_must_run: bool
    lowest_offer_yuan_per_mwh: float | None
    available_mw: list[float]


class LoadView(BaseModel):
    """A load you own; ``demand_mw`` has one value per hour of ``ParticipantView.hours``."""

    load: str
    industrial_commercial: bool
    obligated: bool
    demand_mw: list[float]


class MarketLimits(BaseModel):
    """Caps, floors and ticks every bid must respect."""

    energy_price_cap_yuan_per_mwh: float
    energy_price_floor_yuan_per_mwh: float
    value_of_lost_load_yuan_per_mwh: float
    capacity_offer_cap_yuan_per_kw_yr: float
    green_premium_min_yuan_per_mwh: float = Field(
        description="Low end of the green premiums seen in 2025, yuan/MWh: a reference, not a "
                    "limit (bids may go from 0 up to green_premium_cap_yuan_per_mwh).")
    green_premium_max_yuan_per_mwh: float = Field(
        description="High end of the green premiums seen in 2025, yuan/MWh: a reference, not "
                    "a limit.")
    green_premium_cap_yuan_per_mwh: float | None = Field(
        default=None, description="Highest green premium a bundled bid may carry, yuan/MWh; "
                                  "null: no cap (the rules' green.premium_cap_yuan_per_mwh).")
    green_certificate_price_cap_yuan: float | None = Field(
        default=None, description="Highest price of one unbundled certificate, yuan; null: no "
                                  "cap (the rules' green.certificate_price_cap_yuan).")
    price_tick_yuan: float
    quantity_tick_mw: float


class ParticipantView(BaseModel):
    """What a participant (or its bot) needs to bid: its units and loads, with availability
    and demand for the hours of ``round`` (the current round unless asked for another): their
    session hour indices (what a bid names), hour of the rules' year (0-based) and calendar
    month; the limits, and its certificates."""

    session_id: str
    participant: str
    round: RoundPublic | None
    hours: list[int]
    hour_of_year: list[int]
    month_of_hour: list[int]
    units: list[UnitView]
    loads: list[LoadView]
    limits: MarketLimits
    sellable_certificates_mwh: float
    rules_name: str
    rules_sha256: str


class ParticipantJoined(BaseModel):
    """Your seat and your token (shown once: send it as ``Authorization: Bearer <token>``)."""

    session_id: str
    participant: str
    token: str
    view: ParticipantView


class BidIn(BaseModel):
    """One bid (the meaning of each field depends on the round; see ``api/README.md``):
    energy: ``unit`` (or load), ``hour``, ``side``, ``price`` yuan/MWh, ``quantity`` MW;
    capacity: ``unit``, ``price`` yuan/kW·yr, ``quantity`` accredited MW; green: ``side``,
    ``price`` premium yuan/MWh, ``quantity`` MWh, ``unit`` (sells, optional), ``counterparty``
    (listing buys)."""

    price: float = Field(description=PRICE_UNITS)
    quantity: float = Field(description=QUANTITY_UNITS)
    unit: str | None = None
    side: Literal["sell", "buy"] = "sell"
    hour: int | None = Field(None, description="Hour index of the session (energy bids)")
    counterparty: str | None = None
    kind: str | None = None


#: Bids are taken loosely typed so that every bad one is reported with its index by the
#: domain's checks; the documented schema is BidIn's.
BidItems = Annotated[list[Any], WithJsonSchema({"type": "array",
                                                "items": BidIn.model_json_schema()})]


class BidBatchCreate(BaseModel):
    """Your whole batch for the round (it replaces your earlier one; ``[]`` withdraws)."""

    model_config = ConfigDict(extra="forbid")

    bids: BidItems


class BidBatchPublic(BaseModel):
    batch_id: int
    session_id: str
    round_id: str
    participant: str
    revision: int
    bid_count: int
    accepted_at: UtcDatetime


class BidPublic(BaseModel):
    unit: str | None
    side: str
    price: float = Field(description=PRICE_UNITS)
    quantity: float = Field(description=QUANTITY_UNITS)
    hour: int | None
    counterparty: str | None


class ParticipantBidsPublic(BaseModel):
    participant: str
    revision: int
    bids: list[BidPublic]


class BidsPublic(BaseModel):
    """Bids you may see: your own until the round clears, everyone's after."""

    data: list[ParticipantBidsPublic]
    count: int


class RoundResultPublic(BaseModel):
    """A cleared round. ``price`` is the round's single clearing price where it has one
    (capacity: yuan/kW·yr; green: premium yuan/MWh), ``hourly_price_yuan_per_mwh`` the energy
    prices per hour of ``hours``; ``result`` is the published result in full; ``settlement``
    the money of this round by participant and ledger category, fen (yours only, unless you
    are the instructor)."""

    round_id: str
    kind: RoundKind
    status: RoundStatusName
    price: float | None
    hourly_price_yuan_per_mwh: list[float | None] | None
    volume: float | None
    result: dict[str, Any]
    settlement: dict[str, dict[str, int]]
