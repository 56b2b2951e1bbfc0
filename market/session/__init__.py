"""market.session.game."""
