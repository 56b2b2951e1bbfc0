"""agents.http."""
