"""Storage in the energy spot market: schedules that stay feasible, and the state of charge.

Independent storage trades as a generator when it discharges (a sell) and as a load when it
charges (a buy) (docs/DOMAIN.md). It earns no certificates: nothing here marks it renewable.

**State of charge** (SOC, MWh of stored energy) moves hour by hour as

    soc[h + 1] = soc[h] + efficiency x charge[h] - discharge[h]

with charge and discharge in MW held for one hour (= MWh at the meter), ``efficiency`` the
round-trip efficiency of ``rules.energy`` (0.85: the whole loss is booked when charging), and
0 <= soc <= E (energy capacity, MWh), charge and discharge <= P (power, MW), never both in one
hour, and at most ``storage_max_cycles_per_day`` full cycles a day, where a full cycle
discharges E MWh (so at most 1.5 E MWh discharged a calendar day; days are hour // 24).

**Feasible under any partial acceptance.** The auction may accept any part of each bid, hour by
hour, independently. The only bids that can never drive the SOC out of [0, E] whatever is
accepted are those of a window (a day) whose total discharge offered is at most the energy
already stored at the start of the window, and whose total charge bid, times the efficiency, is
at most the room left at the start: accepting less discharge only leaves more energy in, and
accepting less charge only leaves more room. :func:`clip_schedule` cuts a desired schedule to
exactly these budgets (in hour order, on the quantity tick grid, rounded down), to the power
limit and to the daily cycle limit; the caller turns the cut schedule into bids (the year's
runner in :mod:`agents.inprocess.window`, the game's bots in :mod:`agents.http.observe`).

So a multi-day run clears **day by day with the SOC carried**: build the day's bids from the
SOC at its start, clear the day (24 hours in one batched call), read the accepted charge and
discharge off the result, advance with :func:`track_soc`. The price of the guarantee is a lag:
energy charged in a window can be discharged only from the next window on. A caller wanting a
shorter lag clears shorter windows (e.g. two half days) the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from clearing.grid import FLOOR_SLACK_TICKS, HOURS_PER_DAY, from_ticks
from market.errors import EnergyInputError, StorageLimitError
from market.rules import MarketRules

#: SOC and limit checks of :func:`track_soc` allow this much float noise, MWh (1 Wh): a
#: physical tolerance on energy, not a fraction of a tick, so not one of clearing.grid's.
TOLERANCE_MWH = 1e-6


def _units(values: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.shape != (n,) and arr.shape == (1,):
        arr = np.full(n, arr[0])
    if arr.shape != (n,) or not np.isfinite(arr).all():
        raise EnergyInputError(f"{name} must be {n} finite numbers (one per unit), got "
                               f"{np.asarray(values).shape}")
    return arr


def _limits(soc_start_mwh: Any, energy_mwh: Any, power_mw: Any, n: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    soc0 = _units(soc_start_mwh, n, "soc_start_mwh")
    energy = _units(energy_mwh, n, "energy_mwh")
    power = _units(power_mw, n, "power_mw")
    problems = [f"unit {j}: energy_mwh {energy[j]!r} must be > 0" for j in
                np.flatnonzero(energy <= 0)]
    problems += [f"unit {j}: power_mw {power[j]!r} must be > 0" for j in
                 np.flatnonzero(power <= 0)]
    problems += [f"unit {j}: starting state of charge {soc0[j]!r} MWh is outside "
                 f"[0, {energy[j]:g}]" for j in
                 np.flatnonzero((soc0 < -TOLERANCE_MWH) | (soc0 > energy + TOLERANCE_MWH))]
    if problems:
        raise StorageLimitError(problems)
    return soc0, energy, power


def _days(n_hours: int, hour_offset: int) -> np.ndarray:
    return (hour_offset + np.arange(n_hours, dtype=np.int64)) // HOURS_PER_DAY


def _capped(x: np.ndarray, cap: np.ndarray, days: np.ndarray | None = None) -> np.ndarray:
    """Hour-by-hour amounts (int64 (H, U)) cut in hour order so that their running total
    (restarting each day when ``days`` is given) never exceeds ``cap`` (U,): the amounts
    ``y[h] = min(x[h], cap - sum(y[:h]))``, computed as differences of a capped cumsum."""
    cum = np.cumsum(x, axis=0)
    if days is not None:
        start = np.searchsorted(days, days, side="left")
        before = np.where((start > 0)[:, None], cum[np.maximum(start - 1, 0)], 0)
        cum = cum - before
        first = start == np.arange(days.shape[0])
    else:
        first = np.arange(x.shape[0]) == 0
    capped = np.minimum(cum, cap[None, :])
    prev = np.vstack([np.zeros((1, x.shape[1]), dtype=capped.dtype), capped[:-1]])
    return capped - np.where(first[:, None], 0, prev)


def clip_schedule(
    desired_mw: np.ndarray,
    soc_start_mwh: np.ndarray | float,
    energy_mwh: np.ndarray | float,
    power_mw: np.ndarray | float,
    rules: MarketRules,
    *,
    hour_offset: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a desired schedule to what is feasible under any partial acceptance.

    ``desired_mw``: float64 (n_hours, n_units) (or (n_hours,) for one unit), + discharge,
    - charge, MW. ``soc_start_mwh``, ``energy_mwh``, ``power_mw``: (n_units,) (or scalars).
    ``hour_offset`` is the absolute hour of row 0 (its day boundaries are hour // 24).
    Returns (discharge_mw, charge_mw), float64 of ``desired_mw``'s shape, >= 0, on the quantity
    grid: the window's discharge <= the SOC at its start, efficiency x its charge <= the room
    at its start, every hour <= P, each day's discharge <= max cycles x E.
    """
    desired = np.asarray(desired_mw, dtype=np.float64)
    one = desired.ndim == 1
    want = desired[:, None] if one else desired
    if want.ndim != 2 or not np.isfinite(want).all():
        raise EnergyInputError(f"desired_mw must be finite, shape (n_hours, n_units); got "
                               f"{desired.shape}")
    h, u = want.shape
    soc0, energy, power = _limits(soc_start_mwh, energy_mwh, power_mw, u)
    soc0 = np.clip(soc0, 0.0, energy)
    e = rules.energy
    tick = float(rules.ticks.quantity_mw)
    # Down to whole ticks with FLOOR_SLACK_TICKS of slack; divided by the tick (not scaled by
    # its integer inverse as clearing.grid.floor_ticks does), which the year's bytes rest on.
    slack = FLOOR_SLACK_TICKS
    p_t = np.floor(power / tick + slack).astype(np.int64)
    discharge = np.minimum(np.floor(np.maximum(want, 0) / tick + slack).astype(np.int64), p_t)
    charge = np.minimum(np.floor(np.maximum(-want, 0) / tick + slack).astype(np.int64), p_t)
    daily = np.floor(e.storage_max_cycles_per_day * energy / tick + slack).astype(np.int64)
    discharge = _capped(discharge, daily, _days(h, hour_offset))
    discharge = _capped(discharge, np.floor(soc0 / tick + slack).astype(np.int64))
    room = (energy - soc0) / e.storage_round_trip_efficiency
    charge = _capped(charge, np.floor(room / tick).astype(np.int64))
    out_d = np.asarray(from_ticks(discharge, tick))
    out_c = np.asarray(from_ticks(charge, tick))
    return (out_d[:, 0], out_c[:, 0]) if one else (out_d, out_c)


def track_soc(
    charge_mw: np.ndarray,
    discharge_mw: np.ndarray,
    soc_start_mwh: np.ndarray | float,
    energy_mwh: np.ndarray | float,
    power_mw: np.ndarray | float,
    rules: MarketRules,
    *,
    unit_ids: Sequence[str] | None = None,
    hour_offset: int = 0,
) -> np.ndarray:
    """The SOC path of storage units under an accepted dispatch; raise if it leaves the limits.

    ``charge_mw``, ``discharge_mw``: float64 (n_hours, n_units) (or (n_hours,) for one unit),
    MW accepted each hour. Returns the SOC in MWh, shape (n_hours + 1, n_units) (or
    (n_hours + 1,)): row 0 is the start, row h + 1 the SOC after hour h. Raises
    :class:`StorageLimitError` listing every violation (negative flows, power above P, charge
    and discharge in one hour, SOC outside [0, E], a day's discharge above max cycles x E),
    within :data:`TOLERANCE_MWH`. ``hour_offset`` is the absolute hour of row 0.
    """
    c = np.asarray(charge_mw, dtype=np.float64)
    d = np.asarray(discharge_mw, dtype=np.float64)
    one = c.ndim == 1
    c2, d2 = (c[:, None], d[:, None]) if one else (c, d)
    if c2.ndim != 2 or c2.shape != d2.shape or not (np.isfinite(c2).all()
                                                    and np.isfinite(d2).all()):
        raise EnergyInputError(f"charge_mw and discharge_mw must be finite and of one shape "
                               f"(n_hours, n_units); got {c.shape} and {d.shape}")
    h, u = c2.shape
    soc0, energy, power = _limits(soc_start_mwh, energy_mwh, power_mw, u)
    names = [str(x) for x in unit_ids] if unit_ids is not None else [str(j) for j in range(u)]
    e = rules.energy
    tol = TOLERANCE_MWH
    soc = np.vstack([soc0[None, :], soc0[None, :]
                     + np.cumsum(e.storage_round_trip_efficiency * c2 - d2, axis=0)])
    problems: list[str] = []

    def report(mask: np.ndarray, what: Any) -> None:
        for hh, j in np.argwhere(mask):
            problems.append(f"unit {names[j]}, hour {hour_offset + int(hh)}: {what(hh, j)}")

    report((c2 < 0) | (d2 < 0), lambda hh, j: f"negative flow (charge {c2[hh, j]:g}, "
                                              f"discharge {d2[hh, j]:g} MW)")
    report(c2 > power + tol, lambda hh, j: f"charges {c2[hh, j]:g} MW above power "
                                          f"{power[j]:g} MW")
    report(d2 > power + tol, lambda hh, j: f"discharges {d2[hh, j]:g} MW above power "
                                          f"{power[j]:g} MW")
    report((c2 > 0) & (d2 > 0), lambda hh, j: "charges and discharges in the same hour")
    report(soc[1:] < -tol, lambda hh, j: f"state of charge {soc[hh + 1, j]:.6f} MWh below 0")
    report(soc[1:] > energy + tol, lambda hh, j: f"state of charge {soc[hh + 1, j]:.6f} MWh "
                                                 f"above the energy {energy[j]:g} MWh")
    days = _days(h, hour_offset)
    first_of_day = np.flatnonzero(np.r_[True, days[1:] != days[:-1]]) if h else np.zeros(0, int)
    per_day = np.add.reduceat(d2, first_of_day, axis=0) if h else np.zeros((0, u))
    limit = e.storage_max_cycles_per_day * energy
    for k, j in np.argwhere(per_day > limit[None, :] + tol):
        problems.append(f"unit {names[j]}, day {int(days[first_of_day[k]])}: discharges "
                        f"{per_day[k, j]:g} MWh, more than {e.storage_max_cycles_per_day:g} "
                        f"full cycles ({limit[j]:g} MWh)")
    if problems:
        raise StorageLimitError(problems)
    return soc[:, 0] if one else soc
