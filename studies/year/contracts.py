"""The year's contracts settled as differences (:mod:`market.contracts`), after the spot
market, when ``contracts.enabled``.

* **Coal CfDs with loads.** Each coal unit sells ``contracts.coal_contracted_share`` of its
  nameplate as a load-shaped block (the hour's system load over the year's peak, known
  before the year) at the strike :func:`market.contracts.cfd.coal_strike` (the coal benchmark
  x (1 + ``coal_strike_float``)). The volume is fixed before the year and does not depend on
  the unit's own output, so a unit under a CfD still earns the spot price at the margin and
  its offers are unchanged (the spot market settles full volumes; the contract moves only
  (strike - spot) x contracted MWh). Each unit's contract is with one load, dealt in turn;
  which load holds which contract moves money between loads, not the loads' total.
* **The mechanism price** for wind and solar in operation (stock projects): the share
  ``mechanism_stock_volume_share`` of each unit's metered output settles at
  ``mechanism_stock_price_yuan_per_mwh`` against the hour's spot price; the net is a system
  charge (or refund) on loads pro rata to their MWh of the month.

Both settle month by month into the ledger (``contract_difference``, ``mechanism_settlement``,
``mechanism_charge``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.fleet import SynthFleet
from agents.inprocess.runner import EnergyYear
from agents.profiles import Profiles
from market.contracts import (
    CoalCfd,
    MechanismContract,
    coal_strike,
    settle_coal_cfds,
    settle_mechanism,
)
from market.ledger.book import Ledger
from market.rules import MarketRules


@dataclass(frozen=True)
class ContractsYear:
    """Per month (12,), int64 fen: ``coal_fen`` owed to the coal sellers (negative: to the
    loads), ``mechanism_fen`` paid to the wind and solar projects (negative: paid by them),
    ``charge_fen`` charged to loads for the mechanism (negative: refunded); ``coal_mwh`` the
    contracted coal MWh per month; ``strike`` the coal strike, yuan/MWh."""

    coal_fen: np.ndarray
    mechanism_fen: np.ndarray
    charge_fen: np.ndarray
    coal_mwh: np.ndarray
    strike: float


def coal_volumes_mw(rules: MarketRules, synth: SynthFleet, profiles: Profiles) -> np.ndarray:
    """float64 (H, n_coal): each coal unit's contracted MW in each hour, the load-shaped block
    of the module docstring."""
    load = np.asarray(profiles.system_load_mw, dtype=np.float64)
    shape = load / load.max() if load.size and load.max() > 0 else np.zeros_like(load)
    nameplate = np.asarray(synth.fleet.nameplate_mw, dtype=np.float64)[synth.coal_index]
    return shape[:, None] * (rules.contracts.coal_contracted_share * nameplate)[None, :]


def settle_contracts(ledger: Ledger, rules: MarketRules, synth: SynthFleet,
                     profiles: Profiles, energy: EnergyYear, periods: list[str],
                     load_mwh_by_month: np.ndarray) -> ContractsYear | None:
    """Settle the year's contracts month by month (None when ``contracts.enabled`` is off).
    ``load_mwh_by_month``: (n_loads, 12) each load's MWh of each month."""
    c = rules.contracts
    if not c.enabled:
        return None
    fleet = synth.fleet
    price = np.nan_to_num(np.asarray(energy.price, dtype=np.float64))
    strike = coal_strike(rules)
    coal = synth.coal_index
    volumes = coal_volumes_mw(rules, synth, profiles)
    loads = synth.load_ids.astype(str)
    buyers = [str(loads[k % len(loads)]) for k in range(len(coal))]
    green = np.concatenate([synth.wind_index, synth.solar_index])
    projects = [MechanismContract(owner=str(fleet.owners[i]), unit=str(fleet.unit_ids[i]),
                                  price=c.mechanism_stock_price_yuan_per_mwh,
                                  volume_share=c.mechanism_stock_volume_share)
                for i in green.tolist()]
    out = {k: np.zeros(12, dtype=np.int64) for k in ("coal", "mechanism", "charge")}
    coal_mwh = np.zeros(12, dtype=np.float64)
    for m, period in enumerate(periods):
        hours = np.flatnonzero(profiles.month_index == m)
        if hours.size == 0:
            continue
        p = price[hours]
        cfds = [CoalCfd(seller=str(fleet.owners[i]), buyer=buyers[k],
                        unit=str(fleet.unit_ids[i]), strike=strike, mwh=volumes[hours, k])
                for k, i in enumerate(coal.tolist())]
        out["coal"][m] = int(settle_coal_cfds(ledger, period, cfds, p).sum())
        coal_mwh[m] = float(volumes[hours].sum())
        if projects:
            s = settle_mechanism(ledger, period, projects, energy.dispatch_mw[np.ix_(hours, green)],
                                 p, loads.tolist(), load_mwh_by_month[:, m])
            out["mechanism"][m] = int(s.project_fen.sum())
            out["charge"][m] = int(s.charge_fen.sum())
    return ContractsYear(coal_fen=out["coal"], mechanism_fen=out["mechanism"],
                         charge_fen=out["charge"], coal_mwh=coal_mwh, strike=strike)
