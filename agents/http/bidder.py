"""A game participant's bidder: the registered strategies, fed from what the game API shows.

:class:`Bidder` answers one question, "what is my whole batch for this open round?", for the
seat of :attr:`GameData.participant`. It reads everything through a :class:`GameData` (over
HTTP in :mod:`agents.http.runner`; from the live session inside the server in
``api/service/services/bots.py``), builds the strategies' observations (:mod:`agents.http.observe`)
and calls the same strategy functions as the in-process runner, resolved the same way
(:func:`agents.strategies.assign.assign` with the rules' ``agents.strategies`` defaults).

* **capacity** round: every generator and storage group's ``capacity`` offers;
* **energy** round: generator offers (must-run block at the floor, the rest by the strategy),
  storage schedules cut to the market's limits, loads' demand as the in-process runner bids it;
* **green** round: renewable owners sell (``green_seller``) and obligated loads buy
  (``green_buyer``). A bundled round takes the decision's bundled part; an unbundled round the
  certificates part. In a listing round a seller posts one listing (all it offers, at its
  lowest ask) and a buyer splits its requests evenly over the other seats that own units. A
  seat that both sells and buys sells only (one side per green round).

Randomness: each group draws from its own generator seeded by (``seed``, participant, round,
group label), so a batch does not depend on the order bots play in, and a bot started again
computes the same batch. **Learning** state is not kept anywhere: before each round it is
replayed from the published results of the earlier energy rounds in which the seat bid
(the draw of each round is recomputed with that round's generator, then reinforced with the
profit its units made), and memoised.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

import agents.http.observe as observe
from agents.observe import certificates_to_buy
from agents.strategies.assign import Group, assign, strategy_named, unit_role
from agents.strategies.base import CapacityOffers, Offers
from agents.strategies.green import GreenBuyerDecision, GreenSellerDecision
from agents.strategies.storage import StorageSchedule
from market.certificates.registry import TICKS_PER_MWH
from market.errors import StrategyError
from market.rules import MarketRules

log = logging.getLogger(__name__)

Bids = list[dict[str, Any]]


class GameData(Protocol):
    """What a bidder reads: the documents of the game API for one seat (JSON as dicts)."""

    participant: str

    def rules(self) -> MarketRules:
        """The session's rules (``GET .../rules``)."""
        ...

    def rounds(self) -> list[dict[str, Any]]:
        """Every round of the plan with its status, in plan order (``GET .../rounds``)."""
        ...

    def view(self, round_id: str, *, fresh: bool = False) -> dict[str, Any]:
        """The seat's view for a round (``GET .../me?round_id=``); ``fresh`` asks for the
        current state (state of charge, certificates) rather than a remembered copy."""
        ...

    def result(self, round_id: str) -> dict[str, Any]:
        """A cleared round's published result (``GET .../rounds/{r}/result``)."""
        ...

    def certificates(self) -> dict[str, Any]:
        """The seat's certificate holdings (``GET .../me/certificates``)."""
        ...

    def seats(self) -> list[dict[str, Any]]:
        """The lobby's seats (``GET .../lobby``)."""
        ...


def rng_for(seed: int, participant: str, round_id: str, label: str) -> np.random.Generator:
    """The generator of one group in one round (see the module docstring)."""
    digest = hashlib.sha256(f"{participant}\x1f{round_id}\x1f{label}".encode()).digest()
    words = np.frombuffer(digest[:16], dtype=np.uint32).tolist()
    return np.random.default_rng([int(seed), *words])


def strategy_mapping(strategy: str | Mapping[str, Any] | None, participant: str,
                     roles: set[str]) -> dict[str, Any]:
    """The ``strategies`` mapping of :func:`agents.strategies.assign.assign` for a bot told to
    play ``strategy``: a strategy name applies to this seat's units (or loads) of its role and
    is left out when the seat has none (its other roles play the defaults); a mapping is
    passed as it is. Unknown names raise :class:`~market.errors.StrategyError`."""
    if strategy is None:
        return {}
    if isinstance(strategy, Mapping):
        return dict(strategy)
    role = strategy_named(strategy).role
    if role not in roles:
        return {}
    return {("green_buyers" if role == "green_buyer" else participant): strategy}


class Bidder:
    """The batches of one seat (see the module docstring). ``strategy``: a strategy name or a
    ``strategies`` mapping (default: every role plays its default strategy); ``seed`` >= 0."""

    def __init__(self, data: GameData, strategy: str | Mapping[str, Any] | None = None,
                 seed: int = 0) -> None:
        if seed < 0:
            raise StrategyError(f"a bot's seed must be >= 0, got {seed}")
        self.data = data
        self.strategy = strategy
        self.seed = int(seed)
        self._rules: MarketRules | None = None
        self._groups: list[Group] | None = None
        self._learned: dict[str, tuple[int, Any]] = {}

    # ------------------------------------------------------------------ set-up

    @property
    def rules(self) -> MarketRules:
        if self._rules is None:
            self._rules = self.data.rules()
        return self._rules

    def groups(self, view: Mapping[str, Any]) -> list[Group]:
        """The seat's strategy groups (members: positions in the view's units or loads)."""
        if self._groups is None:
            tech = np.array([u["technology"] for u in view["units"]], dtype=str)
            roles = {unit_role(t) for t in tech.tolist()}
            if np.isin(tech, ("wind", "solar")).any():
                roles.add("green_seller")
            if view["loads"]:
                roles.add("green_buyer")
            me = self.data.participant
            self._groups = assign(strategy_mapping(self.strategy, me, roles),
                                  np.full(tech.shape[0], me, dtype=object).astype(str), tech,
                                  len(view["loads"]),
                                  defaults=self.rules.agents.strategies.params_by_name())
        return self._groups

    def _rng(self, round_id: str, group: Group) -> np.random.Generator:
        return rng_for(self.seed, self.data.participant, round_id, group.label)

    # ------------------------------------------------------------------ batches

    def batch(self, round_id: str) -> Bids:
        """The whole batch for the open round ``round_id`` (``[]`` when the seat has nothing
        to bid in it)."""
        rounds = self.data.rounds()
        spec = next((r for r in rounds if r["round_id"] == round_id), None)
        if spec is None:
            raise StrategyError(f"no round {round_id!r} in this session")
        view = self.data.view(round_id, fresh=True)
        kind = spec["kind"]
        if kind == "capacity":
            return self._capacity(round_id, rounds, view)
        if kind == "energy":
            return self._energy(round_id, rounds, view)
        if kind == "green":
            return self._green(spec, rounds, view)
        return []

    def _profile(self, rounds: Sequence[Mapping[str, Any]], before: str) -> np.ndarray:
        """The forecast by hour of the day from the energy rounds cleared before ``before``."""
        done = []
        for r in rounds:
            if r["round_id"] == before:
                break
            if r["kind"] == "energy" and r["status"] == "cleared":
                done.append(self.data.result(r["round_id"]))
        return observe.hourly_profile(done, self.rules)

    def _capacity(self, round_id: str, rounds: list[dict[str, Any]],
                  view: Mapping[str, Any]) -> Bids:
        energy = [self.data.view(r["round_id"]) for r in rounds if r["kind"] == "energy"]
        profile = self._profile(rounds, round_id)
        out: Bids = []
        for g in self.groups(view):
            if g.role not in ("generator", "storage") or g.spec.strategy.capacity is None:
                continue
            state = self._state(g, round_id, rounds) if g.spec.strategy.adaptive else None
            obs = observe.capacity_observation(g.owner, view, g.members, energy, profile,
                                               self.rules, state)
            offers = g.spec.strategy.capacity(obs, self.rules, self._rng(round_id, g),
                                              g.spec.param_dict())
            if not isinstance(offers, CapacityOffers) or np.shape(offers.mw) != g.members.shape:
                raise StrategyError(f"{g.label} must return CapacityOffers of "
                                    f"{g.members.shape[0]} units")
            out += observe.capacity_bids(offers, obs, self.rules)
        return out

    def _energy(self, round_id: str, rounds: list[dict[str, Any]],
                view: Mapping[str, Any]) -> Bids:
        rules = self.rules
        profile = self._profile(rounds, round_id)
        _, certificate = self._expected(rounds, round_id)
        out: Bids = []
        for g in self.groups(view):
            if g.role == "generator":
                state = self._state(g, round_id, rounds) if g.spec.strategy.adaptive else None
                obs = observe.offer_observation(g.owner, view, g.members, profile, rules, state,
                                                certificate)
                offers = self._offers(g, obs, round_id)
                out += observe.offer_bids(offers, view, obs.unit_ids, rules)
            elif g.role == "storage":
                obs_s = observe.storage_observation(g.owner, view, g.members, profile, rules)
                sched = g.spec.strategy.offer(obs_s, rules, self._rng(round_id, g),
                                              g.spec.param_dict())
                if not isinstance(sched, StorageSchedule):
                    raise StrategyError(f"{g.label} must return a StorageSchedule")
                out += observe.storage_bids(sched, obs_s, view, rules)
        return out + observe.load_bids(view, rules)

    def _offers(self, g: Group, obs: Any, round_id: str) -> Offers:
        offers = g.spec.strategy.offer(obs, self.rules, self._rng(round_id, g),
                                       g.spec.param_dict())
        shape = obs.available_mw.shape
        if not isinstance(offers, Offers) or np.shape(offers.quantity_mw)[:2] != shape:
            raise StrategyError(f"{g.label} must return Offers of (hours, units) = {shape}")
        return offers

    # ------------------------------------------------------------------ learning

    def _state(self, g: Group, round_id: str, rounds: list[dict[str, Any]]) -> Any:
        """The learning state of group ``g`` before round ``round_id``: replayed over the
        earlier cleared energy rounds in which the seat bid (memoised)."""
        index = {r["round_id"]: k for k, r in enumerate(rounds)}
        stop = index[round_id]
        start, state = self._learned.get(g.label, (0, None))
        if start > stop:  # asked about an earlier round than memoised: replay from the start
            start, state = 0, None
        params = g.spec.param_dict()
        for k in range(start, stop):
            r = rounds[k]
            if r["kind"] != "energy" or r["status"] != "cleared":
                continue
            rid = r["round_id"]
            result = self.data.result(rid)
            view = self.data.view(rid)
            units = {view["units"][int(i)]["unit"] for i in g.members}
            me = self.data.participant
            if not any(b["participant"] == me and not b["imputed"] and b["unit"] in units
                       for b in result["result"]["bids"]):
                continue
            obs = observe.offer_observation(g.owner, view, g.members,
                                            self._profile(rounds, rid), self.rules, state,
                                            self._expected(rounds, rid)[1])
            drawn = self._offers(g, obs, rid).state
            assert g.spec.strategy.learn is not None
            state = g.spec.strategy.learn(drawn, self._profit(result, view, g), params)
        self._learned[g.label] = (stop, state)
        return state

    @staticmethod
    def _profit(result: Mapping[str, Any], view: Mapping[str, Any], g: Group) -> float:
        """Yuan the group's units made in an energy round: dispatch x (price - cost)."""
        cost = {view["units"][int(i)]["unit"]: view["units"][int(i)]["marginal_cost_yuan_per_mwh"]
                or 0.0 for i in g.members}
        prices = dict(zip(result["result"]["hours"], result["hourly_price_yuan_per_mwh"] or [],
                          strict=False))
        total = 0.0
        for row in result["result"]["dispatch"]:
            price = prices.get(row["hour"])
            if row["unit"] in cost and row["mw"] > 0 and price is not None:
                total += row["mw"] * (price - cost[row["unit"]])
        return total

    # ------------------------------------------------------------------ green

    def _expected(self, rounds: Sequence[Mapping[str, Any]], before: str) -> tuple[float, float]:
        """Last cleared green premiums before ``before``: (bundled, unbundled), NaN unknown."""
        seen = {"bundled": float("nan"), "unbundled": float("nan")}
        for r in rounds:
            if r["round_id"] == before:
                break
            if r["kind"] == "green" and r["status"] == "cleared":
                price = self.data.result(r["round_id"]).get("price")
                if price is not None:
                    seen[r["product"] or "bundled"] = float(price)
        return seen["bundled"], seen["unbundled"]

    def _green(self, spec: Mapping[str, Any], rounds: list[dict[str, Any]],
               view: Mapping[str, Any]) -> Bids:
        rules = self.rules
        round_id, month = spec["round_id"], int(spec["month"] or 1)
        product, mode = spec["product"] or "bundled", spec["mode"] or "auction"
        lot = 1 if product == "bundled" else round(rules.green.certificate_mwh * TICKS_PER_MWH)
        premium, certificate = self._expected(rounds, round_id)
        sells: Bids = []
        buys: Bids = []
        for g in self.groups(view):
            if g.role == "green_seller":
                obs = observe.seller_observation(g.owner, view, g.members, month, premium,
                                                 certificate)
                d = g.spec.strategy.offer(obs, rules, self._rng(round_id, g),
                                          g.spec.param_dict())
                if not isinstance(d, GreenSellerDecision):
                    raise StrategyError(f"{g.label} must return a GreenSellerDecision")
                want = d.bundled_mwh if product == "bundled" else obs.sellable_mwh
                price = (d.bundled_premium_yuan_per_mwh if product == "bundled"
                         else d.certificate_price_yuan)
                qty = observe.certificate_ticks(np.minimum(want, obs.sellable_mwh), lot)
                sells += [{"unit": str(obs.unit_ids[k]), "side": "sell",
                           "price": observe.cents(price[k], rules), "quantity": float(qty[k])}
                          for k in np.flatnonzero(qty > 0).tolist()]
            elif g.role == "green_buyer":
                buys += self._buys(g, view, rounds, spec, premium, certificate, lot)
        if sells and mode == "listing":
            total = observe.certificate_ticks(sum(b["quantity"] for b in sells), 1)
            sells = [{"side": "sell", "price": min(b["price"] for b in sells),
                      "quantity": float(total)}]
        return sells or buys

    def _buys(self, g: Group, view: Mapping[str, Any], rounds: list[dict[str, Any]],
              spec: Mapping[str, Any], premium: float, certificate: float, lot: int) -> Bids:
        rules = self.rules
        month = int(spec["month"] or 1)
        loads = view["loads"]
        demand = np.zeros(len(loads))
        for r in rounds:
            if r["kind"] != "energy":
                continue
            v = self.data.view(r["round_id"])
            if not v["month_of_hour"] or v["month_of_hour"][0] > month:
                continue
            demand += np.array([sum(ld["demand_mw"]) for ld in v["loads"]])
        held = float(self.data.certificates().get("held_mwh", 0.0))
        need = observe.obligation_need(loads, demand, held, rules)
        obs = observe.buyer_observation(view, month, need, premium, certificate)
        d = g.spec.strategy.offer(obs, rules, self._rng(spec["round_id"], g),
                                  g.spec.param_dict())
        if not isinstance(d, GreenBuyerDecision):
            raise StrategyError(f"{g.label} must return a GreenBuyerDecision")
        bundled = spec["product"] != "unbundled"
        if bundled:
            want, price = np.asarray(d.bundled_mwh), np.asarray(d.bundled_premium_yuan_per_mwh)
        else:
            want = certificates_to_buy(need)
            price = np.asarray(d.certificate_price_yuan)
        sellers = [None]
        if spec["mode"] == "listing":
            sellers = [s["participant"] for s in self.data.seats()
                       if s["units"] > 0 and s["participant"] != self.data.participant]
        out: Bids = []
        for k in range(len(loads)):
            each = observe.certificate_ticks(want[k] / max(len(sellers), 1), lot)
            if each <= 0:
                continue
            for seller in sellers:
                bid: dict[str, Any] = {"side": "buy", "price": observe.cents(price[k], rules),
                                       "quantity": float(each)}
                if seller is not None:
                    bid["counterparty"] = seller
                out.append(bid)
        return out
