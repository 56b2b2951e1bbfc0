"""``mengxi rules``: check and show rule files and presets.

``mengxi rules check FILE`` validates a rules file (or a preset name) and prints one OK line with
its name and SHA-256 prefix, or every problem with its key path (exit status 2).
``mengxi rules show FILE`` prints the resolved rules, defaults filled, as TOML or ``--json``;
the TOML ends with the capacity market as a year of these rules would run it, in comment lines
(the derived accreditation and Net CONE, the demand curve's points in MW and yuan/kW·yr), which
``--no-capacity`` leaves out.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from market.rules import (
    MarketRules,
    RulesError,
    load_preset,
    load_rules,
    preset_names,
)
from market.rules.base import RulesProblem

EXIT_REFUSED = 2

rules_app = typer.Typer(
    name="rules",
    help="Check and show market rule files (TOML) and the scenario presets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

FileArg = Annotated[
    str,
    typer.Argument(
        metavar="FILE", help="A rules TOML file, or the name of a preset (e.g. mengxi-2026)."
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override a rule, e.g. --set capacity.net_cone_yuan_per_kw_yr=300 (repeatable).",
    ),
]


def _parse_overrides(items: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are read as TOML values (numbers, booleans, lists, quoted
    strings), and anything else is taken as a bare string."""
    overrides: dict[str, Any] = {}
    problems = []
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            problems.append(RulesProblem(item, "write --set KEY=VALUE", "--set"))
            continue
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        overrides[key.strip()] = value
    if problems:
        raise RulesError(problems)
    return overrides


def _load(source: str, overrides: list[str] | None) -> MarketRules:
    path = Path(source)
    if path.is_file() or source.endswith(".toml") or "/" in source:
        rules = load_rules(path)
    else:
        rules = load_preset(source)
    if overrides:
        rules = rules.with_overrides(_parse_overrides(overrides))
    return rules


def _refuse(err: RulesError) -> None:
    """Print every problem (a table on a terminal, one line each otherwise) and exit 2."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    problems = list(err.problems)
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    if console.is_terminal:
        files = {getattr(p, "file", None) or "" for p in problems}
        one_file = len(files) == 1
        where = f" in {next(iter(files))}" if one_file and "" not in files else ""
        table = Table(title=f"rules refused: {count}{where}", title_justify="left")
        if not one_file:
            table.add_column("file", style="dim", overflow="fold")
        table.add_column("key", style="bold", overflow="fold")  # never truncate a key path
        table.add_column("problem", overflow="fold")
        for p in problems:
            row = [
                getattr(p, "path", "") or "(file)",
                str(getattr(p, "message", p)),
            ]
            table.add_row(*([getattr(p, "file", None) or ""] if not one_file else []), *row)
        console.print(table)
    else:
        console.print(f"rules refused: {count}", markup=False)
        for p in problems:
            console.print(f"  {p}", markup=False)
    raise typer.Exit(EXIT_REFUSED)


@rules_app.command("check")
def check_command(source: FileArg, set_: SetOpt = None) -> None:
    """Validate a rules file: one OK line, or every problem with its key path (exit 2)."""
    try:
        rules = _load(source, set_)
    except RulesError as err:
        _refuse(err)
        return
    typer.echo(f"OK {rules.meta.name} sha256 {rules.sha256()[:12]} ({source})")


def capacity_lines(rules: MarketRules, scale: float | None = None) -> list[str]:
    """The capacity market a year of ``rules`` would run (seed ``meta.seed``), as TOML comment
    lines: methods, accreditation by technology, Net CONE and the demand curve's points in MW
    and yuan/kW·yr."""
    from studies.year.run import resolved_capacity  # the year's fleet and forecast

    year_rules, cone, requirement = resolved_capacity(rules, scale=scale)
    c = year_rules.capacity
    fractions, prices = c.demand_curve()
    where = f"seed {rules.meta.seed}, scale {scale if scale is not None else rules.fleet.scale:g}"
    lines = [f"# resolved capacity market ({where}; what a simulated year uses):",
             f"#   accreditation ({c.accreditation_method}): " + ", ".join(
                 f"{t} {v:.3f}" for t, v in c.capacity_credit.items())]
    if c.net_cone_method == "derived":
        lines.append(f"#   Net CONE (derived) = Gross CONE {c.gross_cone_yuan_per_kw_yr:g} - "
                     f"reference energy margin {cone['reference_margin']:.2f} = "
                     f"{c.net_cone_yuan_per_kw_yr:.2f} yuan/kW-yr")
    else:
        lines.append(f"#   Net CONE (fixed) = {c.net_cone_yuan_per_kw_yr:.2f} yuan/kW-yr")
    lines.append(f"#   requirement {requirement:,.3f} MW; demand curve ({c.demand_shape}):")
    lines += [f"#     {f * requirement:>14,.3f} MW  {p:>9.2f} yuan/kW-yr  ({f:g} x requirement)"
              for f, p in zip(fractions.tolist(), prices.tolist(), strict=True)]
    return lines


@rules_app.command("show")
def show_command(
    source: FileArg,
    set_: SetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of TOML.")] = False,
    no_capacity: Annotated[bool, typer.Option(
        "--no-capacity", help="Leave out the resolved capacity market (TOML only).")] = False,
    scale: Annotated[float | None, typer.Option(
        help="Fleet scale for the resolved capacity market (default: the rules' own).")] = None,
) -> None:
    """Print the resolved rules (extends applied, every default filled), and, as TOML
    comments, the capacity market a year of them would run (derived accreditation, Net CONE,
    the demand curve in MW and yuan/kW-yr)."""
    try:
        rules = _load(source, set_)
    except RulesError as err:
        _refuse(err)
        return
    text = rules.to_json() if as_json else rules.to_toml()
    if not as_json and not no_capacity:
        text = text.rstrip("\n") + "\n\n" + "\n".join(capacity_lines(rules, scale)) + "\n"
    console = Console(highlight=False, soft_wrap=True)
    if console.is_terminal:
        console.print(Syntax(text, "json" if as_json else "toml", word_wrap=True))
    else:
        typer.echo(text.rstrip("\n"))


@rules_app.command("presets")
def presets_command() -> None:
    """List the scenario presets with their descriptions."""
    for name in preset_names():
        try:
            description = load_preset(name).meta.description
        except RulesError as err:
            description = f"(invalid: {len(err.problems)} problems)"
        typer.echo(f"{name:<36} {description}")


def register(app: typer.Typer) -> None:
    """Add the ``rules`` sub-app to the ``mengxi`` app."""
    app.add_typer(rules_app, name="rules")
