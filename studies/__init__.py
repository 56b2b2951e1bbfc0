"""studies layer of the Mengxi sandbox."""
