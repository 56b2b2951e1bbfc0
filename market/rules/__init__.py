"""Rules of the Mengxi markets: frozen pydantic models loaded from TOML presets and variants.

>>> from market.rules import load_preset
>>> rules = load_preset("mengxi")
>>> rules.energy.price_cap_yuan_per_mwh
1500.0
"""

from market.errors import RulesError, UnknownPresetError
from market.rules.base import RulesProblem
from market.rules.capacity import TECHNOLOGIES, CapacityCredit, CapacityRules, DemandPoint
from market.rules.compensation import CompensationRules, Deduction
from market.rules.energy import EnergyRules
from market.rules.fleet import ExportRules, FleetRules, GeneratorClass, LoadRules, StorageClass
from market.rules.green import GreenRules
from market.rules.loading import SCENARIOS_DIR, load_preset, load_rules, preset_names, preset_path
from market.rules.market_rules import MarketRules
from market.rules.meta import MetaRules, TickRules

__all__ = [
    "SCENARIOS_DIR",
    "TECHNOLOGIES",
    "CapacityCredit",
    "CapacityRules",
    "CompensationRules",
    "Deduction",
    "DemandPoint",
    "EnergyRules",
    "ExportRules",
    "FleetRules",
    "GeneratorClass",
    "GreenRules",
    "LoadRules",
    "MarketRules",
    "MetaRules",
    "RulesError",
    "RulesProblem",
    "StorageClass",
    "TickRules",
    "UnknownPresetError",
    "load_preset",
    "load_rules",
    "preset_names",
    "preset_path",
]
