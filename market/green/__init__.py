"""market.green.trading."""
