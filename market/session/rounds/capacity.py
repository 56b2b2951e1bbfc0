"""The capacity round: the annual auction in the rules' format, its checks and settlement.

* **Bids**: offers of accredited MW at yuan/kW·yr (side ``sell``) for one's own units (no
  loads), each taken by :class:`~market.capacity.auction.CapacityAuction` as the round's
  checks; must-offer coal is entered at 0 for what it did not offer.
* **Settlement**: the annual payment of each unit is split in twelve monthly payments,
  exactly to the fen; the months the session covers are posted (capacity payment system
  operator -> owner), and each month's total is charged to the loads by the rules'
  ``cost_allocation`` (share of peak MW or of MWh over the session's hours).
"""

from __future__ import annotations

from typing import Any, ClassVar

from clearing.jsonable import jsonable, records
from market.capacity.auction import CapacityAuction
from market.capacity.settlement import settle_capacity
from market.errors import MarketError
from market.session.bids import Bid, not_named, owner_problem
from market.session.books import SessionBooks
from market.session.rounds.registry import BidRound, Entries, Problem, register
from market.session.setup import RoundSpec


class Capacity(BidRound):
    """The ``capacity`` kind (see the module docstring)."""

    name: ClassVar[str] = "capacity"

    def validate(self, s: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
                 rows: list[int]) -> list[Problem]:
        scratch = CapacityAuction(s.rules.capacity, s.fleet, s.peak_load_mw())
        out: list[Problem] = []
        for i in rows:
            b = bids[i]
            why = not_named(b, spec, "hour", "counterparty")
            if b.side != "sell":
                why.append("capacity is only offered (side 'sell'); the demand curve buys it")
            owner = owner_problem(s, participant, b.unit)
            if owner is None and s.technology_of(b.unit or "") == "load":
                owner = f"{b.unit!r} is a load; loads do not offer capacity"
            if owner:
                why.append(owner)
            if not why:
                try:
                    scratch.submit(b.unit or "", b.quantity, b.price)
                except MarketError as exc:
                    why.append(str(exc))
            out += [(i, w) for w in why]
        return out

    def clear(self, s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
        auction = CapacityAuction(s.rules.capacity, s.fleet, s.peak_load_mw())
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
        offers = res.offers
        owners = s.fleet.owners
        rows = [{"participant": who[k] if k < len(who) else str(owners[offers.unit[k]]),
                 "unit": str(s.fleet.unit_ids[offers.unit[k]]), "mw": jsonable(offers.mw[k]),
                 "price_yuan_per_kw_yr": jsonable(offers.price_yuan_per_kw_yr[k]),
                 "imputed": bool(offers.imputed[k]), "accepted_mw": jsonable(res.accepted_mw[k]),
                 "settlement_price_yuan_per_kw_yr": jsonable(res.settlement_price[k])}
                for k in range(len(offers))]
        units = [{"unit": str(res.unit_ids[i]), "owner": str(res.owners[i]),
                  "accredited_mw": jsonable(res.accredited_mw[i]),
                  "cleared_mw": jsonable(res.cleared_mw[i]),
                  "annual_payment_fen": int(res.payment_fen[i]),
                  "monthly_payment_fen": jsonable(monthly[i])} for i in range(len(s.fleet))]
        return {
            "format": res.format, "delivery_year": res.delivery_year,
            "price_yuan_per_kw_yr": jsonable(res.price_yuan_per_kw_yr),
            "requirement_mw": jsonable(res.demand.requirement_mw),
            "demand": {"shape": res.demand.shape, "quantity_mw": jsonable(res.demand.quantity_mw),
                       "price_yuan_per_kw_yr": jsonable(res.demand.price_yuan_per_kw_yr)},
            "total_cleared_mw": jsonable(res.cleared_mw.sum()),
            "total_annual_payment_fen": res.total_payment_fen,
            "periods_paid": periods, "offers": rows, "units": units,
            "round_log": None if res.round_log is None else records(res.round_log),
        }


register(Capacity())
