"""Delivery of bundled green power contracts after metering.

A bundled contract (:class:`~market.green.trading.BundledContract`) is cleared before the
month's output is metered (:func:`~market.green.auction.contract_auction`). After metering,
each contract delivers

    delivered = min(contracted, generation share, consumption share)

where a unit's metered green output (capped by the never-sold certificates of that unit its
seller holds) is shared among the unit's contracts of the month pro rata to the contracted MWh
(the generation share, never above the contract), and then a buyer's metered consumption is
shared among its contracts pro rata to those generation shares (largest remainder on the
0.001 MWh grid, ties to the earlier contract), so consumption is not spent on a contract whose
unit produced nothing. When output and consumption cover every contract each delivers in
full. Certificates move and the
premium is paid on the delivered MWh only, all contracts of the month at once (all or nothing,
through :meth:`GreenMarket.execute`, so a certificate is still sold once); the undelivered MWh
are settled as energy only: no premium, no certificates (the energy itself is settled by the
energy market, as for every bundled trade).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from market.certificates.registry import TICKS_PER_MWH
from market.errors import GreenTradeError
from market.green.trading import BundledContract, GreenMarket, GreenTrade
from market.ledger.fen import allocate_fen


def share_capped(contracted: np.ndarray, groups: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Per contract (int64 (n,) ticks), its share of its group's cap: each group (int (n,)
    index into ``caps`` int64 (g,)) shares ``caps[group]`` pro rata to the contracted ticks
    (largest remainder, ties to the lower index) when the cap is short, else gives every
    contract its full quantity. Returns int64 (n,), each <= contracted."""
    c = np.asarray(contracted, dtype=np.int64)
    g = np.asarray(groups, dtype=np.int64)
    out = c.copy()
    for k in np.unique(g).tolist():
        rows = np.flatnonzero(g == k)
        total = int(c[rows].sum())
        cap = max(int(caps[k]), 0)
        if total > cap:
            out[rows] = allocate_fen(cap, c[rows])
    return out


def delivered_ticks(contracted: np.ndarray, units: Sequence[Hashable],
                    buyers: Sequence[str], generation_ticks: Mapping[Any, int],
                    consumption_ticks: Mapping[str, int]) -> np.ndarray:
    """min(contracted, generation share, consumption share) per contract, int64 ticks (the
    consumption shared pro rata to the generation shares).

    ``units``: each contract's source (a unit, or any key such as (seller, unit));
    ``generation_ticks``: per source, the metered green output that can be delivered
    (ticks); ``consumption_ticks``: per buyer, its metered consumption (ticks). A source or
    buyer not in the mapping delivers nothing."""
    c = np.asarray(contracted, dtype=np.int64)
    unit_keys = list(dict.fromkeys(units))
    buyer_keys = list(dict.fromkeys(buyers))
    gen = share_capped(c, np.array([unit_keys.index(u) for u in units], dtype=np.int64),
                       np.array([int(generation_ticks.get(u, 0)) for u in unit_keys],
                                dtype=np.int64))
    use = share_capped(gen, np.array([buyer_keys.index(b) for b in buyers], dtype=np.int64),
                       np.array([int(consumption_ticks.get(b, 0)) for b in buyer_keys],
                                dtype=np.int64))
    return np.minimum(c, np.minimum(gen, use))


def _ticks(mwh: float, what: str) -> int:
    v = float(mwh)
    if not np.isfinite(v) or v < 0:
        raise GreenTradeError(f"{what} {mwh!r} must be a finite number of MWh >= 0")
    return int(np.floor(v * TICKS_PER_MWH + 1e-6))


def deliver_contracts(market: GreenMarket, period: str,
                      generation_mwh: Mapping[str, float] | None,
                      consumption_mwh: Mapping[str, float]) -> list[BundledContract]:
    """Deliver every undelivered bundled contract of ``period`` after metering.

    ``generation_mwh``: per unit, its metered green output of the month (MWh); ``None`` when
    the certificates already issued are the metering (a game round after issuance): then a
    contract's generation is what its seller holds of never-sold certificates (of its unit,
    or of any unit when it names none), which is always a cap as well. ``consumption_mwh``:
    per buyer, its metered consumption of the month (MWh). Settles the delivered MWh at each
    contract's premium (mode ``auction``, product ``bundled``) and returns the contracts with
    ``delivered_ticks`` (and ``trade``) filled in. All or nothing: on a refusal no contract is
    marked delivered and nothing moves.
    """
    rows = [i for i, c in enumerate(market.bundled_contracts)
            if c.period == period and c.delivered_ticks is None]
    if not rows:
        return []
    cs = [market.bundled_contracts[i] for i in rows]
    keys = [(c.seller, c.unit) for c in cs]
    gen: dict[tuple[str, str | None], int] = {}
    for seller, unit in keys:
        if (seller, unit) not in gen:
            held = market.registry.sellable_ticks(seller, unit)
            if generation_mwh is not None:
                metered = _ticks(generation_mwh.get(unit, 0.0) if unit is not None else 0.0,
                                 f"metered output of {unit!r}")
                held = min(held, metered)
            gen[(seller, unit)] = held
    use = {b: _ticks(consumption_mwh.get(b, 0.0), f"consumption of {b!r}")
           for b in dict.fromkeys(c.buyer for c in cs)}
    done = delivered_ticks(np.array([c.contracted_ticks for c in cs], dtype=np.int64),
                           keys, [c.buyer for c in cs], gen, use)
    paid = [k for k in range(len(cs)) if done[k] > 0]
    trades: list[GreenTrade] = market.execute(
        period, "auction", "bundled", [cs[k].seller for k in paid], [cs[k].buyer for k in paid],
        [int(done[k]) for k in paid], [cs[k].premium_yuan_per_mwh for k in paid],
        [cs[k].energy_price_yuan_per_mwh for k in paid], [cs[k].unit for k in paid])
    trade_of = {k: t.trade for k, t in zip(paid, trades, strict=True)}
    out = []
    for k, i in enumerate(rows):
        c = replace(cs[k], delivered_ticks=int(done[k]), trade=trade_of.get(k))
        market.bundled_contracts[i] = c
        out.append(c)
    return out
