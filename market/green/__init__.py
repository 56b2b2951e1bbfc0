"""Green electricity trading: bundled green power (MWh with its certificates, priced as energy
price + green premium) and unbundled certificates, in four modes: bilateral contracts and
obligations (:class:`GreenMarket`), listing (:func:`fill_listing`), the centralized call auction
(:func:`call_auction`, one uniform premium cleared by the core) and continuous trading
(:class:`GreenContinuousMarket`). Every trade moves certificates in the registry and posts to the
ledger, all or nothing. Bundled green power can also be contracted for a month before metering
(:func:`contract_auction`) and delivered after it (:func:`deliver_contracts`): certificates and
premium on min(contract, metered generation, consumption), the rest settled as energy only.

>>> from market.certificates import CertificateRegistry
>>> from market.green import GreenMarket, GreenOrder, call_auction
>>> from market.ledger.book import Ledger
>>> from market.rules import load_preset
>>> registry = CertificateRegistry("2025-01", 24)
>>> registry.register_unit("wind-1", "wind", "genco-1")
>>> _ = registry.issue("2025-01", ["wind-1"], [100.0])
>>> market = GreenMarket(load_preset("mengxi").green, registry, Ledger())
>>> out = call_auction(market, [GreenOrder("genco-1", 20.0, 100, "wind-1")],
...                    [GreenOrder("retailer-1", 30.0, 60)], "unbundled", "2025-01")
>>> out.premium_yuan_per_mwh, out.result.volume  # the seller is partly filled: its ask sets it
(20.0, 60.0)
>>> registry.owner_summary("retailer-1")["held"]
60.0
"""

from market.green.auction import (
    ContractAuctionOutcome,
    GreenAuctionOutcome,
    GreenOrder,
    call_auction,
    contract_auction,
)
from market.green.continuous import GreenContinuousMarket
from market.green.delivery import deliver_contracts
from market.green.listing import Listing, ListingRequest, fill_listing
from market.green.trading import (
    BilateralContract,
    BundledContract,
    GreenMarket,
    GreenTrade,
    ObligationOutcome,
)

__all__ = [
    "BilateralContract",
    "BundledContract",
    "ContractAuctionOutcome",
    "GreenAuctionOutcome",
    "GreenContinuousMarket",
    "GreenMarket",
    "GreenOrder",
    "GreenTrade",
    "Listing",
    "ListingRequest",
    "ObligationOutcome",
    "call_auction",
    "contract_auction",
    "deliver_contracts",
    "fill_listing",
]
