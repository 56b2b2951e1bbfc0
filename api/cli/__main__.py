"""``python -m api.cli``: the ``mengxi`` command line."""

from api.cli import main

main()
