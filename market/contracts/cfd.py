"""Medium/long-term contracts for difference between coal units and loads.

A CfD of strike S on hourly volumes q_t settles sum_t (S - p_t) q_t: when the spot price p_t
is below the strike the buyer (a load) pays the seller (the coal unit's owner) the
difference, and when above the seller pays the buyer. Amounts are exact in fen, each
contract's total rounded half-even once, and posted as one ``contract_difference`` payment per
contract and period.

>>> import numpy as np
>>> cfd = CoalCfd(seller="genco-1", buyer="load-001", unit="coal_usc-001", strike=300.0,
...               mwh=np.array([100.0]))
>>> cfd.difference_fen(np.array([250.0]))  # (300 - 250) x 100 MWh = 5,000 yuan to the seller
500000
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from market.errors import MarketError
from market.ledger.book import Category, Ledger
from market.rules import MarketRules

CONTRACT_DIFFERENCE = Category("contract_difference")


class ContractError(MarketError):
    """A contract or its settlement inputs are invalid (the message names the field)."""


def coal_strike(rules: MarketRules) -> float:
    """The coal CfD strike of ``rules``: the coal benchmark x (1 + ``contracts.coal_strike_float``)
    on the price tick (the float is checked against ``energy.contract_price_float``)."""
    tick = rules.ticks.price_yuan
    raw = rules.energy.coal_benchmark_price_yuan_per_mwh * (1.0 + rules.contracts.coal_strike_float)
    return round(round(raw / tick) * tick, 10)


@dataclass(frozen=True, eq=False)
class CoalCfd:
    """One CfD: ``seller`` (owner of ``unit``) sells ``mwh`` (hourly volumes, MWh >= 0) to
    ``buyer`` at ``strike`` yuan/MWh, settled against the spot price."""

    seller: str
    buyer: str
    unit: str | None
    strike: float
    mwh: np.ndarray

    def problems(self, hours: int | None = None) -> list[str]:
        out = []
        if not self.seller or not self.buyer or self.seller == self.buyer:
            out.append(f"seller and buyer must be two named parties, got {self.seller!r} and "
                       f"{self.buyer!r}")
        if not np.isfinite(self.strike):
            out.append(f"strike must be a finite price, got {self.strike!r}")
        mwh = np.asarray(self.mwh, dtype=np.float64)
        if mwh.ndim != 1 or not np.all(np.isfinite(mwh)) or np.any(mwh < 0):
            out.append("mwh must be a 1-D array of finite volumes >= 0")
        elif hours is not None and len(mwh) != hours:
            out.append(f"mwh has {len(mwh)} hours, the prices {hours}")
        return out

    def difference_fen(self, price: np.ndarray) -> int:
        """sum_t (strike - price_t) x mwh_t in fen, rounded half-even once; > 0 is owed to the
        seller, < 0 to the buyer."""
        p = np.asarray(price, dtype=np.float64)
        problems = self.problems(len(p))
        if p.ndim != 1 or not np.all(np.isfinite(p)):
            problems.append("price must be a 1-D array of finite prices")
        if problems:
            raise ContractError("; ".join(problems))
        return int(np.rint(float(((self.strike - p) * np.asarray(self.mwh)).sum()) * 100.0))


def settle_coal_cfds(ledger: Ledger, period: str, contracts: Sequence[CoalCfd],
                     price: np.ndarray) -> np.ndarray:
    """Post each contract's difference for ``period`` against the hourly spot ``price``:
    buyer -> seller when positive, seller -> buyer when negative (category
    ``contract_difference``). Returns int64 fen per contract, signed as owed to the seller.
    Every contract is checked before anything is posted."""
    fen = np.array([c.difference_fen(price) for c in contracts], dtype=np.int64)
    if len(contracts) == 0:
        return fen
    pay = fen >= 0
    payer = np.array([c.buyer if p else c.seller for c, p in zip(contracts, pay, strict=True)])
    payee = np.array([c.seller if p else c.buyer for c, p in zip(contracts, pay, strict=True)])
    ledger.post_many(period, payer, payee, CONTRACT_DIFFERENCE, memo="coal CfD",
                     unit=np.array([c.unit for c in contracts], dtype=object),
                     amount_fen=np.abs(fen))
    return fen
