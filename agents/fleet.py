"""The synthetic Mengxi-like fleet: units, owners, costs, loads, export blocks and the coal
units registered as supporting renewable bases, built from the rules' fleet table.

>>> from market.rules import load_preset
>>> synth = synthesize_fleet(load_preset("mengxi"), seed=7, scale=0.01)
>>> synth.fleet.unit_ids.tolist()
['coal_usc-001', 'coal_sc-001', 'coal_sub-001', 'wind-001', 'solar-001', 'storage-001']

Everything random (marginal costs, minimum outputs, load sizes) is drawn from one
:class:`numpy.random.Generator` per purpose, spawned from ``seed``: the same rules, seed and
scale give byte-identical arrays. Owners, supporting-coal pairings and export blocks are
deterministic.

Every assumption is a rule [E]: owners (``fleet.genco_count``, ``fleet.loads.retailer_count``),
the supporting coal (``fleet.supporting_share``, ``fleet.pairing_ratio``), load sizes and types
(``fleet.loads.size_sigma``, ``fleet.loads.industrial_commercial_share``). A call may override
a few of them with :class:`FleetAssumptions` (a game seats its own number of companies).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from agents.observe import price_grid
from clearing.grid import from_ticks, scaled
from market.errors import RulesError, SynthesisError
from market.rules import AgentRules, FleetRules, GeneratorClass, MarketRules
from market.units import Fleet

#: Short id prefix of each technology (``coal_usc-001``).
ID_PREFIX = {
    "coal_ultra_supercritical": "coal_usc",
    "coal_supercritical": "coal_sc",
    "coal_subcritical": "coal_sub",
    "wind": "wind",
    "solar": "solar",
    "storage": "storage",
}


#: Where each field of :class:`FleetAssumptions` lives in the rules.
RULE_KEYS = {
    "genco_count": "fleet.genco_count",
    "supporting_share": "fleet.supporting_share",
    "pairing_ratio": "fleet.pairing_ratio",
    "retailer_count": "fleet.loads.retailer_count",
    "industrial_commercial_share": "fleet.loads.industrial_commercial_share",
    "load_size_sigma": "fleet.loads.size_sigma",
}


@dataclass(frozen=True)
class FleetAssumptions:
    """Overrides of the rules' fleet-synthesis assumptions for one call; ``None`` (the default
    of every field) keeps the rules' value. Each field names its rule in :data:`RULE_KEYS`
    (``genco_count`` is ``fleet.genco_count``, ``retailer_count`` is
    ``fleet.loads.retailer_count``, ...), where its meaning and range are documented."""

    genco_count: int | None = None
    supporting_share: float | None = None
    pairing_ratio: float | None = None
    retailer_count: int | None = None
    industrial_commercial_share: float | None = None
    load_size_sigma: float | None = None

    def overrides(self) -> dict[str, Any]:
        """The given fields as rule overrides (dotted key -> value)."""
        return {RULE_KEYS[f.name]: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class SynthFleet:
    """A synthesised fleet: the market's :class:`~market.units.Fleet` plus what agents need.

    Per unit, length n, in fleet order (read-only arrays):

    * ``marginal_cost_yuan_per_mwh`` float64: drawn uniformly from the class's range (rounded
      to the price tick); 0 for wind, solar and storage (storage offers at its opportunity cost,
      which a strategy works out, so its column holds 0, not a cost).
    * ``lowest_offer_yuan_per_mwh`` float64: the lowest offer the class allows (wind: the
      floor), the cost where the class gives none.
    * ``min_output_fraction`` float64: minimum stable output, share of nameplate, drawn from the
      class's range; 0 where the class gives none.
    * ``winter_must_run`` bool: must run in ``heating_season_months``.

    Positions of each technology in the fleet (int64), in fleet order; profile columns follow
    them (``profiles.wind_cf[:, k]`` is unit ``wind_index[k]``): ``coal_index``, ``wind_index``,
    ``solar_index``, ``storage_index``. ``storage_power_mw`` and ``storage_energy_mwh``
    (float64, per storage unit) follow ``storage_index``.

    Loads, length n_loads: ``load_ids``, ``load_owners`` (str), ``load_peak_share`` (float64,
    share of the system load, sums to 1), ``load_industrial_commercial`` (bool). Export blocks,
    length n_blocks: ``export_ids`` (str), ``export_mw`` (float64, MW every hour),
    ``export_price_yuan_per_mwh`` (float64, the block's bid).

    ``peak_load_mw`` is the system peak the load profiles reach (rules' peak x scale);
    ``seed`` and ``scale`` record how it was made; ``agents`` holds the rules' assumptions about
    the participants' world, and ``weather_year`` the rules' ``meta.weather_year``, which
    :func:`agents.profiles.year_profiles` models by default (None: the year it is given).
    """

    fleet: Fleet
    marginal_cost_yuan_per_mwh: np.ndarray
    lowest_offer_yuan_per_mwh: np.ndarray
    min_output_fraction: np.ndarray
    winter_must_run: np.ndarray
    coal_index: np.ndarray
    wind_index: np.ndarray
    solar_index: np.ndarray
    storage_index: np.ndarray
    storage_power_mw: np.ndarray
    storage_energy_mwh: np.ndarray
    load_ids: np.ndarray
    load_owners: np.ndarray
    load_peak_share: np.ndarray
    load_industrial_commercial: np.ndarray
    export_ids: np.ndarray
    export_mw: np.ndarray
    export_price_yuan_per_mwh: np.ndarray
    peak_load_mw: float
    heating_season_months: tuple[int, ...]
    seed: int
    scale: float
    agents: AgentRules
    weather_year: int | None = None

    @property
    def n_loads(self) -> int:
        return len(self.load_ids)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array of the synthesis by name (the fleet's columns prefixed ``fleet.``)."""
        out = {f"fleet.{name}": getattr(self.fleet, name) for name in (
            "unit_ids", "owners", "technologies", "nameplate_mw", "capacity_credit",
            "declared_max_mw", "pairing_ratio", "existing")}
        out.update({name: value for name, value in vars(self).items()
                    if isinstance(value, np.ndarray)})
        return out


def _check_inputs(rules: object, seed: object, scale: object,
                  assumptions: object) -> tuple[list[str], MarketRules | None]:
    """Every problem of the inputs, and the rules with ``assumptions`` applied (None if they
    cannot be)."""
    problems = []
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        problems.append(f"seed must be an integer >= 0, got {seed!r}")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float)
                              or not math.isfinite(scale) or scale <= 0):
        problems.append(f"scale must be a finite number > 0 (0.01 is a small system with every "
                        f"class's share kept), got {scale!r}")
    if not isinstance(rules, MarketRules):
        problems.append(f"rules must be a MarketRules (load_preset), got {type(rules).__name__}")
        return problems, None
    if assumptions is None:
        return problems, rules
    if not isinstance(assumptions, FleetAssumptions):
        problems.append("assumptions must be a FleetAssumptions")
        return problems, None
    try:
        return problems, rules.with_overrides(assumptions.overrides())
    except RulesError as err:
        names = {key: name for name, key in RULE_KEYS.items()}
        for p in err.problems:
            path = str(getattr(p, "path", ""))
            problems.append(f"{names.get(path, path)} ({path}) {getattr(p, 'message', p)}")
        return problems, None


def synthesize_fleet(rules: MarketRules, seed: int, scale: float | None = None, *,
                     assumptions: FleetAssumptions | None = None) -> SynthFleet:
    """The Mengxi-like fleet of ``rules.fleet`` at ``scale`` (``None``: the rules' own scale).

    The fleet keeps its proportions at any scale: each class's total MW is its scale-1 total x
    scale, in count x scale units (rounded half-even, at least ``fleet.min_units_per_class``
    for a non-empty class, never more than its scale-1 count for that reason) of equal size
    (:func:`scaled_units`; at 0.01 five 40 MW ultra-supercritical units stand for the 20 GW
    class); storage keeps its duration. Loads are the rules' count x scale (at
    least 1); peak load and export MW scale, and the export blocks keep their number and
    price ladder. Units come
    in fleet-table order (ultra-supercritical, supercritical, subcritical coal, wind, solar,
    storage). ``assumptions`` overrides some of the rules' synthesis assumptions for this
    call. Raises :class:`~market.errors.SynthesisError` listing every bad input.
    """
    problems, resolved = _check_inputs(rules, seed, scale, assumptions)
    if problems or resolved is None:
        raise SynthesisError(problems)
    rules = resolved
    fleet_rules = rules.fleet if scale is None else rules.fleet.model_copy(
        update={"scale": float(scale)})
    costs_rng, min_output_rng, loads_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(3))

    quantity_tick = rules.ticks.quantity_mw
    classes: list[tuple[str, GeneratorClass | None, int, float]] = [
        (name, cls, *scaled_units(cls.unit_count, cls.unit_size_mw, fleet_rules.scale,
                                  quantity_tick, fleet_rules.min_units_per_class))
        for name, cls in fleet_rules.generator_classes().items()]
    storage = fleet_rules.storage
    n_storage, storage_mw = scaled_units(storage.unit_count, storage.unit_size_mw,
                                         fleet_rules.scale, quantity_tick,
                                         fleet_rules.min_units_per_class)
    classes.append(("storage", None, n_storage, storage_mw))
    storage_mwh = storage.energy_mwh if storage_mw == storage.unit_size_mw else on_tick(
        storage.energy_mwh * storage_mw / storage.unit_size_mw, quantity_tick)  # same hours

    ids, techs, sizes, costs, lowest, min_out, must_run = [], [], [], [], [], [], []
    declared_share: list[np.ndarray] = []
    tick = rules.ticks.price_yuan
    for name, cls, count, size in classes:
        width = max(3, len(str(count)))
        ids += [f"{ID_PREFIX[name]}-{i + 1:0{width}d}" for i in range(count)]
        techs += [name] * count
        sizes.append(np.full(count, size))
        declared_share.append(np.full(count, 1.0 if cls is None
                                      else cls.declared_max_output_fraction))
        if cls is None:  # storage: no cost range, no minimum output
            costs.append(np.zeros(count))
            lowest.append(np.zeros(count))
            min_out.append(np.zeros(count))
            must_run.append(np.zeros(count, dtype=bool))
            continue
        low, high = cls.marginal_cost_low_yuan_per_mwh, cls.marginal_cost_high_yuan_per_mwh
        cost = np.clip(np.round(costs_rng.uniform(low, high, count) / tick) * tick, low, high)
        costs.append(cost)
        lowest.append(cost.copy() if cls.lowest_offer_yuan_per_mwh is None
                      else np.full(count, cls.lowest_offer_yuan_per_mwh))
        if cls.min_output_fraction_low is None or cls.min_output_fraction_high is None:
            min_out.append(np.zeros(count))
        else:
            min_out.append(min_output_rng.uniform(
                cls.min_output_fraction_low, cls.min_output_fraction_high, count))
        must_run.append(np.full(count, cls.winter_must_run, dtype=bool))

    technologies = np.array(techs, dtype=str)
    nameplate = np.concatenate(sizes).astype(np.float64)
    owners = np.array([f"genco-{g % fleet_rules.genco_count + 1}" for g in range(len(ids))],
                      dtype=str)
    index = {t: np.flatnonzero(technologies == t).astype(np.int64) for t in ID_PREFIX}
    coal_index = np.flatnonzero(np.char.startswith(technologies, "coal")).astype(np.int64)
    supported, ratios = _pair_supporting_coal(
        coal_index, np.concatenate([index["wind"], index["solar"]]), ids, owners, nameplate,
        fleet_rules)
    declared = _declared_max_mw(ids, nameplate, np.concatenate(declared_share), fleet_rules,
                                rules.ticks.quantity_mw)
    fleet = Fleet.from_columns(ids, owners.tolist(), techs, nameplate, declared_max_mw=declared,
                               supported_units=supported, pairing_ratio=ratios)
    loads = _loads(fleet_rules, loads_rng)
    exports = _export_blocks(rules, fleet_rules)
    return SynthFleet(
        fleet=fleet,
        marginal_cost_yuan_per_mwh=_frozen(np.concatenate(costs)),
        lowest_offer_yuan_per_mwh=_frozen(np.concatenate(lowest)),
        min_output_fraction=_frozen(np.concatenate(min_out)),
        winter_must_run=_frozen(np.concatenate(must_run)),
        coal_index=_frozen(coal_index), wind_index=_frozen(index["wind"]),
        solar_index=_frozen(index["solar"]), storage_index=_frozen(index["storage"]),
        storage_power_mw=_frozen(np.full(len(index["storage"]), storage_mw)),
        storage_energy_mwh=_frozen(np.full(len(index["storage"]), storage_mwh)),
        **loads, **exports,
        peak_load_mw=fleet_rules.loads.peak_mw * fleet_rules.scale,
        heating_season_months=tuple(fleet_rules.heating_season_months),
        seed=int(seed), scale=fleet_rules.scale, agents=rules.agents,
        weather_year=rules.meta.weather_year)


def _declared_max_mw(ids: list[str], nameplate: np.ndarray, share: np.ndarray,
                     fleet_rules: FleetRules, quantity_tick: float) -> np.ndarray:
    """float64 (n,) declared maximum output: the class's share of nameplate (on the quantity
    tick), or the unit's ``fleet.declared_max`` row. Raises
    :class:`~market.errors.SynthesisError` for a row naming no unit of this fleet or above its
    nameplate."""
    out = np.array([mw if f == 1.0 else on_tick(mw * f, quantity_tick)
                    for mw, f in zip(nameplate.tolist(), share.tolist(), strict=True)])
    where = {u: i for i, u in enumerate(ids)}
    problems = []
    for k, row in enumerate(fleet_rules.declared_max):
        i = where.get(row.unit_id)
        key = f"fleet.declared_max[{k}]"
        if i is None:
            problems.append(f"{key}: no unit {row.unit_id!r} in the fleet at scale "
                            f"{fleet_rules.scale:g} (unit ids depend on the scale)")
        elif row.mw > nameplate[i]:
            problems.append(f"{key}: {row.mw:g} MW is above the nameplate of {row.unit_id!r} "
                            f"({nameplate[i]:g} MW)")
        else:
            out[i] = row.mw
    if problems:
        raise SynthesisError(problems)
    return out


def scaled_units(count: int, size_mw: float, scale: float, quantity_tick: float,
                 min_units: int = 1) -> tuple[int, float]:
    """A class of ``count`` units of ``size_mw`` at ``scale``: count x scale units (rounded
    half-even, at least ``min_units`` but never more than ``count`` for that reason; 0 for an
    empty class), each an equal share of the class's scaled total MW (on the quantity tick),
    so every class keeps its share of the fleet at any scale. Whenever count x scale is a
    whole number of units (scale 1) the size is unchanged.

    >>> scaled_units(20, 1000.0, 0.01, 0.001)  # 20 GW at 1 %: one 200 MW unit
    (1, 200.0)
    >>> scaled_units(20, 1000.0, 0.01, 0.001, min_units=5)  # or five of 40 MW
    (5, 40.0)
    >>> scaled_units(80, 500.0, 0.1, 0.001)
    (8, 500.0)
    """
    if count <= 0:
        return 0, size_mw
    exact = count * scale
    n = max(min(count, min_units), round(exact), 1)
    if exact == n:
        return n, size_mw
    return n, on_tick(size_mw * exact / n, quantity_tick)


def on_tick(mw: float, quantity_tick: float) -> float:
    """``mw`` rounded to the nearest quantity tick (the nearest float to it)."""
    return float(from_ticks(int(np.rint(scaled(mw, quantity_tick))), quantity_tick))


def _pair_supporting_coal(coal: np.ndarray, renewables: np.ndarray, ids: list[str],
                          owners: np.ndarray, nameplate: np.ndarray, fleet_rules: FleetRules,
                          ) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """Register the first ``supporting_share`` of coal units (fleet order = newest classes
    first) as supporting whole wind/solar units, as close to ``pairing_ratio`` as whole units
    allow; each renewable unit is supported by at most one coal unit, preferably one of the
    same owner (desert bases are built by one investor). A coal unit left without renewables
    is not registered."""
    n = len(ids)
    supported: list[tuple[str, ...]] = [()] * n
    ratios = np.full(n, math.nan)
    if fleet_rules.supporting_share == 0 or len(coal) == 0 or len(renewables) == 0:
        return supported, ratios
    # Wind and solar interleaved by their position in their own class, so bases mix both.
    n_wind = int(np.count_nonzero(np.char.startswith(np.array(ids)[renewables], "wind")))
    position = np.concatenate([(np.arange(n_wind) + 0.5) / max(n_wind, 1),
                               (np.arange(len(renewables) - n_wind) + 0.5)
                               / max(len(renewables) - n_wind, 1)])
    pool = renewables[np.argsort(position, kind="stable")].tolist()
    count = max(1, round(fleet_rules.supporting_share * len(coal)))
    for c in coal[:count].tolist():
        if not pool:
            break
        want = nameplate[c] / fleet_rules.pairing_ratio
        order = [r for r in pool if owners[r] == owners[c]] + [
            r for r in pool if owners[r] != owners[c]]
        chosen: list[int] = []
        got = 0.0
        for r in order:
            # Take the next unit while it brings the total closer to the target (at least one).
            if chosen and abs(got + nameplate[r] - want) >= abs(got - want):
                break
            chosen.append(r)
            got += nameplate[r]
        taken = set(chosen)
        pool = [r for r in pool if r not in taken]
        supported[c] = tuple(ids[r] for r in chosen)
        ratios[c] = nameplate[c] / got
    return supported, ratios


def _loads(fleet_rules: FleetRules, rng: np.random.Generator) -> dict[str, np.ndarray]:
    loads = fleet_rules.loads
    n = fleet_rules.scaled_count(loads.count)
    width = max(3, len(str(n)))
    size = rng.lognormal(0.0, loads.size_sigma, n)
    n_ic = min(n, round(loads.industrial_commercial_share * n))
    if loads.industrial_commercial_share > 0:
        n_ic = max(1, n_ic)  # someone must pay a charge on I&C load
    return {
        "load_ids": _frozen(np.array([f"load-{i + 1:0{width}d}" for i in range(n)], dtype=str)),
        "load_owners": _frozen(np.array(
            [f"retailer-{i % loads.retailer_count + 1}" for i in range(n)], dtype=str)),
        "load_peak_share": _frozen(size / size.sum()),
        "load_industrial_commercial": _frozen(np.arange(n) < n_ic),
    }


def _export_blocks(rules: MarketRules, fleet_rules: FleetRules) -> dict[str, np.ndarray]:
    """Export blocks: a firm block of the low total at the value of lost load (delivery the
    channel is committed to), then equal flexible blocks up to the high total, bid on a ladder
    from benchmark x (1 + float) down to benchmark x (1 - float), the medium/long-term coal
    price band [E]. The blocks keep their number at every scale (their MW scale), so a small
    fleet exports on the same price ladder as the full one."""
    exports = fleet_rules.exports
    n = exports.block_count
    low, high = exports.total_low_mw * fleet_rules.scale, exports.total_high_mw * fleet_rules.scale
    bench, drift = rules.energy.coal_benchmark_price_yuan_per_mwh, rules.energy.contract_price_float
    if n == 0:
        mw, price = np.zeros(0), np.zeros(0)
    elif n == 1 or high == low:
        mw = np.full(n, low / n)
        price = np.full(n, fleet_rules.loads.value_of_lost_load_yuan_per_mwh)
    else:
        mw = np.concatenate([[low], np.full(n - 1, (high - low) / (n - 1))])
        ladder = np.linspace(bench * (1 + drift), bench * (1 - drift), n - 1)
        price = np.concatenate([[fleet_rules.loads.value_of_lost_load_yuan_per_mwh], ladder])
    return {
        "export_ids": _frozen(np.array([f"export-{i + 1}" for i in range(n)], dtype=str)),
        "export_mw": _frozen(mw.astype(np.float64)),
        "export_price_yuan_per_mwh": _frozen(price_grid(price, rules.ticks.price_yuan)),
    }


def emission_factors(technologies: np.ndarray, rules: MarketRules) -> np.ndarray:
    """float64 (n,) t CO2 per MWh generated by each unit: its class's
    ``fleet.<class>.co2_t_per_mwh`` [E]; 0 for storage (it shifts energy others made) and for
    a technology the fleet table does not know."""
    table = {name: cls.co2_t_per_mwh for name, cls in rules.fleet.generator_classes().items()}
    return np.array([table.get(t, 0.0) for t in technologies.tolist()], dtype=np.float64)


def fixed_costs(technologies: np.ndarray, rules: MarketRules) -> np.ndarray:
    """float64 (n,) fixed cost per unit, yuan/kW·yr of nameplate: its class's
    ``fleet.<class>.fixed_cost_yuan_per_kw_yr`` [E], or the coal fixed-cost standard
    (``compensation.fixed_cost_standard_yuan_per_kw_yr``) for a class without one (coal);
    0 for a technology the fleet table does not know."""
    fleet = rules.fleet
    standard = rules.compensation.fixed_cost_standard_yuan_per_kw_yr
    table = {name: standard if cls.fixed_cost_yuan_per_kw_yr is None
             else cls.fixed_cost_yuan_per_kw_yr
             for name, cls in fleet.generator_classes().items()}
    table["storage"] = fleet.storage.fixed_cost_yuan_per_kw_yr
    return np.array([table.get(t, 0.0) for t in technologies.tolist()], dtype=np.float64)
