"""market.energy.auction."""
