"""Profit as the classroom counts it, per seat and per cleared round.

``profit = revenue - variable cost - the period's share of fixed cost + compensation
- penalties + retail revenue``, each part in fen:

* **market money** (every ledger category of a round's settlement): payments received
  (capacity payments, energy sales, green premiums, compensation, refunds) count as revenue
  and payments made (energy bought, capacity cost, penalties) as costs; penalties and
  compensation are also reported on their own lines;
* **variable cost**: each accepted sell of a unit with a marginal cost, MW x 1 h x yuan/MWh,
  in the energy round that dispatched it (storage buys its energy in the market instead);
* **the period**: the game's hours. Fixed cost counts ``fixed cost (yuan/kW·yr) x nameplate kW
  x hours / 8760``; the money the ledger pays by the month (capacity payments, their cost to
  loads, coal compensation and its deductions) counts at the game's hours' share of the
  months they pay for, ``hours / (months x 8760 / 12)``, so that a 48-hour game is not
  credited (or charged) a whole month of capacity against two days of energy. The ledger
  keeps the full amounts; ``uncounted_fen`` is the difference;
* **retail revenue**: a retailer's customers pay :func:`retail_tariff_yuan_per_mwh` for each
  MWh of load served in an energy round (the accepted buy MW of its loads x 1 h).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agents.fleet import fixed_costs
from agents.observe import HOURS_PER_YEAR
from clearing.grid import KW_PER_MW
from market.ledger.book import SYSTEM_OPERATOR, Category
from market.rules import MarketRules
from market.session import RoundStatus, Session

MONTHS_PER_YEAR = 12
"""Calendar months in a year: the ledger pays annual capacity money in twelve monthly
payments."""

MONTHLY_CATEGORIES = frozenset({Category.CAPACITY_PAYMENT, Category.COST_ALLOCATION,
                                Category.COMPENSATION, Category.DEDUCTION})
"""Ledger categories paid by the month: counted at the game's hours' share of their months."""

PENALTY_WORD = "penalty"
COMPENSATION_WORD = "compensation"


def retail_tariff_yuan_per_mwh(rules: MarketRules) -> float:
    """What a retailer's customers pay per MWh served: the coal benchmark price
    (``energy.coal_benchmark_price_yuan_per_mwh``, [R]) plus the margin
    ``fleet.loads.retail_margin_yuan_per_mwh`` [E]."""
    return (float(rules.energy.coal_benchmark_price_yuan_per_mwh)
            + float(rules.fleet.loads.retail_margin_yuan_per_mwh))


def period_share(s: Session) -> tuple[float, float]:
    """(fixed-cost share of a year, share of the covered months counted) for the game's
    hours: ``hours / 8760`` and ``hours / (months x 8760 / 12)`` (at most 1)."""
    hours = int(s.profiles.n_hours)
    months = max(1, len(set(s.profiles.month_of_hour)))
    return hours / HOURS_PER_YEAR, min(1.0, hours * MONTHS_PER_YEAR / (months * HOURS_PER_YEAR))


@dataclass
class RoundMoney:
    """One seat's money in one cleared round, fen (+ received)."""

    round_id: str
    kind: str
    market_fen: dict[str, int] = field(default_factory=dict)
    variable_cost_fen: int = 0
    fixed_cost_fen: int = 0
    retail_revenue_fen: int = 0
    uncounted_fen: int = 0
    """Monthly ledger money outside the game's hours (ledger amount - counted amount)."""
    monthly_share: float = 1.0

    @property
    def revenue_fen(self) -> int:
        """Market money received plus retail revenue."""
        return sum(v for v in self.market_fen.values() if v > 0) + self.retail_revenue_fen

    @property
    def cost_fen(self) -> int:
        """Market money paid plus variable and fixed cost (a positive number)."""
        return (-sum(v for v in self.market_fen.values() if v < 0) + self.variable_cost_fen
                + self.fixed_cost_fen)

    @property
    def penalties_fen(self) -> int:
        """Penalties paid (a positive number; part of :attr:`cost_fen`)."""
        return -sum(v for k, v in self.market_fen.items() if PENALTY_WORD in k)

    @property
    def compensation_fen(self) -> int:
        """Compensation received (part of :attr:`revenue_fen`)."""
        return sum(v for k, v in self.market_fen.items() if COMPENSATION_WORD in k)

    @property
    def profit_fen(self) -> int:
        return self.revenue_fen - self.cost_fen

    def lines(self) -> list[str]:
        """One line per part of the money, saying what it is."""
        out = []
        for category, fen in sorted(self.market_fen.items()):
            share = (f"; the game's hours' share, {self.monthly_share:.2%} of the monthly "
                     "amount" if category in MONTHLY_CATEGORIES and self.monthly_share < 1
                     else "")
            out.append(f"{category.replace('_', ' ')}: {fen / 100:+,.2f} yuan "
                       f"({EXPLAIN.get(category, 'money settled in this round')}{share})")
        if self.retail_revenue_fen:
            out.append(f"retail revenue: {self.retail_revenue_fen / 100:+,.2f} yuan (your "
                       "customers pay the retail tariff for each MWh of their load served)")
        if self.variable_cost_fen:
            out.append(f"variable cost: {-self.variable_cost_fen / 100:+,.2f} yuan (marginal "
                       "cost x MWh your units produced)")
        if self.fixed_cost_fen:
            out.append(f"fixed cost: {-self.fixed_cost_fen / 100:+,.2f} yuan (the game's "
                       "hours' share of your units' annual fixed cost)")
        return out


#: One line per ledger category: what the money is.
EXPLAIN = {
    "capacity_payment": "paid for accepted capacity, the clearing price x accepted MW, "
                        "monthly",
    "cost_allocation": "the loads' share of the capacity payments, by peak load",
    "energy": "energy sold (+) or bought (-) at each hour's clearing price",
    "green_premium": "green certificates sold (+) or bought (-) at the premium",
    "obligation_penalty": "renewable obligation short: shortfall MWh x the penalty rate",
    "performance_penalty": "capacity not delivered in stress hours x the penalty rate",
    "performance_bonus": "share of others' performance penalties for over-delivery",
    "compensation": "coal capacity compensation: fixed-cost standard x recovery ratio, "
                    "less failed test calls",
}


def _owner_fixed_fen(s: Session) -> dict[str, int]:
    """Per owner: fixed cost of the game's hours, fen."""
    fleet = s.fleet
    per_kw = fixed_costs(np.asarray(fleet.technologies), s.rules)
    yuan = per_kw * np.asarray(fleet.nameplate_mw, dtype=np.float64) * KW_PER_MW \
        * period_share(s)[0]
    out: dict[str, float] = {}
    for owner, v in zip(fleet.owners.tolist(), yuan.tolist(), strict=True):
        out[str(owner)] = out.get(str(owner), 0.0) + v
    return {o: int(round(v * 100)) for o, v in out.items()}


def _energy_parts(s: Session, result: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """(variable cost yuan, retail revenue yuan) per owner in one energy result."""
    variable: dict[str, float] = {}
    retail: dict[str, float] = {}
    tariff = retail_tariff_yuan_per_mwh(s.rules)
    loads = {ld.load_id for ld in s.loads}
    for b in result.get("bids", []):
        mw = float(b.get("accepted_mw") or 0.0)
        if mw <= 0:
            continue
        who = str(b["participant"])
        if b["side"] == "sell":
            cost = s.marginal_cost.get(str(b["unit"]))
            if cost is not None:
                variable[who] = variable.get(who, 0.0) + mw * float(cost)
        elif b["unit"] in loads:
            retail[who] = retail.get(who, 0.0) + mw * tariff
    return variable, retail


def round_money(s: Session) -> dict[str, list[RoundMoney]]:
    """Per seat (every seat of the game), its :class:`RoundMoney` of each cleared round, in
    plan order."""
    seats = s.seats()
    out: dict[str, list[RoundMoney]] = {p: [] for p in seats}
    fixed = _owner_fixed_fen(s)
    share = period_share(s)[1]
    first = True
    for rid in s.round_ids():
        if s.status(rid) != RoundStatus.CLEARED:
            continue
        res = s.published(rid)
        d = res.to_dict()
        variable: dict[str, float] = {}
        retail: dict[str, float] = {}
        if res.kind == "energy":
            variable, retail = _energy_parts(s, d)
        for p in seats:
            ledger = {k: int(v) for k, v in res.settlement.get(p, {}).items() if k != "net"}
            money = {k: (int(round(v * share)) if k in MONTHLY_CATEGORIES else v)
                     for k, v in ledger.items()}
            m = RoundMoney(rid, res.kind, money,
                           variable_cost_fen=int(round(variable.get(p, 0.0) * 100)),
                           retail_revenue_fen=int(round(retail.get(p, 0.0) * 100)),
                           fixed_cost_fen=fixed.get(p, 0) if first else 0,
                           uncounted_fen=sum(ledger.values()) - sum(money.values()),
                           monthly_share=share)
            out[p].append(m)
        first = False
    out.pop(SYSTEM_OPERATOR, None)
    return out


def standings(s: Session, taken: dict[str, str | None], bots: set[str]) -> list[dict[str, Any]]:
    """Every seat ranked by profit (highest first, ties by seat): ``taken`` maps a joined
    seat to its display name, ``bots`` names the seats bots play. Empty seats are listed
    with the money their units and loads make as entered for them."""
    rows: list[dict[str, Any]] = []
    for p, rounds in round_money(s).items():
        revenue = sum(r.revenue_fen for r in rounds)
        cost = sum(r.cost_fen for r in rounds)
        rows.append({
            "participant": p,
            "display_name": taken.get(p),
            "seat": "bot" if p in bots else ("player" if p in taken else "empty"),
            "revenue_fen": revenue, "cost_fen": cost,
            "variable_cost_fen": sum(r.variable_cost_fen for r in rounds),
            "fixed_cost_fen": sum(r.fixed_cost_fen for r in rounds),
            "penalties_fen": sum(r.penalties_fen for r in rounds),
            "compensation_fen": sum(r.compensation_fen for r in rounds),
            "retail_revenue_fen": sum(r.retail_revenue_fen for r in rounds),
            "uncounted_fen": sum(r.uncounted_fen for r in rounds),
            "profit_fen": revenue - cost,
            "rounds": [{"round_id": r.round_id, "kind": r.kind, "revenue_fen": r.revenue_fen,
                        "cost_fen": r.cost_fen, "profit_fen": r.profit_fen,
                        "penalties_fen": r.penalties_fen,
                        "compensation_fen": r.compensation_fen, "lines": r.lines()}
                       for r in rounds],
        })
    rows.sort(key=lambda r: (-r["profit_fen"], r["participant"]))
    for k, r in enumerate(rows):
        r["rank"] = k + 1
    return rows
