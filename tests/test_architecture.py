"""The architecture's rules, checked on the code itself (docs/architecture.md explains them).

The import-linter contracts in pyproject.toml (run by `make lint`) keep the layers; these tests keep what
a layer contract cannot see: cycles anywhere, the single place that reads `settings.env`, the single
place that touches the process environment, module size, and private names used across modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("lakeml", "ingestion", "ml_pipelines")
WIRING = REPO / "lakeml" / "wiring" / "__init__.py"
SETTINGS = REPO / "lakeml" / "core" / "settings.py"
ENVIRON = REPO / "lakeml" / "core" / "environ.py"
MAX_LINES = 400


def _modules() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((REPO / package).rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_the_project_has_no_import_cycle() -> None:
    """Any import, at module level or inside a function, counts; imports only for type checking do not."""
    import grimp

    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    cycles = _strongly_connected(graph)
    assert not cycles, "import cycles (each line: modules that import each other):\n" + "\n".join(
        " <-> ".join(sorted(c)) for c in cycles
    )


def _strongly_connected(graph: object) -> list[set[str]]:
    """Tarjan's algorithm over grimp's module graph: every component of more than one module."""
    modules = sorted(graph.modules)  # type: ignore[attr-defined]
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}  # type: ignore[attr-defined]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(edges.get(start, [])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_only_the_wiring_reads_settings_env() -> None:
    """Local or AWS is decided once, in `lakeml.wiring.adapters`; everything else gets adapters."""
    readers = [
        _where(path, node)
        for path in _modules()
        if path not in (WIRING, SETTINGS)
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Attribute) and node.attr == "env"
    ]
    assert not readers, "`.env` read outside lakeml/wiring/__init__.py: " + ", ".join(readers)


def test_no_raw_environment_reads_outside_the_kernel() -> None:
    """Configuration comes from settings; platform variables and exports go through lakeml.core.environ."""
    raw = []
    for path in _modules():
        if path == ENVIRON:
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv", "unsetenv"):
                raw.append(_where(path, node))
            elif isinstance(node, ast.ImportFrom) and node.module == "os":
                names = {alias.name for alias in node.names}
                if names & {"environ", "getenv", "putenv", "unsetenv"}:
                    raw.append(_where(path, node))
    assert not raw, "raw environment access (use settings or lakeml.core.environ): " + ", ".join(raw)


def test_platform_variables_are_not_lakeml_settings() -> None:
    from lakeml.core import environ

    assert not [name for name in environ.PLATFORM_VARIABLES if name.startswith("LAKEML_")]
    with pytest.raises(ValueError, match="not a platform variable"):
        environ.platform("LAKEML_HOME")


def test_no_module_is_over_the_size_limit() -> None:
    big = {
        str(path.relative_to(REPO)): n
        for path in _modules()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not big, f"modules over {MAX_LINES} lines (split them by responsibility): {big}"


def test_no_private_name_is_imported_from_another_module() -> None:
    """`from a.b import _helper` couples two modules through a name one of them called private."""
    crossings = []
    for path in _modules():
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
                continue
            if node.module.split(".")[0] not in PACKAGES:
                continue
            private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            if private:
                crossings.append(f"{_where(path, node)} imports {', '.join(private)} from {node.module}")
    assert not crossings, "private names imported across modules:\n" + "\n".join(crossings)


def test_the_kernel_imports_nothing_of_the_project() -> None:
    """Redundant with the layers contract, but cheap and readable: the kernel stands alone."""
    outside = []
    for path in sorted((REPO / "lakeml" / "core").rglob("*.py")):
        for node in ast.walk(_tree(path)):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.split(".")[0] in PACKAGES and not name.startswith("lakeml.core"):
                    outside.append(f"{_where(path, node)} imports {name}")
    assert not outside, "the kernel imports the project: " + ", ".join(outside)
