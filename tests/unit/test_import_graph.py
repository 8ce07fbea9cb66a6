"""The import graph of agent/perfagent: no circle, and no command importing another.

Every import counts, at module level or inside a function (a function-level import
only defers a circle, it does not remove it), and so do imports under TYPE_CHECKING.
An edge goes to the module named: `from perfagent.store import git` is an edge to
perfagent.store.git, `from perfagent.store import open_store` one to perfagent.store.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "agent" / "perfagent"
PACKAGE = "perfagent"


def _module_name(path: Path, root: Path = PACKAGE_ROOT) -> str:
    parts = [PACKAGE, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    """The absolute module of a `from X import ...`, relative imports included."""
    if not node.level:
        return node.module or ""
    base = current.split(".")
    # A package's own module is its __init__: level 1 is the package itself.
    drop = node.level - 1 if is_package else node.level
    base = base[: len(base) - drop]
    return ".".join([*base, node.module] if node.module else base)


def import_graph(root: Path = PACKAGE_ROOT) -> dict[str, set[str]]:
    """module -> the perfagent modules it imports (anywhere in its body)."""
    files = {_module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = _resolve(node, name, is_package)
                for alias in node.names:
                    # `from pkg import sub` imports the submodule when there is one.
                    candidate = f"{module}.{alias.name}"
                    targets.append(candidate if candidate in files else module)
            for target in targets:
                if target in files and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (a list of modules, first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_package_has_no_import_circle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_no_command_imports_another_command() -> None:
    graph = import_graph()
    prefix = f"{PACKAGE}.commands."
    offenders = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.startswith(prefix)
        for target in targets
        if target.startswith(prefix)
    )
    assert offenders == []


def test_the_graph_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    """The checker itself: a circle hidden in a function and a relative import is found."""
    package = tmp_path / "perfagent"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from perfagent.sub import b\n")
    (package / "sub" / "b.py").write_text("from .. import a\n")
    (package / "c.py").write_text("import perfagent.a\n")
    graph = import_graph(package)
    assert graph["perfagent.a"] == {"perfagent.sub.b"}
    assert graph["perfagent.sub.b"] == {"perfagent.a"}
    assert graph["perfagent.c"] == {"perfagent.a"}
    cycle = find_cycle(graph)
    assert cycle is not None and set(cycle) == {"perfagent.a", "perfagent.sub.b"}


@pytest.mark.parametrize(
    ("edges", "circular"),
    [({"x": {"y"}, "y": {"z"}, "z": set()}, False), ({"x": {"y"}, "y": {"x"}}, True)],
)
def test_find_cycle(edges: dict[str, set[str]], circular: bool) -> None:
    assert (find_cycle(edges) is not None) is circular
