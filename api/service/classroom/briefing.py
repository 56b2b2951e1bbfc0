"""Each role's briefing: Markdown generated from the game's rules and plan.

The briefing names every number a player needs with its unit: the energy price cap and
floor, the capacity offer cap, Net CONE, the capacity demand curve, the performance penalty
rate, the coal compensation rate, the renewable obligation weight and its shortfall penalty,
the retail tariff; the player's own costs (marginal cost, fixed cost); and how profit is
counted (:mod:`api.service.classroom.profit`). Every number is read from the session's rules,
so a game with overrides is briefed with its own numbers.
"""

from __future__ import annotations

import numpy as np

from agents.fleet import fixed_costs
from agents.observe import HOURS_PER_YEAR
from api.service.classroom.profit import (
    MONTHS_PER_YEAR,
    period_share,
    retail_tariff_yuan_per_mwh,
)
from market.capacity.auction import accredited_mw
from market.capacity.demand import demand_curve
from market.session import Session

ROLES = ("genco", "storage", "retailer")
"""The roles a seat can have: a ``genco`` owns generators (and maybe storage), a
``storage`` seat owns only storage, a ``retailer`` serves loads."""


def role_of(s: Session, participant: str) -> str:
    """The role of a seat (see :data:`ROLES`)."""
    if any(ld.participant == participant for ld in s.loads):
        return "retailer"
    techs = {str(t) for t, o in zip(s.fleet.technologies.tolist(), s.fleet.owners.tolist(),
                                    strict=True) if o == participant}
    return "storage" if techs == {"storage"} else "genco"


def _n(value: float, digits: int = 2) -> str:
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def capacity_demand_points(s: Session) -> list[tuple[float, float]]:
    """The capacity demand curve of the game: ``(MW, yuan/kW·yr)`` points."""
    d = demand_curve(s.rules.capacity, s.peak_load_mw())
    return [(float(q), float(p)) for q, p in zip(d.quantity_mw.tolist(),
                                                  d.price_yuan_per_kw_yr.tolist(), strict=True)]


def _markets(s: Session) -> list[str]:
    r = s.rules
    kinds = [s.round(rid).spec.kind for rid in s.round_ids()]
    cap = r.capacity
    out = ["## The markets of this game", ""]
    plan = ", ".join(dict.fromkeys(kinds))
    out.append(f"The rounds run in this order: {plan} ({len(kinds)} rounds in all). "
               "Bids are sealed: nobody sees yours until the round clears.")
    out.append("")
    if "capacity" in kinds:
        points = capacity_demand_points(s)
        curve = "; ".join(f"{_n(q, 3)} MW at {_n(p)} yuan/kW·yr" for q, p in points)
        out += [
            "**Capacity auction** (once, first). Each generator offers its *accredited* MW "
            f"(nameplate x capacity credit) at a price from 0 up to the **offer cap "
            f"{_n(cap.offer_cap_yuan_per_kw_yr)} yuan/kW·yr**. The system operator buys "
            f"along a **demand curve**: {curve}. Its prices are multiples of **Net CONE "
            f"{_n(cap.net_cone_yuan_per_kw_yr)} yuan/kW·yr** (the net cost of new entry: "
            "what a new coal unit needs per kW each year beyond its energy margin). The "
            f"format is {cap.format.replace('_', ' ')}. Accepted MW are paid the price per kW "
            f"per year, in {MONTHS_PER_YEAR} monthly payments; the game pays the months its "
            "hours cover.",
            "",
            "A unit that sold capacity owes it in **stress hours** (hours the energy price "
            f"reaches {_n(r.energy.stress_price_threshold_yuan_per_mwh)} yuan/MWh or the "
            f"reserve margin falls below {_n(r.energy.stress_reserve_margin * 100)} %): each "
            "MWh short pays the **performance penalty rate "
            f"{_n(cap.penalty_rate_yuan_per_mwh())} yuan/MWh** (Net CONE x 1000 / "
            f"{_n(cap.penalty_hours)} h). Loads pay the capacity cost, shared by "
            f"{cap.cost_allocation.replace('_', ' ')}.",
            "",
        ]
    if "energy" in kinds:
        out += [
            "**Energy rounds** (one per block of hours). For each hour you offer MW at a price "
            f"between the **floor {_n(r.energy.price_floor_yuan_per_mwh)} yuan/MWh** and the "
            f"**cap {_n(r.energy.price_cap_yuan_per_mwh)} yuan/MWh**; several price steps per "
            "unit and hour are allowed. Each hour clears at one uniform price: every accepted "
            "MW sells (or buys) at that price, MW x 1 h. Loads you do not bid for are entered "
            "for you at the cap (they must be served).",
            "",
        ]
    if "compensation" in kinds:
        comp = r.compensation
        out += [
            "**Coal compensation** (a monthly step, no bids). Eligible coal units receive the "
            f"**compensation rate {_n(comp.monthly_payment_yuan_per_kw(), 4)} yuan/kW a "
            f"month** (fixed-cost standard {_n(comp.fixed_cost_standard_yuan_per_kw_yr)} "
            f"yuan/kW·yr x recovery ratio {_n(comp.recovery_ratio)} / 12) of declared maximum "
            "output, less deductions for failed test calls (the system operator calls coal "
            "to full output in each day's peak hour)"
            + ("; it is offset against capacity payments for the same MW."
               if comp.offset == "capacity_payment" else ".")
            + f" It is funded by {comp.funding.replace('_', ' ')}.",
            "",
        ]
    if "green" in kinds:
        g = r.green
        out += [
            "**Green certificates** (monthly). Wind and solar get one certificate per "
            f"{_n(g.certificate_mwh)} MWh produced; in the green round they sell them at a "
            "premium they choose, "
            + ("with no cap" if g.premium_cap_yuan_per_mwh is None
               else f"at most {_n(g.premium_cap_yuan_per_mwh)} yuan/MWh")
            + f" (premiums seen in 2025: {_n(g.premium_min_yuan_per_mwh)} to "
            f"{_n(g.premium_max_yuan_per_mwh)} yuan/MWh). A certificate is worth what it "
            "saves an obligated buyer: up to the shortfall penalty when certificates are "
            "scarce, little when they are plentiful.",
            "",
        ]
    if "obligation" in kinds:
        g = r.green
        out += [
            "**Renewable obligation** (at the end). Retailers must retire certificates for the "
            f"**obligation weight {_n(g.obligation_weight * 100)} %** of their load's "
            "consumption (MWh); each MWh short pays the **shortfall penalty "
            f"{_n(g.shortfall_penalty_yuan_per_mwh)} yuan/MWh**.",
            "",
        ]
    return out


def _own_costs(s: Session, participant: str) -> list[str]:
    fleet = s.fleet
    idx = np.flatnonzero(fleet.owners == participant).tolist()
    loads = [ld for ld in s.loads if ld.participant == participant]
    if not idx and not loads:
        return []
    out = ["## Your units, loads and costs", ""]
    if idx:
        credit = accredited_mw(fleet, s.rules.capacity)
        fixed = fixed_costs(np.asarray(fleet.technologies), s.rules)
        out += ["| unit | technology | nameplate MW | accredited MW | marginal cost yuan/MWh "
                "| fixed cost yuan/kW·yr |", "|---|---|---|---|---|---|"]
        for i in idx:
            uid = str(fleet.unit_ids[i])
            mc = s.marginal_cost.get(uid)
            out.append(f"| {uid} | {str(fleet.technologies[i]).replace('_', ' ')} | "
                       f"{_n(float(fleet.nameplate_mw[i]), 1)} | {_n(float(credit[i]), 3)} | "
                       f"{'buys its energy' if mc is None else _n(mc)} | {_n(float(fixed[i]))} |")
        out.append("")
    for ld in loads:
        peak = max(ld.demand_mw) if ld.demand_mw else 0.0
        energy = sum(ld.demand_mw)
        kind = "industrial/commercial" if ld.industrial_commercial else "residential"
        out.append(f"- Load **{ld.load_id}**: peak {_n(peak, 1)} MW, {_n(energy, 1)} MWh over "
                   f"the game's hours; {kind}"
                   f"{', carries the renewable obligation' if ld.obligated else ''}.")
    if loads:
        out.append("")
    return out


def _profit(s: Session, role: str) -> list[str]:
    tariff = retail_tariff_yuan_per_mwh(s.rules)
    out = ["## How your profit is counted", "",
           "Profit = revenue - variable cost - the period's share of fixed cost "
           "+ compensation - penalties. The leaderboard ranks every seat by it.", ""]
    out.append("- **Revenue**: money received in each round (energy sold, capacity "
               "payments, green premiums, compensation).")
    out.append("- **Variable cost**: your units' marginal cost (yuan/MWh) x the MWh they "
               "produce.")
    hours = int(s.profiles.n_hours)
    out.append(f"- **The period** is the game's {hours} hours. Fixed cost counts each unit's "
               f"fixed cost (yuan/kW·yr) x nameplate kW x {hours} / {HOURS_PER_YEAR:,}, charged "
               "when the "
               "first round clears. Money paid by the month (capacity payments, the capacity "
               "cost to loads, coal compensation and its deductions) counts at the game's "
               f"hours' share of its months, {period_share(s)[1]:.2%}; the ledger shows the "
               "whole monthly amounts. Capacity payments and compensation are how fixed cost "
               "is recovered.")
    out.append("- **Penalties**: performance penalties (capacity not delivered in stress "
               "hours) and the obligation shortfall penalty.")
    out.append(f"- **Retail revenue** (retailers): your customers pay the **retail tariff "
               f"{_n(tariff)} yuan/MWh** (coal benchmark "
               f"{_n(s.rules.energy.coal_benchmark_price_yuan_per_mwh)} + margin "
               f"{_n(s.rules.fleet.loads.retail_margin_yuan_per_mwh)}) for every MWh of "
               "their load served; you pay the energy price, the capacity cost and certificates.")
    out.append("")
    tips = {
        "genco": "Offer below your marginal cost and you may sell at a loss; offer far above "
                 "it and you may not sell. In the capacity auction, a price above what you "
                 "need may leave you unpaid.",
        "storage": "Buy (charge) when prices are low and sell (discharge) when they are high: "
                   "you lose part of the energy on the way (round-trip efficiency "
                   f"{_n(s.rules.energy.storage_round_trip_efficiency * 100)} %).",
        "retailer": f"You win when you buy energy below {_n(tariff)} yuan/MWh. A bid too low "
                    "leaves load unserved in the market and entered for you at the cap.",
    }
    out += ["## Your role", "", tips[role], ""]
    return out


def briefing(s: Session, role: str, participant: str | None) -> str:
    """The Markdown briefing of ``role``; with ``participant`` it lists that seat's own
    units, loads and costs."""
    r = s.rules
    head = [f"# Briefing: {role}", "",
            f"Game rules: {r.meta.name}. Prices in yuan: energy in yuan/MWh, capacity in "
            "yuan/kW·yr; quantities in MW (energy: MW for one hour = MWh).", ""]
    own = _own_costs(s, participant) if participant is not None else []
    return "\n".join(head + _markets(s) + own + _profit(s, role)).rstrip() + "\n"
