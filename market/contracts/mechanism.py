"""The 2025 new-energy mechanism price (Fagai Jiage [2025] No. 136) [R]: a contract for
difference between the system and each wind or solar project.

A project with mechanism price P and volume share s settles sum_t (P - p_t) s q_t against the
spot price p_t on its output q_t: the system operator pays the project when the spot price is
below P and the project pays back when above (category ``mechanism_settlement``). The net the
system pays out is charged to loads by their MWh (``mechanism_charge``, load -> system
operator), or, when projects paid in more than they were paid, refunded to loads by MWh
(system operator -> load), so the system operator ends each period at zero.

Stock projects (in operation before 1 June 2025) carry the administrative price
``contracts.mechanism_stock_price_yuan_per_mwh`` and share ``mechanism_stock_volume_share``;
new projects the price of the annual auction (:func:`mechanism_auction`) and
``mechanism_new_volume_share`` for ``mechanism_new_term_years``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from market.contracts.cfd import ContractError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger
from market.ledger.postings import split_fen

MECHANISM_SETTLEMENT = Category("mechanism_settlement")
MECHANISM_CHARGE = Category("mechanism_charge")


@dataclass(frozen=True)
class MechanismContract:
    """A project's mechanism-price CfD: ``owner`` of ``unit``, ``price`` yuan/MWh on
    ``volume_share`` of its output."""

    owner: str
    unit: str
    price: float
    volume_share: float


@dataclass(frozen=True, eq=False)
class MechanismSettlement:
    """``project_fen`` (int64 per contract, paid to the project when > 0), ``charge_fen``
    (int64 per load, paid by the load when > 0, refunded when < 0); they sum to the same
    total."""

    project_fen: np.ndarray
    charge_fen: np.ndarray


def mechanism_auction(offer_mw: np.ndarray, offer_price: np.ndarray, demand_mw: float
                      ) -> tuple[np.ndarray, float | None]:
    """The annual auction of new projects' mechanism price: offers (MW, yuan/MWh) accepted
    from the cheapest (ties in offer order) until ``demand_mw`` is met, the last one in part;
    every accepted project gets the highest accepted offer price (uniform price). Returns
    (accepted MW per offer, the price; None when nothing is accepted).

    >>> mw, price = mechanism_auction(np.array([100.0, 50.0, 80.0]),
    ...                               np.array([250.0, 200.0, 270.0]), 120.0)
    >>> mw.tolist(), price
    ([70.0, 50.0, 0.0], 250.0)
    """
    mw = np.asarray(offer_mw, dtype=np.float64)
    price = np.asarray(offer_price, dtype=np.float64)
    problems = []
    if mw.ndim != 1 or mw.shape != price.shape:
        problems.append("offer_mw and offer_price must be 1-D arrays of the same length")
    elif not (np.all(np.isfinite(mw)) and np.all(mw >= 0)):
        problems.append("offer_mw must be finite MW >= 0")
    elif not np.all(np.isfinite(price)):
        problems.append("offer_price must be finite prices")
    if not np.isfinite(demand_mw) or demand_mw < 0:
        problems.append(f"demand_mw must be a finite MW >= 0, got {demand_mw!r}")
    if problems:
        raise ContractError("; ".join(problems))
    order = np.argsort(price, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(mw[order])[:-1]])
    take = np.clip(demand_mw - before, 0.0, mw[order])
    accepted = np.zeros_like(mw)
    accepted[order] = take
    if not (accepted > 0).any():
        return accepted, None
    return accepted, float(price[accepted > 0].max())


def settle_mechanism(ledger: Ledger, period: str, contracts: Sequence[MechanismContract],
                     output_mwh: np.ndarray, price: np.ndarray, load_ids: Sequence[str],
                     load_mwh: np.ndarray) -> MechanismSettlement:
    """Settle ``period``: ``output_mwh`` (hours x contracts) against the hourly spot ``price``;
    the net charged or refunded to loads pro rata to ``load_mwh`` (one per load). Posts
    ``mechanism_settlement`` per project and ``mechanism_charge`` per load. Raises
    :class:`ContractError` naming the input before posting anything."""
    p = np.asarray(price, dtype=np.float64)
    q = np.asarray(output_mwh, dtype=np.float64)
    loads = np.asarray(load_mwh, dtype=np.float64)
    problems = []
    if p.ndim != 1 or not np.all(np.isfinite(p)):
        problems.append("price must be a 1-D array of finite prices")
    if q.ndim != 2 or q.shape != (len(p), len(contracts)):
        problems.append(f"output_mwh must be hours x contracts ({len(p)} x {len(contracts)}), "
                        f"got shape {q.shape}")
    elif not (np.all(np.isfinite(q)) and np.all(q >= 0)):
        problems.append("output_mwh must be finite MWh >= 0")
    for i, c in enumerate(contracts):
        if not 0.0 <= c.volume_share <= 1.0:
            problems.append(f"contracts[{i}].volume_share must be in [0, 1], got "
                            f"{c.volume_share!r}")
        if not np.isfinite(c.price):
            problems.append(f"contracts[{i}].price must be finite, got {c.price!r}")
    if loads.ndim != 1 or loads.shape != (len(load_ids),) or not np.all(np.isfinite(loads)) \
            or np.any(loads < 0):
        problems.append("load_mwh must be finite MWh >= 0, one per load id")
    if problems:
        raise ContractError("; ".join(problems))
    strike = np.array([c.price for c in contracts], dtype=np.float64)
    share = np.array([c.volume_share for c in contracts], dtype=np.float64)
    yuan = ((strike[None, :] - p[:, None]) * q * share[None, :]).sum(axis=0)
    project = np.rint(yuan * 100.0).astype(np.int64)
    net = int(project.sum())
    charge = split_fen(abs(net), loads, "mechanism charge by load MWh", ContractError) * (
        1 if net >= 0 else -1)
    if len(contracts):
        out = project >= 0
        owners = np.array([c.owner for c in contracts])
        ledger.post_many(period, np.where(out, SYSTEM_OPERATOR, owners),
                         np.where(out, owners, SYSTEM_OPERATOR), MECHANISM_SETTLEMENT,
                         memo="mechanism price", unit=np.array([c.unit for c in contracts]),
                         amount_fen=np.abs(project))
    if len(load_ids):
        ids = np.asarray(load_ids)
        ledger.post_many(period, np.where(charge >= 0, ids, SYSTEM_OPERATOR),
                         np.where(charge >= 0, SYSTEM_OPERATOR, ids), MECHANISM_CHARGE,
                         memo="mechanism system charge", amount_fen=np.abs(charge))
    return MechanismSettlement(project_fen=project, charge_fen=charge)
