"""market.compensation.scheme."""
