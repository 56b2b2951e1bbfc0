"""market.rules.sections."""
