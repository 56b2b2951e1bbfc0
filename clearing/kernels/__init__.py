"""clearing.kernels."""
