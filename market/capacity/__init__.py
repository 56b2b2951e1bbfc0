"""market.capacity.auction."""
