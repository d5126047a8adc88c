"""The house rules a reader can check with an import graph: layers never reach back, no module
imports itself through others, no module grows past 400 lines (data files aside)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("f2f", "stages", "lipgan", "eval")
MAX_LINES = 400
# What each package may import from the others. The core knows no backend, no trainer and no
# evaluation; backends know the core; training knows the core; evaluation may use all three.
ALLOWED = {
    "f2f": {"f2f"},
    "stages": {"f2f", "stages", "lipgan"},
    "lipgan": {"f2f", "lipgan"},
    "eval": {"f2f", "stages", "lipgan", "eval"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules that `name` imports (at any depth in the file, lazy imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in names:
            while target and target not in known:  # `import a.b.c` -> the deepest known module
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def test_packages_import_only_the_layers_below() -> None:
    wrong = []
    for module, targets in _graph().items():
        package = module.split(".")[0]
        for target in sorted(targets):
            if target.split(".")[0] not in ALLOWED[package]:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles_between_modules() -> None:
    graph = _graph()
    # A package's __init__ re-exporting its own modules is not a cycle between files of
    # different concerns; everything else is.
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_over_400_lines() -> None:
    long = [f"{p.relative_to(REPO)}: {n} lines" for p in _modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, "\n".join(long)


def test_the_checker_sees_a_planted_cycle(tmp_path: Path) -> None:
    """The graph code itself: relative and lazy imports are followed."""
    known = {"pkg.a", "pkg.b"}
    a = tmp_path / "a.py"
    a.write_text("def f():\n    from .b import g\n", encoding="utf-8")
    assert _imports("pkg.a", a, known) == {"pkg.b"}
