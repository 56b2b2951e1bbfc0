"""Forward capacity auctions of a pathway: bought ``pathway.capacity_lead_years`` (k) ahead,
with a price lock for new entry (``pathway.new_entry_price_lock_years``, L).

With k = 0 (the default) nothing here runs: each year's own auction (in the simulated year)
buys that year's capacity from the units in it, as before. With k >= 1:

* **When and for what.** After pathway year y is simulated (and after the owners' retirements
  and commitments), an auction is held for delivery year d = y + k. Its requirement is the
  peak load the load-growth rule forecasts for d (base peak x (1 + growth)^(d - first year))
  x (1 + ``capacity.reserve_margin``); its curve is the rules' demand curve at year y's derived
  Net CONE (and Gross CONE); credits are year y's derived credits; it clears with the rules'
  format through :mod:`market.capacity.formats` (the one engine's capacity clearing).
* **Who offers** (MW at scale 1, accredited with year y's credits; prices on the 0.01 grid):
  - *existing* units expected at d (in the markets now, or committed and online by d), one
    offer per technology at its net going-forward cost per accredited kW,
    max(0, ``retirement_avoidable_share`` x fixed cost - expected margin without capacity
    revenue) / credit, at most the offer cap;
  - *locked* new entry still within its lock at d, as a price taker (0 yuan/kW-yr); it is paid
    its locked price, not this auction's;
  - *candidates* whose ``build_years`` <= k, each unit one offer, as many units as the
    investment rule's step (``investment_step_share`` x installed units, at least 1, less
    those under construction), at the price that makes entry worth it when the price is
    certain for L years and capacity revenue afterwards is expected as in the last years
    (:func:`entry_offer`). Above the offer cap a candidate does not offer. A candidate unit any
    MW of which clears is built, online in year y + max(build_years, 1) (so by d; it sells
    energy before its capacity obligation starts), and paid for its cleared MW from d.
    Candidates with ``build_years`` > k cannot offer; they still enter by the investment rule
    (expected margin covers annualised cost) as at k = 0. Technologies that can offer enter
    only through the auction once a commitment would come online in a forward-delivered year
    (before that, by the investment rule); the policy wind and solar targets still apply.
* **Payments.** The auction for d pays in d: existing units its price (the settlement price
  of their offer) for their cleared MW, new entry its price for d, d + 1, ..., d + L - 1
  (:class:`Book`). No existing unit is paid more MW than its technology has accredited in d
  beyond the locked MW (units that closed forfeit their commitment). Money is in yuan at
  scale 1 and is applied to the year's units in proportion to their accredited MW
  (:func:`year_payments`).
* **Transition.** Delivery years before the first forward auction delivers (the first k
  years of the run) keep their own T-0 auction, the simulated year's, as at k = 0.
* **In a forward-delivered year** the year runs with ``capacity.enabled = false`` (so no
  in-year auction, performance penalties or storage stress-hour holdback) and the pathway adds
  the forward payments to the units' revenue and the consumers' capacity cost; the coal
  compensation's capacity-payment offset (``compensation.offset = "capacity_payment"``) is
  applied per unit for the year as a whole, min(compensation, capacity payment).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clearing.grid import PRICE_TICK, QUANTITY_TICK
from market.capacity.demand import demand_curve, nearest
from market.capacity.formats import get_format
from market.capacity.offers import OfferTable
from market.rules import MarketRules
from studies.pathway.rules import KW_PER_MW, TECHNOLOGIES, FleetState, unit_size_mw


def annuity_factor(rate: float, years: int) -> float:
    """Present value of 1 a year for ``years`` years at ``rate``, paid at each year's end.

    >>> round(annuity_factor(0.07, 3), 6)
    2.624316
    """
    if years <= 0:
        return 0.0
    if rate == 0:
        return float(years)
    return (1.0 - (1.0 + rate) ** -years) / rate


def entry_offer(annualised_cost: float, expected_margin: float, expected_capacity: float,
                credit: float, rate: float, life_years: int, lock_years: int) -> float:
    """The lowest capacity price (yuan per accredited kW-yr) at which a candidate enters:
    over its life it earns its expected margin without capacity revenue
    (``expected_margin - expected_capacity``, per nameplate kW-yr) every year, the price x
    ``credit`` for the ``lock_years`` locked years (certain) and ``expected_capacity`` in the
    years after; it enters when that is worth its annualised cost every year. So
    P = ((annualised - margin) x A(life) + capacity x A(lock)) / (credit x A(lock)), A the
    annuity factor; at least 0. ``inf`` without a credit.

    >>> round(entry_offer(414.7, 300.0, 0.0, 0.9, 0.07, 30, 30), 2)  # whole life: net CONE
    127.44
    >>> round(entry_offer(414.7, 300.0, 0.0, 0.9, 0.07, 30, 3), 2)  # 3 locked years
    601.4
    """
    if credit <= 0:
        return math.inf
    a_life, a_lock = annuity_factor(rate, life_years), annuity_factor(rate, lock_years)
    price = ((annualised_cost - expected_margin) * a_life + expected_capacity * a_lock) / (
        credit * a_lock)
    return max(0.0, price)


@dataclass(frozen=True)
class Commitment:
    """Capacity bought for one delivery year: ``mw`` accredited MW at scale 1 of
    ``technology`` at ``price`` yuan/kW-yr, from the auction held after ``auction_year``;
    ``locked``: new entry paid a locked price."""

    technology: str
    delivery_year: int
    mw: float
    price: float
    auction_year: int
    locked: bool = False


@dataclass
class Book:
    """The commitments of forward auctions, and each delivery year's clearing price."""

    commitments: list[Commitment] = field(default_factory=list)
    prices: dict[int, float] = field(default_factory=dict)

    def add_entry(self, technology: str, first_year: int, mw: float, price: float,
                  auction_year: int, lock_years: int) -> None:
        """New entry cleared for ``first_year``: paid ``price`` in each of ``lock_years``
        delivery years from ``first_year`` (the first of them bought by its own auction)."""
        for d in range(first_year, first_year + lock_years):
            self.commitments.append(Commitment(technology, d, mw, price, auction_year,
                                               locked=lock_years > 1))

    def locked_mw(self, technology: str, year: int) -> float:
        """MW of ``technology`` already locked for delivery ``year``."""
        return sum(c.mw for c in self.commitments
                   if c.locked and c.technology == technology and c.delivery_year == year)

    def delivered(self, year: int) -> list[Commitment]:
        """The commitments paid in delivery ``year``."""
        return [c for c in self.commitments if c.delivery_year == year]


def technology_payments(book: Book, year: int, accredited_mw: Mapping[str, float]
                        ) -> dict[str, float]:
    """Yuan at scale 1 paid in delivery ``year`` by technology: every locked commitment in
    full, the others for at most the technology's ``accredited_mw`` (scale 1, in ``year``)
    left after the locked MW.

    >>> b = Book()
    >>> b.add_entry("storage", 2028, 100.0, 300.0, 2025, lock_years=3)
    >>> b.commitments.append(Commitment("storage", 2029, 50.0, 10.0, 2026))
    >>> technology_payments(b, 2029, {"storage": 120.0})  # 100 x 300 + 20 x 10, x 1000
    {'storage': 30200000.0}
    """
    out: dict[str, float] = {}
    for t in TECHNOLOGIES:
        rows = [c for c in book.delivered(year) if c.technology == t]
        if not rows:
            continue
        locked = [c for c in rows if c.locked]
        room = max(0.0, accredited_mw.get(t, 0.0) - sum(c.mw for c in locked))
        paid = sum(c.mw * c.price for c in locked)
        for c in rows:
            if not c.locked:
                mw = min(c.mw, room)
                room -= mw
                paid += mw * c.price
        out[t] = paid * KW_PER_MW
    return out


@dataclass(frozen=True)
class Offer:
    """One row of a forward auction: ``kind`` is ``existing``, ``locked`` or ``candidate``."""

    technology: str
    kind: str
    mw: float
    price: float


def auction_offers(base: MarketRules, state: FleetState, book: Book, delivery: int,
                   credits: Mapping[str, float], margins: Sequence[Mapping[str, float]],
                   capacity: Sequence[Mapping[str, float]], fixed_per_kw: Mapping[str, float]
                   ) -> list[Offer]:
    """The offers of the auction for ``delivery`` (see the module docstring): existing by
    technology, then locked, then candidate units, in technology order. ``margins`` and
    ``capacity``: each simulated year's margin and capacity revenue per nameplate kW by
    technology; ``fixed_per_kw``: fixed cost per nameplate kW by technology."""
    p, cap = base.pathway, base.capacity.offer_cap_yuan_per_kw_yr
    years = p.expectation_years
    offers: list[Offer] = []
    for t in TECHNOLOGIES:
        credit = float(credits.get(t, 0.0))
        units = state.counts[t] + sum(n for online, tech, n in state.pipeline
                                      if tech == t and online <= delivery)
        mw = units * unit_size_mw(base, t) * credit - book.locked_mw(t, delivery)
        if credit <= 0 or mw <= QUANTITY_TICK:
            continue
        net = _expected(margins, t, years) - _expected(capacity, t, years)
        price = max(0.0, p.retirement_avoidable_share * fixed_per_kw.get(t, 0.0) - net) / credit
        offers.append(Offer(t, "existing", mw, min(price, cap)))
    for t in TECHNOLOGIES:
        locked = book.locked_mw(t, delivery)
        if locked > QUANTITY_TICK:
            offers.append(Offer(t, "locked", locked, 0.0))
    for t in auctioned(base):
        credit = float(credits.get(t, 0.0))
        candidate = p.candidates()[t]
        if credit <= 0 or not any(t in h for h in margins[-years:]):
            continue
        price = entry_offer(candidate.annualised_cost_yuan_per_kw_yr(p.discount_rate),
                            _expected(margins, t, years), _expected(capacity, t, years),
                            credit, p.discount_rate, candidate.life_years,
                            p.new_entry_price_lock_years)
        if price > cap:
            continue
        building = sum(n for _, tech, n in state.pipeline if tech == t)
        n = max(0, max(1, round(p.investment_step_share * state.counts[t])) - building)
        offers.extend(Offer(t, "candidate", unit_size_mw(base, t) * credit, price)
                      for _ in range(n))
    return offers


def auctioned(base: MarketRules) -> tuple[str, ...]:
    """Candidate technologies that enter through forward auctions: those whose build time is
    at most ``pathway.capacity_lead_years`` (none when it is 0 or the capacity market is off)."""
    k = base.pathway.capacity_lead_years
    if k == 0 or not base.capacity.enabled:
        return ()
    return tuple(t for t, c in base.pathway.candidates().items() if c.build_years <= k)


def _expected(history: Sequence[Mapping[str, float]], technology: str, years: int) -> float:
    seen = [h[technology] for h in history[-years:] if technology in h]
    return float(sum(seen) / len(seen)) if seen else 0.0


@dataclass(frozen=True)
class Cleared:
    """A forward auction's outcome: ``price`` (yuan/kW-yr, 0 when nothing cleared) and
    candidate units built by technology."""

    price: float
    built: dict[str, int]
    record: dict[str, Any]


def hold_auction(base: MarketRules, state: FleetState, book: Book, held_after: int,
                 first_year: int, summary_capacity: Mapping[str, Any],
                 margins: Sequence[Mapping[str, float]], capacity: Sequence[Mapping[str, float]],
                 fixed_per_kw: Mapping[str, float]) -> Cleared:
    """Hold the auction for delivery ``held_after + k`` (module docstring): clear it, book
    its commitments, put built candidates in ``state.pipeline`` (online after their build
    time, by the delivery year)."""
    p = base.pathway
    delivery = held_after + p.capacity_lead_years
    credits = dict(summary_capacity["accreditation"])
    rules_c = base.capacity.resolved(
        net_cone_yuan_per_kw_yr=float(summary_capacity["net_cone_yuan_per_kw_yr"]),
        capacity_credit=credits)
    peak = base.fleet.loads.peak_mw * (1.0 + p.load_growth_per_year) ** (delivery - first_year)
    demand = demand_curve(rules_c, peak)
    offers = auction_offers(base, state, book, delivery, credits, margins, capacity,
                            fixed_per_kw)
    table = OfferTable(np.arange(len(offers), dtype=np.int64),
                       nearest(np.array([o.mw for o in offers], dtype=np.float64),
                               QUANTITY_TICK),
                       nearest(np.array([o.price for o in offers], dtype=np.float64), PRICE_TICK),
                       np.zeros(len(offers), dtype=bool))
    outcome = get_format(rules_c.format)(table, demand, rules_c)
    price = float(outcome.price) if outcome.price is not None else 0.0
    book.prices[delivery] = price
    built: dict[str, int] = {}
    for o, mw, settle in zip(offers, np.asarray(outcome.accepted_mw, dtype=np.float64),
                             np.asarray(outcome.settlement_price, dtype=np.float64),
                             strict=True):
        if o.kind == "locked" or mw <= 0:
            continue
        paid = float(np.nan_to_num(settle))
        if o.kind == "candidate":
            built[o.technology] = built.get(o.technology, 0) + 1
            book.add_entry(o.technology, delivery, float(mw), paid, held_after,
                           p.new_entry_price_lock_years)
        else:
            book.commitments.append(Commitment(o.technology, delivery, float(mw), paid,
                                               held_after))
    for t, n in built.items():
        state.pipeline.append((held_after + max(p.candidates()[t].build_years, 1), t, n))
    record = {"held_after": held_after, "delivery_year": delivery, "price": price,
              "requirement_mw": float(demand.requirement_mw),
              "cleared_mw": float(np.asarray(outcome.accepted_mw).sum()),
              "built_units": dict(built),
              "offered_mw": {k: float(sum(o.mw for o in offers if o.kind == k))
                             for k in ("existing", "locked", "candidate")}}
    return Cleared(price=price, built=built, record=record)


def year_payments(book: Book, year: int, state: FleetState, base: MarketRules,
                  units: Mapping[str, np.ndarray]) -> np.ndarray:
    """float64 (n,) yuan each unit of the year's ``units`` table is paid in delivery ``year``:
    :func:`technology_payments` (scale 1) at the run's scale (the technology's nameplate in
    the table over its scale-1 nameplate), shared in proportion to accredited MW."""
    tech = np.asarray(units["technology"]).astype(str)
    nameplate = np.asarray(units["nameplate_mw"], dtype=np.float64)
    accredited = np.asarray(units["accredited_mw"], dtype=np.float64)
    ratio, acc1 = {}, {}
    for t in TECHNOLOGIES:
        scale1 = state.counts[t] * unit_size_mw(base, t)
        mask = tech == t
        ratio[t] = float(nameplate[mask].sum()) / scale1 if scale1 > 0 else 0.0
        acc1[t] = float(accredited[mask].sum()) / ratio[t] if ratio[t] > 0 else 0.0
    paid = technology_payments(book, year, acc1)
    out = np.zeros(len(tech), dtype=np.float64)
    for t, yuan in paid.items():
        mask = tech == t
        total = float(accredited[mask].sum())
        if total > 0:
            out[mask] = yuan * ratio[t] * accredited[mask] / total
    return out
