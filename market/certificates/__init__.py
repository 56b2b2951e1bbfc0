"""market.certificates.registry."""
