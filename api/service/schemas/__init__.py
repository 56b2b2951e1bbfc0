"""api.service.schemas."""
