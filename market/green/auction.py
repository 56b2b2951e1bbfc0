"""Centralized call auction of green trading: one uniform premium, cleared by the core.

Sellers offer and buyers bid a green premium (yuan/MWh; the price of a certificate when
unbundled) and a quantity; :func:`clearing.clear` finds the uniform premium (midpoint of the
equilibrium range by default) within the rules' premium limits, and pro-rates the marginal
orders. Accepted sells and buys are then paired in merit order (sells cheapest first, buys
dearest first, ties by submission order) so that every trade names its seller and buyer and the
certificates move directly between them.

:func:`contract_auction` clears the month's bundled green power as forward contracts before
metering (same clearing and pairing, nothing moves until delivery, see
:mod:`market.green.delivery`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from clearing import ClearingResult, OrderBook, clear
from clearing.grid import PRICE_TICK
from market.certificates.registry import TICKS_PER_MWH
from market.errors import GreenTradeError
from market.green.delivery import deliver_contracts
from market.green.trading import (
    BundledContract,
    GreenMarket,
    GreenTrade,
    price_half_fen,
    quantity_ticks,
)


@dataclass(frozen=True)
class GreenOrder:
    """An offer (seller) or bid (buyer) in the call auction."""

    participant: str
    premium_yuan_per_mwh: float
    quantity_mwh: float
    unit: str | None = None


@dataclass(frozen=True)
class ContractAuctionOutcome:
    """The clearing result of a bundled contract auction and the contracts it made (nothing
    delivered yet)."""

    result: ClearingResult
    contracts: list[BundledContract]

    @property
    def premium_yuan_per_mwh(self) -> float | None:
        return self.result.price


@dataclass(frozen=True)
class GreenAuctionOutcome:
    """The clearing result (premium, volume, accepted per order: offers first, then bids) and
    the trades settled from it."""

    result: ClearingResult
    trades: list[GreenTrade]

    @property
    def premium_yuan_per_mwh(self) -> float | None:
        return self.result.price


def pair_fills(sell_ticks: np.ndarray, buy_ticks: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match accepted sells to accepted buys, both already in merit order (int64 (n,), (m,),
    equal totals). Returns (sell index, buy index, ticks) per trade, in order, vectorised."""
    s = np.asarray(sell_ticks, dtype=np.int64)
    b = np.asarray(buy_ticks, dtype=np.int64)
    if int(s.sum()) != int(b.sum()) or (s < 0).any() or (b < 0).any():
        raise GreenTradeError("accepted sells and buys must be >= 0 and add up to the same total")
    cs, cb = np.cumsum(s), np.cumsum(b)
    ends = np.union1d(cs[s > 0], cb[b > 0])
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    return (np.searchsorted(cs, starts, side="right"), np.searchsorted(cb, starts, side="right"),
            (ends - starts).astype(np.int64))


def call_auction(market: GreenMarket, offers: Sequence[GreenOrder], bids: Sequence[GreenOrder],
                 product: str, period: str, *, energy_price_yuan_per_mwh: float | None = None,
                 price_rule: str = "midpoint",
                 consumption_mwh: Mapping[str, float] | None = None) -> GreenAuctionOutcome:
    """Clear one call auction of ``product`` and settle its trades in ledger ``period``.

    ``consumption_mwh`` (bundled only; per buyer, its metered consumption of the month): the
    cleared pairs become bundled contracts delivered at once on min(contract, the seller's
    never-sold certificates, the buyer's consumption) (:mod:`market.green.delivery`); the
    trades returned are the deliveries, the rest is settled as energy only.

    Refused with every problem at once (nothing changed) when an order's premium is negative,
    above the product's cap (when the rules set one) or off the 0.01 yuan grid, a quantity is
    not > 0 on its grid (whole certificates when unbundled), a participant is on both sides, or
    a seller offers more never-sold certificates than it holds.
    """
    result, pairs = _clear_orders(market, offers, bids, product, energy_price_yuan_per_mwh,
                                  price_rule, backed=True)
    if pairs is None:
        return GreenAuctionOutcome(result, [])
    s_rows, b_rows, ticks = pairs
    k = ticks.shape[0]
    price = float(result.price)  # type: ignore[arg-type]
    if consumption_mwh is not None and product == "bundled":
        before = len(market.trades)
        market.record_contracts(period, [offers[i].participant for i in s_rows],
                                [offers[i].unit for i in s_rows],
                                [bids[j].participant for j in b_rows], ticks.tolist(), price,
                                energy_price_yuan_per_mwh)
        try:
            deliver_contracts(market, period, None, consumption_mwh)
        except GreenTradeError:
            del market.bundled_contracts[len(market.bundled_contracts) - k:]
            raise
        return GreenAuctionOutcome(result, market.trades[before:])
    trades = market.execute(period, "auction", product,
                            [offers[i].participant for i in s_rows],
                            [bids[j].participant for j in b_rows], ticks.tolist(), [price] * k,
                            [energy_price_yuan_per_mwh if product == "bundled" else None] * k,
                            [offers[i].unit for i in s_rows])
    return GreenAuctionOutcome(result, trades)


def contract_auction(market: GreenMarket, offers: Sequence[GreenOrder],
                     bids: Sequence[GreenOrder], period: str, *,
                     energy_price_yuan_per_mwh: float | None = None,
                     price_rule: str = "midpoint") -> ContractAuctionOutcome:
    """Clear the month's **bundled contracts** before its output is metered.

    Sellers offer green power of a named wind or solar unit they own, from their forecast of
    the month's output (no certificates are needed yet); buyers bid a premium. The uniform
    premium and the pairing are those of :func:`call_auction`; nothing moves now: each pair
    becomes a :class:`~market.green.delivery.BundledContract` of ``period``, delivered after
    metering by :func:`~market.green.delivery.deliver_contracts` (certificates and premium on
    min(contract, metered generation, consumption) only). Refused, nothing recorded, with every
    problem at once: the checks of :func:`call_auction` except holdings, plus an offer naming
    no unit, an unregistered unit or a unit of another owner.
    """
    result, pairs = _clear_orders(market, offers, bids, "bundled", energy_price_yuan_per_mwh,
                                  price_rule, backed=False)
    if pairs is None:
        return ContractAuctionOutcome(result, [])
    s_rows, b_rows, ticks = pairs
    price = float(result.price)  # type: ignore[arg-type]
    made = market.record_contracts(
        period, [offers[i].participant for i in s_rows], [offers[i].unit for i in s_rows],
        [bids[j].participant for j in b_rows], ticks.tolist(), price, energy_price_yuan_per_mwh)
    return ContractAuctionOutcome(result, made)


def _clear_orders(market: GreenMarket, offers: Sequence[GreenOrder], bids: Sequence[GreenOrder],
                  product: str, energy_price: float | None, price_rule: str, *, backed: bool
                  ) -> tuple[ClearingResult, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """Check the orders (all problems at once), clear them uniformly and pair the accepted
    sells and buys: (result, (sell rows, buy rows, ticks) or ``None`` when nothing cleared).
    ``backed``: sellers must hold the never-sold certificates they offer; otherwise each offer
    must name a registered unit of its seller (a forward contract on its output)."""
    lot = market.lot_ticks(product)
    problems: list[str] = []
    orders = [("offer", i, o) for i, o in enumerate(offers)] + \
             [("bid", i, o) for i, o in enumerate(bids)]
    qty = np.zeros(len(orders), dtype=np.int64)
    for k, (kind, i, o) in enumerate(orders):
        where = f"{kind} {i} ({o.participant!r})"
        if not isinstance(o.participant, str) or not o.participant:
            problems.append(f"{where}: participant must be a non-empty name")
        why = market.premium_problem(o.premium_yuan_per_mwh, product)
        if why:
            problems.append(f"{where}: {why}")
        try:
            qty[k] = quantity_ticks(o.quantity_mwh, "quantity", lot)
        except GreenTradeError as exc:
            problems.append(f"{where}: {exc}")
        if kind == "bid" and o.unit is not None:
            problems.append(f"{where}: a bid names no unit")
    sellers = {o.participant for o in offers}
    both = sorted(sellers & {o.participant for o in bids}, key=str)
    problems += [f"{p!r} both offers and bids; a participant takes one side" for p in both]
    if energy_price is not None:
        try:
            price_half_fen(energy_price, "energy price")
        except GreenTradeError as exc:
            problems.append(str(exc))
    if not problems:
        problems += (_holding_problems(market, offers, qty[:len(offers)]) if backed
                     else _unit_problems(market, offers))
    if problems:
        what = "call auction" if backed else "contract auction"
        raise GreenTradeError(f"{what} refused:\n  " + "\n  ".join(problems[:20]))
    n_off = len(offers)
    lo, hi = market.price_limits(product)
    book = OrderBook.from_arrays(
        np.arange(len(orders)), np.r_[np.ones(n_off), -np.ones(len(bids))].astype(np.int64),
        np.array([o.premium_yuan_per_mwh for _, _, o in orders], dtype=np.float64),
        (qty // lot) * (lot / TICKS_PER_MWH), price_tick=PRICE_TICK,
        quantity_tick=lot / TICKS_PER_MWH)
    result = clear(book, pricing="uniform", price_rule=price_rule,  # type: ignore[arg-type]
                   price_cap=hi, price_floor=lo)
    if result.price is None or result.volume == 0:
        return result, None
    acc = result.accepted_ticks.astype(np.int64) * lot
    prices = book.price_ticks
    s_order = np.lexsort((np.arange(n_off), prices[:n_off]))
    b_order = n_off + np.lexsort((np.arange(len(bids)), -prices[n_off:]))
    si, bi, ticks = pair_fills(acc[s_order], acc[b_order])
    price_half_fen(float(result.price), "clearing premium", half_ticks=True)
    return result, (s_order[si], b_order[bi] - n_off, ticks)


def _unit_problems(market: GreenMarket, offers: Sequence[GreenOrder]) -> list[str]:
    """A contract offer names a registered wind or solar unit of its seller."""
    out = []
    units = set(market.registry.names()["unit"])
    for i, o in enumerate(offers):
        if o.unit is None:
            out.append(f"offer {i} ({o.participant!r}): a bundled contract names the unit whose "
                       "output it sells")
        elif o.unit not in units:
            out.append(f"offer {i} ({o.participant!r}): unit {o.unit!r} is not registered")
        elif market.registry.unit_owner(o.unit) != o.participant:
            out.append(f"offer {i} ({o.participant!r}): unit {o.unit!r} belongs to "
                       f"{market.registry.unit_owner(o.unit)!r}")
    return out


def _holding_problems(market: GreenMarket, offers: Sequence[GreenOrder],
                      qty: np.ndarray) -> list[str]:
    """Sellers must hold the never-sold certificates for everything they offer."""
    out = []
    by_seller: dict[str, int] = {}
    by_unit: dict[tuple[str, str], int] = {}
    for o, q in zip(offers, qty.tolist(), strict=True):
        by_seller[o.participant] = by_seller.get(o.participant, 0) + q
        if o.unit is not None:
            by_unit[(o.participant, o.unit)] = by_unit.get((o.participant, o.unit), 0) + q
    units = set(market.registry.names()["unit"])
    for (seller, unit), q in by_unit.items():
        if unit not in units:
            out.append(f"unit {unit!r} is not registered")
        elif market.registry.sellable_ticks(seller, unit) < q:
            out.append(f"{seller!r} offers {q / TICKS_PER_MWH:g} MWh of unit {unit!r} but holds "
                       f"{market.registry.sellable_ticks(seller, unit) / TICKS_PER_MWH:g} MWh "
                       "of never-sold certificates of it")
    for seller, q in by_seller.items():
        have = market.registry.sellable_ticks(seller)
        if have < q:
            out.append(f"{seller!r} offers {q / TICKS_PER_MWH:g} MWh but holds "
                       f"{have / TICKS_PER_MWH:g} MWh of never-sold certificates")
    return out
