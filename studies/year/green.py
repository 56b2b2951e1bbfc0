"""Green trading over a simulated year, month by month.

Each month:

1. the registry's clock moves to the month; renewable owners and obligated loads decide
   (:mod:`agents.strategies.green`) from the market view before metering: the year's expected
   obligation (``obligation_weight`` x consumption metered so far + the forecast of the rest)
   and supply (certificates issued so far + the forecast of the rest of the year's output);
2. **bundled** green power is cleared as contracts for the month
   (:func:`market.green.auction.contract_auction`, a premium over the month's load-weighted
   energy price, stated with it): sellers offer from their forecast of the month's output,
   buyers for the obligation they expect to have accrued by the month's end;
3. metering: certificates are issued for the wind and solar output the spot market dispatched
   (whole MWh, remainder carried), and the contracts are delivered
   (:func:`market.green.delivery.deliver_contracts`): certificates and premium on
   min(contract, metered generation, consumption) only, the rest settled as energy only;
4. an **unbundled** call auction of certificates alone for what loads still need.

With ``fleet.exports.green_share`` > 0, that share of the month's export MWh leaves as bundled
green power (:func:`export_certificates`): right after issuance, the certificates of those MWh
(at most the month's issuance), taken from each wind and solar unit pro rata to what it was
issued, are sold bundled to the export and retired here for the receiving province
(compliance period ``export YEAR``). They can no longer be delivered, sold or retired locally,
so no MWh is counted green twice. The price of that green power is the export's contract
price (energy and certificate together, paid outside this market): no premium is booked.

In December every load retires certificates for ``obligation_weight`` x its consumption of the
year and pays the shortfall penalty on what it lacks.

Forecasts [E]: a unit's forecast output of any month is its year's dispatched output / 12 (an
owner knows its expected annual yield, not the month's weather); a load's forecast consumption
likewise. A unit's certificates are bankable (still valid at next year's settlement, in
December of the next year) when certificates issued in January are:
``green.certificate_validity_months`` >= 24 (January's is the oldest vintage a seller can
hold, so the rule is conservative for every unit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from agents.fleet import SynthFleet
from agents.observe import (
    certificate_need,
    certificate_quantity,
    certificates_to_buy,
    obligation_due,
    price_grid,
)
from agents.strategies.assign import Group
from agents.strategies.green import (
    GreenBuyerDecision,
    GreenBuyerObservation,
    GreenSellerDecision,
    GreenSellerObservation,
)
from clearing.grid import PRICE_TICK
from market.certificates.registry import TICKS_PER_MWH, CertificateRegistry
from market.errors import StrategyError
from market.green.auction import GreenOrder, call_auction, contract_auction
from market.green.delivery import deliver_contracts
from market.green.trading import GreenMarket, ObligationOutcome
from market.ledger.book import Ledger
from market.rules import MarketRules

#: Months from the first month of the year to next year's compliance month (December).
MONTHS_TO_NEXT_SETTLEMENT = 24
#: The registry's owner of the certificates that leave with bundled green exports.
EXPORT_OWNER = "exports"


def export_certificates(registry: CertificateRegistry, units: list[str],
                        issued_ticks: np.ndarray, export_ticks: int, year: str) -> int:
    """Sell ``export_ticks`` of this month's certificates bundled to :data:`EXPORT_OWNER` and
    retire them for the receiving province (compliance period ``export YEAR``); returns the
    ticks exported: at most what ``units`` were issued this month (``issued_ticks`` int64
    (n,)), shared pro rata to it (largest remainders first, then unit order)."""
    issued = np.asarray(issued_ticks, dtype=np.int64)
    total = int(issued.sum())
    want = min(int(export_ticks), total)
    if want <= 0:
        return 0
    exact = issued.astype(object) * want  # Python ints: no overflow, exact shares
    share = np.array([int(x // total) for x in exact], dtype=np.int64)
    rest = np.array([int(x % total) for x in exact], dtype=np.int64)
    left = want - int(share.sum())
    order = np.lexsort((np.arange(rest.shape[0]), -rest))  # largest remainder, then first
    share[order[:left]] += 1
    take = np.flatnonzero(share > 0)
    registry.transfer_many([registry.unit_owner(units[i]) for i in take.tolist()],
                           [EXPORT_OWNER] * take.shape[0], share[take],
                           ["bundled"] * take.shape[0],
                           units=[units[i] for i in take.tolist()])
    registry.retire_many([EXPORT_OWNER], np.array([want], dtype=np.int64), f"export {year}")
    return want


@dataclass(frozen=True, eq=False)
class GreenYear:
    """Per month (12,): ``issued``, ``traded``, ``retired`` (certificates, MWh),
    ``bundled_mwh`` (bundled green power delivered), ``premium`` (bundled clearing premium,
    yuan/MWh, NaN if none), ``certificate_price`` (unbundled, yuan, NaN if none),
    ``bundled_contracted_mwh`` and ``bundled_undelivered_mwh`` (contracted before metering;
    not delivered, settled as energy only), ``certificate_value`` (the buyers' expected value
    of a certificate, yuan, NaN without a market view); ``unit_revenue_fen`` int64 (n_units,)
    green money received per unit; the ``registry``, ``market`` and ``obligations``."""

    issued: np.ndarray
    traded: np.ndarray
    retired: np.ndarray
    bundled_mwh: np.ndarray
    premium: np.ndarray
    certificate_price: np.ndarray
    unit_revenue_fen: np.ndarray
    registry: CertificateRegistry
    market: GreenMarket
    obligations: ObligationOutcome
    bundled_contracted_mwh: np.ndarray
    bundled_undelivered_mwh: np.ndarray
    certificate_value: np.ndarray
    exported_mwh: np.ndarray = field(default_factory=lambda: np.zeros(12))
    """(12,) certificates (MWh) that left with bundled green exports each month."""


def _whole(ticks: np.ndarray | int, per_certificate: int) -> np.ndarray:
    """``ticks`` rounded down to whole certificates of ``per_certificate`` ticks."""
    return (np.asarray(ticks, dtype=np.int64) // per_certificate) * per_certificate


@dataclass(frozen=True)
class MarketView:
    """The year's expected obligation and certificate supply before month ``month``'s
    metering (MWh, market-wide)."""

    obligation_mwh: float
    supply_mwh: float


def market_view(weight: float, month: int, issued_mwh: np.ndarray, unit_forecast: np.ndarray,
                load_mwh: np.ndarray, load_forecast: np.ndarray) -> MarketView:
    """Before month ``month`` (0-based) is metered: obligation = weight x (consumption of
    months < month + forecast of the rest), supply = certificates issued in months < month +
    the forecast output of the rest."""
    rest = 12 - month
    consumption = float(load_mwh[:, :month].sum()) + float(load_forecast.sum()) * rest
    supply = float(issued_mwh[:month].sum()) + float(unit_forecast.sum()) * rest
    return MarketView(weight * consumption, supply)


def run_green_year(rules: MarketRules, synth: SynthFleet, groups: list[Group],
                   rngs: Mapping[str, np.random.Generator], ledger: Ledger, periods: list[str],
                   renewable_mwh: np.ndarray, load_mwh: np.ndarray,
                   energy_price: np.ndarray, export_mwh: np.ndarray | None = None
                   ) -> GreenYear:
    """Run the year. ``renewable_mwh`` float64 (n_units, 12) dispatched output per unit;
    ``load_mwh`` (n_loads, 12) consumption; ``energy_price`` (12,) yuan/MWh stated with
    bundled trades; ``export_mwh`` (12,) the exports' MWh of each month (``None``: none)."""
    fleet = synth.fleet
    renew = np.flatnonzero(fleet.is_renewable)
    registry = CertificateRegistry.from_rules(rules.green, periods[0])
    renew_ids = fleet.unit_ids[renew].tolist()
    registry.register_units(renew_ids, fleet.technologies[renew].tolist(),
                            fleet.owners[renew].tolist())
    market = GreenMarket(rules, registry, ledger)
    sellers = [g for g in groups if g.role == "green_seller"]
    buyers = next((g for g in groups if g.role == "green_buyer"), None)
    loads = synth.load_ids
    weight = rules.green.obligation_weight
    unit_forecast = np.asarray(renewable_mwh, dtype=np.float64).sum(axis=1) / 12
    load_forecast = np.asarray(load_mwh, dtype=np.float64).sum(axis=1) / 12
    bankable = rules.green.certificate_validity_months >= MONTHS_TO_NEXT_SETTLEMENT
    stats = {k: np.zeros(12) for k in ("issued", "traded", "retired", "bundled_mwh",
                                       "contracted", "undelivered", "exported")}
    exports = (np.zeros(12) if export_mwh is None
               else np.asarray(export_mwh, dtype=np.float64)) * rules.fleet.exports.green_share
    premium, cert_price, value = np.full(12, np.nan), np.full(12, np.nan), np.full(12, np.nan)
    last_premium, last_cert = np.nan, np.nan
    for m, period in enumerate(periods):
        registry.advance_to(period)
        view = market_view(weight, m, stats["issued"], unit_forecast[renew], load_mwh,
                           load_forecast)
        first_trade = len(market.trades)
        offers = _seller_orders(rules, sellers, rngs, registry, fleet, m, last_premium,
                                last_cert, view, unit_forecast, bankable)
        held = np.array([registry.held_ticks(x) for x in loads.tolist()]) / TICKS_PER_MWH
        expected_due = obligation_due(weight, load_mwh[:, :m].sum(axis=1) + load_forecast)
        decision = _buyer_decision(rules, buyers, rngs, loads, certificate_need(
            expected_due, held), m, last_premium, last_cert, view)
        value[m] = float(decision.certificate_price_yuan[0]) if len(loads) else np.nan
        bids = [GreenOrder(str(loads[i]), float(decision.bundled_premium_yuan_per_mwh[i]),
                           float(decision.bundled_mwh[i]))
                for i in np.flatnonzero(decision.bundled_mwh > 0).tolist()]
        price_stated = float(price_grid(energy_price[m], PRICE_TICK))  # the green price grid
        if offers[0] and bids:
            out = contract_auction(market, offers[0], bids, period,
                                   energy_price_yuan_per_mwh=price_stated)
            if out.contracts and out.premium_yuan_per_mwh is not None:
                premium[m] = last_premium = float(out.premium_yuan_per_mwh)
        issue = registry.issue(period, renew_ids, renewable_mwh[renew, m])
        stats["issued"][m] = float(issue.certificates.sum())
        if exports[m] > 0:
            issued_ticks = issue.certificates[:, 0] * registry.ticks_per_certificate
            stats["exported"][m] = export_certificates(
                registry, renew_ids, issued_ticks, int(exports[m] * TICKS_PER_MWH),
                period[:4]) / TICKS_PER_MWH
        delivered = deliver_contracts(
            market, period, dict(zip(renew_ids, renewable_mwh[renew, m].tolist(), strict=True)),
            dict(zip(loads.tolist(), load_mwh[:, m].tolist(), strict=True)))
        stats["contracted"][m] = sum(c.contracted_ticks for c in delivered) / TICKS_PER_MWH
        stats["undelivered"][m] = sum(c.contracted_ticks - (c.delivered_ticks or 0)
                                      for c in delivered) / TICKS_PER_MWH
        held = np.array([registry.held_ticks(x) for x in loads.tolist()]) / TICKS_PER_MWH
        need = certificate_need(obligation_due(weight, load_mwh[:, : m + 1].sum(axis=1)), held)
        want = certificates_to_buy(need)
        cert_bids = [GreenOrder(str(loads[i]), float(decision.certificate_price_yuan[i]),
                                float(want[i])) for i in np.flatnonzero(want > 0).tolist()]
        cert_offers = _unbundled_orders(offers[1], registry)
        if cert_offers and cert_bids:
            out_u = call_auction(market, cert_offers, cert_bids, "unbundled", period)
            if out_u.trades and out_u.premium_yuan_per_mwh is not None:
                cert_price[m] = last_cert = float(out_u.premium_yuan_per_mwh)
        month_trades = market.trades[first_trade:]
        stats["traded"][m] = sum(t.quantity_ticks for t in month_trades) / TICKS_PER_MWH
        stats["bundled_mwh"][m] = sum(t.quantity_ticks for t in month_trades
                                      if t.product == "bundled") / TICKS_PER_MWH
    obligations = market.settle_obligations(loads.tolist(), load_mwh.sum(axis=1),
                                            periods[-1][:4], periods[-1])
    stats["retired"][-1] = float(obligations.retired_ticks.sum()) / TICKS_PER_MWH
    revenue = np.zeros(len(fleet), dtype=np.int64)
    for t in market.trades:
        if t.unit is not None:
            revenue[fleet.index_of(t.unit)] += t.premium_fen
    return GreenYear(stats["issued"], stats["traded"], stats["retired"], stats["bundled_mwh"],
                     premium, cert_price, revenue, registry, market, obligations,
                     stats["contracted"], stats["undelivered"], value, stats["exported"])


def _seller_orders(rules: MarketRules, sellers: list[Group],
                   rngs: Mapping[str, np.random.Generator], registry: CertificateRegistry,
                   fleet: object, month: int, premium: float, cert: float, view: MarketView,
                   unit_forecast: np.ndarray, bankable: bool
                   ) -> tuple[list[GreenOrder], list[tuple[str, str, float]]]:
    """Bundled contract offers (from the forecast of the month's output), and (owner, unit,
    certificate ask) for the unbundled auction."""
    bundled: list[GreenOrder] = []
    later: list[tuple[str, str, float]] = []
    for g in sellers:
        ids = fleet.unit_ids[g.members]  # type: ignore[attr-defined]
        sellable = np.array([registry.sellable_ticks(g.owner, u) for u in ids.tolist()],
                            dtype=np.int64) / TICKS_PER_MWH
        obs = GreenSellerObservation(g.owner, month + 1, ids, sellable, premium, cert,
                                     expected_obligation_mwh=view.obligation_mwh,
                                     expected_supply_mwh=view.supply_mwh,
                                     forecast_mwh=unit_forecast[g.members],
                                     bankable=np.full(ids.shape[0], bankable))
        d = g.spec.strategy.offer(obs, rules, rngs[g.label], g.spec.param_dict())
        if not isinstance(d, GreenSellerDecision) or np.shape(d.bundled_mwh) != ids.shape:
            raise StrategyError(f"{g.label} ({g.spec.name}) must return a GreenSellerDecision "
                                f"for {ids.shape[0]} units")
        mwh = np.maximum(np.asarray(d.bundled_mwh, dtype=np.float64), 0.0)
        for k, unit in enumerate(ids.tolist()):
            if mwh[k] >= 1 / TICKS_PER_MWH:  # at least one tick of the registry's grid
                bundled.append(GreenOrder(g.owner, float(d.bundled_premium_yuan_per_mwh[k]),
                                          float(certificate_quantity(mwh[k])), unit))
            later.append((g.owner, unit, float(d.certificate_price_yuan[k])))
    return bundled, later


def _unbundled_orders(later: list[tuple[str, str, float]],
                      registry: CertificateRegistry) -> list[GreenOrder]:
    out = []
    for owner, unit, ask in later:
        whole = int(_whole(registry.sellable_ticks(owner, unit), registry.ticks_per_certificate))
        if whole > 0:
            out.append(GreenOrder(owner, ask, whole / TICKS_PER_MWH, unit))
    return out


def _buyer_decision(rules: MarketRules, buyers: Group | None,
                    rngs: Mapping[str, np.random.Generator], loads: np.ndarray,
                    need: np.ndarray, month: int, premium: float, cert: float,
                    view: MarketView) -> GreenBuyerDecision:
    if buyers is None:
        z = np.zeros(len(loads))
        return GreenBuyerDecision(z, z, z)
    obs = GreenBuyerObservation(month + 1, loads, need, premium, cert,
                                expected_obligation_mwh=view.obligation_mwh,
                                expected_supply_mwh=view.supply_mwh)
    d = buyers.spec.strategy.offer(obs, rules, rngs[buyers.label], buyers.spec.param_dict())
    if not isinstance(d, GreenBuyerDecision) or np.shape(d.bundled_mwh) != loads.shape:
        raise StrategyError(f"{buyers.label} ({buyers.spec.name}) must return a "
                            f"GreenBuyerDecision for {loads.shape[0]} loads")
    return d
