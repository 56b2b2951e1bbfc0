"""The ``mengxi`` command line (Typer + rich).

Sub-commands live in small modules (``api/cli_*.py``) that each define a Typer app or
commands; this module composes them. Exit status 2 means the input was refused.
"""

from __future__ import annotations

import typer

from api import (
    cli_agents,
    cli_bench,
    cli_clear,
    cli_rules,
    cli_serve,
    cli_simulate,
    cli_studies,
)

app = typer.Typer(
    name="mengxi",
    help="Mengxi capacity-market and green-power trading sandbox.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """Mengxi capacity-market and green-power trading sandbox."""


cli_clear.register(app)
cli_bench.register(app)
cli_rules.register(app)
cli_simulate.register(app)
cli_studies.register(app)
cli_serve.register(app)
cli_agents.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
