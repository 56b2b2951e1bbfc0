"""The ``mengxi`` command line (Typer + rich).

Sub-commands live in small modules (``api/cli/*.py``) that each define a Typer app or
commands; this module composes them. Exit status 2 means the input was refused.
"""

from __future__ import annotations

import typer

from api.cli import agents as cli_agents
from api.cli import bench as cli_bench
from api.cli import clear as cli_clear
from api.cli import rules as cli_rules
from api.cli import serve as cli_serve
from api.cli import simulate as cli_simulate
from api.cli import studies as cli_studies

app = typer.Typer(
    name="mengxi",
    help="Mengxi capacity-market and green-power trading sandbox.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain (click) help: typer's rich panels print a value type beside every flag
    # ("--json <bool>") and read "[pathway]" in a docstring as markup; the plain format shows
    # flags as flags, prints help text as written and wraps to the terminal.
    rich_markup_mode=None,
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

