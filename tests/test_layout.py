"""The layout of the packages, read from the source with ``ast`` (nothing is imported).

Every ``import`` and ``from ... import`` counts: at module level, inside functions, under
``if TYPE_CHECKING:``, absolute and relative. ``from a.b import c`` is an import of the module
``a.b.c`` when there is one, else of ``a.b`` (the package's ``__init__.py``); an import of
``a.b.c.name`` is one of the nearest module above it. The checks:

* no circle between modules (each one named, as a path ``a -> b -> a``);
* the layers point one way: clearing <- market <- agents <- studies <- api (a module imports
  only its own layer or the ones to its left);
* no folder holds more than :data:`MAX_MODULES_PER_FOLDER` modules directly;
* ``clearing`` imports only numpy, numba and the standard library (the reference LP,
  ``clearing/reference/lp.py``, may import highspy too);
* ``market`` (the domain) imports no web, SQL, Dask or HTTP library.

The last test feeds the same checks a small made-up tree, to show that they can fail.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The packages from the bottom layer up: each may import only itself and those before it.
LAYERS = ("clearing", "market", "agents", "studies", "api")
MAX_MODULES_PER_FOLDER = 10
CLEARING_MAY_IMPORT = frozenset({"numpy", "numba"}) | frozenset(sys.stdlib_module_names)
#: Named exceptions, each optional: the LP reference (tests, bench) and the CSV reader's ids of a
#: large file (imported only then, with a NumPy fallback when pyarrow is absent).
CLEARING_EXCEPTIONS = {"clearing.reference.lp": frozenset({"highspy"}),
                       "clearing.book": frozenset({"pyarrow"})}
MARKET_MUST_NOT_IMPORT = frozenset(
    {"fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "dask", "distributed", "httpx"})


@dataclass(repr=False)
class Graph:
    """Modules by dotted name (with their files), the imports between them and the outside
    packages (top-level names) each one imports."""

    files: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, set[str]] = field(default_factory=dict)
    external: dict[str, set[str]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Graph({len(self.files)} modules)"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> Iterator[tuple[str, str]]:
    """(dotted name, the name's first part as written) of what one import statement imports;
    relative imports made absolute against ``package``."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, alias.name
        return
    base = node.module or ""
    if node.level:
        parts = package.split(".")
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, base] if base else parts)
    for alias in node.names:
        yield f"{base}.{alias.name}", base


def import_graph(root: Path, packages: tuple[str, ...] = LAYERS) -> Graph:
    g = Graph()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            g.files[module_name(root, path)] = path
    for name, path in g.files.items():
        g.edges[name], g.external[name] = set(), set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            relative = isinstance(node, ast.ImportFrom) and node.level > 0
            for dotted, written in _imported(node, package):
                if not relative and written.split(".")[0] not in packages:
                    g.external[name].add(written.split(".")[0])
                    continue
                target = dotted
                while target and target not in g.files:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    g.edges[name].add(target)
    return g


def circles(g: Graph) -> list[list[str]]:
    """One circle ``[a, b, ..., a]`` through each group of modules that import each other."""
    return sorted(_a_circle_in(g, group) for group in tangles(g))


def tangles(g: Graph) -> list[set[str]]:
    """The groups of modules that import each other, directly or not (the strongly connected
    components with more than one module, by Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g.edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(g.files) + 100))
    try:
        for v in sorted(g.files):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(groups, key=min)


def _a_circle_in(g: Graph, group: set[str]) -> list[str]:
    """The shortest circle from the group's first module back to it, within the group."""
    start = min(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(g.edges[v] & group):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if v != start else [start, start]
                if w not in came_from:
                    came_from[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError(f"no circle in {sorted(group)}")  # a component always has one


def arrows_against_the_layers(g: Graph, layers: tuple[str, ...] = LAYERS) -> list[str]:
    rank = {name: i for i, name in enumerate(layers)}
    return sorted(f"{a} -> {b}" for a, targets in g.edges.items() for b in targets
                  if rank[b.split(".")[0]] > rank[a.split(".")[0]])


def crowded_folders(g: Graph, root: Path, limit: int = MAX_MODULES_PER_FOLDER) -> list[str]:
    folders: dict[Path, int] = {}
    for path in g.files.values():
        folders[path.parent] = folders.get(path.parent, 0) + 1
    return sorted(f"{folder.relative_to(root)}/: {n} modules" for folder, n in folders.items()
                  if n > limit)


def outside_imports(g: Graph, package: str, allowed: frozenset[str] | None = None,
                    forbidden: frozenset[str] | None = None,
                    exceptions: dict[str, frozenset[str]] | None = None) -> list[str]:
    """``module imports name`` for each outside package a module of ``package`` imports that
    is not ``allowed`` (when given) or is ``forbidden`` (when given)."""
    out = []
    for module, names in g.external.items():
        if module.split(".")[0] != package:
            continue
        extra = (exceptions or {}).get(module, frozenset())
        for name in sorted(names):
            if (allowed is not None and name not in allowed | extra) or \
                    (forbidden is not None and name in forbidden):
                out.append(f"{module} imports {name}")
    return out


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph(ROOT)


def test_the_graph_sees_every_package_and_its_imports(graph: Graph):
    assert {name.split(".")[0] for name in graph.files} == set(LAYERS)
    assert len(graph.files) > 100
    from_market = {t.split(".")[0] for m, targets in graph.edges.items()
                   if m.split(".")[0] == "market" for t in targets}
    assert from_market == {"clearing", "market"}
    assert "numpy" in graph.external["clearing.kernels.uniform"]


def test_no_circles_between_modules(graph: Graph):
    found = [(" -> ".join(_a_circle_in(graph, group)), sorted(group))
             for group in tangles(graph)]
    assert not found, "circles between modules:\n" + "\n".join(
        circle + ("" if len(group) == circle.count(" -> ") else
                  f"\n    (one of the circles among {', '.join(group)})")
        for circle, group in found)


def test_layers_point_one_way(graph: Graph):
    against = arrows_against_the_layers(graph)
    assert not against, (" <- ".join(LAYERS) + "; imports against it:\n" + "\n".join(against))


def test_no_folder_holds_more_than_ten_modules(graph: Graph):
    assert not crowded_folders(graph, ROOT)


def test_clearing_imports_only_numpy_numba_and_the_standard_library(graph: Graph):
    assert not outside_imports(graph, "clearing", allowed=CLEARING_MAY_IMPORT,
                               exceptions=CLEARING_EXCEPTIONS)


def test_market_imports_no_web_sql_dask_or_http_library(graph: Graph):
    assert not outside_imports(graph, "market", forbidden=MARKET_MUST_NOT_IMPORT)


def test_the_checks_fail_on_a_tree_that_breaks_the_rules(tmp_path: Path):
    def write(rel: str, text: str = "") -> None:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    for package in LAYERS:
        write(f"{package}/__init__.py")
    # a circle of three modules, one arrow relative and one inside a function
    write("market/a.py", "from market import b\n")
    write("market/b.py", "def f():\n    from .c import x\n")
    write("market/c.py", "from typing import TYPE_CHECKING\n"
                         "if TYPE_CHECKING:\n    import market.a\nx = 1\n")
    write("market/d.py", "import market.e.something  # a name below a module\n"
                         "import sqlalchemy\n")
    write("market/e.py", "from clearing import kernel\n")  # along the layers: fine
    write("clearing/kernel.py", "import numpy, math\nimport scipy.optimize\n"
                                "from agents import bot\n")  # against the layers
    write("agents/bot.py")
    for i in range(11):
        write(f"studies/many/m{i}.py")

    g = import_graph(tmp_path)
    assert g.edges["market.b"] == {"market.c"} and g.edges["market.d"] == {"market.e"}
    assert circles(g) == [["market.a", "market.b", "market.c", "market.a"]]
    assert arrows_against_the_layers(g) == ["clearing.kernel -> agents.bot"]
    assert crowded_folders(g, tmp_path) == ["studies/many/: 11 modules"]
    assert outside_imports(g, "clearing", allowed=CLEARING_MAY_IMPORT) == [
        "clearing.kernel imports scipy"]
    assert outside_imports(g, "clearing", allowed=CLEARING_MAY_IMPORT,
                           exceptions={"clearing.kernel": frozenset({"scipy"})}) == []
    assert outside_imports(g, "market", forbidden=MARKET_MUST_NOT_IMPORT) == [
        "market.d imports sqlalchemy"]
    # a package whose __init__ imports a module that takes a name from the package: a circle
    write("market/__init__.py", "from market.e import thing\n")
    write("market/e.py", "from market import other_thing\nthing = 1\n")
    assert circles(import_graph(tmp_path)) == [["market", "market.e", "market"],
                                               ["market.a", "market.b", "market.c", "market.a"]]
