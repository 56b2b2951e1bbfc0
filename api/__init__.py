"""api layer of the Mengxi sandbox."""
