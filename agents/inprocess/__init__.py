"""agents.inprocess."""
