"""The hourly energy spot market (day-ahead, uniform price): clearing many hours at once.

Every hour is an independent uniform-price double auction under the offer cap and floor of
``rules.energy`` (Mengxi: 1,500 and -50 yuan/MWh). :func:`clear_energy` sorts the bids by hour
(stable, so each hour keeps its input order as submission sequence) and clears all hours in one
call of :func:`clearing.clear_batch`; there is no Python loop over hours.

**Prices.** An hour's price is the clearing price of its auction (midpoint of the equilibrium
range by default, docs/CLEARING.md). An hour where nothing trades has price NaN, with one exception:
an hour with inelastic load (buy bids at the cap) and no supply at all is a scarcity hour, and
its price is the **cap** -- the price the same load would set if a single MW were offered. Its
load is curtailed in full. When supply is short but not absent, the auction itself clears at
the cap (the inelastic load is partly accepted, so the price is its bid) and the unserved part
is curtailed.

**Curtailment** of an hour is the demand bid at the cap (inelastic load) that was not accepted,
in MWh. Price-responsive blocks that are not accepted simply chose not to buy.

**Stress hours** (they drive capacity performance checks) are hours whose price reaches
``stress_price_threshold_yuan_per_mwh``, or, when ``available_mw`` per hour is given, whose
reserve margin (available - load) / load is below ``stress_reserve_margin``. The load of an
hour is the accepted demand plus the curtailed demand (what the system had to serve), unless
``load_mw`` is given.

Bids: :mod:`market.energy.bids` (the year's runner builds them in :mod:`agents.inprocess.bids`);
settlement: :mod:`market.energy.settlement`; storage: :mod:`market.energy.storage`.
"""

from __future__ import annotations

import numpy as np

from clearing import OrderBook, clear_batch
from clearing.book import from_ticks
from market.energy.bids import BUY, SELL, EnergyBids
from market.energy.result import EnergyResult
from market.energy.settlement import EnergySettlement, settle_energy
from market.errors import EnergyBidError, EnergyInputError
from market.rules import MarketRules

#: Points of the equilibrium price range an hour may be priced at (docs/CLEARING.md).
PRICE_RULES = ("midpoint", "supply", "demand")

__all__ = [
    "BUY",
    "SELL",
    "EnergyBids",
    "EnergyResult",
    "EnergySettlement",
    "clear_energy",
    "hour_offsets",
    "hourly_totals",
    "settle_energy",
]


def hour_offsets(hours: np.ndarray, n_hours: int) -> np.ndarray:
    """Offsets (int64, n_hours + 1) of each hour's rows once rows are sorted by hour."""
    counts = np.bincount(hours, minlength=n_hours)
    return np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts, dtype=np.int64)])


def _hourly(values: np.ndarray | None, n_hours: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n_hours,):
        raise EnergyInputError(f"{name} must have shape ({n_hours},), got {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if bad.shape[0]:
        h = int(bad[0])
        raise EnergyInputError(f"{name} must be finite MW >= 0; hour {h} has {arr[h]!r} "
                               f"({bad.shape[0]} bad hour{'s' * (bad.shape[0] != 1)})")
    return arr


def clear_energy(
    bids: EnergyBids,
    n_hours: int,
    rules: MarketRules,
    *,
    available_mw: np.ndarray | None = None,
    load_mw: np.ndarray | None = None,
    price_rule: str = "midpoint",
) -> EnergyResult:
    """Clear every hour of ``bids`` in one batched call.

    ``available_mw`` (n_hours,) float64 MW is the capacity available in each hour (for the
    reserve-margin test of stress hours); ``load_mw`` (n_hours,) overrides the load the margin
    is measured against. ``price_rule`` picks the point of the equilibrium price range
    (``midpoint``, ``supply``, ``demand``). Bids priced outside the cap or floor of ``rules``
    are refused (:class:`EnergyBidError`, every row listed) and nothing is cleared.
    """
    if not isinstance(bids, EnergyBids):
        raise EnergyInputError(f"clear_energy needs EnergyBids, got {type(bids).__name__}")
    if price_rule not in PRICE_RULES:
        raise EnergyInputError(f"price_rule must be one of {', '.join(PRICE_RULES)}; got "
                               f"{price_rule!r}")
    if bids.n_hours != n_hours:
        raise EnergyInputError(f"the bids cover {bids.n_hours} hours, clear_energy was asked "
                               f"for {n_hours}")
    problems = bids.limit_problems(rules)
    if problems:
        raise EnergyBidError(problems)
    available = _hourly(available_mw, n_hours, "available_mw")
    load_given = _hourly(load_mw, n_hours, "load_mw")
    energy = rules.energy
    cap, floor = float(energy.price_cap_yuan_per_mwh), float(energy.price_floor_yuan_per_mwh)

    order = np.argsort(bids.hour, kind="stable")
    book = OrderBook(ids=order, sides=bids.side[order], price_ticks=bids.price_ticks[order],
                     quantity_ticks=bids.quantity_ticks[order], sequence=order,
                     price_tick=bids.price_tick, quantity_tick=bids.quantity_tick)
    batch = clear_batch(book, hour_offsets(bids.hour, n_hours), price_rule=price_rule,
                        price_cap=cap, price_floor=floor)
    acc_t = np.empty(len(bids), dtype=np.int64)
    acc_t[order] = batch.accepted_ticks

    inverse = round(1.0 / bids.price_tick)
    price = batch.price.copy()
    half = np.where(batch.traded, np.rint(np.nan_to_num(price) * 2 * inverse), 0)
    half = half.astype(np.int64)
    cap_t = int(np.rint(cap / bids.price_tick))
    at_cap = (bids.side == BUY) & (bids.price_ticks == cap_t)
    unserved_t = np.bincount(bids.hour[at_cap], weights=(bids.quantity_ticks - acc_t)[at_cap],
                             minlength=n_hours)
    bid_at_cap = np.bincount(bids.hour[at_cap], minlength=n_hours) > 0
    scarce = ~batch.traded & bid_at_cap  # load at the cap and no supply at all: priced at cap
    price[scarce] = cap
    half[scarce] = 2 * cap_t
    curtailed = np.asarray(from_ticks(np.rint(unserved_t).astype(np.int64), bids.quantity_tick))

    stress = np.nan_to_num(price, nan=-np.inf) >= energy.stress_price_threshold_yuan_per_mwh
    margin = np.full(n_hours, np.nan)
    if available is not None:
        load = batch.volume + curtailed if load_given is None else load_given
        with np.errstate(divide="ignore", invalid="ignore"):
            margin = np.where(load > 0, (available - load) / np.where(load > 0, load, 1.0),
                              np.inf)
        stress = stress | (margin < energy.stress_reserve_margin)

    accepted = np.asarray(from_ticks(acc_t, bids.quantity_tick))
    settle = np.where(acc_t > 0, price[bids.hour], np.nan)
    return EnergyResult(price, batch.traded.copy(), batch.volume.copy(), curtailed, margin,
                        stress, half, accepted, acc_t, settle, rules, n_hours)


def hourly_totals(bids: EnergyBids, result: EnergyResult, side: int) -> np.ndarray:
    """Accepted MW per hour on one side (``SELL`` or ``BUY``), float64 (n_hours,)."""
    mask = bids.side == side
    ticks = np.bincount(bids.hour[mask], weights=result.accepted_ticks[mask],
                        minlength=result.n_hours)
    return np.asarray(from_ticks(np.rint(ticks).astype(np.int64), bids.quantity_tick))

