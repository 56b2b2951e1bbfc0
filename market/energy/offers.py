"""Energy bids built from profiles: loads, wind and solar, thermal units (no Python loop per bid).

Each helper takes hourly arrays of shape (n_hours, n_units) (or per-unit constants) and returns
:class:`~market.energy.bids.EnergyBids` whose rows run hour by hour, then unit by unit, then
block by block; zero quantities are left out. ``hour_offset`` places the rows at hours
``hour_offset ..`` of a batch of ``n_hours`` hours (default: just these hours).

Quantities are put on the rules' quantity grid: available output and capacity are rounded
**down** (never offer more than there is), loads to the nearest tick. Prices are rounded to the
nearest price tick and must lie within the floor and cap of ``rules.energy``.

Simplifications, on purpose:

* **Loads** bid ``1 - price_responsive_share`` of their load inelastically at the cap (value of
  lost load = the cap, DOMAIN.md) and spread the rest equally over ``block_prices``.
* **Wind and solar** offer all their available output at one price (0, or down to the floor).
* **Thermal** units offer their capacity in blocks at marginal-cost prices. With
  ``min_output_mw``, a committed unit offers its minimum stable output at the **floor** (it
  must run, so it takes any price) and the rest in blocks; a unit not committed in an hour
  offers nothing then (it is off). There is no start-up cost or ramping in the auction itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from clearing.book import from_ticks
from market.energy.bids import BUY, SELL, EnergyBids
from market.errors import EnergyInputError
from market.rules import MarketRules

ArrayLike = Sequence[float] | np.ndarray | float


def _hourly_matrix(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise EnergyInputError(f"{name} must have shape (n_hours, n_units), got {arr.shape}")
    bad = np.argwhere(~np.isfinite(arr) | (arr < 0))
    if bad.shape[0]:
        h, u = (int(x) for x in bad[0])
        raise EnergyInputError(f"{name} must be finite MW >= 0; hour {h}, column {u} has "
                               f"{arr[h, u]!r} ({bad.shape[0]} bad value(s))")
    return arr


def column_names(values: Any, n: int, name: str, default: str | None = None) -> np.ndarray:
    """One non-empty name per column (n,) as a str array; ``default-0, default-1, ...`` when
    ``values`` is None and a default is given."""
    if values is None and default is not None:
        return np.array([f"{default}-{j}" for j in range(n)], dtype=str)
    arr = np.asarray(values, dtype=object)
    if arr.shape != (n,) or not all(isinstance(v, str) and v for v in arr.tolist()):
        raise EnergyInputError(f"{name} must be {n} non-empty strings (one per column)")
    return arr.astype(str)


def grid_prices(price: Any, shape: tuple[int, ...], name: str, rules: MarketRules
                ) -> np.ndarray:
    """Prices broadcast to ``shape`` and rounded to the price tick; refused outside the
    floor and cap (the message names the offending value)."""
    try:
        arr = np.broadcast_to(np.asarray(price, dtype=np.float64), shape)
    except ValueError:
        raise EnergyInputError(f"{name} of shape {np.shape(price)} does not fit {shape}") from None
    tick = float(rules.ticks.price_yuan)
    if not np.isfinite(arr).all():
        raise EnergyInputError(f"{name} must be finite yuan/MWh")
    grid = np.asarray(from_ticks(np.rint(arr / tick).astype(np.int64), tick))
    cap = float(rules.energy.price_cap_yuan_per_mwh)
    floor = float(rules.energy.price_floor_yuan_per_mwh)
    outside = (grid > cap) | (grid < floor)
    if outside.any():
        raise EnergyInputError(f"{name} {float(grid[outside][0]):g} yuan/MWh is outside the "
                               f"floor {floor:g} and cap {cap:g}")
    return grid


def _down(mw: np.ndarray, tick: float) -> np.ndarray:
    """MW to whole quantity ticks, rounded down (a hair of slack for float noise)."""
    return np.floor(mw / tick + 1e-9).astype(np.int64)


def assemble_bids(qty_t: np.ndarray, price: np.ndarray, participants: np.ndarray,
                  units: np.ndarray, side: int, rules: MarketRules, hour_offset: int,
                  n_hours: int | None) -> EnergyBids:
    """Bids from (H, U, B) int64 quantity ticks and prices (yuan/MWh) of H hours from
    ``hour_offset``, U columns (``participants``, ``units``) and B blocks on one ``side``;
    rows hour-major, zero quantities dropped."""
    h, u, b = qty_t.shape
    if isinstance(hour_offset, bool) or not isinstance(hour_offset, (int, np.integer)) \
            or hour_offset < 0:
        raise EnergyInputError(f"hour_offset must be an integer >= 0, got {hour_offset!r}")
    total = hour_offset + h if n_hours is None else n_hours
    if total < hour_offset + h:
        raise EnergyInputError(f"{h} hours from hour {hour_offset} do not fit in {total} hours")
    keep = (qty_t > 0).reshape(-1)
    hours = np.broadcast_to(np.arange(h)[:, None, None] + hour_offset, qty_t.shape)
    cols = np.broadcast_to(np.arange(u)[None, :, None], qty_t.shape).reshape(-1)[keep]
    qty = np.asarray(from_ticks(qty_t.reshape(-1)[keep], float(rules.ticks.quantity_mw)))
    return EnergyBids.from_arrays(
        hours.reshape(-1)[keep], participants[cols], units[cols],
        np.full(cols.shape[0], side, dtype=np.int8), price.reshape(-1)[keep], qty,
        rules=rules, n_hours=total)


def load_bids(
    load_mw: np.ndarray,
    rules: MarketRules,
    *,
    price_responsive_share: float | np.ndarray = 0.0,
    block_prices: Sequence[float] | np.ndarray = (),
    participants: Sequence[str] | np.ndarray | None = None,
    hour_offset: int = 0,
    n_hours: int | None = None,
) -> EnergyBids:
    """Buy bids of loads from their hourly load.

    ``load_mw``: float64 (n_hours, n_loads) MW. ``price_responsive_share`` (scalar or
    (n_loads,), in [0, 1]) of each load is bid in equal blocks at ``block_prices`` (yuan/MWh,
    k prices, or (n_loads, k)); the rest at the cap. ``participants``: (n_loads,) names,
    default ``load-0``, ``load-1``, ... The blocks carry ``unit_id`` ''.
    """
    load = _hourly_matrix(load_mw, "load_mw")
    h, n_loads = load.shape
    share = np.broadcast_to(np.asarray(price_responsive_share, dtype=np.float64), (n_loads,))
    if not (np.isfinite(share).all() and (share >= 0).all() and (share <= 1).all()):
        raise EnergyInputError("price_responsive_share must be in [0, 1]")
    blocks = np.asarray(block_prices, dtype=np.float64)
    k = 0 if blocks.size == 0 else blocks.shape[-1]
    if k == 0 and (share > 0).any():
        raise EnergyInputError("a price-responsive share needs at least one block price")
    total = np.rint(load / float(rules.ticks.quantity_mw)).astype(np.int64)
    responsive = np.rint(total * share[None, :]).astype(np.int64)
    qty = np.zeros((h, n_loads, 1 + k), dtype=np.int64)
    qty[:, :, 0] = total - responsive
    if k:
        base, extra = np.divmod(responsive, k)
        qty[:, :, 1:] = base[:, :, None] + (np.arange(k)[None, None, :] < extra[:, :, None])
    price = np.empty((h, n_loads, 1 + k))
    price[:, :, 0] = float(rules.energy.price_cap_yuan_per_mwh)
    if k:
        price[:, :, 1:] = grid_prices(blocks, (n_loads, k), "block_prices", rules)[None]
    names = column_names(participants, n_loads, "participants", default="load")
    return assemble_bids(qty, price, names, np.full(n_loads, "", dtype=str), BUY, rules,
                         hour_offset, n_hours)


def renewable_offers(
    available_mw: np.ndarray,
    unit_ids: Sequence[str] | np.ndarray,
    owners: Sequence[str] | np.ndarray,
    price: float | np.ndarray = 0.0,
    *,
    rules: MarketRules,
    hour_offset: int = 0,
    n_hours: int | None = None,
) -> EnergyBids:
    """Sell offers of wind and solar units: all available output at ``price``.

    ``available_mw``: float64 (n_hours, n_units) MW (rounded down to the tick). ``price``:
    yuan/MWh, a scalar, (n_units,) or (n_hours, n_units); 0 by default, down to the floor.
    """
    avail = _hourly_matrix(available_mw, "available_mw")
    h, u = avail.shape
    units = column_names(unit_ids, u, "unit_ids")
    prices = grid_prices(price, (h, u), "price", rules)
    return assemble_bids(_down(avail, float(rules.ticks.quantity_mw))[:, :, None],
                         prices[:, :, None], column_names(owners, u, "owners"), units, SELL,
                         rules, hour_offset, n_hours)


def thermal_offers(
    capacity_mw: np.ndarray,
    marginal_cost: np.ndarray,
    unit_ids: Sequence[str] | np.ndarray,
    owners: Sequence[str] | np.ndarray,
    *,
    rules: MarketRules,
    n_hours: int | None = None,
    block_shares: np.ndarray | Sequence[float] | None = None,
    min_output_mw: np.ndarray | Sequence[float] | None = None,
    committed: np.ndarray | None = None,
    hour_offset: int = 0,
) -> EnergyBids:
    """Sell offers of thermal units in marginal-cost blocks.

    ``capacity_mw``: (n_units,) MW in every hour (the hours offered are ``committed``'s, else
    ``hour_offset .. n_hours - 1``), or (hours, n_units) MW available each hour.
    ``marginal_cost``: (n_units,) yuan/MWh for one block, or (n_units, k) for k blocks of
    ``block_shares`` (k,) or (n_units, k) shares of the offered capacity (non-negative,
    summing to 1; default equal). ``min_output_mw`` (n_units,) is offered at the floor in every
    hour the unit is ``committed`` ((hours, n_units) bool, default always); an uncommitted
    unit offers nothing in that hour.
    """
    cap_in = np.asarray(capacity_mw, dtype=np.float64)
    if cap_in.ndim == 1:
        if committed is not None:
            h = np.shape(committed)[0]
        elif n_hours is not None:
            h = n_hours - hour_offset
        else:
            raise EnergyInputError("give n_hours (or committed) with a per-unit capacity_mw")
        cap_in = np.broadcast_to(cap_in, (max(h, 0), cap_in.shape[0]))
    cap = _hourly_matrix(cap_in, "capacity_mw")
    h, u = cap.shape
    costs = np.asarray(marginal_cost, dtype=np.float64)
    costs = costs[:, None] if costs.ndim == 1 else costs
    if costs.ndim != 2 or costs.shape[0] != u:
        raise EnergyInputError(f"marginal_cost must be ({u},) or ({u}, k), got {costs.shape}")
    k = costs.shape[1]
    shares = np.full((u, k), 1.0 / k) if block_shares is None else np.broadcast_to(
        np.asarray(block_shares, dtype=np.float64), (u, k))
    if not ((shares >= 0).all() and np.allclose(shares.sum(axis=1), 1.0)):
        raise EnergyInputError("block_shares must be >= 0 and sum to 1 for every unit")
    on = np.ones((h, u), dtype=bool) if committed is None else np.asarray(committed, dtype=bool)
    if on.shape != (h, u):
        raise EnergyInputError(f"committed must have shape ({h}, {u}), got {on.shape}")
    tick = float(rules.ticks.quantity_mw)
    cap_t = np.where(on, _down(cap, tick), 0)
    min_t = np.zeros((h, u), dtype=np.int64)
    if min_output_mw is not None:
        mins = np.asarray(min_output_mw, dtype=np.float64)
        if mins.shape != (u,) or not (np.isfinite(mins).all() and (mins >= 0).all()):
            raise EnergyInputError(f"min_output_mw must be ({u},) finite MW >= 0")
        min_t = np.minimum(np.rint(mins / tick).astype(np.int64)[None, :], cap_t)
    rest = cap_t - min_t
    # Cumulative rounding down, so the blocks of a unit add up to its capacity exactly.
    edges = np.floor(rest[:, :, None] * np.cumsum(shares, axis=1)[None] + 1e-9).astype(np.int64)
    edges[:, :, -1] = rest
    qty = np.concatenate([min_t[:, :, None], np.diff(edges, axis=2, prepend=0)], axis=2)
    price = np.empty((h, u, 1 + k))
    price[:, :, 0] = float(rules.energy.price_floor_yuan_per_mwh)
    price[:, :, 1:] = grid_prices(costs, (u, k), "marginal_cost", rules)[None]
    return assemble_bids(qty, price, column_names(owners, u, "owners"),
                         column_names(unit_ids, u, "unit_ids"), SELL, rules, hour_offset, n_hours)
