"""Listing mode of green trading: a seller posts a price and a quantity; buyers' requests fill it.

When the requests exceed the listed quantity they are filled **pro rata** to their size (largest
remainder on quantity ticks, ties to the earlier request, so the fills add up to the listing
exactly) or **first come** in request order, by the rule ``listing_fill``. Bundled green power
fills to the 0.001 MWh; unbundled certificates in whole certificates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from market.certificates.registry import TICKS_PER_MWH
from market.errors import GreenTradeError
from market.green.trading import GreenMarket, GreenTrade, price_half_fen, quantity_ticks
from market.ledger.book import allocate_fen

FILL_RULES = ("pro_rata", "first_come")


@dataclass(frozen=True)
class Listing:
    """A posted offer: ``quantity_mwh`` at ``premium_yuan_per_mwh`` (the price of a certificate
    when unbundled), with the energy price of bundled power stated when known."""

    seller: str
    product: str
    quantity_mwh: float
    premium_yuan_per_mwh: float
    energy_price_yuan_per_mwh: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class ListingRequest:
    """A buyer's request to take ``quantity_mwh`` of a listing."""

    buyer: str
    quantity_mwh: float


def listing_fills(listed: int, requests: np.ndarray,
                  rule: Literal["pro_rata", "first_come"]) -> np.ndarray:
    """Fill requests (int64 lots (n,), in arrival order) from ``listed`` lots.

    Undersubscribed: every request in full. Oversubscribed: ``pro_rata`` gives each the floor of
    its share and the lots left over one each to the largest remainders (ties to the earlier
    request), never more than requested; ``first_come`` fills in order until the listing is
    used up. Returns int64 (n,) summing to min(listed, sum(requests)).
    """
    req = np.asarray(requests, dtype=np.int64)
    if rule not in FILL_RULES:
        raise GreenTradeError(f"listing_fill {rule!r} must be one of {', '.join(FILL_RULES)}")
    if (req < 0).any() or listed < 0:
        raise GreenTradeError("listed and requested quantities must be >= 0")
    total = int(req.sum())
    if total <= listed:
        return req.copy()
    if rule == "pro_rata":
        return allocate_fen(int(listed), req)
    before = np.cumsum(req) - req
    return np.clip(listed - before, 0, req).astype(np.int64)


def _product(product: object) -> str:
    """``product`` when it is a known one, else ``"bundled"`` (its own refusal is reported)."""
    return product if product in ("bundled", "unbundled") else "bundled"  # type: ignore[return-value]


def fill_listing(market: GreenMarket, listing: Listing, requests: Sequence[ListingRequest],
                 period: str, *, fill: str | None = None) -> list[GreenTrade]:
    """Fill ``listing`` from ``requests`` (arrival order) and settle the trades.

    ``fill`` overrides the rules' ``listing_fill``. Refused with every problem at once (and
    nothing changed) when the premium is outside the rules' limits or off the price grid, a
    quantity is not > 0 on its grid, a buyer is the seller, or the seller does not hold enough
    never-sold certificates for the whole listing.
    """
    rule = market.rules.listing_fill if fill is None else fill
    problems: list[str] = []
    lot = 1
    listed = 0
    try:
        lot = market.lot_ticks(listing.product)
        listed = quantity_ticks(listing.quantity_mwh, "listed quantity", lot)
    except GreenTradeError as exc:
        problems.append(str(exc))
    why = market.premium_problem(listing.premium_yuan_per_mwh, _product(listing.product))
    if why:
        problems.append(why)
    if listing.energy_price_yuan_per_mwh is not None:
        if listing.product == "unbundled":  # as for bilateral contracts
            problems.append("an unbundled certificate has no energy price")
        try:
            price_half_fen(listing.energy_price_yuan_per_mwh, "energy price")
        except GreenTradeError as exc:
            problems.append(str(exc))
    if listing.unit is not None and listing.unit not in market.registry.names()["unit"]:
        problems.append(f"unit {listing.unit!r} is not registered")
    elif listed and isinstance(listing.seller, str):
        have = market.registry.sellable_ticks(listing.seller, listing.unit)
        if have < listed:
            problems.append(f"seller {listing.seller!r} holds {have / TICKS_PER_MWH:g} MWh of "
                            f"never-sold certificates, cannot list {listed / TICKS_PER_MWH:g} MWh")
    req = np.zeros(len(requests), dtype=np.int64)
    for i, r in enumerate(requests):
        if not isinstance(r.buyer, str) or not r.buyer or r.buyer == listing.seller:
            problems.append(f"request {i}: buyer {r.buyer!r} must be a name other than the "
                            "seller")
        try:
            req[i] = quantity_ticks(r.quantity_mwh, f"request {i}: quantity", lot)
        except GreenTradeError as exc:
            problems.append(str(exc))
    if problems:
        raise GreenTradeError("listing refused:\n  " + "\n  ".join(problems[:20]))
    got = listing_fills(listed // lot, req // lot, rule) * lot  # type: ignore[arg-type]
    rows = np.flatnonzero(got > 0).tolist()
    k = len(rows)
    return market.execute(period, "listing", listing.product, [listing.seller] * k,
                          [requests[i].buyer for i in rows], got[rows].tolist(),
                          [listing.premium_yuan_per_mwh] * k,
                          [listing.energy_price_yuan_per_mwh] * k, [listing.unit] * k)
