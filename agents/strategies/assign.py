"""Who plays which strategy: the ``strategies`` mapping of a run, resolved into groups.

Keys of the mapping, most specific first: ``"owner:technology"`` (``"genco-2:coal_supercritical"``),
an owner (``"genco-2"``), a technology (``"wind"``, ``"storage"``), ``"coal"`` (every coal
class), and the roles ``"green_sellers"`` and ``"green_buyers"``. Values: a strategy name, a
``(name, params)`` pair, or ``{"name": ..., "params": {...}}``. A key applies to a unit only
when its strategy plays the unit's role (an owner key naming a generator strategy leaves the
owner's storage alone); a key that fits nothing at all is refused, so is an unknown name or
parameter.

A trained policy plays as ``"policy:PATH"`` (a JSON file written by ``mengxi learn``,
:mod:`agents.learning.blocks`), read and registered the first time a mapping names it.

Defaults: generators ``opportunity_cost``, storage ``storage_optimal``, renewable owners
``green_seller``, loads ``green_buyer``. A strategy's parameters not given in the mapping take
``defaults[name]`` when given (a run passes its rules' ``agents.strategies`` tables,
:meth:`market.rules.StrategyRules.params_by_name`), else the strategy's registered defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.strategies.base import POLICY_PREFIX, Strategy, get_strategy
from market.errors import StrategyError

DEFAULTS = {"generator": "opportunity_cost", "storage": "storage_optimal",
            "green_seller": "green_seller", "green_buyer": "green_buyer"}
ROLE_KEYS = {"green_seller": "green_sellers", "green_buyer": "green_buyers"}


@dataclass(frozen=True, eq=False)
class StrategySpec:
    """A strategy and its resolved parameters (equal when name and parameters are)."""

    strategy: Strategy
    params: tuple[tuple[str, Any], ...]

    def _key(self) -> tuple[str, tuple[tuple[str, Any], ...]]:
        return (self.strategy.name, self.params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StrategySpec) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    @property
    def name(self) -> str:
        return self.strategy.name

    def param_dict(self) -> dict[str, Any]:
        return dict(self.params)

    def describe(self) -> dict[str, Any]:
        """JSON-able form: name and parameters (tuples as lists)."""
        return {"strategy": self.name, "params": {
            k: list(v) if isinstance(v, tuple) else v for k, v in self.params}}


@dataclass(frozen=True, eq=False)
class Group:
    """Participants playing one strategy together: ``owner`` ("" for the loads' group),
    ``role``, ``spec``, ``members`` (int64 positions: fleet units, or loads) and a unique
    ``label`` (``owner/role/strategy``, numbered when an owner plays one strategy with two
    sets of parameters)."""

    owner: str
    role: str
    spec: StrategySpec
    members: np.ndarray
    label: str


def parse_spec(value: Any, role: str | None = None,
               defaults: Mapping[str, Mapping[str, Any]] | None = None) -> StrategySpec:
    """A strategy spec from a name, a (name, params) pair or {"name", "params"}; parameters
    not given take ``defaults[name]`` (else the strategy's registered defaults)."""
    if isinstance(value, StrategySpec):
        return value
    params: Mapping[str, Any]
    if isinstance(value, str):
        name, params = value, {}
    elif isinstance(value, Mapping) and "name" in value:
        name, params = value["name"], value.get("params") or {}
    elif isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[1], Mapping):
        name, params = value
    else:
        raise StrategyError(f"a strategy is a name, (name, params) or {{'name', 'params'}}; "
                            f"got {value!r}")
    strategy = strategy_named(str(name), role)
    resolved = strategy.params(params, (defaults or {}).get(strategy.name))
    return StrategySpec(strategy, tuple(sorted(
        (k, tuple(v) if isinstance(v, list) else v) for k, v in resolved.items())))


def strategy_named(name: str, role: str | None = None) -> Strategy:
    """The registered strategy ``name`` (of ``role`` when given), as
    :func:`~agents.strategies.base.get_strategy`; a trained policy ``policy:PATH`` is loaded
    from its file and registered the first time (:func:`agents.learning.blocks.policy_strategy`).
    The one place every driver looks a strategy up by the name a user gave."""
    if name.startswith(POLICY_PREFIX):
        from agents.learning.blocks import policy_strategy

        policy_strategy(name)
    return get_strategy(name, role)


def unit_role(technology: str) -> str:
    return "storage" if technology == "storage" else "generator"


def _candidates(owner: str, technology: str, role: str) -> list[str]:
    keys = [f"{owner}:{technology}", owner, technology]
    if technology.startswith("coal"):
        keys.append("coal")
    if role in ROLE_KEYS:
        keys = [f"{owner}:{ROLE_KEYS[role]}", owner, ROLE_KEYS[role]]
    return keys


def assign(strategies: Mapping[str, Any] | None, owners: np.ndarray, technologies: np.ndarray,
           load_count: int, *,
           defaults: Mapping[str, Mapping[str, Any]] | None = None) -> list[Group]:
    """Groups of a run, in a fixed order (role, owner, strategy name). ``defaults``: parameter
    defaults by strategy name (a run passes ``rules.agents.strategies.params_by_name()``)."""
    given = dict(strategies or {})
    used: set[str] = set()
    cache: dict[tuple[str, str], StrategySpec | None] = {}

    def spec_for(key: str, role: str) -> StrategySpec | None:
        if (key, role) not in cache:
            try:
                cache[(key, role)] = parse_spec(given[key], role, defaults)
            except StrategyError:
                cache[(key, role)] = None
        return cache[(key, role)]

    def resolve(owner: str, tech: str, role: str) -> StrategySpec:
        for key in _candidates(owner, tech, role):
            if key in given:
                spec = spec_for(key, role)
                if spec is not None:
                    used.add(key)
                    return spec
        return parse_spec(DEFAULTS[role], role, defaults)

    members: dict[tuple[str, str, StrategySpec], list[int]] = {}
    for i, (owner, tech) in enumerate(zip(owners.tolist(), technologies.tolist(), strict=True)):
        role = unit_role(tech)
        members.setdefault((role, owner, resolve(owner, tech, role)), []).append(i)
        if tech in ("wind", "solar"):
            members.setdefault(("green_seller", owner, resolve(owner, tech, "green_seller")),
                               []).append(i)
    buyer = resolve("", "", "green_buyer")
    if load_count:
        members[("green_buyer", "", buyer)] = list(range(load_count))
    unused = sorted(set(given) - used)
    if unused:
        problems = []
        for key in unused:
            try:
                parse_spec(given[key])
                problems.append(f"{key!r} ({given[key]!r}) matches no unit, owner or role it "
                                "can play")
            except StrategyError as err:
                problems.append(f"{key!r}: {err}")
        raise StrategyError("strategies refused: " + "; ".join(problems))
    order = sorted(members, key=lambda k: (k[0], k[1], k[2].name, k[2].params.__repr__()))
    groups: list[Group] = []
    seen: dict[str, int] = {}
    for role, owner, spec in order:
        base = f"{owner or 'loads'}/{role}/{spec.name}"
        seen[base] = seen.get(base, 0) + 1
        label = base if seen[base] == 1 else f"{base}#{seen[base]}"
        groups.append(Group(owner, role, spec, np.array(members[(role, owner, spec)],
                                                         dtype=np.int64), label))
    return groups
