"""The output folder of a command that writes files, checked before any work starts.

Every ``mengxi`` command that takes ``--out`` (``simulate``, ``compare``, ``sweep``,
``calibrate``, ``pathway``, ``learn``) calls :func:`check_out` first, so a run of minutes is
never thrown away at the end because its folder cannot be written, and files of an earlier run
are never mixed with a new one's unless asked for. Refused, with one line and exit status 2:

* an ``--out`` that is a file, or lies under a file;
* an ``--out`` folder that already holds something, unless ``--force`` is given (then the
  command writes into it, replacing files of the same names and leaving the others).

A missing or empty folder is always accepted. A command's own default folder
(``out/<scenario>-seed<S>``) is checked for the first rule only: it is rewritten by each run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

EXIT_REFUSED = 2

#: The ``--force`` option of every command with ``--out``.
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Write into an --out folder that already holds files (files of the same "
                    "names are replaced).")]


def out_problem(out: Path, force: bool, *, explicit: bool = True) -> str | None:
    """Why ``out`` cannot be the output folder (see the module docstring), or None.

    ``explicit`` is False for a command's default folder, which is not refused for holding
    files."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file; give a folder"
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"--out {out} lies under {parent}, which is a file"
            break
    if explicit and not force and out.is_dir() and any(out.iterdir()):
        return f"--out {out} is not empty; pass --force to write into it"
    return None


def check_out(out: Path | None, force: bool, *, explicit: bool = True) -> None:
    """Refuse an unusable output folder: print ``refused: <why>`` as one line on stderr and
    exit with status 2. Does nothing for ``None`` (no folder asked for)."""
    if out is None:
        return
    problem = out_problem(out, force, explicit=explicit)
    if problem is not None:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"refused: {problem}", markup=False)
        raise typer.Exit(EXIT_REFUSED)
