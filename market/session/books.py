"""The read side of a session's books: calendar, assets, and what cleared rounds imply.

:class:`SessionBooks` is the part of :class:`market.session.game.Session` that derives data from the
set-up and the published results (dispatch, metered output, stress hours, storage state,
capacity payments by month, compensation eligibility) and keeps the certificate registry's
operation log. Nothing here is stored beyond the results, so a restored session derives the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from market.certificates.registry import CertificateRegistry
from market.green.trading import GreenTrade
from market.rules import MarketRules
from market.session.setup import Load, Profiles, period_label
from market.units import Fleet

if TYPE_CHECKING:
    from market.session.game import RoundState


class SessionBooks:
    """Derived data of a session (mixed into :class:`market.session.game.Session`)."""

    rules: MarketRules
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
    # ----------------------------------------------------------------- calendar and assets

    def period(self, month: int) -> str:
        """Ledger period of a calendar month of the rules' year, ``"2025-01"``."""
        return period_label(self.rules.meta.year, month)

    def hours_of_month(self, month: int) -> list[int]:
        return [h for h, m in enumerate(self.profiles.month_of_hour) if m == month]

    def demand_mw(self) -> np.ndarray:
        """float64 (n_loads, n_hours): demand per load and hour, MW."""
        return np.array([ld.demand_mw for ld in self.loads], dtype=np.float64)

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

    def energy_results(self) -> list[dict[str, Any]]:
        return [r.result for r in self.rounds.values()
                if r.spec.kind == "energy" and r.result is not None]

    def dispatch_mw(self) -> np.ndarray:
        """float64 (n_units, n_hours): net MW each unit delivered (sells - storage buys) in
        hours an energy round cleared, NaN elsewhere."""
        out = np.full(self.available.shape, np.nan)
        for res in self.energy_results():
            hours = res["hours"]
            out[:, hours] = 0.0
            for row in res["dispatch"]:
                out[self.fleet.index_of(row["unit"]), row["hour"]] = row["mw"]
        return out

    def metered_mw(self) -> np.ndarray:
        """float64 (n_units, n_hours): output as metered: dispatch in cleared hours, available
        MW in the others (a unit runs at what it can outside the rounds a game plays)."""
        d = self.dispatch_mw()
        return np.where(np.isnan(d), self.available, d)

    def stress_hours(self) -> set[int]:
        """Hours the energy rounds so far found to be stress hours."""
        return {int(h) for res in self.energy_results() for h in res["stress_hours"]}

    def storage_energy_mwh(self) -> dict[int, float]:
        """Energy (MWh) of each storage unit, by fleet index: nameplate MW x the hours of the
        rules' storage class (``fleet.storage.energy_mwh / unit_size_mw``, 4 h by default)."""
        st = self.rules.fleet.storage
        hours = st.energy_mwh / st.unit_size_mw
        return {int(i): float(self.fleet.nameplate_mw[i]) * hours
                for i in np.flatnonzero(self.fleet.technologies == "storage")}

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
        for r in self.rounds.values():
            res = r.result
            if r.spec.kind == "capacity" and res and res["delivery_year"] == self.rules.meta.year:
                out += np.array([u["monthly_payment_fen"][month - 1] for u in res["units"]],
                                dtype=np.int64)
        return out

    def compensation_excluded(self) -> np.ndarray:
        """bool (n_units,): units whose full losses so far this year ended their eligibility."""
        losses = np.zeros(len(self.fleet), dtype=np.int64)
        for r in self.rounds.values():
            if r.spec.kind == "compensation" and r.result:
                for u in r.result["units"]:
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

