"""Write resolved rules as TOML that ``tomllib`` reads back to the same rules.

The rules use only tables, lists of small tables (written inline), lists of numbers, strings,
booleans, ints and finite floats, so a small writer is enough and adds no dependency.
"""

from __future__ import annotations

from typing import Any

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, the rest
    written as UTF-8 (TOML has no surrogate-pair escapes, so JSON's escaping will not do)."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _table(lines: list[str], name: str, data: dict[str, Any]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict) and v is not None}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if name:
        if lines:
            lines.append("")
        lines.append(f"[{name}]")
    for key, value in scalars.items():
        if isinstance(value, list | tuple) and value and isinstance(value[0], dict):
            lines.append(f"{key} = [")
            lines.extend(f"    {_value(item)}," for item in value)
            lines.append("]")
        else:
            lines.append(f"{key} = {_value(value)}")
    for key, value in tables.items():
        _table(lines, f"{name}.{key}" if name else key, value)


def dumps(data: dict[str, Any]) -> str:
    """TOML text of a nested dict as produced by ``model_dump(mode="python")``.

    ``None`` values are left out (they mean "not given").
    """
    lines: list[str] = []
    _table(lines, "", data)
    return "\n".join(lines) + "\n"
