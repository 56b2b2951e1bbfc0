"""Market-power metrics and the key figures studies compare: pure functions on arrays.

* **HHI** (Herfindahl-Hirschman index), 0-10,000: 10,000 x the sum of squared market shares of
  the owners, shares taken from accepted quantities (MWh in energy, MW in capacity).
* **Pivotal supplier**: an owner is pivotal in an hour when demand exceeds the supply offered
  by all other owners together (the market cannot clear without it).
* **Residual supply index** (RSI) of an hour: the minimum over owners of
  ``(total supply offered - owner's supply offered) / demand``; below 1 some owner is pivotal,
  below about 1.1 (the CAISO screen) the hour is tight.
* **Markup** of an offer: ``(offer price - marginal cost) / marginal cost``; an owner's markup is
  the quantity-weighted mean over its price-setting offers with a positive marginal cost (wind,
  solar and storage offer at zero cost, where a markup ratio is undefined; must-run blocks
  offered at the floor take any price and are left out too).

:func:`market_power` reads a year's result (anything with the ``bids``, ``hourly``,
``capacity`` and ``units`` fields of ``studies.year.run.YearResult``) and returns a JSON-able dict
that ``run_year`` puts in ``summary["market_power"]``. :data:`KEY_METRICS` and
:func:`summary_value` name the summary figures that comparisons and sweeps report;
:func:`seed_problems` checks the seeds every study runs over.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: The RSI below which an hour counts as tight (the CAISO screen of 1.1).
RSI_SCREEN = 1.1

#: Summary figures (dotted paths into ``YearResult.summary``) that comparisons and sweeps report.
KEY_METRICS: tuple[str, ...] = (
    "energy.avg_price_yuan_per_mwh",
    "energy.stress_hours",
    "capacity.clearing_price_yuan_per_kw_yr",
    "capacity.cleared_mw",
    "compensation.paid_yuan",
    "compensation.deducted_yuan",
    "green.certificates_issued",
    "green.certificates_retired",
    "green.avg_premium_yuan_per_mwh",
    "renewable_share",
    "consumer_cost_yuan.energy",
    "consumer_cost_yuan.capacity",
    "consumer_cost_yuan.compensation",
    "consumer_cost_yuan.total",
    "market_power.hhi.energy",
    "market_power.rsi.min",
)

_MISSING = object()


def summary_value(summary: Mapping[str, Any], path: str) -> float | None:
    """The number at the dotted ``path`` of a summary (``"energy.avg_price_yuan_per_mwh"``).

    ``None`` when the value is null (no capacity market, say) or not a finite number; a
    ``KeyError`` naming the path when the path is not in the summary at all.
    """
    node: Any = summary
    for part in path.split("."):
        if not isinstance(node, Mapping):
            raise KeyError(f"{path}: {part!r} is below a value that is not a table")
        node = node.get(part, _MISSING)
        if node is _MISSING:
            raise KeyError(f"{path}: no {part!r} in the summary")
        if node is None:
            return None
    if isinstance(node, bool):
        return float(node)
    if isinstance(node, int | float | np.integer | np.floating):
        value = float(node)
        return value if math.isfinite(value) else None
    raise KeyError(f"{path} is not a number (it holds a {type(node).__name__})")


# --------------------------------------------------------------------- concentration

def hhi(owners: np.ndarray | Sequence[str], quantities: np.ndarray | Sequence[float]) -> float:
    """HHI of the quantities grouped by owner, 0-10,000; NaN when nothing was traded.

    ``owners`` (n,) str and ``quantities`` (n,) float64 >= 0 (MW or MWh; one row per bid, unit
    or offer: rows of one owner are summed first).
    """
    q = np.asarray(quantities, dtype=np.float64)
    if q.size == 0:
        return math.nan
    _, codes = np.unique(np.asarray(owners), return_inverse=True)
    return _hhi_of_codes(codes.ravel(), q)


def _hhi_of_codes(codes: np.ndarray, q: np.ndarray) -> float:
    if q.size == 0:
        return math.nan
    by_owner = np.bincount(codes, weights=q)
    total = by_owner.sum()
    if not total > 0:
        return math.nan
    shares = by_owner / total
    return float(10_000.0 * np.sum(shares * shares))


# --------------------------------------------------------------------- pivotal suppliers

def supply_by_owner_hour(hour_pos: np.ndarray, owner_code: np.ndarray, quantity_mw: np.ndarray,
                         n_hours: int, n_owners: int) -> np.ndarray:
    """Offered MW summed per (hour, owner): float64 (n_hours, n_owners).

    ``hour_pos`` (n,) int positions 0..n_hours-1, ``owner_code`` (n,) int 0..n_owners-1,
    ``quantity_mw`` (n,) float64 offered MW of each sell row.
    """
    flat = np.asarray(hour_pos, dtype=np.int64) * n_owners + np.asarray(owner_code, np.int64)
    sums = np.bincount(flat, weights=np.asarray(quantity_mw, dtype=np.float64),
                       minlength=n_hours * n_owners)
    return sums.reshape(n_hours, n_owners)


def residual_supply(supply: np.ndarray, demand_mw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residual supply index per hour and the pivotal owners.

    ``supply`` float64 (n_hours, n_owners): MW offered by each owner; ``demand_mw`` float64
    (n_hours,). Returns ``rsi`` float64 (n_hours,): min over owners of
    ``(total - owner) / demand`` (NaN where demand is not positive), and ``pivotal`` bool
    (n_hours, n_owners): demand > the supply of all the other owners.
    """
    supply = np.asarray(supply, dtype=np.float64)
    demand = np.asarray(demand_mw, dtype=np.float64)
    if supply.ndim != 2 or demand.shape != (supply.shape[0],):
        raise ValueError(f"supply must be (n_hours, n_owners) and demand (n_hours,); got "
                         f"{supply.shape} and {demand.shape}")
    others = supply.sum(axis=1, keepdims=True) - supply
    positive = demand > 0
    pivotal = (demand[:, None] > others) & positive[:, None]
    rsi = np.full(demand.shape, np.nan)
    if supply.shape[1] and positive.any():
        rsi[positive] = others[positive].min(axis=1) / demand[positive]
    return rsi, pivotal


# --------------------------------------------------------------------- markups

def markup_by_owner(owners: np.ndarray | Sequence[str], price_yuan_per_mwh: np.ndarray,
                    marginal_cost_yuan_per_mwh: np.ndarray, weight_mw: np.ndarray
                    ) -> dict[str, float | None]:
    """Quantity-weighted mean markup ``(price - cost) / cost`` of each owner's offers.

    All inputs (n,): ``owners`` str, prices and marginal costs float64 yuan/MWh, ``weight_mw``
    float64 (offered or accepted MW). Left out: rows whose cost is not positive (zero-cost
    renewables and storage, NaN for loads), rows priced at or below zero (price-taking
    blocks: must-run output offered at the floor to stay on, which sets no price), and rows
    of zero weight; an owner with no row left gets ``None``. Keys are every owner present,
    sorted.
    """
    names, codes = np.unique(np.asarray(owners), return_inverse=True)
    return _markup_of_codes(names, codes.ravel(), price_yuan_per_mwh,
                            marginal_cost_yuan_per_mwh, weight_mw)


def _markup_of_codes(names: np.ndarray, codes: np.ndarray, price_yuan_per_mwh: np.ndarray,
                     marginal_cost_yuan_per_mwh: np.ndarray, weight_mw: np.ndarray
                     ) -> dict[str, float | None]:
    price = np.asarray(price_yuan_per_mwh, dtype=np.float64)
    cost = np.asarray(marginal_cost_yuan_per_mwh, dtype=np.float64)
    weight = np.asarray(weight_mw, dtype=np.float64)
    usable = np.isfinite(cost) & (cost > 0) & np.isfinite(price) & (price > 0) & (weight > 0)
    ratio = np.zeros(price.shape)
    ratio[usable] = (price[usable] - cost[usable]) / cost[usable]
    w = np.where(usable, weight, 0.0)
    num = np.bincount(codes, weights=w * ratio, minlength=names.size)
    den = np.bincount(codes, weights=w, minlength=names.size)
    return {str(n): (float(num[i] / den[i]) if den[i] > 0 else None)
            for i, n in enumerate(names.tolist())}


# --------------------------------------------------------------------- capacity

def capacity_accepted_mw(offer_mw: np.ndarray, offer_price: np.ndarray,
                         cleared_mw: float) -> np.ndarray:
    """Accepted MW of each capacity offer when ``cleared_mw`` cleared: float64 (n,).

    Offers are taken in price order, cheapest first; the offers at the marginal price share
    what is left pro rata to their MW (the clearing contract's tie rule). ``offer_mw`` (n,)
    float64 MW, ``offer_price`` (n,) float64 yuan/kW·yr.
    """
    mw = np.asarray(offer_mw, dtype=np.float64)
    price = np.asarray(offer_price, dtype=np.float64)
    accepted = np.zeros(mw.shape)
    left = min(float(cleared_mw), float(mw.sum())) if mw.size else 0.0
    for level in np.unique(price):  # few distinct prices; each level takes what it can
        if left <= 0:
            break
        at = price == level
        offered = float(mw[at].sum())
        if offered <= left:
            accepted[at] = mw[at]
            left -= offered
        else:
            accepted[at] = mw[at] * (left / offered)
            left = 0.0
    return accepted


# --------------------------------------------------------------------- the whole year

def _side_is_sell(side: np.ndarray) -> np.ndarray:
    side = np.asarray(side)
    if side.dtype.kind in "iuf":
        return side > 0
    return np.char.lower(side.astype(str)) == "sell"


def _name_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of str values (a str array, or an object
    array of str) by hashing instead of sorting millions of strings: pyarrow's dictionary
    encoding, then the few names sorted. Anything else (None, numbers) as ``str`` values, the
    sorting way."""
    import pyarrow as pa

    try:
        encoded = pa.array(values, type=pa.string()).dictionary_encode()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        encoded = None
    if encoded is None or encoded.null_count:
        names, codes = np.unique(values.astype(str), return_inverse=True)
        return names, codes.ravel()
    found = np.asarray(encoded.dictionary.to_pylist(), dtype=str)
    order = np.argsort(found, kind="stable")
    rank = np.empty(order.shape[0], dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    return found[order], rank[encoded.indices.to_numpy()]


def _json_number(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def market_power(result_like: Any) -> dict[str, Any]:
    """Market-power figures of one simulated year, as a JSON-able dict.

    Reads ``bids`` (per energy bid row: ``hour``, ``owner``, ``side``, ``price_yuan_per_mwh``,
    ``quantity_mw``, ``accepted_mw``, ``marginal_cost_yuan_per_mwh``), ``hourly`` (``hour``,
    ``stress``), ``capacity`` (``offers`` with ``unit_id``, ``mw``, ``price_yuan_per_kw_yr``,
    optionally ``accepted_mw``; ``cleared_mw``; or ``None``) and ``units`` (``unit_id``,
    ``owner``, ``technology``, ``energy_mwh``).

    Returns::

        {"hhi": {"energy", "energy_stress_hours", "capacity", "green"},   # 0-10,000 or None
         "stress_hours": int,
         "pivotal": {"share_of_stress_hours", "by_owner": {owner: share of stress hours}},
         "rsi": {"min", "mean", "share_below_screen", "screen"},        # over stress hours
         "markup": {"offered_by_owner", "accepted_by_owner": {owner: ratio or None},
                    "offered_all", "accepted_all"}}

    Energy shares are accepted sell MWh; green shares are the wind and solar MWh that earn
    certificates (the supply side of the certificate market). Pivotal and RSI use the MW each
    owner offered in the hour against the hour's demand, taken as the accepted buy MW (loads,
    storage charging and exports served). ``None`` stands for undefined (no stress hours, no
    capacity market).
    """
    bids = result_like.bids
    hourly = result_like.hourly
    units = result_like.units

    sell = _side_is_sell(bids["side"])
    owners_all = np.asarray(bids["owner"])
    if owners_all.dtype.kind not in "UO":  # str, or objects that _name_codes checks are str
        owners_all = owners_all.astype(str)
    hours_all = np.asarray(bids["hour"], dtype=np.int64)
    qty_all = np.asarray(bids["quantity_mw"], dtype=np.float64)
    acc_all = np.asarray(bids["accepted_mw"], dtype=np.float64)

    # Bid hours are positions of hourly["hour"] (searchsorted copes with any sorted labels).
    hour_labels = np.asarray(hourly["hour"], dtype=np.int64)
    order = np.argsort(hour_labels, kind="stable")
    pos_all = order[np.clip(np.searchsorted(hour_labels[order], hours_all), 0,
                            max(hour_labels.size - 1, 0))]
    stress = np.asarray(hourly["stress"], dtype=bool)
    n_hours = hour_labels.size
    row_stress = stress[pos_all] if n_hours else np.zeros(hours_all.shape, bool)

    # Owners are coded once: a year holds millions of bid rows and few owners.
    names, codes = _name_codes(owners_all[sell])
    s_acc = acc_all[sell]
    s_stress = row_stress[sell]
    hhi_energy = _hhi_of_codes(codes, s_acc)
    hhi_energy_stress = _hhi_of_codes(codes[s_stress], s_acc[s_stress])

    stress_pos = np.flatnonzero(stress)
    n_stress = int(stress_pos.size)
    pivotal_by_owner: dict[str, float | None] = {str(n): None for n in names.tolist()}
    rsi_block: dict[str, Any] = {"min": None, "mean": None, "share_below_screen": None,
                                 "screen": RSI_SCREEN}
    pivotal_share = None
    if n_stress and names.size:
        remap = np.full(n_hours, -1, dtype=np.int64)
        remap[stress_pos] = np.arange(n_stress)
        in_stress = sell & row_stress
        supply = supply_by_owner_hour(remap[pos_all[in_stress]], codes[s_stress],
                                      qty_all[in_stress], n_stress, names.size)
        buy_stress = ~sell & row_stress
        demand = np.bincount(remap[pos_all[buy_stress]], weights=acc_all[buy_stress],
                             minlength=n_stress)
        rsi, pivotal = residual_supply(supply, demand)
        pivotal_share = float(pivotal.any(axis=1).mean())
        pivotal_by_owner = {str(n): float(pivotal[:, i].mean())
                            for i, n in enumerate(names.tolist())}
        finite = rsi[np.isfinite(rsi)]
        if finite.size:
            rsi_block.update(min=float(finite.min()), mean=float(finite.mean()),
                             share_below_screen=float(np.mean(finite < RSI_SCREEN)))

    s_price = np.asarray(bids["price_yuan_per_mwh"], dtype=np.float64)[sell]
    s_cost = np.asarray(bids["marginal_cost_yuan_per_mwh"], dtype=np.float64)[sell]
    s_qty = qty_all[sell]
    fleet = np.zeros(codes.shape, dtype=np.int64)  # every offer as one owner: the fleet
    one = np.array(["all"])
    markup = {
        "offered_by_owner": _markup_of_codes(names, codes, s_price, s_cost, s_qty),
        "accepted_by_owner": _markup_of_codes(names, codes, s_price, s_cost, s_acc),
        "offered_all": _markup_of_codes(one, fleet, s_price, s_cost, s_qty).get("all"),
        "accepted_all": _markup_of_codes(one, fleet, s_price, s_cost, s_acc).get("all"),
    }

    unit_owner = dict(zip(np.asarray(units["unit_id"]).astype(str).tolist(),
                          np.asarray(units["owner"]).astype(str).tolist(), strict=True))
    hhi_capacity = None
    capacity = result_like.capacity
    if capacity is not None:
        offers = capacity["offers"]
        offer_units = np.asarray(offers["unit_id"]).astype(str)
        if "accepted_mw" in offers:
            accepted = np.asarray(offers["accepted_mw"], dtype=np.float64)
        else:
            accepted = capacity_accepted_mw(offers["mw"], offers["price_yuan_per_kw_yr"],
                                            float(capacity.get("cleared_mw") or 0.0))
        offer_owners = np.array([unit_owner.get(u, u) for u in offer_units.tolist()], dtype=str)
        hhi_capacity = _json_number(hhi(offer_owners, accepted))

    tech = np.asarray(units["technology"]).astype(str)
    green = np.isin(tech, ("wind", "solar"))
    hhi_green = hhi(np.asarray(units["owner"]).astype(str)[green],
                    np.asarray(units["energy_mwh"], dtype=np.float64)[green])

    return {
        "hhi": {"energy": _json_number(hhi_energy),
                "energy_stress_hours": _json_number(hhi_energy_stress),
                "capacity": hhi_capacity,
                "green": _json_number(hhi_green)},
        "stress_hours": n_stress,
        "pivotal": {"share_of_stress_hours": pivotal_share, "by_owner": pivotal_by_owner},
        "rsi": rsi_block,
        "markup": markup,
    }


def seed_problems(seeds: Sequence[int], at_least: str = "give at least one") -> list[str]:
    """What is wrong with the seeds of a study (compare, sweep, ``simulate --seeds``): none, a
    repeated one, a negative one; ``at_least`` completes the message for none."""
    problems = []
    if not seeds:
        problems.append(f"no seeds: {at_least}")
    if len(set(seeds)) != len(seeds):
        problems.append(f"seeds repeat: {list(seeds)}")
    if any(s < 0 for s in seeds):
        problems.append(f"seeds must be >= 0: {list(seeds)}")
    return problems
