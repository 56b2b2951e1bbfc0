"""Read rules from TOML: presets by name, any file by path, with ``extends`` resolved.

A file may start with ``extends = "<preset name>"`` (or a path ending in ``.toml``, relative to
the file); the named rules are read first and the file's tables are merged into them key by key
(lists replace whole). Everything not given takes the defaults of the models, which are the
``mengxi`` preset.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from market.errors import RulesError, UnknownPresetError
from market.rules.base import RulesProblem, deep_merge
from market.rules.market_rules import MarketRules
from market.rules.problems import problems_from

#: Folder of the scenario presets: ``scenarios/`` at the repository root (this file is
#: ``<root>/market/rules/loading.py``; an editable install keeps it there).
SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def preset_names() -> list[str]:
    """Names of the available presets (``scenarios/*.toml``), sorted."""
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml"))


def preset_path(name: str) -> Path:
    """Path of the preset ``name``; raises :class:`UnknownPresetError` listing the presets."""
    path = SCENARIOS_DIR / f"{name}.toml"
    if "/" in name or "\\" in name or not path.is_file():
        available = ", ".join(preset_names()) or "(none found)"
        raise UnknownPresetError(
            [RulesProblem("", f"no preset named {name!r}; available presets: {available}")]
        )
    return path


def load_preset(name: str) -> MarketRules:
    """The preset ``name`` (``"mengxi"``, ``"mengxi-2026"``, ...), validated."""
    return load_rules(preset_path(name))


def load_rules(path: str | Path) -> MarketRules:
    """Read, resolve and validate the rules file at ``path``.

    Raises :class:`RulesError` whose ``problems`` list every problem found (unreadable file, bad
    TOML, unknown or misplaced keys with the closest known key, values out of range, curves out
    of order), each with its key path and the file.
    """
    path = Path(path)
    # A partial table (say [fleet.solar] with one key) keeps the other keys' defaults, with or
    # without ``extends``: the file is merged over the model defaults (the mengxi preset).
    data = deep_merge(MarketRules().model_dump(mode="python"), _resolved(path, chain=()))
    try:
        return MarketRules.model_validate(data)
    except ValidationError as err:
        raise RulesError(problems_from(err, MarketRules, data, str(path))) from None


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise RulesError([RulesProblem("", "file not found", str(path))]) from None
    except OSError as err:
        raise RulesError([RulesProblem("", f"cannot read the file: {err}", str(path))]) from None
    except tomllib.TOMLDecodeError as err:
        raise RulesError([RulesProblem("", f"not valid TOML: {err}", str(path))]) from None
    except UnicodeDecodeError:
        raise RulesError([RulesProblem("", "not UTF-8 text", str(path))]) from None


def _resolved(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The file's data merged over whatever it extends (recursively), ``extends`` removed."""
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(p.name for p in (*chain, resolved))
        raise RulesError(
            [RulesProblem("extends", f"extends itself in a cycle: {cycle}", str(path))]
        )
    data = _read(path)
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    if not isinstance(base_name, str) or not base_name:
        raise RulesError(
            [RulesProblem("extends", 'must be a preset name (a string) like "mengxi"', str(path))]
        )
    if base_name.endswith(".toml"):
        base_path = (path.parent / base_name).resolve()
    else:
        try:
            base_path = preset_path(base_name)
        except UnknownPresetError as err:
            raise UnknownPresetError(
                [RulesProblem("extends", str(p.message), str(path)) for p in err.problems]  # type: ignore[attr-defined]
            ) from None
    return deep_merge(_resolved(base_path, (*chain, resolved)), data)
