"""The shape of the package: no import circles, no reaching into another module's privates.

The import graph is read from the source with ``ast``: every ``import`` and
``from ... import`` of a ``bounceback`` module, at module level (``TYPE_CHECKING`` blocks
included) and inside functions too: an import moved into a function to dodge a circle
still ties the two modules together, it only hides it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "bounceback"

# Known edges that close a circle in an area another change owns; each is a TODO, to
# be emptied by removing the circle, not by adding to it. Empty today.
KNOWN_CIRCLE_EDGES: frozenset[tuple[str, str]] = frozenset()

# Known imports of another module's private name; each is a TODO (make the name public
# in its module, or move it). (importer, "module:_name"). Empty today.
KNOWN_PRIVATE_IMPORTS: frozenset[tuple[str, str]] = frozenset()


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str:
    """The module ``name`` lives in: itself, or the nearest enclosing package."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _base(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def _imports(module: str, path: Path) -> Iterator[tuple[str, str]]:
    """(imported module, name or "") for every bounceback import in the file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "bounceback":
                    yield _owner(alias.name), ""
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, path, node)
            if base.split(".")[0] != "bounceback":
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES:
                    yield submodule, ""
                else:
                    yield _owner(base), alias.name


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        graph[module] = {m for m, _ in _imports(module, path) if m and m != module}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_graph_sees_the_imports_it_must() -> None:
    # The reader finds module-level, TYPE_CHECKING and function-level imports alike.
    graph = _graph()
    assert "bounceback.ledger.store" in graph["bounceback.ledger.service"]
    assert "bounceback.ledger.process" in graph["bounceback.ledger.service"]
    assert (
        "bounceback.sources.webhooks.settings" in graph["bounceback.sources.webhooks.mailgun"]
    )  # TYPE_CHECKING
    assert "bounceback.ledger.db" in graph["bounceback.cli.ledger_cmds"]  # inside a function


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles() -> None:
    graph = _graph()
    for importer, imported in KNOWN_CIRCLE_EDGES:
        graph[importer].discard(imported)
    circles = _circles(graph)
    assert not circles, "import circles:\n" + "\n".join(
        " <-> ".join(c) + "\n    " + "\n    ".join(f"{m} -> {sorted(graph[m] & set(c))}" for m in c)
        for c in circles
    )


def test_known_circle_edges_still_exist() -> None:
    # A TODO that was done must leave the list, so the list stays true.
    graph = _graph()
    gone = [edge for edge in KNOWN_CIRCLE_EDGES if edge[1] not in graph.get(edge[0], set())]
    assert not gone


def _private_imports() -> set[tuple[str, str]]:
    found = set()
    for module, path in MODULES.items():
        for imported, name in _imports(module, path):
            private = name.startswith("_") and not name.startswith("__")
            if private and imported != module:
                found.add((module, f"{imported}:{name}"))
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    assert _private_imports() - KNOWN_PRIVATE_IMPORTS == set()


def test_known_private_imports_still_exist() -> None:
    assert KNOWN_PRIVATE_IMPORTS - _private_imports() == set()


@pytest.mark.parametrize("folder", ["web"])
def test_no_sql_in_the_web_layer(folder: str) -> None:
    # The web reads and writes through ledger modules; it builds no statements.
    statements = {"select", "insert", "update", "delete", "text"}
    offenders = []
    for module, path in MODULES.items():
        if not module.startswith(f"bounceback.{folder}"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                names = {a.name for a in node.names} & statements
                if names:
                    offenders.append(f"{module}: {sorted(names)}")
    assert not offenders
