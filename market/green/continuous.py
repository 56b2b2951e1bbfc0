"""Continuous trading of green power or certificates on the core's price-time order book.

An incoming order trades at once with the resting orders it crosses, at the resting order's
premium (:class:`clearing.continuous.ContinuousBook`); every trade is settled at once in the
registry and the ledger. A sell order must be backed: the seller's never-sold certificates
must cover all its resting sells plus the new one. Before each order, resting sells that are no
longer backed (their certificates were sold or retired elsewhere, or expired) are cancelled, so
a match can always be delivered. A participant's order may not cross its own resting orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from clearing.book import BUY, SELL
from clearing.continuous import ContinuousBook
from clearing.errors import OrderBookError
from clearing.grid import PRICE_TICK
from market.certificates.registry import TICKS_PER_MWH
from market.errors import GreenTradeError
from market.green.trading import GreenMarket, GreenTrade, price_half_fen, quantity_ticks


@dataclass(frozen=True)
class ContinuousFill:
    """What one order did: its id (for :meth:`GreenContinuousMarket.cancel`) and its trades,
    plus the ids of resting sells cancelled first because they were no longer backed."""

    order_id: int
    trades: list[GreenTrade]
    cancelled_unbacked: list[int] = field(default_factory=list)


class GreenContinuousMarket:
    """A continuous market of one ``product`` settling into ``market`` in ledger ``period``.

    Premiums (yuan/MWh, or per certificate) are bounded by the rules' premium limits; bundled
    quantities trade to the 0.001 MWh, certificates whole. ``energy_price_yuan_per_mwh`` is
    recorded as the energy part of bundled trades.
    """

    def __init__(self, market: GreenMarket, product: str, period: str, *,
                 energy_price_yuan_per_mwh: float | None = None) -> None:
        self.market = market
        self.product = product
        self.period = period
        self.lot = market.lot_ticks(product)
        if energy_price_yuan_per_mwh is not None:
            price_half_fen(energy_price_yuan_per_mwh, "energy price")
        self.energy_price = energy_price_yuan_per_mwh if product == "bundled" else None
        lo, hi = market.price_limits(product)
        self.book = ContinuousBook(price_tick=PRICE_TICK, quantity_tick=self.lot / TICKS_PER_MWH,
                                   price_cap=hi, price_floor=lo)
        self._owner: dict[int, tuple[str, int]] = {}  # order id -> (participant, side)
        self._next_id = 1

    # ----------------------------------------------------------------- orders

    def submit(self, participant: str, side: str, premium_yuan_per_mwh: float,
               quantity_mwh: float, *, ioc: bool = False) -> ContinuousFill:
        """Enter an order (``side`` ``"buy"`` or ``"sell"``) and settle what it trades.

        Refused with :class:`GreenTradeError` (nothing changes) for an empty name, a premium
        outside the limits or off the grid, a quantity not > 0 on its grid, an unbacked sell,
        or an order that would cross the participant's own resting order.
        """
        if side not in ("buy", "sell"):
            raise GreenTradeError(f"side {side!r} must be 'buy' or 'sell'")
        problems = []
        if not isinstance(participant, str) or not participant:
            problems.append(f"participant {participant!r} must be a non-empty name")
        why = self.market.premium_problem(premium_yuan_per_mwh, self.product)
        if why:
            problems.append(why)
        try:
            q = quantity_ticks(quantity_mwh, "quantity", self.lot)
        except GreenTradeError as exc:
            problems.append(str(exc))
            q = 0
        if problems:
            raise GreenTradeError("order refused:\n  " + "\n  ".join(problems))
        cancelled = self._cancel_unbacked()
        code = SELL if side == "sell" else BUY
        if code == SELL:
            have = self.market.registry.sellable_ticks(participant)
            resting = self._resting_ticks(participant, SELL)
            if have < resting + q:
                raise GreenTradeError(
                    f"order refused: {participant!r} holds {have / TICKS_PER_MWH:g} MWh of "
                    f"never-sold certificates; resting sells {resting / TICKS_PER_MWH:g} MWh "
                    f"plus this {q / TICKS_PER_MWH:g} MWh are not covered")
        self._refuse_self_cross(participant, code, float(premium_yuan_per_mwh))
        oid = self._next_id
        try:
            raw = self.book.submit(oid, side, float(premium_yuan_per_mwh), q / TICKS_PER_MWH,
                                   ioc=ioc)
        except OrderBookError as exc:
            raise GreenTradeError(f"order refused: {exc}") from exc
        self._next_id += 1
        self._owner[oid] = (participant, code)
        trades = self._settle(raw, participant, code)
        return ContinuousFill(oid, trades, cancelled)

    def cancel(self, order_id: int) -> float:
        """Cancel a resting order; returns the MWh that were still resting."""
        try:
            return self.book.cancel(order_id)
        except OrderBookError as exc:
            raise GreenTradeError(str(exc)) from exc

    # ----------------------------------------------------------------- internals

    def _settle(self, raw: np.ndarray, taker: str, taker_side: int) -> list[GreenTrade]:
        if raw.shape[0] == 0:
            return []
        makers = [self._owner[int(m)][0] for m in raw["maker_id"]]
        sellers = [taker if taker_side == SELL else m for m in makers]
        buyers = [m if taker_side == SELL else taker for m in makers]
        ticks = (raw["quantity_ticks"] * self.lot).tolist()
        premiums = [float(p) for p in raw["price"]]
        k = raw.shape[0]
        return self.market.execute(self.period, "continuous", self.product, sellers, buyers,
                                   ticks, premiums, [self.energy_price] * k, [None] * k)

    def _resting_ticks(self, participant: str, side: int) -> int:
        orders = self.book.open_orders()
        total = 0
        for oid, qt in zip(orders["order_id"].tolist(), orders["quantity_ticks"].tolist(),
                           strict=True):
            if self._owner.get(oid) == (participant, side):
                total += qt * self.lot
        return total

    def _refuse_self_cross(self, participant: str, side: int, premium: float) -> None:
        orders = self.book.open_orders()
        for oid, p in zip(orders["order_id"].tolist(), orders["price"].tolist(), strict=True):
            if self._owner.get(oid) != (participant, -side):
                continue
            if (side == BUY and premium >= p) or (side == SELL and premium <= p):
                raise GreenTradeError(f"order refused: it would trade with {participant!r}'s "
                                      f"own resting order {oid} at {p:g}")

    def _cancel_unbacked(self) -> list[int]:
        """Cancel, newest first, resting sells of sellers whose certificates no longer cover
        them; returns the cancelled ids."""
        orders = self.book.open_orders()
        out: list[int] = []
        sells: dict[str, list[tuple[int, int, int]]] = {}
        for oid, s, qt, seq in zip(orders["order_id"].tolist(), orders["side"].tolist(),
                                   orders["quantity_ticks"].tolist(),
                                   orders["sequence"].tolist(), strict=True):
            if s == SELL:
                sells.setdefault(self._owner[oid][0], []).append((seq, oid, qt * self.lot))
        for seller, rows in sells.items():
            have = self.market.registry.sellable_ticks(seller)
            resting = sum(r[2] for r in rows)
            for _, oid, qt in sorted(rows, reverse=True):
                if resting <= have:
                    break
                self.book.cancel(oid)
                resting -= qt
                out.append(oid)
        return out
