"""Storage strategies: ``storage_optimal`` (the default: an exact schedule, see
:func:`optimal_schedule`) and ``storage_arbitrage`` (a rule of thumb, below).

The observation is one clearing window of hours (W) for the owner's storage units (U) with
their state of charge, and a forecast that runs past the window (``lookahead``), so that the
strategy can value the energy it stores for later. The decision is a desired schedule
(+ discharge, - charge, MW) with the price limits of each hour's offer and bid; the market's
:func:`market.energy.storage.clip_schedule` cuts it to what stays feasible under any partial
acceptance (the energy discharged in a window is the energy stored at its start).

The ``storage_arbitrage`` rule [E]: over the window and the lookahead, ``high`` is the mean
of the ``E / P`` dearest forecast hours and ``low`` the mean of the ``E / P`` cheapest. A
stored MWh is worth ``high``; a MWh bought costs ``low / efficiency`` of delivered energy.
Discharge in the window's dearest hours whose forecast clears ``low / efficiency`` by the
``margin`` share, offering at that price (never sell below the cost of buying back); charge in
its cheapest hours below ``high x efficiency`` less the margin, bidding that price (never pay
more than the energy is worth). It ignores the discharge compensation, the cycle cap beyond
the window and capacity obligations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from agents.strategies.base import Strategy, price_grid, register_strategy
from agents.strategies.capacity import truthful_capacity
from clearing.grid import HOURS_PER_DAY
from market.errors import StrategyError
from market.rules import MarketRules, StorageArbitrageParams

#: Hours a schedule needs are rounded *up* after subtracting this much: an E / P that is a whole
#: number of hours in decimal (1,600 / 400) is not counted one hour too many for float noise.
#: A count of hours, not a grid tick, so it is not one of clearing.grid's slacks.
HOURS_SLACK = 1e-9


@dataclass(frozen=True, eq=False)
class StorageObservation:
    """A storage owner before a window's gate closes.

    * ``hours``: int64 (W,); ``unit_ids``: str (U,);
    * ``soc_mwh``, ``energy_mwh``, ``power_mw``: float64 (U,), state of charge at the start
      of the window, energy capacity E and power P;
    * ``price_forecast_yuan_per_mwh``: float64 (W,); ``lookahead_yuan_per_mwh``: float64 (L,),
      the forecast of the hours after the window (may be empty);
    * ``stress_forecast``: bool (W + L,), the hours the owner forecasts as stress hours
      (``None``: those whose forecast price reaches the stress threshold);
    * ``obligation_mw``: float64 (U,), accredited MW each unit is committed for in the capacity
      auction (``None``: none);
    * ``discharged_today_mwh``: float64 (U,), MWh each unit already discharged on the window's
      day (counts against the daily cycle cap; ``None``: none).
    """

    owner: str
    hours: np.ndarray
    unit_ids: np.ndarray
    soc_mwh: np.ndarray
    energy_mwh: np.ndarray
    power_mw: np.ndarray
    price_forecast_yuan_per_mwh: np.ndarray
    lookahead_yuan_per_mwh: np.ndarray
    state: Any = None
    stress_forecast: np.ndarray | None = None
    obligation_mw: np.ndarray | None = None
    discharged_today_mwh: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class StorageSchedule:
    """``desired_mw`` float64 (W, U): + discharge, - charge; ``discharge_price`` and
    ``charge_price`` float64 (W, U), yuan/MWh, the limits of the sell and buy."""

    desired_mw: np.ndarray
    discharge_price_yuan_per_mwh: np.ndarray
    charge_price_yuan_per_mwh: np.ndarray
    state: Any = None


def _mean_extreme(prices: np.ndarray, n: np.ndarray, dearest: bool) -> np.ndarray:
    """Mean of the n (per unit, (U,)) dearest or cheapest of ``prices`` (sorted ascending)."""
    k = np.clip(n, 1, prices.shape[0])
    cum = np.concatenate([[0.0], np.cumsum(prices if not dearest else prices[::-1])])
    return cum[k] / k


def arbitrage_schedule(obs: StorageObservation, rules: MarketRules, rng: np.random.Generator,
                       params: Mapping[str, Any]) -> StorageSchedule:
    """The arbitrage rule of the module docstring, vectorised over hours and units."""
    w = obs.hours.shape[0]
    forecast = np.asarray(obs.price_forecast_yuan_per_mwh, dtype=np.float64)
    if forecast.shape != (w,):
        raise StrategyError(f"storage forecast must have one price per window hour ({w}), "
                            f"got shape {forecast.shape}")
    margin = float(params["margin"])
    eff = rules.energy.storage_round_trip_efficiency
    power = np.asarray(obs.power_mw, dtype=np.float64)
    energy = np.asarray(obs.energy_mwh, dtype=np.float64)
    soc = np.asarray(obs.soc_mwh, dtype=np.float64)
    p_safe = np.where(power > 0, power, 1.0)
    horizon = np.sort(np.concatenate([forecast, np.asarray(obs.lookahead_yuan_per_mwh,
                                                           dtype=np.float64)]))
    n_full = np.ceil(energy / p_safe - HOURS_SLACK).astype(np.int64)
    high = _mean_extreme(horizon, n_full, dearest=True)
    low = _mean_extreme(horizon, n_full, dearest=False)
    sell_at = np.maximum(low, 0.0) / eff * (1.0 + margin)
    buy_at = high * eff * (1.0 - margin)
    # Rank hours dearest first (ties to the earlier hour); discharge the top ceil(SOC / P).
    order = np.argsort(-forecast, kind="stable")
    rank = np.empty(w, dtype=np.int64)
    rank[order] = np.arange(w)
    n_dis = np.where(power > 0, np.ceil(soc / p_safe - HOURS_SLACK), 0).astype(np.int64)
    dis = (rank[:, None] < n_dis[None, :]) & (forecast[:, None] >= sell_at[None, :])
    # Charge in the cheapest remaining hours below buy_at, as many as the room needs.
    n_chg = np.where(power > 0, np.ceil((energy - soc) / eff / p_safe - HOURS_SLACK), 0)
    cheap = order[::-1]
    candidate = (~dis[cheap]) & (forecast[cheap][:, None] <= buy_at[None, :])
    take = candidate & (np.cumsum(candidate, axis=0) <= n_chg[None, :])
    chg = np.zeros_like(dis)
    chg[cheap] = take
    desired = np.where(dis, power[None, :], np.where(chg, -power[None, :], 0.0))
    shape = desired.shape
    return StorageSchedule(desired, price_grid(np.broadcast_to(sell_at, shape), rules),
                           price_grid(np.broadcast_to(buy_at, shape), rules))


register_strategy(Strategy(
    "storage_arbitrage", "storage", arbitrage_schedule, truthful_capacity,
    defaults=StorageArbitrageParams().model_dump(),
    description="charges in the cheapest forecast hours, discharges in the dearest, with "
                "opportunity-cost price limits; capacity at net going-forward cost"))


# --------------------------------------------------------------------- the optimal schedule
#
# storage_optimal: a linear programme per window over the window and its lookahead, solved
# exactly by HiGHS (the model and options of scipy.optimize.linprog(method="highs"), passed to
# SciPy's HiGHS binding directly: _solve_lp). See optimal_schedule's docstring.

#: Memo of solved programmes (inputs -> solution), so that owners with identical units and
#: states in one window solve once. A pure function's cache: the key is every input.
_SOLVED: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
_SOLVED_MAX = 512
#: Planned MW (per MW of power) below this are no trade when reading the plan's later hours.
PLAN_MW = 1e-6
#: Decimals of the state (MWh per MW of power, i.e. hours) a programme is solved for: 0.001 h
#: is 0.4 MWh of a 400 MW unit.
STATE_DIGITS = 3


def forecast_stress(price: np.ndarray, rules: MarketRules) -> np.ndarray:
    """bool (H,): hours a forecast marks as stress hours, the price reaching
    ``energy.stress_price_threshold_yuan_per_mwh``."""
    return np.asarray(price, dtype=np.float64) >= rules.energy.stress_price_threshold_yuan_per_mwh


def window_ids(hours: np.ndarray, starts: tuple[int, ...]) -> np.ndarray:
    """int64 (T,): the clearing window of each absolute hour (0 for the first), windows starting
    at midnight and at the hours of the day ``starts`` (and at ``hours[0]``)."""
    hod = np.asarray(hours, dtype=np.int64) % HOURS_PER_DAY
    first = np.isin(hod, np.asarray(sorted(set(starts) | {0}), dtype=np.int64))
    first[:1] = True
    return np.cumsum(first) - 1


def end_value(price: np.ndarray, rules: MarketRules) -> float:
    """yuan per MWh still stored at the end of a forecast ``price``: what it costs to buy back
    (the cheapest price of the last 24 hours / eff), at most what it could be sold for there
    (the dearest + compensation - degradation), at least 0."""
    e = rules.energy
    tail = np.asarray(price[-HOURS_PER_DAY:], dtype=np.float64)
    if tail.size == 0:
        return 0.0
    sold = float(tail.max()) + e.storage_discharge_compensation_yuan_per_mwh \
        - e.storage_degradation_cost_yuan_per_mwh
    return max(min(float(tail.min()) / e.storage_round_trip_efficiency, sold), 0.0)


ROW_POWER, ROW_SOLD_FIRST, ROW_ROOM_FIRST, ROW_SOLD, ROW_ROOM = 0, 1, 2, 3, 4
ROW_DAY_FIRST, ROW_DAY, ROW_OWED_FIRST, ROW_OWED = 5, 6, 7, 8


@lru_cache(maxsize=256)
def _structure(t_n: int, hod0: int, starts: tuple[int, ...], eff: float,
               owe: tuple[int, ...], basis: str) -> tuple[Any, Any, np.ndarray]:
    """The constraint matrices of :func:`solve_schedule`'s programme (they depend on the
    layout of hours, windows and owed hours only) and the kind of each inequality row
    (``ROW_*``), from which a call sets the right-hand side. Variables: d (T), c (T), s (T),
    z (one per owed hour)."""
    from scipy.sparse import coo_matrix

    n_z = len(owe)
    d0, c0, s0, z0 = 0, t_n, 2 * t_n, 3 * t_n
    n_var = 3 * t_n + n_z
    r = np.arange(t_n)
    ones = np.ones(t_n)
    # equalities: s_t - s_(t-1) - eff c_t + d_t = 0 (s_(-1) = soc on the right)
    eq = coo_matrix((np.concatenate([ones, -eff * ones, ones, -ones[1:]]),
                     (np.concatenate([r, r, r, r[1:]]),
                      np.concatenate([s0 + r, c0 + r, d0 + r, s0 + r[:-1]]))),
                    shape=(t_n, n_var)).tocsr()
    rows: list[np.ndarray] = [r, r]
    cols: list[np.ndarray] = [d0 + r, c0 + r]
    vals: list[np.ndarray] = [ones, ones]
    kind: list[int] = [ROW_POWER] * t_n  # d_t + c_t <= 1
    k = t_n
    hours = hod0 + r
    wid = window_ids(hours, starts)
    # window budgets: sum_w d <= s_(a-1); eff sum_w c + s_(a-1) <= E (s_(-1) = soc)
    for w in range(int(wid[-1]) + 1):
        idx = np.flatnonzero(wid == w)
        a = int(idx[0])
        rows += [np.full(idx.shape[0], k), np.full(idx.shape[0], k + 1)]
        cols += [d0 + idx, c0 + idx]
        vals += [np.ones(idx.shape[0]), np.full(idx.shape[0], eff)]
        if a == 0:
            kind += [ROW_SOLD_FIRST, ROW_ROOM_FIRST]
        else:
            rows += [np.array([k, k + 1])]
            cols += [np.array([s0 + a - 1, s0 + a - 1])]
            vals += [np.array([-1.0, 1.0])]
            kind += [ROW_SOLD, ROW_ROOM]
        k += 2
    # the cycle cap of each calendar day
    day = hours // HOURS_PER_DAY
    for dd in np.unique(day).tolist():
        idx = np.flatnonzero(day == dd)
        rows.append(np.full(idx.shape[0], k))
        cols.append(d0 + idx)
        vals.append(np.ones(idx.shape[0]))
        kind.append(ROW_DAY_FIRST if dd == day[0] else ROW_DAY)
        k += 1
    if n_z and basis == "dispatched":
        # -(d_t - c_t) - z_t <= -obligation
        at = np.asarray(owe, dtype=np.int64)
        zr = k + np.arange(n_z)
        rows += [zr, zr, zr]
        cols += [d0 + at, c0 + at, z0 + np.arange(n_z)]
        vals += [-np.ones(n_z), np.ones(n_z), -np.ones(n_z)]
        kind += [ROW_OWED] * n_z
        k += n_z
    elif n_z:
        # delivered = the charge at the window's start less what the window sold before t:
        # sum_(a <= tau < t) d_tau - s_(a-1) - z_t <= -obligation (s_(-1) = soc)
        for i, t in enumerate(owe):
            a = int(np.flatnonzero(wid == wid[t])[0])
            before = np.arange(a, t)
            rows += [np.full(before.shape[0] + 1, k)]
            cols += [np.concatenate([d0 + before, [z0 + i]])]
            vals += [np.concatenate([np.ones(before.shape[0]), [-1.0]])]
            if a == 0:
                kind.append(ROW_OWED_FIRST)
            else:
                rows.append(np.array([k]))
                cols.append(np.array([s0 + a - 1]))
                vals.append(np.array([-1.0]))
                kind.append(ROW_OWED)
            k += 1
    ub = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                    shape=(k, n_var)).tocsr()
    return eq, ub, np.asarray(kind, dtype=np.int64)


@lru_cache(maxsize=256)
def _stacked(t_n: int, hod0: int, starts: tuple[int, ...], eff: float,
             owe: tuple[int, ...], basis: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inequality rows over the equality rows of :func:`_structure` as one CSC matrix
    (indptr, indices, data), built exactly as ``scipy.optimize.linprog`` builds what it hands
    to HiGHS (float COO copies, stacked, to CSC), so that :func:`_solve_lp` passes HiGHS the
    same model."""
    from scipy.sparse import coo_array, csc_array, vstack

    eq, ub, _ = _structure(t_n, hod0, starts, eff, owe, basis)
    a = csc_array(vstack((coo_array(ub, dtype=float, copy=True),
                          coo_array(eq, dtype=float, copy=True))))
    return a.indptr, a.indices, a.data


def _highs_core() -> Any:
    """SciPy's own binding of HiGHS (the solver behind ``linprog(method="highs")``), or
    ``None`` when this SciPy does not ship it where expected.

    The binding is one self-contained extension module; it is loaded from its file, so that
    the year does not import the whole of ``scipy.optimize`` (about 0.5 s) for it. Failing
    that, it is imported the ordinary way."""
    import importlib.machinery
    import importlib.util

    name = "scipy.optimize._highspy._core"
    try:
        scipy_spec = importlib.util.find_spec("scipy")
        folder = Path(str(scipy_spec.origin)).parent / "optimize" / "_highspy"  # type: ignore
        files = [f for f in sorted(folder.glob("_core.*"))
                 if f.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))]
        loader = importlib.machinery.ExtensionFileLoader(name, str(files[0]))
        spec = importlib.util.spec_from_loader(name, loader)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        loader.exec_module(module)
        return module
    except Exception:  # noqa: BLE001 - any other layout: the ordinary import below
        pass
    try:
        from scipy.optimize._highspy import _core
    except ImportError:  # another SciPy layout: linprog is used instead
        return None
    return _core


#: SciPy's HiGHS binding, loaded at the first programme (:func:`_highs_core`); ``None``: absent.
_CORE: Any = ...


def _solve_lp(cost: np.ndarray, a: tuple[np.ndarray, np.ndarray, np.ndarray],
              n_ub: int, b_ub: np.ndarray, b_eq: np.ndarray, lower: np.ndarray,
              upper: np.ndarray) -> tuple[np.ndarray, np.ndarray] | str:
    """Minimise ``cost @ x`` subject to ``A[:n_ub] x <= b_ub``, ``A[n_ub:] x = b_eq``,
    ``lower <= x <= upper``, by HiGHS's dual simplex without presolve: the model, options and
    solver ``linprog(..., method="highs", options={"presolve": False})`` use, without its
    per-call input checks and option parsing (about 2 ms a call). Returns (x, the equality
    rows' duals) or the solver's status message when the model is not solved to optimality."""
    h = _CORE
    indptr, indices, data = a
    n_col, n_row = cost.shape[0], n_ub + b_eq.shape[0]
    lp = h.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = n_row
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = n_row
    lp.a_matrix_.format_ = h.MatrixFormat.kColwise
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = np.concatenate((np.full(n_ub, -np.inf), b_eq))
    lp.row_upper_ = np.concatenate((b_ub, b_eq))
    lp.a_matrix_.start_ = indptr
    lp.a_matrix_.index_ = indices
    lp.a_matrix_.value_ = data
    highs = h._Highs()
    options = h.HighsOptions()
    options.presolve = "off"
    options.highs_debug_level = h.HighsDebugLevel.kHighsDebugLevelNone
    options.log_to_console = False
    options.output_flag = False
    options.simplex_strategy = h.simplex_constants.SimplexStrategy.kSimplexStrategyDual
    if highs.passOptions(options) == h.HighsStatus.kError \
            or highs.passModel(lp) == h.HighsStatus.kError \
            or highs.run() == h.HighsStatus.kError:
        return highs.modelStatusToString(highs.getModelStatus())
    status = highs.getModelStatus()
    if status != h.HighsModelStatus.kOptimal:
        return highs.modelStatusToString(status)
    solution = highs.getSolution()
    return np.array(solution.col_value), np.array(solution.row_dual)[n_ub:]


def solve_schedule(price: np.ndarray, hour0: int, soc: float, energy: float,
                   done_today: float, obligation: float, stress: np.ndarray,
                   rules: MarketRules, window_hours: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The optimal discharge and charge (MW, float64 (T,)) of one unit of 1 MW power (callers
    scale by P) over ``price`` (T,) of absolute hours ``hour0`` .. ``hour0 + T - 1``, and the
    value (yuan, float64 (window_hours,)) of one more MWh stored after each hour of the
    window (minus the dual of the hour's balance row).

    Maximise  sum_t (p_t + comp - deg) d_t - p_t c_t - pen z_t + v_T s_T  subject to

    * s_t = s_(t-1) + eff c_t - d_t, 0 <= s_t <= E, s_(-1) = soc; 0 <= d_t, c_t; d_t + c_t <= 1
      (one direction at a time, relaxed);
    * the market's window budgets (:func:`market.energy.storage.clip_schedule`): in each
      clearing window k (``agents.runner.window_start_hours``) the discharge is at most the
      state of charge at its start and eff x the charge at most the room left;
    * each calendar day's discharge at most ``storage_max_cycles_per_day`` x E (less
      ``done_today`` on the first day);
    * in a forecast ``stress`` hour, a unit holding ``obligation`` MW owes it: delivered +
      z_t >= obligation, and each MWh short costs the penalty rate
      ``capacity.penalty_rate_yuan_per_mwh()``. Delivered is d_t - c_t when
      ``capacity.performance_basis`` is "dispatched"; when it is "available" (discharge plus
      what it could still discharge, d_t + s_t), the unit counts only on the charge it holds
      at the window's start less what the window sold before t, never on a charge bid in the
      same window, which may not clear;
    * energy left at the end is worth v_T (:func:`end_value`).
    """
    e = rules.energy
    eff, comp = e.storage_round_trip_efficiency, e.storage_discharge_compensation_yuan_per_mwh
    deg = e.storage_degradation_cost_yuan_per_mwh
    key = (price.tobytes(), hour0, soc, energy, done_today, obligation, stress.tobytes(),
           window_hours, eff, comp, deg, e.storage_max_cycles_per_day,
           rules.agents.runner.window_start_hours, rules.capacity.performance_basis,
           rules.capacity.penalty_rate_yuan_per_mwh() if obligation > 0 else 0.0)
    hit = _SOLVED.get(key)
    if hit is not None:
        return hit
    t_n = price.shape[0]
    owe = np.flatnonzero(stress) if obligation > 0 else np.zeros(0, dtype=np.int64)
    n_z = owe.shape[0]
    d0, c0, s0, z0 = 0, t_n, 2 * t_n, 3 * t_n
    n_var = 3 * t_n + n_z
    layout = (t_n, hour0 % HOURS_PER_DAY, rules.agents.runner.window_start_hours, eff,
              tuple(owe.tolist()), rules.capacity.performance_basis)
    eq, ub, kind = _structure(*layout)
    b_eq = np.zeros(t_n)
    b_eq[0] = soc
    cyc = e.storage_max_cycles_per_day * energy
    # the right-hand side of each row, by its kind (see _structure)
    b_ub = np.select(
        [kind == ROW_POWER, kind == ROW_SOLD_FIRST, kind == ROW_ROOM_FIRST, kind == ROW_SOLD,
         kind == ROW_ROOM, kind == ROW_DAY_FIRST, kind == ROW_DAY, kind == ROW_OWED_FIRST],
        [1.0, soc, energy - soc, 0.0, energy, max(cyc - done_today, 0.0), cyc,
         soc - obligation], -obligation)
    cost = np.zeros(n_var)
    cost[d0:d0 + t_n] = -(price + comp - deg)
    cost[c0:c0 + t_n] = price
    cost[s0 + t_n - 1] -= end_value(price, rules)
    if n_z:
        cost[z0:] = rules.capacity.penalty_rate_yuan_per_mwh()
    bounds = np.zeros((n_var, 2))
    bounds[:2 * t_n, 1] = 1.0
    bounds[s0:s0 + t_n, 1] = energy
    bounds[z0:, 1] = np.inf
    global _CORE
    if _CORE is ...:
        _CORE = _highs_core()
    if _CORE is None:
        from scipy.optimize import linprog

        res = linprog(cost, A_ub=ub, b_ub=b_ub, A_eq=eq, b_eq=b_eq, bounds=bounds,
                      method="highs", options={"presolve": False})
        if res.status != 0:
            raise StrategyError(f"storage schedule: the programme failed ({res.message})")
        x, duals = res.x, res.eqlin.marginals
    else:
        solved = _solve_lp(cost, _stacked(*layout), ub.shape[0], b_ub, b_eq,
                           bounds[:, 0].copy(), bounds[:, 1].copy())
        if isinstance(solved, str):
            raise StrategyError(f"storage schedule: the programme failed ({solved})")
        x, duals = solved
    dis = np.clip(x[d0:d0 + t_n], 0.0, 1.0)
    chg = np.clip(x[c0:c0 + t_n], 0.0, 1.0)
    # value of a MWh more after each hour of the window: minus the dual of its balance row
    value = -np.asarray(duals[:window_hours], dtype=np.float64)
    out = (dis, chg, value)
    if len(_SOLVED) >= _SOLVED_MAX:
        _SOLVED.clear()
    _SOLVED[key] = out
    return out


def optimal_schedule(obs: StorageObservation, rules: MarketRules, rng: np.random.Generator,
                     params: Mapping[str, Any]) -> StorageSchedule:
    """Charge and discharge to maximise energy margin + discharge compensation - degradation
    (``energy.storage_degradation_cost_yuan_per_mwh``) over the window and its lookahead, from
    the forecast, within power, energy, round-trip efficiency, the daily cycle cap and the
    market's window budgets, keeping charge for the forecast stress hours when the unit holds a
    capacity obligation (:func:`solve_schedule`, one exact linear programme per unit state).

    The window's part of the optimum is the desired schedule. Price limits (reservation
    prices of the plan): a charge is bid at ``eff x`` what the plan's later sales earn (the
    least of them, with compensation less degradation), never paying more than the energy
    is worth; a discharge is offered at what the plan's later purchases cost per MWh stored
    (the dearest, / eff) ``- compensation + degradation``, never selling for less than it
    costs to buy the energy back. Without later sales or purchases in the plan the
    programme's dual ``v_t`` (value of a MWh stored after hour t) stands in. A unit owing its
    obligation by dispatch offers at the floor in a forecast stress hour. The offer is at
    most, and the bid at least, the hour's forecast, so the schedule clears at its own
    forecast; a unit owing MW in a forecast stress hour of the lookahead
    (``agents.runner.storage_lookahead_hours``) bids its charge at the cap (short, it would pay
    the penalty rate, which is above the cap); all clipped to the floor and cap.
    """
    w = obs.hours.shape[0]
    forecast = np.asarray(obs.price_forecast_yuan_per_mwh, dtype=np.float64)
    if forecast.shape != (w,):
        raise StrategyError(f"storage forecast must have one price per window hour ({w}), "
                            f"got shape {forecast.shape}")
    horizon = np.concatenate([forecast, np.asarray(obs.lookahead_yuan_per_mwh,
                                                   dtype=np.float64)])
    stress = (forecast_stress(horizon, rules) if obs.stress_forecast is None
              else np.asarray(obs.stress_forecast, dtype=bool))
    if stress.shape != horizon.shape:
        raise StrategyError(f"stress_forecast must have one flag per window and lookahead hour "
                            f"({horizon.shape[0]}), got shape {stress.shape}")
    u = obs.unit_ids.shape[0]
    power = np.asarray(obs.power_mw, dtype=np.float64)
    energy = np.asarray(obs.energy_mwh, dtype=np.float64)
    soc = np.asarray(obs.soc_mwh, dtype=np.float64)
    done = (np.zeros(u) if obs.discharged_today_mwh is None
            else np.asarray(obs.discharged_today_mwh, dtype=np.float64))
    owed = (np.zeros(u) if obs.obligation_mw is None
            else np.asarray(obs.obligation_mw, dtype=np.float64))
    e = rules.energy
    desired = np.zeros((w, u))
    value = np.zeros((w, u))
    earns = np.full(u, np.nan)  # the least a later planned sale earns, yuan per MWh stored
    costs = np.full(u, np.nan)  # the most a later planned purchase costs, per MWh stored
    hour0 = int(obs.hours[0]) if w else 0
    # Units in the same state (in hours of power) share one programme and its reading: solved
    # and read once per state, in the order the states first appear.
    plans: dict[tuple[float, float, float, float],
                tuple[np.ndarray, np.ndarray, float, float]] = {}
    later = horizon[w:]
    for j, (p, s_j, e_j, d_j, o_j) in enumerate(zip(
            power.tolist(), soc.tolist(), energy.tolist(), done.tolist(), owed.tolist(),
            strict=True)):
        if p <= 0 or w == 0:
            continue
        # States in hours of power, to STATE_DIGITS: units whose charge differs by a few ticks
        # (partial acceptance) share one programme; clip_schedule cuts to the exact budgets.
        # (Python floats: min(max(.)) is np.clip of a finite or NaN float.)
        state = (round(min(max(s_j, 0.0), e_j) / p, STATE_DIGITS),
                 round(e_j / p, STATE_DIGITS), round(d_j / p, STATE_DIGITS),
                 round(min(o_j, p) / p, STATE_DIGITS))
        plan = plans.get(state)
        if plan is None:
            dis, chg, val = solve_schedule(horizon, hour0, *state, stress, rules, w)
            sold, bought = dis[w:] > PLAN_MW, chg[w:] > PLAN_MW
            plan = plans[state] = (
                dis[:w] - chg[:w], val,
                float(later[sold].min()) + e.storage_discharge_compensation_yuan_per_mwh
                - e.storage_degradation_cost_yuan_per_mwh if sold.any() else np.nan,
                float(later[bought].max()) / e.storage_round_trip_efficiency
                if bought.any() else np.nan)
        net, value[:, j], earns[j], costs[j] = plan
        desired[:, j] = net * p
    # What a MWh stored is worth to the plan: to a charge, what the plan's later sales earn
    # (the least of them); to a discharge, what the plan's later purchases cost (the dearest);
    # else the programme's dual.
    keep = np.where(np.isnan(costs)[None, :], value, costs[None, :])
    worth = np.where(np.isnan(earns)[None, :], value, earns[None, :])
    sell = keep - e.storage_discharge_compensation_yuan_per_mwh \
        + e.storage_degradation_cost_yuan_per_mwh
    buy = worth * e.storage_round_trip_efficiency
    # A dual is one point of an interval where the charge is at a bound; the limits never
    # refuse the schedule at its own forecast.
    sell = np.where(desired > 0, np.minimum(sell, forecast[:, None]), sell)
    buy = np.where(desired < 0, np.maximum(buy, forecast[:, None]), buy)
    # Owing MW in a forecast stress hour of the lookahead, the window's charge buys at any
    # price: a MWh short costs the penalty rate, above the cap.
    ahead = rules.agents.runner.storage_lookahead_hours
    if rules.capacity.penalty_rate_yuan_per_mwh() > e.price_cap_yuan_per_mwh \
            and stress[w:w + ahead].any():
        buy = np.where((desired < 0) & (owed[None, :] > 0), e.price_cap_yuan_per_mwh, buy)
    if rules.capacity.performance_basis == "dispatched":
        sell = np.where(stress[:w, None] & (owed[None, :] > 0), e.price_floor_yuan_per_mwh,
                        sell)
    return StorageSchedule(desired, price_grid(sell, rules), price_grid(buy, rules))


register_strategy(Strategy(
    "storage_optimal", "storage", optimal_schedule, truthful_capacity,
    description="schedules charge and discharge by an exact linear programme over the window "
                "and its lookahead: energy margin + discharge compensation - degradation, "
                "within power, energy, efficiency and the cycle cap, keeping charge for "
                "forecast stress hours when it holds a capacity obligation; offers at the "
                "value of stored energy",
    unit_separable=True))
