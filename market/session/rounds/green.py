"""The green round: certificates traded by call auction or by listing, with their checks.

* **Bids**: a seller sells MWh (whole certificates when unbundled) at a premium yuan/MWh,
  optionally naming the wind or solar unit whose certificates it sells, up to the
  never-sold certificates it holds; a buyer buys MWh at a premium. A participant takes one
  side in a round; in a listing round a seller sends one sell bid (its listing) and a buy
  request names the seller (``counterparty``).
* **Clearing**: a call auction on the premium (:func:`~market.green.auction.call_auction`),
  or listings. A bundled auction after the month's issuance delivers each cleared pair on
  min(contract, the seller's never-sold certificates, i.e. its metered green output, and the
  buyer's consumption of the month: its loads' demand), as the year does
  (:mod:`market.green.delivery`); the rest is energy only (each bundled trade row also
  carries the ``contracted_mwh`` it delivers against; a pair that delivered nothing has no
  row). Listings: a request takes the listing of its counterparty when the listing's premium
  is at most the request's price, filled by ``listing_fill``. Certificates move in the registry
  and premiums are paid in the ledger in the round's month.
"""

from __future__ import annotations

from typing import Any, ClassVar

from clearing.jsonable import jsonable
from market.certificates.registry import TICKS_PER_MWH, CertificateRegistry
from market.errors import GreenTradeError
from market.green.auction import GreenOrder, call_auction
from market.green.listing import Listing, ListingRequest, fill_listing
from market.green.trading import GreenTrade, quantity_ticks
from market.session.bids import Bid, not_named, owner_problem
from market.session.books import SessionBooks
from market.session.rounds.registry import BidRound, Entries, Problem, register
from market.session.setup import RoundSpec


class Green(BidRound):
    """The ``green`` kind (see the module docstring)."""

    name: ClassVar[str] = "green"

    def validate(self, s: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
                 rows: list[int]) -> list[Problem]:
        return _validate(s, participant, spec, bids, rows)

    def clear(self, s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
        return _clear(s, spec, entries)


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


def _clear(s: SessionBooks, spec: RoundSpec, entries: Entries) -> dict[str, Any]:
    period = s.period(spec.month or 1)
    s.advance_registry(period)
    product = spec.product or "bundled"
    sells = [(p, b) for p, bids in entries for b in bids if b["side"] == "sell"]
    buys = [(p, b) for p, bids in entries for b in bids if b["side"] == "buy"]
    trades: list[GreenTrade] = []
    premium = None
    contracted: dict[int, float] = {}
    if spec.mode == "auction" and sells and buys:
        first = len(s.green_market.bundled_contracts)
        out = call_auction(s.green_market,
                           [GreenOrder(p, b["price"], b["quantity"], b["unit"]) for p, b in sells],
                           [GreenOrder(p, b["price"], b["quantity"]) for p, b in buys],
                           product, period,
                           consumption_mwh=_consumption(s, spec.month or 1)
                           if product == "bundled" else None)
        premium = out.premium_yuan_per_mwh
        trades = out.trades
        s.log_transfers(trades)
        contracted = {c.trade: c.contracted_mwh for c in s.green_market.bundled_contracts[first:]
                      if c.trade is not None}
    elif spec.mode == "listing":
        for seller, b in sells:
            listing = Listing(seller, product, b["quantity"], b["price"], None, b["unit"])
            takers = [ListingRequest(p, r["quantity"]) for p, r in buys
                      if r["counterparty"] == seller and r["price"] >= b["price"]]
            done = fill_listing(s.green_market, listing, takers, period) if takers else []
            s.log_transfers(done)
            trades += done
    return {"product": product, "mode": spec.mode, "period": period,
            "premium_yuan_per_mwh": jsonable(premium),
            "volume_mwh": jsonable(sum(t.quantity_ticks for t in trades) / 1000),
            "trades": [_trade_dict(t) | ({"contracted_mwh": contracted[t.trade]}
                                         if t.trade in contracted else {}) for t in trades]}


def _consumption(s: SessionBooks, month: int) -> dict[str, float]:
    """Each participant's metered consumption in ``month``: its loads' demand, MWh."""
    hours = s.hours_of_month(month)
    out: dict[str, float] = {}
    for ld in s.loads:
        out[ld.participant] = out.get(ld.participant, 0.0) + float(
            sum(ld.demand_mw[h] for h in hours))
    return out


def _validate(session: SessionBooks, participant: str, spec: RoundSpec, bids: list[Bid],
              rows: list[int]) -> list[Problem]:
    market = session.green_market
    registry = market.registry
    lot = market.lot_ticks(spec.product or "bundled")
    sides = {bids[i].side for i in rows}
    offered: dict[str | None, int] = {}
    listings = 0
    out: list[Problem] = []
    for i in rows:
        b = bids[i]
        why = not_named(b, spec, "hour")
        premium = market.premium_problem(b.price, spec.product or "bundled")
        if premium:
            why.append(premium)
        try:
            t = quantity_ticks(b.quantity, "quantity", lot)
        except GreenTradeError as exc:
            why.append(str(exc))
            t = 0
        if len(sides) > 1 and b.side == "buy":
            why.append("this batch also sells; a participant takes one side in a green round")
        if b.side == "sell":
            why += not_named(b, spec, "counterparty")
            listings += 1
            if spec.mode == "listing" and listings > 1:
                why.append("one listing per seller per round: send a single sell bid")
            if b.unit is not None:
                owner = owner_problem(session, participant, b.unit)
                if owner:
                    why.append(owner)
                elif session.technology_of(b.unit) not in registry.issuing_technologies:
                    why.append(f"unit {b.unit!r} earns no certificates; name a wind or solar "
                               "unit, or no unit")
        else:
            why += not_named(b, spec, "unit")
            if spec.mode == "listing" and (not b.counterparty or b.counterparty == participant):
                why.append("a listing request names the seller whose listing it takes "
                           "(counterparty), someone other than you")
            if spec.mode == "auction":
                why += not_named(b, spec, "counterparty")
        if not why and b.side == "sell":
            why += _holding(registry, participant, b.unit, t, offered)
        out += [(i, w) for w in why]
    return out


def _holding(registry: CertificateRegistry, participant: str, unit: str | None, ticks: int,
             offered: dict[str | None, int]) -> list[str]:
    why = []
    for key in dict.fromkeys((None, unit)):
        offered[key] = offered.get(key, 0) + ticks
        have = registry.sellable_ticks(participant, key)
        if offered[key] > have:
            of = "" if key is None else f" of unit {key!r}"
            why.append(f"sells {offered[key] / TICKS_PER_MWH:g} MWh{of} in this batch but holds "
                       f"{have / TICKS_PER_MWH:g} MWh of never-sold certificates{of}; allowed "
                       f"0 < total <= {have / TICKS_PER_MWH:g} MWh")
    return why


register(Green())
