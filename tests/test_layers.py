"""The house's rules, read off the source: imports point down the layers, never in a circle, never
into another room's private names, and modules import microlearn at their top (an import inside a
function is only for an optional dependency). docs/architecture.md draws the same layers."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import microlearn

PACKAGE = Path(microlearn.__file__).resolve().parent

# Rooms from the bottom up. A room may import its own modules and any room of a lower rank;
# rooms of equal rank may not import each other.
RANK = {
    "_version": 0,
    "core": 1,
    "data": 2, "boards": 2,
    "targets": 3,
    "trainer": 4,
    "exporter": 5, "learner": 5,
    "tools": 6, "deploy": 6, "sweep": 6,
    "cli": 7,
    "__main__": 8, "__init__": 8,
}
# What a function may import late: optional dependencies (the benchmarks' peers, a cluster, Parquet, progress
# bars) and matplotlib, which is imported only when a plot is asked for (importing pyplot picks a
# backend for the whole process: a library must not do that on import).
OPTIONAL = {"matplotlib", "river", "emlearn", "m2cgen", "micromlgen", "dask", "distributed", "rich", "tqdm", "pyarrow"}


def _modules() -> dict[str, tuple[Path, bool]]:
    mods = {}
    for p in PACKAGE.rglob("*.py"):
        parts = ["microlearn", *p.relative_to(PACKAGE).with_suffix("").parts]
        is_pkg = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)
    return mods


MODULES = _modules()


def room(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


class Import:
    def __init__(self, src, target, names, line, in_function):
        self.src, self.target, self.names, self.line, self.in_function = src, target, names, line, in_function

    def __repr__(self):
        return f"{self.src}:{self.line} -> {self.target}"


def _imports(module: str) -> list[Import]:
    path, is_pkg = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for a in child.names:
                    found.append(Import(module, a.name, [], child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    target = ".".join(base[:len(base) - child.level + 1] + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                for a in child.names:     # `from pkg import submodule` imports the submodule
                    sub = f"{target}.{a.name}"
                    if sub in MODULES:
                        found.append(Import(module, sub, [], child.lineno, in_function))
                    else:
                        found.append(Import(module, target, [a.name], child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


IMPORTS = [i for m in sorted(MODULES) for i in _imports(m)]
INTERNAL = [i for i in IMPORTS if i.target.split(".")[0] == "microlearn"]


def test_imports_point_down_the_layers():
    bad = []
    for i in INTERNAL:
        a, b = room(i.src), room(i.target)
        if a != b and not RANK[b] < RANK[a]:
            bad.append(f"{i} ({a} may not import {b})")
    assert not bad, "\n".join(bad)


def test_every_room_has_a_rank():
    assert {room(m) for m in MODULES} <= set(RANK)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in INTERNAL:
        if i.target in graph and i.target != i.src:
            graph[i.src].add(i.target)
    # Tarjan's strongly connected components
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_microlearn_is_imported_at_module_top():
    late = [repr(i) for i in INTERNAL if i.in_function]
    assert not late, "imports of microlearn inside functions:\n" + "\n".join(late)


def test_functions_import_only_optional_dependencies():
    late = [f"{i} ({i.target})" for i in IMPORTS
            if i.in_function and i.target.split(".")[0] not in OPTIONAL | {"microlearn"}]
    assert not late, "standard-library or required imports inside functions:\n" + "\n".join(late)


def test_no_room_reaches_into_another_rooms_private_names():
    bad = []
    for i in INTERNAL:
        if room(i.src) == room(i.target):
            continue
        private_module = any(p.startswith("_") and p not in ("__init__", "_version")
                             for p in i.target.split(".")[1:])
        private_name = any(n.startswith("_") and not n.startswith("__") for n in i.names)
        if private_module or private_name:
            bad.append(f"{i} {i.names}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("rule", ["down", "cycles"])
def test_the_checker_catches_what_it_claims(rule, monkeypatch):
    """The rules are not vacuous: a planted upward import and a planted cycle are found."""
    planted = [Import("microlearn.core.f32", "microlearn.trainer.reference", [], 1, False)]
    if rule == "cycles":
        planted.append(Import("microlearn.trainer.reference", "microlearn.core.f32", [], 1, False))
    monkeypatch.setattr(__import__(__name__), "INTERNAL", INTERNAL + planted)
    test = test_imports_point_down_the_layers if rule == "down" else test_no_import_cycles
    with pytest.raises(AssertionError):
        test()
