"""The whole rule set of one run: :class:`MarketRules`."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)

from market.errors import RulesError
from market.rules import toml_text
from market.rules.base import RulesModel, RulesProblem, deep_merge, num, pick
from market.rules.meta import MetaRules, TickRules
from market.rules.problems import problems_from, unknown_key_message
from market.rules.sections.agents import AgentRules
from market.rules.sections.capacity import CapacityRules
from market.rules.sections.compensation import CompensationRules
from market.rules.sections.contracts import ContractRules
from market.rules.sections.energy import EnergyRules
from market.rules.sections.fleet import FleetRules
from market.rules.sections.green import GreenRules
from market.rules.sections.pathway import PathwayRules

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class MarketRules(RulesModel):
    """Every rule and sandbox parameter of a run; defaults are the ``mengxi`` preset."""

    meta: MetaRules = Field(default_factory=MetaRules)
    ticks: TickRules = Field(default_factory=TickRules)
    energy: EnergyRules = Field(default_factory=EnergyRules)
    capacity: CapacityRules = Field(default_factory=CapacityRules)
    compensation: CompensationRules = Field(default_factory=CompensationRules)
    green: GreenRules = Field(default_factory=GreenRules)
    fleet: FleetRules = Field(default_factory=FleetRules)
    agents: AgentRules = Field(default_factory=AgentRules)
    pathway: PathwayRules = Field(default_factory=PathwayRules)
    """Entry, exit and policy steps between the years of ``mengxi pathway``."""
    contracts: ContractRules = Field(default_factory=ContractRules)
    """Contracts settled as differences (coal CfDs, the mechanism price)."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler,
              info: SerializationInfo) -> dict[str, Any]:
        # A rule set at the default pathway and contracts keeps the JSON (and sha256) it had
        # before these tables.
        data = handler(self)
        if info.mode_is_json():
            for name, default in (("pathway", PathwayRules()), ("contracts", ContractRules())):
                if getattr(self, name) == default:
                    data.pop(name, None)
        return data

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        floor = num(pick(values, "energy", "price_floor_yuan_per_mwh"))
        cap = num(pick(values, "energy", "price_cap_yuan_per_mwh"))
        voll = num(pick(values, "fleet", "loads", "value_of_lost_load_yuan_per_mwh"))
        if floor is None or cap is None or floor >= cap:
            return problems  # the energy table reports its own limits
        if voll is not None and not floor < voll <= cap:
            problems.append(
                (
                    "fleet.loads.value_of_lost_load_yuan_per_mwh",
                    f"must be above the energy price floor ({floor:g}) and at most the energy "
                    f"price cap ({cap:g}): loads bid it in the energy market",
                )
            )
        strike = num(pick(values, "contracts", "coal_strike_float"))
        drift = num(pick(values, "energy", "contract_price_float"))
        if strike is not None and drift is not None and abs(strike) > drift:
            problems.append(
                (
                    "contracts.coal_strike_float",
                    f"must be within +-energy.contract_price_float ({drift:g}): the strike "
                    "stays within the benchmark's band",
                )
            )
        responsive = num(pick(values, "fleet", "loads", "responsive_price_yuan_per_mwh"))
        if responsive is not None and responsive < floor:
            problems.append(
                (
                    "fleet.loads.responsive_price_yuan_per_mwh",
                    f"must be at least the energy price floor ({floor:g}): loads bid it in the "
                    "energy market (above the cap they bid the cap)",
                )
            )
        for name in (
            "coal_ultra_supercritical",
            "coal_supercritical",
            "coal_subcritical",
            "wind",
            "solar",
        ):
            lowest = num(pick(values, "fleet", name, "lowest_offer_yuan_per_mwh"))
            if lowest is not None and lowest < floor:
                problems.append(
                    (
                        f"fleet.{name}.lowest_offer_yuan_per_mwh",
                        f"must be at least the energy price floor ({floor:g})",
                    )
                )
        return problems

    # --- provenance and serialisation -------------------------------------------------------

    def canonical_json(self) -> str:
        """The rules as compact JSON with sorted keys: the input of :meth:`sha256`."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )

    def sha256(self) -> str:
        """Hex SHA-256 of :meth:`canonical_json`; stored with every result for provenance."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def to_toml(self) -> str:
        """The resolved rules as TOML text that :func:`market.rules.load_rules` reads back."""
        return toml_text.dumps(self.model_dump(mode="python"))

    def to_json(self, indent: int | None = 2) -> str:
        """The resolved rules as JSON (``MarketRules.model_validate_json`` reads it back)."""
        return self.model_dump_json(indent=indent)

    # --- variants ---------------------------------------------------------------------------

    def with_overrides(self, overrides: Mapping[str, Any]) -> MarketRules:
        """A new validated rule set with dotted keys replaced, e.g.
        ``{"capacity.net_cone_yuan_per_kw_yr": 300}`` or
        ``{"capacity.demand_points[0].price_yuan_per_kw_yr": 450}``.

        A table value is merged into the table; a list replaces the list whole; numpy scalars
        are taken as Python numbers. Types are strict (``"300"`` or ``True`` for a number is
        refused, an int is a valid float). Raises
        :class:`RulesError` listing every unknown key or invalid value.
        """
        data = self.model_dump(mode="python")
        problems: list[RulesProblem] = []
        for key, value in overrides.items():
            if isinstance(value, np.generic):  # a sweep grid's numpy scalars are plain numbers
                value = value.item()
            problem = _set_path(data, key, value)
            if problem is not None:
                problems.append(problem)
        try:
            rules = MarketRules.model_validate(data)
        except ValidationError as err:
            # Keys that could not be placed are reported together with the values that could.
            raise RulesError(
                problems + problems_from(err, MarketRules, data, "overrides")
            ) from None
        if problems:
            raise RulesError(problems)
        return rules


def _parse_key(key: str) -> list[str | int] | None:
    parts: list[str | int] = []
    pos = 0
    for match in _SEGMENT.finditer(key):
        gap = key[pos : match.start()]
        if gap not in ("", "."):
            return None
        name, index = match.groups()
        parts.append(name if name is not None else int(index))
        pos = match.end()
    return parts if parts and pos == len(key) else None


def _set_path(data: dict[str, Any], key: str, value: Any) -> RulesProblem | None:
    parts = _parse_key(key)
    if parts is None:
        return RulesProblem(
            key, "is not a key path (write table.key or table.list[0].key)", "overrides"
        )
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                size = len(node) if isinstance(node, list) else 0
                return RulesProblem(
                    key, f"index {part} out of range (the list has {size})", "overrides"
                )
        elif not isinstance(node, dict) or part not in node:
            loc = tuple(parts[: depth + 1])
            return RulesProblem(key, unknown_key_message(MarketRules, loc), "overrides")
        if last:
            if isinstance(value, Mapping) and isinstance(node[part], dict):
                node[part] = deep_merge(node[part], value)
            else:
                node[part] = copy.deepcopy(list(value) if isinstance(value, tuple) else value)
        else:
            node[part] = list(node[part]) if isinstance(node[part], tuple) else node[part]
            node = node[part]
    return None
