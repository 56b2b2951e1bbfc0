"""market layer of the Mengxi sandbox."""
