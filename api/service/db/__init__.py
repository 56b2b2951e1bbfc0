"""api.service.db."""
