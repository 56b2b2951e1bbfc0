"""agents layer of the Mengxi sandbox."""
