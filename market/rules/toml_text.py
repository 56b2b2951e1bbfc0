"""Write resolved rules as TOML that ``tomllib`` reads back to the same rules (with tomli-w).

TOML has no null: ``None`` values mean "not given" and are left out, at any depth (in tables
and in the small tables of lists such as the deduction table).
"""

from __future__ import annotations

from typing import Any

import tomli_w


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(v) for v in value]
    return value


def dumps(data: dict[str, Any]) -> str:
    """TOML text of a nested dict as produced by ``model_dump(mode="python")``.

    ``None`` values are left out (they mean "not given").

    >>> print(dumps({"meta": {"name": "x", "note": None}, "cuts": [{"failures": 2}]}), end="")
    cuts = [
        { failures = 2 },
    ]
    <BLANKLINE>
    [meta]
    name = "x"
    """
    return tomli_w.dumps(_without_none(data))
