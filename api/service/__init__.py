"""api.service."""
