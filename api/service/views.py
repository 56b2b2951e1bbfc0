"""Domain state as API schemas: rounds, sessions, the participant's view, results, money and
certificates. Pure functions of a live :class:`~market.session.Session` (no database)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from api.service.db.tables import SessionRow
from api.service.schemas.accounts import (
    CertificateHoldingsPublic,
    LeaderboardRowPublic,
    LedgerEntryPublic,
    RetirementPublic,
)
from api.service.schemas.sessions import (
    CurrentRoundPublic,
    LoadView,
    MarketLimits,
    ParticipantView,
    RoundPublic,
    RoundResultPublic,
    SeatPublic,
    SessionPublic,
    UnitView,
)
from clearing.grid import floor_to
from market.capacity.auction import accredited_mw
from market.certificates.registry import TICKS_PER_MWH
from market.session import RoundStatus, Session


def round_public(s: Session, round_id: str) -> RoundPublic:
    spec = s.round(round_id).spec
    return RoundPublic(round_id=spec.round_id, kind=spec.kind,
                       status=s.status(round_id),  # type: ignore[arg-type]
                       takes_bids=spec.takes_bids, hours=list(spec.hours), month=spec.month,
                       product=spec.product, mode=spec.mode, bidders=s.bidders(round_id))


def current_round(s: Session) -> CurrentRoundPublic:
    rid = s.next_round()
    return CurrentRoundPublic(finished=rid is None,
                              round=None if rid is None else round_public(s, rid))


HALTED = "halted"
"""The key of the set-up that marks a halted session (``{"at", "reason"}``)."""


def halted(row: SessionRow) -> dict[str, Any] | None:
    """The session's halt (``{"at", "reason"}``) or ``None`` while it runs."""
    if f'"{HALTED}"' not in row.setup:  # cheap: most sessions are never halted
        return None
    value = json.loads(row.setup).get(HALTED)
    return value if isinstance(value, dict) else None


def status_of(s: Session, row: SessionRow | None = None) -> str:
    if row is not None and halted(row) is not None:
        return HALTED
    statuses = [s.status(rid) for rid in s.round_ids()]
    if all(x == RoundStatus.CLEARED for x in statuses):
        return "finished"
    return "waiting" if all(x == RoundStatus.PENDING for x in statuses) else "running"


def seat_list(s: Session) -> list[SeatPublic]:
    taken = set(s.participants)
    units: dict[str, int] = {}
    for o in s.fleet.owners.tolist():
        units[str(o)] = units.get(str(o), 0) + 1
    loads: dict[str, int] = {}
    for ld in s.loads:
        loads[ld.participant] = loads.get(ld.participant, 0) + 1
    return [SeatPublic(participant=p, units=units.get(p, 0), loads=loads.get(p, 0),
                       taken=p in taken) for p in s.seats()]


def setup_of(row: SessionRow) -> dict[str, Any]:
    """How the game was made (without the per-unit traits, which ``/me`` shows)."""
    return {k: v for k, v in json.loads(row.setup).items() if k != "unit_traits"}


def session_public(row: SessionRow, s: Session) -> SessionPublic:
    cur = s.next_round()
    return SessionPublic(
        id=row.id, name=row.name, rules_name=row.rules_name, rules_sha256=row.rules_sha256,
        created_at=row.created_at, setup=setup_of(row), status=status_of(s, row),  # type: ignore[arg-type]
        current_round=None if cur is None else round_public(s, cur),
        rounds_total=len(s.round_ids()),
        rounds_cleared=sum(s.status(rid) == RoundStatus.CLEARED for rid in s.round_ids()),
        participants=list(s.participants), seats=s.seats())


def limits(s: Session) -> MarketLimits:
    r = s.rules
    return MarketLimits(
        energy_price_cap_yuan_per_mwh=r.energy.price_cap_yuan_per_mwh,
        energy_price_floor_yuan_per_mwh=r.energy.price_floor_yuan_per_mwh,
        value_of_lost_load_yuan_per_mwh=r.fleet.loads.value_of_lost_load_yuan_per_mwh,
        capacity_offer_cap_yuan_per_kw_yr=r.capacity.offer_cap_yuan_per_kw_yr,
        green_premium_min_yuan_per_mwh=r.green.premium_min_yuan_per_mwh,
        green_premium_max_yuan_per_mwh=r.green.premium_max_yuan_per_mwh,
        green_premium_cap_yuan_per_mwh=r.green.premium_cap_yuan_per_mwh,
        green_certificate_price_cap_yuan=r.green.certificate_price_cap_yuan,
        price_tick_yuan=r.ticks.price_yuan, quantity_tick_mw=r.ticks.quantity_mw)


def participant_view(s: Session, row: SessionRow, participant: str, round_id: str | None
                     ) -> ParticipantView:
    """The participant's units and loads with availability and demand in the hours of
    ``round_id`` (default: the current round; no hours for rounds without hours)."""
    setup = json.loads(row.setup)
    traits: dict[str, dict[str, Any]] = setup.get("unit_traits", {})
    first_hour = 24 * int(setup.get("start_day", 0))
    rid = round_id if round_id is not None else s.next_round()
    spec = None if rid is None else s.round(rid).spec
    hours = list(spec.hours) if spec is not None else []
    fleet = s.fleet
    credit = accredited_mw(fleet, s.rules.capacity)
    energy = {str(fleet.unit_ids[i]): e for i, e in s.storage_energy_mwh().items()}
    soc = s.storage_soc_mwh()
    registry = s.registry
    issuing = set(registry.issuing_technologies)
    units = []
    q = s.rules.ticks.quantity_mw  # quantities served on their grid, rounded down
    for i in np.flatnonzero(fleet.owners == participant).tolist():
        uid, tech = str(fleet.unit_ids[i]), str(fleet.technologies[i])
        nameplate = float(fleet.nameplate_mw[i])
        sellable = (registry.sellable_ticks(participant, uid) / TICKS_PER_MWH
                    if tech in issuing else None)
        trait = traits.get(uid, {})
        units.append(UnitView(
            unit=uid, technology=tech, nameplate_mw=nameplate,
            capacity_credit=float(credit[i]) / nameplate if nameplate else 0.0,
            accredited_mw=float(floor_to(credit[i], q)),
            declared_max_mw=float(fleet.declared_max_mw[i]),
            marginal_cost_yuan_per_mwh=s.marginal_cost.get(uid),
            supported_units=list(fleet.supported_units[i]),
            storage_energy_mwh=energy.get(uid), storage_soc_mwh=soc.get(uid),
            sellable_certificates_mwh=sellable,
            min_output_fraction=float(trait.get("min_output_fraction", 0.0)),
            winter_must_run=bool(trait.get("winter_must_run", False)),
            lowest_offer_yuan_per_mwh=trait.get("lowest_offer_yuan_per_mwh"),
            available_mw=floor_to(s.available[i, hours], q).tolist()))
    loads = [LoadView(load=ld.load_id, industrial_commercial=ld.industrial_commercial,
                      obligated=ld.obligated,
                      demand_mw=floor_to(np.asarray([ld.demand_mw[h] for h in hours],
                                                    dtype=np.float64), q).tolist())
             for ld in s.loads if ld.participant == participant]
    return ParticipantView(
        session_id=s.session_id, participant=participant,
        round=None if rid is None else round_public(s, rid), hours=hours,
        hour_of_year=[first_hour + h for h in hours],
        month_of_hour=[s.profiles.month_of_hour[h] for h in hours], units=units, loads=loads,
        limits=limits(s),
        sellable_certificates_mwh=registry.sellable_ticks(participant) / TICKS_PER_MWH,
        rules_name=s.rules.meta.name, rules_sha256=s.rules.sha256())


def result_public(s: Session, round_id: str, participant: str | None) -> RoundResultPublic:
    """The published result; ``participant`` ``None`` (the instructor) sees every
    participant's settlement, a participant its own. The result is read in place, not copied
    (it is large, and it is serialised at once under the session's lock)."""
    res = s.published(round_id)  # raises the domain's "not published yet" refusal
    result = {k: v for k, v in res.to_dict().items() if k != "settlement"}
    settlement = res.settlement
    if participant is not None:
        settlement = {participant: settlement.get(participant, {"net": 0})}
    return RoundResultPublic(round_id=round_id, kind=res.kind, status=res.status,
                             price=res.price,
                             hourly_price_yuan_per_mwh=res.hourly_price_yuan_per_mwh,
                             volume=res.volume, result=result, settlement=settlement)


def ledger_entries(s: Session, participant: str | None, *, category: str | None = None,
                   period: str | None = None) -> list[LedgerEntryPublic]:
    """Ledger legs in posting order, of one participant (``None``: every leg)."""
    cols = s.ledger.columns()
    mask = np.ones(len(cols["amount_fen"]), dtype=bool)
    for key, value in (("participant", participant), ("category", category),
                       ("period", period)):
        if value is not None:
            mask &= cols[key] == value
    idx = np.flatnonzero(mask)
    lists = {k: v[idx].tolist() for k, v in cols.items()}
    return [LedgerEntryPublic(period=lists["period"][j], participant=lists["participant"][j],
                              counterparty=lists["counterparty"][j],
                              category=lists["category"][j], amount_fen=lists["amount_fen"][j],
                              memo=lists["memo"][j] or "", unit=lists["unit"][j])
            for j in range(len(idx))]


def leaderboard_rows(s: Session) -> list[LeaderboardRowPublic]:
    return [LeaderboardRowPublic(**row) for row in s.leaderboard()]


def certificate_holdings(s: Session, owner: str) -> CertificateHoldingsPublic:
    reg = s.registry
    summary: dict[str, Any] = reg.owner_summary(owner)
    names = reg.names()
    code = names["owner"].index(owner) if owner in names["owner"] else -1
    retired: dict[str, int] = {}
    rows = reg.retirements()
    for r in rows[rows["owner"] == code] if code >= 0 else rows[:0]:
        period = names["period"][int(r["period"])]
        retired[period] = retired.get(period, 0) + int(r["ticks"])
    return CertificateHoldingsPublic(
        participant=owner, issued_mwh=summary["issued"], received_mwh=summary["received"],
        sent_mwh=summary["sent"], held_mwh=summary["held"], sellable_mwh=summary["sellable"],
        retired_mwh=summary["retired"], expired_mwh=summary["expired"],
        retirements=[RetirementPublic(compliance_period=p, mwh=t / TICKS_PER_MWH)
                     for p, t in retired.items()])
