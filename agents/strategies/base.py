"""Bidding strategies: pure functions of an observation, the rules and a seeded RNG.

A strategy never reads global state. It gets a small frozen **observation** of arrays (the
units a participant owns, their costs, what they can produce hour by hour, a price forecast,
its own learning state) and returns a **decision** of arrays for every hour at once: no Python
object per bid or per hour. The in-process runner (:mod:`agents.inprocess.runner`) builds
observations from the simulation; an HTTP bot builds the same observation from API data and
calls the same function; both with the formulas of :mod:`agents.observe`.

Strategies are looked up by name in :data:`STRATEGIES` (:func:`get_strategy`). Each plays one
**role**:

* ``generator`` (coal, wind, solar): energy offers (:class:`OfferObservation` ->
  :class:`Offers`) and capacity offers (:class:`CapacityObservation` ->
  :class:`CapacityOffers`): ``opportunity_cost`` (the default: renewables below cost by the
  certificate value they lose), ``truthful``, ``markup``, ``withholding``
  (:mod:`agents.strategies.thermal`) and ``learning`` (Roth-Erev over markups,
  :mod:`agents.strategies.learning`);
* ``storage``: ``storage_optimal`` (the default, an exact schedule) and ``storage_arbitrage``
  (:mod:`agents.strategies.storage`);
* ``green_seller`` / ``green_buyer``: monthly green trading (:mod:`agents.strategies.green`).

Learning state is explicit data: an adaptive strategy returns its new state in the decision
and gets its reward through ``learn(state, reward_yuan, params) -> state``.

Parameters: the built-in strategies' defaults are rules, ``agents.strategies.<name>`` [E]
(:class:`market.rules.StrategyRules`); a run resolves them from its rules and a run's
``strategies`` mapping may override them per owner (:mod:`agents.strategies.assign`).

Energy offers are blocks (H, U, B): block 0 of every built-in generator strategy is the
**must-run** output (minimum stable output, winter heat-led output) offered at the floor --
physics, not a choice -- and the rest is priced by the strategy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agents.observe import price_grid as to_price_grid
from clearing.grid import integer_inverse
from market.errors import StrategyError
from market.rules import MarketRules

ROLES = ("generator", "storage", "green_seller", "green_buyer")


@dataclass(frozen=True, eq=False)
class OfferObservation:
    """What a generator owner sees before an energy gate closes (H hours, U of its units).

    * ``owner``: the participant; ``hours``: int64 (H,) hours of the year (0-based);
    * ``unit_ids``, ``technology``: str (U,); ``marginal_cost_yuan_per_mwh``: float64 (U,);
    * ``available_mw``: float64 (H, U), MW the unit can produce (known outages and wind/solar
      availability taken off); ``must_run_mw``: float64 (H, U) <= available, MW that must run;
    * ``price_forecast_yuan_per_mwh``: float64 (H,), the participant's forecast;
    * ``state``: learning state of an adaptive strategy (``None`` otherwise);
    * ``certificate_value_yuan_per_mwh``: what a MWh of wind or solar output earns in green
      certificates, the owner's expected certificate price per MWh (``None``: the rules'
      starting belief, :func:`certificate_value`).
    """

    owner: str
    hours: np.ndarray
    unit_ids: np.ndarray
    technology: np.ndarray
    marginal_cost_yuan_per_mwh: np.ndarray
    available_mw: np.ndarray
    must_run_mw: np.ndarray
    price_forecast_yuan_per_mwh: np.ndarray
    state: Any = None
    certificate_value_yuan_per_mwh: float | None = None


@dataclass(frozen=True, eq=False)
class Offers:
    """Energy offers: ``quantity_mw`` and ``price_yuan_per_mwh`` float64 (H, U, B) (zero
    quantities are no offer); ``state``: the strategy's new learning state (or ``None``)."""

    quantity_mw: np.ndarray
    price_yuan_per_mwh: np.ndarray
    state: Any = None


@dataclass(frozen=True, eq=False)
class CapacityObservation:
    """What an owner sees before the annual capacity auction (U of its units).

    * ``accredited_mw``, ``capacity_credit``: float64 (U,);
    * ``going_forward_cost_yuan_per_kw_yr``: float64 (U,), fixed cost avoided by not
      delivering capacity for a year, per kW of nameplate;
    * ``expected_energy_margin_yuan_per_kw_yr``: float64 (U,), expected energy revenue net of
      variable cost, per kW of nameplate (from the participant's forecast);
    * ``must_offer``: bool (U,), the rules oblige the unit to offer all accredited MW;
    * ``expected_price_yuan_per_kw_yr``: the participant's forecast of the uniform clearing
      price (the year forecasts it by clearing every unit's net going-forward cost against the
      demand curve); ``None`` when it has none;
    * ``expected_obligation_cost_yuan_per_kw_yr``: float64 (U,) or ``None`` (none): what
      taking a capacity obligation is expected to cost per accredited kW·yr, the penalties on
      the unit's expected shortfall in the forecast stress hours plus, with a performance
      bonus, the bonus its committed output no longer earns (the year computes it with
      :func:`studies.year.markets.obligation_cost`).
    """

    owner: str
    unit_ids: np.ndarray
    technology: np.ndarray
    accredited_mw: np.ndarray
    capacity_credit: np.ndarray
    going_forward_cost_yuan_per_kw_yr: np.ndarray
    expected_energy_margin_yuan_per_kw_yr: np.ndarray
    must_offer: np.ndarray
    state: Any = None
    expected_price_yuan_per_kw_yr: float | None = None
    expected_obligation_cost_yuan_per_kw_yr: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class CapacityOffers:
    """One step per unit: ``mw`` (accredited MW, float64 (U,), 0 = no offer) at
    ``price_yuan_per_kw_yr`` (float64 (U,))."""

    mw: np.ndarray
    price_yuan_per_kw_yr: np.ndarray


OfferFn = Callable[[Any, MarketRules, np.random.Generator, Mapping[str, Any]], Any]
CapacityFn = Callable[[CapacityObservation, MarketRules, np.random.Generator, Mapping[str, Any]],
                      CapacityOffers]
LearnFn = Callable[[Any, float, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Strategy:
    """A registered strategy: its ``role``, the decision function ``offer`` (observation, rules,
    rng, params) -> decision, an optional ``capacity`` offer function, an optional ``learn``
    (adaptive strategies), and ``defaults`` for its parameters (for a built-in strategy, the
    defaults of its rules table ``agents.strategies.<name>``)."""

    name: str
    role: str
    offer: OfferFn
    capacity: CapacityFn | None = None
    learn: LearnFn | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    #: True when ``offer`` decides each unit from that unit's own state and the shared
    #: forecasts alone, never from the owner's name, the rng or the other units: the
    #: in-process runner may then ask it once for several owners' units that share its
    #: parameters (the observation's ``owner`` is then the first of them).
    unit_separable: bool = False

    @property
    def adaptive(self) -> bool:
        """True when the strategy learns from rewards between rounds."""
        return self.learn is not None

    def params(self, given: Mapping[str, Any] | None = None,
               base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``base`` (default: :attr:`defaults`; a run passes its rules' table of the strategy)
        overridden by ``given``; an unknown parameter is refused."""
        base = self.defaults if base is None else base
        given = dict(given or {})
        unknown = sorted(set(given) - set(base))
        if unknown:
            known = ", ".join(sorted(base)) or "none"
            raise StrategyError(f"strategy {self.name!r} has no parameter(s) "
                                f"{', '.join(unknown)}; its parameters: {known}")
        return {**base, **given}


#: Strategies by name; add one with :func:`register_strategy`.
STRATEGIES: dict[str, Strategy] = {}

POLICY_PREFIX = "policy:"
"""Prefix of a trained policy's strategy name, ``policy:PATH`` (a JSON file written by
``mengxi learn``), loaded and registered on first use by
:func:`agents.strategies.assign.strategy_named`."""


def register_strategy(strategy: Strategy) -> Strategy:
    """Add ``strategy`` to :data:`STRATEGIES` (its role must be one of :data:`ROLES`)."""
    if strategy.role not in ROLES:
        raise StrategyError(f"role {strategy.role!r} must be one of {', '.join(ROLES)}")
    STRATEGIES[strategy.name] = strategy
    return strategy


def get_strategy(name: str, role: str | None = None) -> Strategy:
    """The strategy called ``name`` (of ``role`` when given); :class:`StrategyError` naming
    the known ones otherwise. A ``policy:PATH`` not loaded yet is unknown here: look names
    up with :func:`agents.strategies.assign.strategy_named`, which loads it."""
    found = STRATEGIES.get(name)
    if found is None or (role is not None and found.role != role):
        known = sorted(n for n, s in STRATEGIES.items() if role is None or s.role == role)
        what = f"{role} strategy" if role else "strategy"
        raise StrategyError(f"unknown {what} {name!r}; known: {', '.join(known)}")
    return found


def strategy_names(role: str | None = None) -> list[str]:
    """Registered strategy names (of one role), sorted."""
    return sorted(n for n, s in STRATEGIES.items() if role is None or s.role == role)



# --------------------------------------------------------------------- shared helpers

def price_grid(price: np.ndarray, rules: MarketRules) -> np.ndarray:
    """Prices (any shape) clipped to the energy floor and cap and rounded to the nearest price
    tick (:func:`agents.observe.price_grid`)."""
    e, tick = rules.energy, float(rules.ticks.price_yuan)
    lo, hi = e.price_floor_yuan_per_mwh, e.price_cap_yuan_per_mwh
    per = integer_inverse(tick)
    if per is None:
        return np.clip(to_price_grid(np.clip(price, lo, hi), tick), lo, hi)
    # The same numbers as to_price_grid (nearest tick, ties to even, / the integer inverse),
    # in fewer passes: strategies call this twice a window per owner. "+ 0.0" turns the
    # -0.0 of a tiny negative price into the 0.0 the int64 round trip gives.
    grid = np.rint(np.clip(np.asarray(price, dtype=np.float64), lo, hi) * float(per)) + 0.0
    grid /= float(per)
    return np.clip(grid, lo, hi)


def must_run_blocks(obs: OfferObservation, rest_mw: np.ndarray, rest_price: np.ndarray,
                    rules: MarketRules) -> Offers:
    """Two blocks per unit and hour: the must-run MW at the floor, then ``rest_mw`` (H, U) at
    ``rest_price`` (H, U) or (U,), yuan/MWh."""
    h, u = obs.available_mw.shape
    qty = np.empty((h, u, 2))
    qty[:, :, 0] = obs.must_run_mw
    qty[:, :, 1] = np.maximum(rest_mw, 0.0)
    price = np.empty((h, u, 2))
    price[:, :, 0] = rules.energy.price_floor_yuan_per_mwh
    price[:, :, 1] = price_grid(np.broadcast_to(rest_price, (h, u)), rules)
    return Offers(qty, price)


def certificate_value(rules: MarketRules, certificate_price_yuan: float | None = None) -> float:
    """yuan/MWh a renewable MWh earns in certificates: ``certificate_price_yuan`` (yuan per
    certificate; ``None`` or NaN: the rules' starting belief ``green.certificate_price_yuan``)
    / ``green.certificate_mwh``, at least 0."""
    g = rules.green
    price = g.certificate_price_yuan if certificate_price_yuan is None or not np.isfinite(
        certificate_price_yuan) else float(certificate_price_yuan)
    return max(price, 0.0) / g.certificate_mwh


def _flexible_mw(obs: OfferObservation) -> np.ndarray:
    return np.maximum(obs.available_mw - obs.must_run_mw, 0.0)


def marked_up(cost: np.ndarray, markup: float, adder: float = 0.0) -> np.ndarray:
    """cost x (1 + markup) + adder, yuan/MWh (a zero-cost unit gets only the adder)."""
    return cost * (1.0 + markup) + adder
