"""clearing.reference.uniform."""
