"""studies.year.run."""
