"""studies.output."""
