"""Rules of the Mengxi markets: frozen pydantic models loaded from TOML presets and variants.

>>> from market.rules import load_preset
>>> rules = load_preset("mengxi")
>>> rules.energy.price_cap_yuan_per_mwh
1500.0
"""

from market.errors import RulesError, UnknownPresetError
from market.rules.base import RulesProblem
from market.rules.loading import SCENARIOS_DIR, load_preset, load_rules, preset_names, preset_path
from market.rules.market_rules import MarketRules
from market.rules.meta import MetaRules, TickRules
from market.rules.sections.agents import (
    AgentRules,
    GreenBuyerParams,
    GreenSellerParams,
    LearningParams,
    MarkupParams,
    RunnerRules,
    StorageArbitrageParams,
    StrategyRules,
    WithholdingParams,
)
from market.rules.sections.capacity import TECHNOLOGIES, CapacityCredit, CapacityRules, DemandPoint
from market.rules.sections.compensation import CompensationRules, Deduction
from market.rules.sections.contracts import ContractRules
from market.rules.sections.energy import EnergyRules
from market.rules.sections.fleet import (
    ExportRules,
    FleetRules,
    GeneratorClass,
    LoadRules,
    StorageClass,
)
from market.rules.sections.green import GreenRules
from market.rules.sections.pathway import (
    Candidate,
    PathwayRules,
    RecoveryStep,
    StorageCohort,
)
from market.rules.sections.profiles import (
    LoadProfileRules,
    OutageRules,
    SolarProfileRules,
    WindProfileRules,
    outage_problems,
)

__all__ = [
    "SCENARIOS_DIR",
    "TECHNOLOGIES",
    "AgentRules",
    "Candidate",
    "CapacityCredit",
    "CapacityRules",
    "CompensationRules",
    "ContractRules",
    "Deduction",
    "DemandPoint",
    "EnergyRules",
    "ExportRules",
    "FleetRules",
    "GeneratorClass",
    "GreenBuyerParams",
    "GreenRules",
    "GreenSellerParams",
    "LearningParams",
    "LoadProfileRules",
    "LoadRules",
    "MarketRules",
    "MarkupParams",
    "MetaRules",
    "OutageRules",
    "PathwayRules",
    "RecoveryStep",
    "RulesError",
    "RulesProblem",
    "RunnerRules",
    "SolarProfileRules",
    "StorageCohort",
    "StorageArbitrageParams",
    "StorageClass",
    "StrategyRules",
    "TickRules",
    "UnknownPresetError",
    "WindProfileRules",
    "WithholdingParams",
    "load_preset",
    "load_rules",
    "outage_problems",
    "preset_names",
    "preset_path",
]
