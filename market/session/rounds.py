"""How each kind of round clears and settles inside a session.

Every function takes the session, the round's spec and (for bid rounds) the stored bids in
submission order, posts to the session's ledger (all or nothing per call) and returns the
published result as a JSON-compatible dict. Results are stored as published and never
recomputed, so a restored session shows exactly what its players saw.

* **capacity**: :class:`~market.capacity.auction.CapacityAuction` in the rules' format; must-offer
coal
  is entered at 0 for what it did not offer. The annual payment of each unit is split in twelve
  monthly payments, exactly to the fen; the months the session covers are posted (capacity
  payment system operator -> owner), and each month's total is charged to the loads by the
  rules' ``cost_allocation`` (share of peak MW or of MWh over the session's hours).
* **green**: a call auction on the premium (:func:`~market.green.auction.call_auction`), or
  listings (each seller's one sell bid is its listing; buy requests name the listing's seller and
  take it when its premium is at most their price, filled by ``listing_fill``).
* **issuance**: certificates for the month's metered wind and solar output (dispatch in hours
  an energy round cleared, available output in the others), whole MWh, carry kept.
* **compensation**: the month's coal compensation. A failure is a test call (``call_hours``,
  and the month's stress hours found by energy rounds) in which the unit's available MW is
  below its declared maximum. The capacity payment of the month offsets it (no double payment);
  a unit with ``full_losses_to_end_eligibility`` full losses in the year is paid no more.
* **obligation**: each participant owning obligated loads retires certificates for
  ``obligation_weight`` x their demand over the session's hours; shortfalls pay the penalty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from market.capacity.auction import CapacityAuction
from market.capacity.settlement import settle_capacity
from market.compensation.calls import call_records
from market.compensation.funding import settle_compensation
from market.compensation.scheme import eligible_units
from market.green.auction import GreenOrder, call_auction
from market.green.listing import Listing, ListingRequest, fill_listing
from market.green.trading import GreenTrade
from market.session.books import SessionBooks
from market.session.setup import RoundSpec, finite_or_none

#: Bids of a round in submission order: (participant, stored bid dicts).
Entries = Sequence[tuple[str, Sequence[dict[str, Any]]]]
MONTHS = 12


def py(value: Any) -> Any:
    """NumPy scalars and arrays as JSON-compatible Python values (NaN -> None)."""
    if isinstance(value, np.ndarray):
        return [py(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [py(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return finite_or_none(float(value))
    return value


def records(table: np.ndarray) -> list[dict[str, Any]]:
    """A structured array as a list of dicts of Python values."""
    names = table.dtype.names or ()
    return [{n: py(row[n]) for n in names} for row in table]


# --------------------------------------------------------------------- capacity

def clear_capacity(s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
    rules = s.rules.capacity
    auction = CapacityAuction(rules, s.fleet, s.peak_load_mw())
    who: list[str] = []
    for participant, bids in entries:
        for b in bids:
            auction.submit(b["unit"], b["quantity"], b["price"])
            who.append(participant)
    res = auction.clear()
    months = s.profiles.months()
    periods = [f"{res.delivery_year:04d}-{m:02d}" for m in months]
    payers, load_units = s.load_payers()
    monthly = settle_capacity(s.ledger, res, periods, months, payers, s.capacity_weights(),
                              units=load_units, by_month=True)
    n = len(s.fleet)
    offers = res.offers
    owners = s.fleet.owners
    rows = [{"participant": who[k] if k < len(who) else str(owners[offers.unit[k]]),
             "unit": str(s.fleet.unit_ids[offers.unit[k]]), "mw": py(offers.mw[k]),
             "price_yuan_per_kw_yr": py(offers.price_yuan_per_kw_yr[k]),
             "imputed": bool(offers.imputed[k]), "accepted_mw": py(res.accepted_mw[k]),
             "settlement_price_yuan_per_kw_yr": py(res.settlement_price[k])}
            for k in range(len(offers))]
    units = [{"unit": str(res.unit_ids[i]), "owner": str(res.owners[i]),
              "accredited_mw": py(res.accredited_mw[i]), "cleared_mw": py(res.cleared_mw[i]),
              "annual_payment_fen": int(res.payment_fen[i]),
              "monthly_payment_fen": py(monthly[i])} for i in range(n)]
    return {
        "kind": "capacity", "format": res.format, "delivery_year": res.delivery_year,
        "price_yuan_per_kw_yr": py(res.price_yuan_per_kw_yr),
        "requirement_mw": py(res.demand.requirement_mw),
        "demand": {"shape": res.demand.shape, "quantity_mw": py(res.demand.quantity_mw),
                   "price_yuan_per_kw_yr": py(res.demand.price_yuan_per_kw_yr)},
        "total_cleared_mw": py(res.cleared_mw.sum()),
        "total_annual_payment_fen": res.total_payment_fen,
        "periods_paid": periods, "offers": rows, "units": units,
        "round_log": None if res.round_log is None else records(res.round_log),
    }


# --------------------------------------------------------------------- green

def _trade_dict(t: GreenTrade) -> dict[str, Any]:
    return {"trade": t.trade, "period": t.period, "mode": t.mode, "product": t.product,
            "seller": t.seller, "buyer": t.buyer, "unit": t.unit,
            "quantity_ticks": t.quantity_ticks, "quantity_mwh": t.quantity_mwh,
            "energy_price_yuan_per_mwh": t.energy_price_yuan_per_mwh,
            "premium_yuan_per_mwh": t.premium_yuan_per_mwh, "premium_fen": t.premium_fen}


def trade_from_dict(d: dict[str, Any]) -> GreenTrade:
    """Inverse of the trade rows of a green result."""
    return GreenTrade(d["trade"], d["period"], d["mode"], d["product"], d["seller"], d["buyer"],
                      d["unit"], d["quantity_ticks"], d["energy_price_yuan_per_mwh"],
                      d["premium_yuan_per_mwh"], d["premium_fen"])


def clear_green(s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
    period = s.period(spec.month or 1)
    s.advance_registry(period)
    product = spec.product or "bundled"
    sells = [(p, b) for p, bids in entries for b in bids if b["side"] == "sell"]
    buys = [(p, b) for p, bids in entries for b in bids if b["side"] == "buy"]
    trades: list[GreenTrade] = []
    premium = None
    if spec.mode == "auction" and sells and buys:
        out = call_auction(s.green_market,
                           [GreenOrder(p, b["price"], b["quantity"], b["unit"]) for p, b in sells],
                           [GreenOrder(p, b["price"], b["quantity"]) for p, b in buys],
                           product, period)
        premium = out.premium_yuan_per_mwh
        trades = out.trades
        s.log_transfers(trades)
    elif spec.mode == "listing":
        for seller, b in sells:
            listing = Listing(seller, product, b["quantity"], b["price"], None, b["unit"])
            takers = [ListingRequest(p, r["quantity"]) for p, r in buys
                      if r["counterparty"] == seller and r["price"] >= b["price"]]
            done = fill_listing(s.green_market, listing, takers, period) if takers else []
            s.log_transfers(done)
            trades += done
    return {"kind": "green", "product": product, "mode": spec.mode, "period": period,
            "premium_yuan_per_mwh": py(premium),
            "volume_mwh": py(sum(t.quantity_ticks for t in trades) / 1000),
            "trades": [_trade_dict(t) for t in trades]}


# --------------------------------------------------------------------- settlement steps

def run_issuance(s: SessionBooks, spec: RoundSpec) -> dict[str, Any]:
    month = spec.month or 1
    period = s.period(month)
    s.advance_registry(period)
    issuing = s.registry.issuing_technologies
    idx = [i for i, t in enumerate(s.fleet.technologies.tolist()) if t in issuing]
    hours = s.hours_of_month(month)
    metered = s.metered_mw()[np.ix_(idx, hours)].sum(axis=1) if idx else np.zeros(0)
    units = [str(s.fleet.unit_ids[i]) for i in idx]
    certificates: list[int] = []
    carry: list[float] = []
    if units:
        mwh = [float(v) for v in metered]
        out = s.registry.issue(period, units, mwh)
        s.log_registry({"op": "issue", "month": period, "units": units, "metered_mwh": mwh})
        certificates = [int(c) for c in out.certificates[:, 0]]
        carry = [float(c) for c in out.carry_mwh]
    return {"kind": "issuance", "period": period,
            "units": [{"unit": u, "metered_mwh": py(metered[k]), "certificates": certificates[k],
                       "carry_mwh": carry[k]} for k, u in enumerate(units)]}


def run_compensation(s: SessionBooks, spec: RoundSpec) -> dict[str, Any]:
    month = spec.month or 1
    period = s.period(month)
    fleet, rules = s.fleet, s.rules.compensation
    hours = np.array(s.hours_of_month(month), dtype=np.int64)
    idx = np.flatnonzero(eligible_units(fleet, rules))
    stress = np.isin(hours, sorted(s.stress_hours()))
    tests = np.isin(hours, s.profiles.call_hours)
    calls = call_records(
        rules.failure_basis, fleet.unit_ids[idx], fleet.declared_max_mw[idx],
        sold_mw=s.sold_mw()[np.ix_(idx, hours)].T, offered_mw=s.offered_mw()[np.ix_(idx, hours)].T,
        available_mw=s.available[np.ix_(idx, hours)].T, stress=stress,
        month_index=np.zeros(len(hours), dtype=np.int64), day_of_hour=hours // 24,
        test_hours=tests)
    loads = s.loads
    year, funding = settle_compensation(
        s.ledger, fleet, rules, calls, [period],
        capacity_monthly_fen=s.capacity_monthly_fen(month)[:, None],
        excluded=s.compensation_excluded(), load_ids=[ld.participant for ld in loads],
        load_mwh=np.array([[sum(ld.demand_mw[h] for h in hours)] for ld in loads]),
        industrial_commercial=np.array([ld.industrial_commercial for ld in loads]),
        renewable_mwh=s.metered_mw()[:, hours].sum(axis=1)[:, None])
    call_hours = hours[tests | stress] if rules.failure_basis == "hourly_available" else \
        hours[(s.sold_mw()[np.ix_(idx, hours)] > 0).any(axis=0) | stress]
    coal = np.flatnonzero(fleet.is_coal)
    units = [{"unit": str(fleet.unit_ids[i]), "owner": str(fleet.owners[i]),
              "eligible": bool(year.eligible[i, 0]), "failures": int(year.failures[i, 0]),
              "fraction": py(year.fraction[i, 0]), "gross_fen": int(year.gross_fen[i, 0]),
              "deduction_fen": int(year.deduction_fen[i, 0]),
              "offset_fen": int(year.offset_fen[i, 0]), "net_fen": int(year.net_fen[i, 0])}
             for i in coal]
    return {"kind": "compensation", "period": period, "call_hours": py(call_hours),
            "units": units,
            "funding": [{"payer": p, "unit": u, "amount_fen": int(f)} for p, u, f in
                        zip(funding.payers, funding.units, funding.amount_fen, strict=True)]}


def run_obligation(s: SessionBooks, spec: RoundSpec) -> dict[str, Any]:
    period = s.period(spec.month or 1)
    s.advance_registry(period)
    compliance = f"{s.rules.meta.year:04d}"
    consumption: dict[str, float] = {}
    for ld in s.loads:
        if ld.obligated:
            consumption[ld.participant] = consumption.get(ld.participant, 0.0) + sum(ld.demand_mw)
    names = list(consumption)
    if not names:
        return {"kind": "obligation", "compliance_period": compliance, "period": period,
                "participants": []}
    out = s.green_market.settle_obligations(names, [consumption[p] for p in names], compliance,
                                            period)
    s.log_registry({"op": "retire", "owners": names, "ticks": py(out.retired_ticks),
                    "period": compliance})
    return {"kind": "obligation", "compliance_period": compliance, "period": period,
            "participants": [
                {"participant": p, "consumption_mwh": consumption[p],
                 "obligation_mwh": py(out.obligation_mwh[k]), "retired_mwh": py(out.retired_mwh[k]),
                 "shortfall_mwh": py(out.shortfall_mwh[k]), "penalty_fen": int(out.penalty_fen[k])}
                for k, p in enumerate(names)]}
