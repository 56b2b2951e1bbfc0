"""Settlement of the energy spot market in the ledger: energy payments and storage compensation.

**Energy** (category ``energy``): the system operator pays each seller price x MWh and each
buyer pays the system operator price x MWh, at the hour's uniform price (a negative price turns
the payment round). Payments are summed per (period, participant, unit, side) exactly, in
integer half-price-tick x quantity-tick units, and rounded half-even to the fen once per
payment. In every hour accepted supply equals accepted demand at one price, so the exact
amounts cancel and the operator's net position is only fen rounding: at most half a fen per
payment (:attr:`EnergySettlement.system_operator_energy_fen`).

**Storage discharge compensation** (category ``storage_compensation``): the operator pays each
storage owner ``storage_discharge_compensation_yuan_per_mwh`` per MWh discharged (accepted
sells of the unit), counting at most ``storage_max_cycles_per_day`` full cycles a day -- one full
cycle discharges the unit's energy capacity E (MWh) -- in hour order within each day. The
caller names the storage units and their E; whether a unit's cohort is still within its
``storage_compensation_years`` is the caller's business (pass only eligible units).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from clearing.grid import GRID_TOLERANCE_TICKS, HOURS_PER_DAY
from market.energy.bids import SELL, EnergyBids
from market.energy.result import EnergyResult
from market.errors import EnergyInputError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger, round_half_even_div
from market.ledger.postings import Postings, split_fen


@dataclass(frozen=True)
class EnergySettlement:
    """What :func:`settle_energy` posted.

    * ``energy_payments``, ``storage_payments``: payments recorded (zero amounts skipped);
    * ``system_operator_energy_fen``: the operator's net from the energy payments, fen (only
      rounding: |value| <= energy_amounts / 2);
    * ``compensated_mwh``: storage MWh paid compensation, by unit id;
    * ``energy_amounts``: energy amounts rounded to the fen, including those that rounded to
      zero and so were not posted (each still leaves up to half a fen with the operator).
    """

    energy_payments: int
    storage_payments: int
    system_operator_energy_fen: int
    compensated_mwh: dict[str, float] = field(default_factory=dict)
    energy_amounts: int = 0


def _exact(value: float) -> Fraction:
    """The decimal a float was written as (0.01 -> 1/100), as a Fraction."""
    return Fraction(repr(float(value)))


def _periods(period_of_hour: Any, n_hours: int) -> np.ndarray:
    if isinstance(period_of_hour, str):
        periods = np.full(n_hours, period_of_hour, dtype=object).astype(str)
    else:
        periods = np.asarray(period_of_hour)
        if periods.shape != (n_hours,):
            raise EnergyInputError(f"period_of_hour must be one period or {n_hours} periods "
                                   f"(one per hour), got shape {periods.shape}")
        if periods.dtype.kind != "U":
            if not all(isinstance(p, str) for p in periods.tolist()):
                raise EnergyInputError("period_of_hour must hold strings such as '2025-01'")
            periods = periods.astype(str)
    empty = np.flatnonzero(periods == "")
    if empty.shape[0]:
        raise EnergyInputError(f"period_of_hour is empty for hour {int(empty[0])}")
    return periods


def _groups(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort order of rows by ``keys`` (first key most significant) and group starts."""
    order = np.lexsort(tuple(reversed(keys)))
    n = order.shape[0]
    if n == 0:
        return order, np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for key in keys:
        k = key[order]
        change[1:] |= k[1:] != k[:-1]
    return order, np.flatnonzero(change)


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    names, inverse = np.unique(values, return_inverse=True)
    return names, inverse.reshape(-1).astype(np.int64)


def settle_energy(
    result: EnergyResult,
    bids: EnergyBids,
    ledger: Ledger,
    period_of_hour: str | Sequence[str] | np.ndarray,
    *,
    storage_energy_mwh: Mapping[str, float] | None = None,
    day_of_hour: np.ndarray | None = None,
    memo: str = "spot energy",
) -> EnergySettlement:
    """Post the energy payments of ``result`` (and storage compensation) to ``ledger``.

    ``period_of_hour``: one period for every hour or one per hour (n_hours,), e.g. "2025-01".
    ``storage_energy_mwh``: energy capacity E (MWh) of each storage unit that earns discharge
    compensation, by unit id. ``day_of_hour`` (n_hours,) int numbers the day of each hour for
    the daily cycle cap (default: hour // 24). Everything is validated before anything is
    posted.
    """
    n = len(bids)
    if result.accepted_ticks.shape != (n,) or result.n_hours != bids.n_hours:
        raise EnergyInputError(f"the result has {result.accepted_ticks.shape[0]} rows for "
                               f"{result.n_hours} hours, the bids {n} rows for {bids.n_hours}; "
                               "settle the bids that were cleared")
    periods = _periods(period_of_hour, result.n_hours)
    energy = _energy_payments(result, bids, periods)
    storage = (None if storage_energy_mwh is None
               else _storage_payments(result, bids, periods, storage_energy_mwh, day_of_hour))
    n_energy = post_energy_payments(ledger, energy, memo)
    payer, payee, fen = energy[1], energy[2], energy[4]
    so_net = int(fen[payee == SYSTEM_OPERATOR].sum() - fen[payer == SYSTEM_OPERATOR].sum())
    n_amounts = int(fen.shape[0])
    if storage is None:
        return EnergySettlement(n_energy, 0, so_net, energy_amounts=n_amounts)
    n_storage = _post(ledger, storage[0], "storage discharge compensation",
                      Category.STORAGE_COMPENSATION)
    return EnergySettlement(n_energy, n_storage, so_net, storage[1], energy_amounts=n_amounts)


Payments = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""(period, payer, payee, unit, amount_fen) columns of payments to post."""


def _energy_payments(result: EnergyResult, bids: EnergyBids, periods: np.ndarray) -> Payments:
    rows = np.flatnonzero(result.accepted_ticks > 0)
    part_names, part = _codes(bids.participant[rows])
    unit_names, unit = _codes(bids.unit_id[rows])
    n_units = max(unit_names.shape[0], 1)
    # (participant, unit) pairs coded in the order of their names
    pairs, pair = np.unique(part * n_units + unit, return_inverse=True)
    return energy_payments(bids.hour[rows], pair.reshape(-1).astype(np.int64), bids.side[rows],
                           result.accepted_ticks[rows], result.price_half_ticks, periods,
                           part_names[pairs // n_units], unit_names[pairs % n_units],
                           bids.price_tick, bids.quantity_tick)


def energy_payments(hour: np.ndarray, pair: np.ndarray, side: np.ndarray,
                    accepted_ticks: np.ndarray, price_half_ticks: np.ndarray,
                    period_of_hour: np.ndarray, participant_of_pair: np.ndarray,
                    unit_of_pair: np.ndarray, price_tick: float, quantity_tick: float
                    ) -> Payments:
    """The energy payments of bid rows, grouped on integer codes (no sort of names).

    Rows (n,): ``hour``, ``pair`` (int64 code of the row's (participant, unit); the codes'
    numeric order must be the order of the names, ``participant_of_pair[code]`` and
    ``unit_of_pair[code]`` give them, '' for a load's block), ``side`` (+1 sell / -1 buy),
    ``accepted_ticks``; per hour: ``price_half_ticks`` and ``period_of_hour``. One payment per
    (period, participant, unit, side), summed exactly in half price ticks x quantity ticks and
    rounded half-even to the fen once, in that order. :func:`settle_energy` and the
    in-process year (which codes its actors once for millions of rows) both post these.
    """
    keep = accepted_ticks > 0
    hour, pair, side = hour[keep], pair[keep], side[keep]
    # Money to the participant in (half price tick x quantity tick): + for a seller at a
    # positive price, - for a buyer; exact int64.
    money = side.astype(np.int64) * price_half_ticks[hour] * accepted_ticks[keep]
    per_unit = _exact(price_tick) / 2 * _exact(quantity_tick) * 100  # fen per unit
    bound = float(np.abs(money).astype(np.float64).sum()) * per_unit.numerator
    if bound >= 2.0**62:
        raise EnergyInputError("energy amounts too large to sum exactly in int64; settle "
                               "fewer hours per call")
    # the hours' periods coded once (H names, not one per row): the same order of names
    period_names, period_of = _codes(np.asarray(period_of_hour))
    period = period_of[hour]
    n_pairs = max(int(participant_of_pair.shape[0]), 1)
    key = (period * n_pairs + pair) * 2 + (side > 0)
    keys, sums = _sum_by_key(key, money, 2 * n_pairs * max(len(period_names), 1))
    first = (keys // 2) % n_pairs
    fen = round_half_even_div(np.abs(sums) * per_unit.numerator, per_unit.denominator)
    who = np.asarray(participant_of_pair)[first].astype(object)
    so = np.full(first.shape[0], SYSTEM_OPERATOR, dtype=object)
    to_participant = sums > 0
    payer = np.where(to_participant, so, who)
    payee = np.where(to_participant, who, so)
    units = np.asarray(unit_of_pair)[first].astype(object)
    units[units == ""] = None
    return (period_names[keys // 2 // n_pairs], payer, payee, units, fen)


def _sum_by_key(key: np.ndarray, money: np.ndarray, n_keys: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``key`` values (int64 in [0, n_keys), ascending) and the exact int64 sum
    of ``money`` of each: what ``np.unique(key, return_inverse=True)`` and ``np.add.at`` give,
    by counting into a dense table when the key range is small (no sort of the rows)."""
    if n_keys <= 4 * key.shape[0] + (1 << 16):
        dense = np.zeros(n_keys, dtype=np.int64)
        np.add.at(dense, key, money)
        keys = np.flatnonzero(np.bincount(key, minlength=n_keys))
        return keys, dense[keys]
    keys, inverse = np.unique(key, return_inverse=True)
    sums = np.zeros(keys.shape[0], dtype=np.int64)
    np.add.at(sums, inverse.reshape(-1), money)
    return keys, sums


def post_energy_payments(ledger: Ledger, payments: Payments, memo: str = "spot energy") -> int:
    """Post payments from :func:`energy_payments` (category ``energy``); returns how many."""
    return _post(ledger, payments, memo, Category.ENERGY)


def _storage_payments(result: EnergyResult, bids: EnergyBids, periods: np.ndarray,
                      energy_mwh: Mapping[str, float], day_of_hour: np.ndarray | None
                      ) -> tuple[Payments, dict[str, float]]:
    capacity = {str(u): float(e) for u, e in energy_mwh.items()}
    bad = [u for u, e in capacity.items() if not (np.isfinite(e) and e > 0)]
    if bad:
        raise EnergyInputError(f"storage energy capacity must be a positive MWh; units {bad}")
    days = _days(day_of_hour, result.n_hours)
    rule = result.rules.energy
    is_storage = np.isin(bids.unit_id, np.array(sorted(capacity), dtype=str))
    rows = np.flatnonzero(is_storage & (bids.side == SELL) & (result.accepted_ticks > 0))
    unit_names, unit = _codes(bids.unit_id[rows])
    hours = bids.hour[rows]
    ticks = result.accepted_ticks[rows]
    # The daily cap in quantity ticks, with GRID_TOLERANCE_TICKS of slack so that
    # 1.5 x 1,600 MWh is 2,400,000 ticks (a value that close to a grid point is on it).
    cap_by_unit = np.array([np.floor(rule.storage_max_cycles_per_day * capacity[u]
                                     / bids.quantity_tick + GRID_TOLERANCE_TICKS)
                            for u in unit_names.tolist()],
                           dtype=np.int64)
    day = days[hours]
    order = np.lexsort((rows, hours, day, unit))  # by unit, then day, then hour
    keyed_u, keyed_d = unit[order], day[order]
    new_group = np.ones(order.shape[0], dtype=bool)  # a (unit, day) starts here
    new_group[1:] = (keyed_u[1:] != keyed_u[:-1]) | (keyed_d[1:] != keyed_d[:-1])
    t = ticks[order]
    cum = np.cumsum(t)
    group_id = np.cumsum(new_group) - 1
    before = (cum - t)[new_group][group_id]  # cumulative total before the group began
    cum_in_day = cum - before
    cap = cap_by_unit[keyed_u]
    paid = np.minimum(cum_in_day, cap) - np.minimum(cum_in_day - t, cap)
    comp_ticks = np.zeros(rows.shape[0], dtype=np.int64)
    comp_ticks[order] = paid
    keep = comp_ticks > 0
    rows, unit, hours, comp_ticks = rows[keep], unit[keep], hours[keep], comp_ticks[keep]
    part_names, part = _codes(bids.participant[rows])
    period_names, period = _codes(periods[hours])
    order, starts = _groups(period, part, unit)
    sums = (np.add.reduceat(comp_ticks[order], starts) if starts.shape[0]
            else comp_ticks[:0])
    first = order[starts]
    per_tick = _exact(rule.storage_discharge_compensation_yuan_per_mwh) * 100 \
        * _exact(bids.quantity_tick)  # fen per quantity tick discharged for one hour
    fen = round_half_even_div(sums * per_tick.numerator, per_tick.denominator)
    mwh = np.bincount(unit, weights=comp_ticks, minlength=unit_names.shape[0])
    compensated = {str(u): float(m) * bids.quantity_tick
                   for u, m in zip(unit_names.tolist(), mwh.tolist(), strict=True) if m > 0}
    payments = (period_names[period[first]],
                np.full(first.shape[0], SYSTEM_OPERATOR, dtype=object),
                part_names[part[first]].astype(object),
                unit_names[unit[first]].astype(object), fen)
    return payments, compensated


def _days(day_of_hour: np.ndarray | None, n_hours: int) -> np.ndarray:
    if day_of_hour is None:
        return np.arange(n_hours, dtype=np.int64) // HOURS_PER_DAY
    days = np.asarray(day_of_hour)
    if days.shape != (n_hours,) or days.dtype.kind not in "iu":
        raise EnergyInputError(f"day_of_hour must be {n_hours} integers (one per hour), got "
                               f"shape {days.shape} dtype {days.dtype}")
    return days.astype(np.int64)


def _post(ledger: Ledger, rows: Payments, memo: str, category: Category) -> int:
    period, payer, payee, unit, fen = rows
    if fen.shape[0] == 0:
        return 0
    return ledger.post_many(period, payer, payee, category, memo=memo, unit=unit,
                            amount_fen=fen)


STORAGE_RECOVERY_MEMO = "storage discharge compensation recovery"
#: How the operator recovers storage compensation (``energy.storage_compensation_recovery``).
RECOVERY_RULES = ("energy_share", "none")


def recover_storage_compensation(ledger: Ledger | Postings, periods: Sequence[str],
                                 paid_fen: Sequence[int], payers: Sequence[str],
                                 load_mwh: np.ndarray,
                                 units: Sequence[str | None] | None = None) -> None:
    """Charge the storage compensation the operator paid in each period (``paid_fen``, fen)
    to the loads by their MWh in that period (``load_mwh`` float64 (n_loads, len(periods))),
    payer -> system operator, category ``cost_allocation``, exactly to the fen."""
    mwh = np.asarray(load_mwh, dtype=np.float64)
    batch = ledger if isinstance(ledger, Postings) else Postings()
    for j, period in enumerate(periods):
        paid = int(paid_fen[j])
        if paid <= 0:
            continue
        share = split_fen(paid, mwh[:, j], "storage compensation recovery", EnergyInputError)
        batch.add(period, payers, [SYSTEM_OPERATOR] * len(payers), Category.COST_ALLOCATION,
                  share, STORAGE_RECOVERY_MEMO, units)
    if not isinstance(ledger, Postings):
        batch.post(ledger)
