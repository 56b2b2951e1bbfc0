"""Checks of a session's set-up, and the standard plan of a game.

:func:`check_setup` lists every reason a set-up (rules, fleet, loads, profiles, plan) cannot
make a session; :func:`plan_problems` those of the plan alone. The plan's order matters: rounds
clear in plan order, certificate steps move the registry's clock forward only, the issue and the
compensation of a month meter the energy rounds of that month, and (without double payment)
the capacity auction must precede the compensation it offsets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from market.ledger.book import SYSTEM_OPERATOR
from market.rules import MarketRules
from market.session.setup import (
    GREEN_MODES,
    GREEN_PRODUCTS,
    KINDS,
    Load,
    Profiles,
    RoundSpec,
)
from market.units import Fleet


def check_setup(rules: MarketRules, fleet: Fleet, loads: Sequence[Load], profiles: Profiles,
                plan: Sequence[RoundSpec]) -> list[str]:
    """Every reason the set-up cannot make a session (empty when it can)."""
    problems = _profile_problems(fleet, profiles) + _load_problems(fleet, loads, profiles)
    problems += plan_problems(rules, profiles, plan)
    comp = rules.compensation
    if comp.enabled and comp.funding == "supported_renewables" and any(
            r.kind == "compensation" for r in plan):
        paid = fleet.is_coal if comp.eligibility == "all_coal" else fleet.is_supporting
        for i in np.flatnonzero(paid & ~fleet.is_supporting):
            problems.append(f"fleet: coal unit {str(fleet.unit_ids[i])!r} would be compensated but "
                            "supports no wind or solar unit, and these rules charge the "
                            "compensation to the supported renewables; give it supported_units")
    return problems


def _profile_problems(fleet: Fleet, profiles: Profiles) -> list[str]:
    out: list[str] = []
    n = profiles.n_hours
    months = np.asarray(profiles.month_of_hour, dtype=np.int64)
    if n == 0:
        out.append("profiles: the session needs at least one hour (month_of_hour is empty)")
    elif months.min() < 1 or months.max() > 12 or np.any(np.diff(months) < 0):
        out.append("profiles: month_of_hour must hold calendar months 1-12 in non-decreasing "
                   "order (hours run forward through the year)")
    known = set(fleet.unit_ids.tolist())
    for uid, values in profiles.available_mw.items():
        if uid not in known:
            out.append(f"profiles: available_mw names unit {uid!r}, which is not in the fleet")
            continue
        cap = float(fleet.nameplate_mw[fleet.index_of(uid)])
        a = np.asarray(values)
        if a.shape != (n,):
            out.append(f"profiles: available_mw of {uid!r} has {a.shape[0]} values; the session "
                       f"has {n} hours")
        elif not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > cap:
            out.append(f"profiles: available_mw of {uid!r} must be finite MW in [0, nameplate "
                       f"{cap:g}] in every hour")
    for i in np.flatnonzero(fleet.is_renewable):
        if fleet.unit_ids[i] not in profiles.available_mw:
            uid = str(fleet.unit_ids[i])
            out.append(f"profiles: {fleet.technologies[i]} unit {uid!r} needs its available MW "
                       "per hour (available_mw)")
    bad = [h for h in profiles.call_hours if not 0 <= h < n]
    if bad or len(set(profiles.call_hours)) != len(profiles.call_hours):
        out.append(f"profiles: call_hours must be distinct hour indices in 0..{n - 1}; "
                   f"got {list(profiles.call_hours)}")
    return out


def _load_problems(fleet: Fleet, loads: Sequence[Load], profiles: Profiles) -> list[str]:
    out: list[str] = []
    units = set(fleet.unit_ids.tolist())
    seen: set[str] = set()
    if not loads:
        out.append("loads: a session needs at least one load (capacity demand and cost "
                   "allocation depend on load)")
    for ld in loads:
        where = f"load {ld.load_id!r}"
        if not ld.load_id or not ld.participant:
            out.append(f"{where}: load_id and participant must be non-empty")
        if ld.load_id in seen:
            out.append(f"{where}: load_id appears more than once")
        if ld.load_id in units:
            out.append(f"{where}: load_id is also a unit id; ids must be distinct")
        if ld.participant == SYSTEM_OPERATOR:
            out.append(f"{where}: {SYSTEM_OPERATOR!r} is reserved for the system operator")
        seen.add(ld.load_id)
        d = np.asarray(ld.demand_mw)
        if d.shape != (profiles.n_hours,):
            out.append(f"{where}: demand_mw has {d.shape[0]} values; the session has "
                       f"{profiles.n_hours} hours")
        elif not np.all(np.isfinite(d)) or d.min() < 0:
            out.append(f"{where}: demand_mw must be finite MW >= 0 in every hour")
    if SYSTEM_OPERATOR in set(fleet.owners.tolist()):
        out.append(f"fleet: {SYSTEM_OPERATOR!r} is reserved for the system operator; it owns "
                   "no units")
    total = sum((np.asarray(ld.demand_mw) for ld in loads
                 if len(ld.demand_mw) == profiles.n_hours), np.zeros(profiles.n_hours))
    if loads and profiles.n_hours and not float(np.max(total)) > 0:
        out.append("loads: total demand is zero in every hour; the capacity requirement "
                   "needs a positive peak")
    return out


def plan_problems(rules: MarketRules, profiles: Profiles, plan: Sequence[RoundSpec]
                  ) -> list[str]:
    """Every reason the plan cannot run under ``rules`` on ``profiles``' hours."""
    out: list[str] = []
    ids = [r.round_id for r in plan]
    if not plan:
        out.append("plan: a session needs at least one round")
    for rid in sorted({x for x in ids if ids.count(x) > 1}):
        out.append(f"plan: round id {rid!r} appears more than once")
    months = set(profiles.months())
    energy_hours: set[int] = set()
    energy_months_left = {m: 0 for m in months}
    for r in plan:
        if r.kind == "energy":
            for m in {profiles.month_of_hour[h] for h in r.hours if 0 <= h < profiles.n_hours}:
                energy_months_left[m] += 1
    registry_month = 0
    capacity_seen = False
    issued: set[int] = set()
    compensated: set[int] = set()
    for r in plan:
        where = f"round {r.round_id!r}"
        if not r.round_id:
            out.append("plan: every round needs a non-empty round_id")
        if r.kind not in KINDS:
            out.append(f"{where}: kind {r.kind!r} must be one of {', '.join(KINDS)}")
            continue
        if r.kind == "energy":
            out += _energy_round_problems(r, profiles, energy_hours, energy_months_left)
        elif r.hours:
            out.append(f"{where}: only energy rounds name hours")
        needs_month = r.kind in ("green", "compensation", "issuance", "obligation")
        if needs_month and r.month not in months:
            out.append(f"{where}: month must be one of the session's months "
                       f"{sorted(months)}, got {r.month!r}")
            continue
        if not needs_month and r.month is not None:
            out.append(f"{where}: a {r.kind} round names no month")
        if r.kind == "capacity":
            if not rules.capacity.enabled:
                out.append(f"{where}: the capacity market is disabled in rules "
                           f"{rules.meta.name!r} (capacity.enabled = false); remove the round")
            if capacity_seen:
                out.append(f"{where}: a session runs one capacity auction")
            capacity_seen = True
        if r.kind == "green":
            if r.product not in GREEN_PRODUCTS:
                out.append(f"{where}: product must be one of {', '.join(GREEN_PRODUCTS)}, "
                           f"got {r.product!r}")
            if r.mode not in GREEN_MODES:
                out.append(f"{where}: mode must be one of {', '.join(GREEN_MODES)}, "
                           f"got {r.mode!r}")
        elif r.product is not None or r.mode is not None:
            out.append(f"{where}: only green rounds name a product and a mode")
        if r.month is None:
            continue
        if r.kind in ("compensation", "issuance") and energy_months_left[r.month]:
            out.append(f"{where}: the {r.kind} of month {r.month} must come after every "
                       f"energy round with hours of that month (it meters their dispatch)")
        if r.kind == "compensation":
            if r.month in compensated:
                out.append(f"{where}: month {r.month} is compensated twice")
            compensated.add(r.month)
        if r.kind in ("green", "issuance", "obligation"):
            if r.month < registry_month:
                out.append(f"{where}: month {r.month} is before an earlier certificate step's "
                           f"month {registry_month}; the registry's clock only goes forward")
            registry_month = max(registry_month, r.month)
        if r.kind == "issuance":
            if r.month in issued:
                out.append(f"{where}: certificates of month {r.month} are issued twice")
            issued.add(r.month)
    if (any(r.kind == "capacity" for r in plan) and not rules.compensation.allow_double_payment
            and not capacity_first(plan)):
        out.append("plan: the capacity round must come before every compensation step (no "
                   "double payment: compensation tops up the capacity payment, so that payment "
                   "must be known)")
    return out


def capacity_first(plan: Sequence[RoundSpec]) -> bool:
    """True when no compensation step comes before the capacity round."""
    for r in plan:
        if r.kind == "capacity":
            return True
        if r.kind == "compensation":
            return False
    return True


def _energy_round_problems(r: RoundSpec, profiles: Profiles, taken: set[int],
                           left: dict[int, int]) -> list[str]:
    out: list[str] = []
    where = f"round {r.round_id!r}"
    hours = list(r.hours)
    if not hours:
        out.append(f"{where}: an energy round needs at least one hour")
    bad = [h for h in hours if not 0 <= h < profiles.n_hours]
    if bad:
        out.append(f"{where}: hours {bad} are outside 0..{profiles.n_hours - 1}")
    if len(set(hours)) != len(hours) or hours != sorted(hours):
        out.append(f"{where}: hours must be distinct and increasing")
    twice = sorted(set(hours) & taken)
    if twice:
        out.append(f"{where}: hours {twice} are already cleared by an earlier energy round")
    taken.update(hours)
    for m in {profiles.month_of_hour[h] for h in hours if 0 <= h < profiles.n_hours}:
        left[m] -= 1
    return out


def standard_plan(rules: MarketRules, profiles: Profiles, *, hours_per_energy_round: int = 24,
                  green_product: str = "bundled", green_mode: str = "auction",
                  obligation: bool = True) -> list[RoundSpec]:
    """The usual plan of a game under ``rules``: the capacity auction first (when the market
    is enabled), then month by month: energy rounds of ``hours_per_energy_round`` hours, the
    month's certificate issue, its coal compensation (when enabled) and a green round; the
    year's obligation retirement at the end of the last month."""
    if hours_per_energy_round < 1:
        raise ValueError("hours_per_energy_round must be >= 1")
    plan: list[RoundSpec] = []
    if rules.capacity.enabled:
        plan.append(RoundSpec("capacity", "capacity"))
    months = profiles.months()
    for m in months:
        hours = [h for h, mh in enumerate(profiles.month_of_hour) if mh == m]
        for k in range(0, len(hours), hours_per_energy_round):
            chunk = hours[k:k + hours_per_energy_round]
            plan.append(RoundSpec(f"energy-{m:02d}-{k // hours_per_energy_round + 1:02d}",
                                  "energy", tuple(chunk)))
        plan.append(RoundSpec(f"issuance-{m:02d}", "issuance", month=m))
        if rules.compensation.enabled:
            plan.append(RoundSpec(f"compensation-{m:02d}", "compensation", month=m))
        plan.append(RoundSpec(f"green-{m:02d}", "green", month=m, product=green_product,
                              mode=green_mode))
    if obligation and months:
        plan.append(RoundSpec("obligation", "obligation", month=months[-1]))
    return plan


