"""Green electricity trading: bundled green power and unbundled certificates.

Products:

* **bundled** green power: MWh with its certificates; the price is stated as the energy price
  plus the green premium (yuan/MWh), both kept in the trade record. The premium is posted to
  the ledger (``green_premium``, buyer to seller); the energy part is settled by the energy
  market and only recorded here.
* **unbundled** certificates (GEC, 1 certificate = 1 MWh), in whole certificates; the price per
  certificate is kept as ``premium_yuan_per_mwh`` and posted as ``certificate_sale``.

Modes: bilateral contracts (here), listing (:mod:`market.green.listing`), centralized call
auction (:mod:`market.green.auction`), continuous trading (:mod:`market.green.continuous`).
Every trade moves certificates in the registry (a certificate is sold once) and posts to the
ledger, all or nothing. Obligated loads retire certificates for a share of their consumption
(:meth:`GreenMarket.settle_obligations`); a shortfall pays a penalty to the system operator.

Quantities are MWh on the 0.001 MWh grid (int64 ticks inside, see
:mod:`market.certificates.registry`); prices yuan/MWh on the 0.01 yuan grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from clearing.grid import MAX_EXACT_TICKS, PRICE_TICK, QUANTITY_TICK, on_grid
from market.certificates.registry import TICKS_PER_MWH, CertificateRegistry
from market.errors import CertificateError, GreenTradeError
from market.ledger.book import SYSTEM_OPERATOR, Category, Ledger

PRODUCTS = ("bundled", "unbundled")
MODES = ("bilateral", "listing", "auction", "continuous")
# Prices are accepted on clearing.grid.PRICE_TICK (0.01 yuan = 1 fen, the ledger's unit); a
# call-auction midpoint may fall on half of it, so prices are kept in half-fen.
#: Half-fen in one yuan (2 / PRICE_TICK).
HALF_FEN_PER_YUAN: int = 2 * round(1 / PRICE_TICK)
_MAX_SHOWN = 20

#: A trade as a row (see :class:`GreenTrade`); text fields are objects.
TRADE_DTYPE = np.dtype([("trade", "i8"), ("period", "O"), ("mode", "O"), ("product", "O"),
                        ("seller", "O"), ("buyer", "O"), ("unit", "O"), ("quantity_mwh", "f8"),
                        ("quantity_ticks", "i8"), ("energy_price_yuan_per_mwh", "f8"),
                        ("premium_yuan_per_mwh", "f8"), ("premium_fen", "i8")])


@dataclass(frozen=True)
class GreenTrade:
    """One green trade. ``premium_yuan_per_mwh`` is the green premium (bundled) or the price
    of one certificate (unbundled); ``energy_price_yuan_per_mwh`` the energy part of a bundled
    price (``None`` for certificates or when not stated); ``premium_fen`` what the buyer paid
    the seller for the green attribute (int fen)."""

    trade: int
    period: str
    mode: str
    product: str
    seller: str
    buyer: str
    unit: str | None
    quantity_ticks: int
    energy_price_yuan_per_mwh: float | None
    premium_yuan_per_mwh: float
    premium_fen: int

    @property
    def quantity_mwh(self) -> float:
        return self.quantity_ticks / TICKS_PER_MWH

    @property
    def price_yuan_per_mwh(self) -> float | None:
        """Energy price + green premium (bundled with a stated energy price), else ``None``."""
        if self.energy_price_yuan_per_mwh is None:
            return None
        return self.energy_price_yuan_per_mwh + self.premium_yuan_per_mwh


@dataclass(frozen=True)
class BilateralContract:
    """A registered bilateral contract: fixed volume (MWh) and price (energy + premium)."""

    seller: str
    buyer: str
    product: str
    quantity_mwh: float
    premium_yuan_per_mwh: float
    energy_price_yuan_per_mwh: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class BundledContract:
    """A bundled green power contract of one month, cleared before metering
    (:func:`market.green.auction.contract_auction`): ``contracted_ticks`` (0.001 MWh) of
    ``unit``'s output from ``seller`` to ``buyer`` at ``premium_yuan_per_mwh`` over the stated
    energy price. After metering, ``delivered_ticks`` (``None`` before) is min(contracted, the
    unit's metered green output allocated to it, the buyer's metered consumption allocated to
    it); certificates move and the premium is paid on that only (``trade``: the settling
    :class:`GreenTrade`'s number, ``None`` when nothing was delivered); the rest is settled as
    energy only."""

    contract: int
    period: str
    seller: str
    unit: str | None
    buyer: str
    contracted_ticks: int
    premium_yuan_per_mwh: float
    energy_price_yuan_per_mwh: float | None
    delivered_ticks: int | None = None
    trade: int | None = None

    @property
    def contracted_mwh(self) -> float:
        return self.contracted_ticks / TICKS_PER_MWH

    @property
    def delivered_mwh(self) -> float | None:
        return None if self.delivered_ticks is None else self.delivered_ticks / TICKS_PER_MWH

    @property
    def undelivered_mwh(self) -> float | None:
        """Contracted MWh settled as energy only (no premium, no certificates)."""
        if self.delivered_ticks is None:
            return None
        return (self.contracted_ticks - self.delivered_ticks) / TICKS_PER_MWH


@dataclass(frozen=True)
class ObligationOutcome:
    """Per load (arrays of the loads' length): obligation, retired and short MWh (float64),
    the same in ticks (int64), and the penalty paid (int64 fen)."""

    loads: tuple[str, ...]
    obligation_ticks: np.ndarray
    retired_ticks: np.ndarray
    shortfall_ticks: np.ndarray
    penalty_fen: np.ndarray

    @property
    def obligation_mwh(self) -> np.ndarray:
        return self.obligation_ticks / TICKS_PER_MWH

    @property
    def retired_mwh(self) -> np.ndarray:
        return self.retired_ticks / TICKS_PER_MWH

    @property
    def shortfall_mwh(self) -> np.ndarray:
        return self.shortfall_ticks / TICKS_PER_MWH


# --------------------------------------------------------------------- exact helpers

def price_half_fen(price_yuan: float, what: str = "price", *, half_ticks: bool = False) -> int:
    """A price in yuan as an integer number of half-fen; refuse NaN/inf and off-grid prices.

    Inputs must be on the 0.01 yuan grid; ``half_ticks`` also allows 0.005 (a midpoint).
    """
    if isinstance(price_yuan, bool) or not isinstance(price_yuan, (int, float, np.number)):
        raise GreenTradeError(f"{what} {price_yuan!r} is not a number")
    p = _finite(price_yuan, f"{what} {{}} must be a finite number of yuan")
    half_tick = PRICE_TICK / 2
    if abs(p) / half_tick >= MAX_EXACT_TICKS:
        raise GreenTradeError(f"{what} {p!r} yuan is too large for the {PRICE_TICK} yuan grid")
    if not on_grid(p, half_tick if half_ticks else PRICE_TICK):
        raise GreenTradeError(f"{what} {p!r} is not on the {PRICE_TICK} yuan grid")
    return int(round(p * HALF_FEN_PER_YUAN))


def _finite(value: Any, message: str) -> float:
    """``value`` as a finite float; :class:`GreenTradeError` (``message`` with the value) when
    it is NaN, infinite or beyond any float (a 400-digit int), never OverflowError."""
    try:
        v = float(value)
    except OverflowError:
        raise GreenTradeError(message.format(f"(a {len(str(int(value)))}-digit number)")) \
            from None
    if not np.isfinite(v):
        raise GreenTradeError(message.format(repr(v)))
    return v


def amount_fen(price_half: int, ticks: int) -> int:
    """Half-fen per MWh x ticks of 0.001 MWh, in fen, rounded half to even (exact ints)."""
    return _half_even(price_half * ticks, 2 * TICKS_PER_MWH)


def _half_even(num: int, den: int) -> int:
    """``num / den`` rounded half to even, on Python ints (exact at any size)."""
    q, r = divmod(num, den)
    return q + (1 if 2 * r > den or (2 * r == den and q % 2) else 0)


def quantity_ticks(quantity_mwh: Any, what: str, lot: int = 1) -> int:
    """MWh on the 0.001 MWh grid as ticks > 0, a multiple of ``lot`` ticks."""
    if isinstance(quantity_mwh, bool) or not isinstance(quantity_mwh, (int, float, np.number)):
        raise GreenTradeError(f"{what} {quantity_mwh!r} is not a number of MWh")
    q = _finite(quantity_mwh, f"{what} {{}} MWh must be a finite number > 0")
    if q <= 0:
        raise GreenTradeError(f"{what} {q!r} MWh must be a finite number > 0")
    if q / QUANTITY_TICK >= MAX_EXACT_TICKS:
        raise GreenTradeError(f"{what} {q!r} MWh is too large for the registry")
    if not on_grid(q, QUANTITY_TICK):
        raise GreenTradeError(f"{what} {q!r} MWh is not on the 0.001 MWh grid")
    t = round(q * TICKS_PER_MWH)
    if t % lot:
        raise GreenTradeError(f"{what} {q!r} MWh must be whole certificates "
                              f"({lot / TICKS_PER_MWH:g} MWh each)")
    return int(t)


# --------------------------------------------------------------------- the market

class GreenMarket:
    """Green trading on one certificate registry and one ledger, under ``GreenRules``.

    ``rules``: a ``GreenRules`` (or a ``MarketRules``, whose ``green`` part is used).
    """

    def __init__(self, rules: Any, registry: CertificateRegistry, ledger: Ledger) -> None:
        self.rules = getattr(rules, "green", rules)
        self.registry = registry
        self.ledger = ledger
        self.trades: list[GreenTrade] = []
        self.contracts: list[BilateralContract] = []
        self.bundled_contracts: list[BundledContract] = []
        self._settled = 0

    # ----------------------------------------------------------------- checks

    def price_cap(self, product: str = "bundled") -> float | None:
        """Highest price the market accepts for ``product``, yuan/MWh (bundled:
        ``premium_cap_yuan_per_mwh``) or yuan per certificate (unbundled:
        ``certificate_price_cap_yuan``); ``None``: no cap (the default)."""
        cap = (self.rules.premium_cap_yuan_per_mwh if product == "bundled"
               else self.rules.certificate_price_cap_yuan)
        return None if cap is None else float(cap)

    @property
    def premium_limits(self) -> tuple[float, float | None]:
        """(lowest, highest) bundled premium accepted, yuan/MWh: 0 and the premium cap
        (``None``: no cap). See :meth:`price_limits` for either product."""
        return self.price_limits("bundled")

    def price_limits(self, product: str) -> tuple[float, float | None]:
        """(lowest, highest) price accepted for ``product``: 0 and its cap (``None``: none)."""
        return (0.0, self.price_cap(product))

    def lot_ticks(self, product: str) -> int:
        """Smallest tradable quantity in ticks: 0.001 MWh bundled, one certificate unbundled."""
        if product not in PRODUCTS:
            raise GreenTradeError(f"product {product!r} must be 'bundled' or 'unbundled'")
        return 1 if product == "bundled" else self.registry.ticks_per_certificate

    def premium_problem(self, premium: Any, product: str = "bundled") -> str | None:
        """Why a premium (bundled, yuan/MWh) or certificate price (unbundled, yuan) is refused,
        or ``None``: not a number, NaN, off the 0.01 yuan grid, below 0, or above the
        product's cap when the rules set one (the message names the rule)."""
        what = "premium" if product == "bundled" else "certificate price"
        try:
            price_half_fen(premium, what)
        except GreenTradeError as exc:
            return str(exc)
        p = float(premium)
        if p < 0:
            return f"{what} {p:g} must be >= 0 yuan"
        cap = self.price_cap(product)
        if cap is not None and p > cap:
            key = ("green.premium_cap_yuan_per_mwh" if product == "bundled"
                   else "green.certificate_price_cap_yuan")
            return f"{what} {p:g} yuan is above the cap {key} = {cap:g}"
        return None

    # ----------------------------------------------------------------- settlement core

    def execute(self, period: str, mode: str, products: str | Sequence[str],
                sellers: Sequence[str], buyers: Sequence[str], ticks: Sequence[int],
                premiums: Sequence[float], energy_prices: Sequence[float | None],
                units: Sequence[str | None]) -> list[GreenTrade]:
        """Settle trades all or nothing: move certificates, post premiums, record trades.

        ``products``: one product or one per trade; ``ticks`` int > 0 (0.001 MWh, whole
        certificates when unbundled); ``premiums`` yuan/MWh (may fall on half a price tick, the
        call-auction midpoint). Raises :class:`GreenTradeError` and changes nothing when any
        trade is refused (the registry's reason is kept in the message).
        """
        n = len(sellers)
        if mode not in MODES:
            raise GreenTradeError(f"mode {mode!r} must be one of {', '.join(MODES)}")
        prods = [products] * n if isinstance(products, str) else list(products)
        if not (len(prods) == len(buyers) == len(ticks) == len(premiums)
                == len(energy_prices) == len(units) == n):
            raise GreenTradeError("every column of the trades must have one value per trade")
        if n == 0:
            return []
        lots = [self.lot_ticks(p) for p in prods]
        ticks = [int(t) for t in ticks]
        halves = [price_half_fen(p, "premium", half_ticks=True) for p in premiums]
        if any(h < 0 for h in halves):
            raise GreenTradeError("premiums must be >= 0")
        bad = [i for i, t in enumerate(ticks) if t <= 0 or t % lots[i]]
        if bad:
            raise GreenTradeError("trade quantities must be > 0 MWh (whole certificates when "
                                  f"unbundled); rows {bad[:_MAX_SHOWN]}")
        fens = np.array([amount_fen(h, t) for h, t in zip(halves, ticks, strict=True)],
                        dtype=np.int64)
        ids = list(range(len(self.trades), len(self.trades) + n))
        cats = np.array([Category.GREEN_PREMIUM.value if p == "bundled"
                         else Category.CERTIFICATE_SALE.value for p in prods], dtype=object)
        memos = np.array([f"green {mode} {p} trade {i}" for p, i in zip(prods, ids, strict=True)],
                         dtype=object)
        unit_col = _objects(units)
        args = (period, _objects(buyers), _objects(sellers), cats)
        self.ledger.check_many(*args, memo=memos, unit=unit_col, amount_fen=fens)
        try:
            self.registry.transfer_many(list(sellers), list(buyers), np.array(ticks), prods,
                                        units=list(units), trades=ids)
        except CertificateError as exc:
            raise GreenTradeError(f"green {mode} trades refused: {exc}") from exc
        self.ledger.post_many(*args, memo=memos, unit=unit_col, amount_fen=fens)
        energy = [None if e is None else float(e) for e in energy_prices]
        out = [GreenTrade(ids[i], period, mode, prods[i], sellers[i], buyers[i], units[i],
                          ticks[i], energy[i], halves[i] / HALF_FEN_PER_YUAN, int(fens[i]))
               for i in range(n)]
        self.trades.extend(out)
        return out

    # ----------------------------------------------------------------- bundled contracts

    def record_contracts(self, period: str, sellers: Sequence[str], units: Sequence[str | None],
                         buyers: Sequence[str], ticks: Sequence[int], premium: float,
                         energy_price: float | None) -> list[BundledContract]:
        """Record cleared bundled contracts of ``period`` (nothing moves until delivery)."""
        first = len(self.bundled_contracts)
        energy = None if energy_price is None else float(energy_price)
        made = [BundledContract(first + k, period, sellers[k], units[k], buyers[k], int(ticks[k]),
                                float(premium), energy) for k in range(len(sellers))]
        self.bundled_contracts.extend(made)
        return made

    # ----------------------------------------------------------------- bilateral contracts

    def register_bilateral(self, contracts: Sequence[BilateralContract]) -> list[int]:
        """Validate and register contracts (all or nothing); returns their indices.

        Refused with every problem listed: unknown product, a party trading with itself,
        quantity not > 0 on the grid (whole certificates when unbundled), premium outside the
        rules' limits, a non-finite energy price, an unregistered unit.
        """
        problems = []
        for i, c in enumerate(contracts):
            for why in self._contract_problems(c):
                problems.append(f"contract {i} ({c.seller} -> {c.buyer}): {why}")
        if problems:
            raise GreenTradeError("bilateral contracts refused:\n  "
                                  + "\n  ".join(problems[:_MAX_SHOWN]))
        first = len(self.contracts)
        self.contracts.extend(contracts)
        return list(range(first, len(self.contracts)))

    def _contract_problems(self, c: BilateralContract) -> list[str]:
        out = []
        if not isinstance(c.seller, str) or not c.seller or not isinstance(c.buyer, str) \
                or not c.buyer:
            out.append("seller and buyer must be non-empty names")
        elif c.seller == c.buyer:
            out.append("a party cannot contract with itself")
        if c.product not in PRODUCTS:
            out.append(f"product {c.product!r} must be 'bundled' or 'unbundled'")
        else:
            try:
                quantity_ticks(c.quantity_mwh, "quantity", self.lot_ticks(c.product))
            except GreenTradeError as exc:
                out.append(str(exc))
        why = self.premium_problem(c.premium_yuan_per_mwh,
                                   c.product if c.product in PRODUCTS else "bundled")
        if why:
            out.append(why)
        e = c.energy_price_yuan_per_mwh
        if e is not None:
            if c.product == "unbundled":
                out.append("an unbundled certificate has no energy price")
            else:
                try:
                    price_half_fen(e, "energy price")
                except GreenTradeError as exc:
                    out.append(str(exc))
        if c.unit is not None and c.unit not in self.registry.names()["unit"]:
            out.append(f"unit {c.unit!r} is not registered")
        return out

    def settle_bilateral(self, period: str) -> list[GreenTrade]:
        """Deliver every registered, not yet settled contract in ``period``, all or nothing."""
        cs = self.contracts[self._settled:]
        out = self.execute(
            period, "bilateral", [c.product for c in cs], [c.seller for c in cs],
            [c.buyer for c in cs],
            [quantity_ticks(c.quantity_mwh, "quantity") for c in cs],
            [c.premium_yuan_per_mwh for c in cs], [c.energy_price_yuan_per_mwh for c in cs],
            [c.unit for c in cs])
        self._settled = len(self.contracts)
        return out

    def bilateral(self, contracts: Sequence[BilateralContract], period: str) -> list[GreenTrade]:
        """Register and settle contracts at once; a refusal leaves nothing registered."""
        if self._settled != len(self.contracts):
            raise GreenTradeError("registered contracts are waiting: call settle_bilateral")
        self.register_bilateral(contracts)
        try:
            return self.settle_bilateral(period)
        except GreenTradeError:
            del self.contracts[self._settled:]
            raise

    # ----------------------------------------------------------------- obligations

    def settle_obligations(self, loads: Sequence[str], consumption_mwh: Any,
                           compliance_period: str, period: str | None = None
                           ) -> ObligationOutcome:
        """Retire certificates of obligated loads and charge the shortfall penalty.

        Each load owes ``obligation_weight`` (0.22) x its consumption (MWh, float (n,)) in
        certificates, to the 0.001 MWh (rounded half-even). It retires what it holds (any
        valid certificate, bought bundled or unbundled or its own, oldest first), up to that;
        the MWh short x ``shortfall_penalty_yuan_per_mwh`` is posted as
        ``obligation_penalty`` from the load to the system operator in ledger ``period``
        (default: the compliance period). All or nothing.
        """
        names = list(np.asarray(loads, dtype=object).reshape(-1).tolist())
        cons = np.asarray(consumption_mwh, dtype=np.float64).reshape(-1)
        problems = []
        if cons.shape[0] != len(names):
            problems.append(f"{len(names)} loads but {cons.shape[0]} consumption values")
        if len(set(names)) != len(names):
            problems.append("each load may appear once")
        problems += [f"load {x!r} must be a non-empty name" for x in names
                     if not isinstance(x, str) or not x]
        if cons.shape[0] == len(names):
            problems += [f"consumption of {names[i]!r} is {cons[i]!r}; it must be a finite "
                         "number of MWh >= 0"
                         for i in np.flatnonzero(~np.isfinite(cons) | (cons < 0) | (cons > 1e12))]
        if problems:
            raise GreenTradeError("obligation settlement refused:\n  "
                                  + "\n  ".join(problems[:_MAX_SHOWN]))
        weight = Fraction(repr(float(self.rules.obligation_weight)))
        cons_t = np.rint(cons * TICKS_PER_MWH).astype(np.int64)
        owed = np.array([_half_even(int(t) * weight.numerator, weight.denominator)
                         for t in cons_t], dtype=np.int64)
        held = np.array([self.registry.held_ticks(x) for x in names], dtype=np.int64)
        retire = np.minimum(owed, held)
        short = owed - retire
        penalty_half = price_half_fen(float(self.rules.shortfall_penalty_yuan_per_mwh),
                                      "shortfall penalty")
        fen = np.array([amount_fen(penalty_half, int(s)) for s in short], dtype=np.int64)
        ledger_period = compliance_period if period is None else period
        memo = f"renewable consumption obligation {compliance_period}"
        args = (ledger_period, np.array(names, dtype=object), SYSTEM_OPERATOR,
                Category.OBLIGATION_PENALTY)
        self.ledger.check_many(*args, memo=memo, amount_fen=fen)
        try:
            done = self.registry.retire_many(names, retire, compliance_period)
        except CertificateError as exc:
            raise GreenTradeError(f"obligation settlement refused: {exc}") from exc
        self.ledger.post_many(*args, memo=memo, amount_fen=fen)
        return ObligationOutcome(tuple(names), owed, done, short, fen)

    # ----------------------------------------------------------------- reading

    def trades_table(self) -> np.ndarray:
        """The trades as a structured array of ``TRADE_DTYPE`` (NaN energy price if none)."""
        out = np.zeros(len(self.trades), dtype=TRADE_DTYPE)
        for i, t in enumerate(self.trades):
            out[i] = (t.trade, t.period, t.mode, t.product, t.seller, t.buyer, t.unit,
                      t.quantity_mwh, t.quantity_ticks,
                      np.nan if t.energy_price_yuan_per_mwh is None
                      else t.energy_price_yuan_per_mwh, t.premium_yuan_per_mwh, t.premium_fen)
        return out


def _objects(values: Sequence[Any]) -> np.ndarray:
    """A 1-D object array of the values, whatever they are (names, ``None``)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out
