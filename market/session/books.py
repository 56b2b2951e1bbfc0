"""The read side of a session's books: calendar, assets, and what cleared rounds imply.

:class:`SessionBooks` is the part of :class:`market.session.game.Session` that derives data from the
set-up and the published results (dispatch, metered output, stress hours, storage state,
capacity payments by month, compensation eligibility) and keeps the certificate registry's
operation log. Nothing here is stored beyond the results, so a restored session derives the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from clearing.grid import HOURS_PER_DAY
from market.capacity.settlement import load_weights
from market.certificates.registry import CertificateRegistry
from market.green.trading import GreenMarket, GreenTrade
from market.ledger.book import Ledger
from market.rules import MarketRules
from market.session.results import (
    CapacityRoundResult,
    CompensationResult,
    EnergyRoundResult,
    RoundResult,
    RoundState,
)
from market.session.setup import Load, Profiles, period_label
from market.units import Fleet

R = TypeVar("R", bound=RoundResult)


class SessionBooks:
    """Derived data of a session (mixed into :class:`market.session.game.Session`)."""

    rules: MarketRules
    session_id: str
    seed: int
    rng: np.random.Generator
    auto_settle: bool
    marginal_cost: dict[str, float]
    participants: list[str]
    sequence: int
    events: list[dict[str, Any]]
    ledger: Ledger
    green_market: GreenMarket
    fleet: Fleet
    loads: tuple[Load, ...]
    profiles: Profiles
    available: np.ndarray
    rounds: dict[str, RoundState]
    registry: CertificateRegistry
    registry_log: list[dict[str, Any]]
    storage_soc_start_fraction: float
    _assets: dict[str, str]
    _load_ids: frozenset[str]
    _units: frozenset[str]
    # ----------------------------------------------------------------- calendar and assets

    def seats(self) -> list[str]:
        """Participants the game has seats for: owners of units, then of loads, each once, in
        fleet and load order (joined or not)."""
        owners = [str(o) for o in self.fleet.owners.tolist()] + [ld.participant
                                                                  for ld in self.loads]
        return list(dict.fromkeys(owners))

    def period(self, month: int) -> str:
        """Ledger period of a calendar month of the rules' year, ``"2025-01"``."""
        return period_label(self.rules.meta.year, month)

    def hours_of_month(self, month: int) -> list[int]:
        return [h for h, m in enumerate(self.profiles.month_of_hour) if m == month]

    def demand_mw(self) -> np.ndarray:
        """float64 (n_loads, n_hours): demand per load and hour, MW."""
        return np.array([ld.demand_mw for ld in self.loads], dtype=np.float64)

    def load_payers(self) -> tuple[list[str], list[str]]:
        """Who pays for each load (its owner) and the load id named as the ledger unit."""
        return [ld.participant for ld in self.loads], [ld.load_id for ld in self.loads]

    def capacity_weights(self) -> np.ndarray:
        """float64 (n_loads,): each load's share weight of capacity cost by the rules'
        ``capacity.cost_allocation``, over the session's hours (peak MW or MWh)."""
        return load_weights(self.rules.capacity.cost_allocation,
                            peak_mw=np.array([max(ld.demand_mw) for ld in self.loads]),
                            energy_mwh=np.array([sum(ld.demand_mw) for ld in self.loads]))

    def peak_load_mw(self) -> float:
        """System peak over the session's hours (sum of the loads), MW."""
        return float(self.demand_mw().sum(axis=0).max())

    def owner_of(self, asset: str) -> str | None:
        """Owner of a unit or load id (``None`` if neither)."""
        return self._assets.get(asset)

    def assets_of(self, participant: str) -> list[str]:
        """Unit and load ids owned by ``participant``."""
        return [a for a, o in self._assets.items() if o == participant]

    def technology_of(self, asset: str) -> str:
        """Technology of a unit, ``"load"`` for a load id."""
        if asset in self._load_ids:
            return "load"
        return str(self.fleet.technologies[self.fleet.index_of(asset)])

    def energy_limit_mw(self, asset: str, hour: int) -> float:
        """Most MW ``asset`` may bid in ``hour``: demand for a load, available MW for a unit."""
        if self.technology_of(asset) == "load":
            return next(ld.demand_mw[hour] for ld in self.loads if ld.load_id == asset)
        return float(self.available[self.fleet.index_of(asset), hour])

    # ----------------------------------------------------------------- energy-derived data

    def results_of(self, cls: type[R]) -> list[R]:
        """Published results of type ``cls`` (one kind of round), in plan order."""
        return [r.result for r in self.rounds.values() if isinstance(r.result, cls)]

    def energy_results(self, pending: EnergyRoundResult | None = None
                       ) -> list[EnergyRoundResult]:
        """Published energy results in plan order, then ``pending`` (a result being made)."""
        out = self.results_of(EnergyRoundResult)
        return out if pending is None else [*out, pending]

    def capacity_result(self) -> CapacityRoundResult | None:
        """The published result of the capacity round (``None`` before it clears)."""
        return next(iter(self.results_of(CapacityRoundResult)), None)

    def dispatch_mw(self, pending: EnergyRoundResult | None = None) -> np.ndarray:
        """float64 (n_units, n_hours): net MW each unit delivered (sells - storage buys) in
        hours an energy round cleared, NaN elsewhere."""
        out = np.full(self.available.shape, np.nan)
        for res in self.energy_results(pending):
            out[:, res.hours] = 0.0
            for row in res.dispatch:
                out[self.fleet.index_of(row["unit"]), row["hour"]] = row["mw"]
        return out

    def _bid_mw(self, side: str, accepted: bool,
                pending: EnergyRoundResult | None) -> np.ndarray:
        out = np.zeros(self.available.shape)
        for res in self.energy_results(pending):
            for row in res.bids:
                if row["side"] == side and not row["imputed"] and row["unit"] in self._units:
                    mw = row["accepted_mw"] if accepted else row["quantity"]
                    out[self.fleet.index_of(row["unit"]), row["hour"]] += mw or 0.0
        return out

    def sold_mw(self, pending: EnergyRoundResult | None = None) -> np.ndarray:
        """float64 (n_units, n_hours): accepted sells of each unit, MW (0 outside cleared
        hours); ``pending``: an energy result not yet published, counted too."""
        return self._bid_mw("sell", True, pending)

    def bought_mw(self, pending: EnergyRoundResult | None = None) -> np.ndarray:
        """float64 (n_units, n_hours): accepted buys (storage charging), MW."""
        return self._bid_mw("buy", True, pending)

    def offered_mw(self, pending: EnergyRoundResult | None = None) -> np.ndarray:
        """float64 (n_units, n_hours): sells offered by each unit, MW."""
        return self._bid_mw("sell", False, pending)

    def metered_mw(self) -> np.ndarray:
        """float64 (n_units, n_hours): output as metered: dispatch in cleared hours, available
        MW in the others (a unit runs at what it can outside the rounds a game plays)."""
        d = self.dispatch_mw()
        return np.where(np.isnan(d), self.available, d)

    def stress_hours(self) -> set[int]:
        """Hours the energy rounds so far found to be stress hours."""
        return {int(h) for res in self.energy_results() for h in res.stress_hours}

    def storage_energy_mwh(self) -> dict[int, float]:
        """Energy (MWh) of each storage unit, by fleet index: nameplate MW x the hours of the
        rules' storage class (``fleet.storage.energy_mwh / unit_size_mw``, 4 h by default)."""
        st = self.rules.fleet.storage
        hours = st.energy_mwh / st.unit_size_mw
        return {int(i): float(self.fleet.nameplate_mw[i]) * hours
                for i in np.flatnonzero(self.fleet.technologies == "storage")}

    def storage_soc_path_mwh(self, pending: EnergyRoundResult | None = None) -> np.ndarray:
        """float64 (n_units, n_hours): state of charge of each storage unit after each hour
        (MWh, clamped to [0, E]; zero for other units), following the cleared dispatch."""
        eff = self.rules.energy.storage_round_trip_efficiency
        d = np.nan_to_num(self.dispatch_mw(pending), nan=0.0)
        out = np.zeros(d.shape)
        for i, e in self.storage_energy_mwh().items():
            flow = d[i]
            step = eff * np.maximum(-flow, 0.0) - np.maximum(flow, 0.0)
            out[i] = np.clip(e * self.storage_soc_start_fraction + np.cumsum(step), 0.0, e)
        return out

    def daily_discharge_mwh(self) -> np.ndarray:
        """float64 (n_units, n_days): MWh each unit discharged (net dispatch > 0) per day of the
        session (day = session hour // 24) in the energy rounds cleared so far."""
        d = np.maximum(np.nan_to_num(self.dispatch_mw(), nan=0.0), 0.0)
        days = -(-d.shape[1] // HOURS_PER_DAY)
        padded = np.zeros((d.shape[0], days * HOURS_PER_DAY))
        padded[:, :d.shape[1]] = d
        return padded.reshape(d.shape[0], days, HOURS_PER_DAY).sum(axis=2)

    def storage_soc_mwh(self) -> dict[str, float]:
        """State of charge (MWh) of each storage unit after the energy rounds so far."""
        eff = self.rules.energy.storage_round_trip_efficiency
        d = np.nan_to_num(self.dispatch_mw(), nan=0.0)
        out = {}
        for i, e in self.storage_energy_mwh().items():
            flow = d[i]
            soc = e * self.storage_soc_start_fraction + float(
                eff * -flow[flow < 0].sum() - flow[flow > 0].sum())
            out[str(self.fleet.unit_ids[i])] = min(max(soc, 0.0), e)
        return out

    def capacity_monthly_fen(self, month: int) -> np.ndarray:
        """int64 (n_units,): capacity payment of ``month`` of the rules' year (zero without a
        cleared capacity round for that year)."""
        out = np.zeros(len(self.fleet), dtype=np.int64)
        res = self.capacity_result()
        if res is not None and res.delivery_year == self.rules.meta.year:
            out += np.array([u["monthly_payment_fen"][month - 1] for u in res.units],
                            dtype=np.int64)
        return out

    def compensation_excluded(self) -> np.ndarray:
        """bool (n_units,): units whose full losses so far this year ended their eligibility."""
        losses = np.zeros(len(self.fleet), dtype=np.int64)
        for res in self.results_of(CompensationResult):
            for u in res.units:
                if u["eligible"] and u["fraction"] is not None and u["fraction"] >= 1.0:
                    losses[self.fleet.index_of(u["unit"])] += 1
        return losses >= self.rules.compensation.full_losses_to_end_eligibility

    # ----------------------------------------------------------------- registry book-keeping

    def log_registry(self, op: dict[str, Any]) -> None:
        """Record a registry operation in the session's history of the registry (saved with the
        registry's books by ``to_dict``; a restore takes the books as saved, not a replay)."""
        self.registry_log.append(op)

    def advance_registry(self, period: str) -> None:
        """Move the registry's clock to ``period`` (expiring what is past validity)."""
        if self.registry.month_label != period:
            self.registry.advance_to(period)
            self.log_registry({"op": "advance_to", "month": period})

    def log_transfers(self, trades: Sequence[GreenTrade]) -> None:
        """Record the registry transfers of one settled batch of green trades."""
        if trades:
            self.log_registry({
                "op": "transfer", "sellers": [t.seller for t in trades],
                "buyers": [t.buyer for t in trades],
                "ticks": [t.quantity_ticks for t in trades],
                "modes": [t.product for t in trades], "units": [t.unit for t in trades],
                "trades": [t.trade for t in trades]})

