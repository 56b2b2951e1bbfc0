"""market.ledger.book."""
