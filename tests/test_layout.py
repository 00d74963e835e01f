"""The import structure: no cycles, the curve side in one acyclic package, heavy optional
packages never imported by ``import graphgeo``."""

import ast
import subprocess
import sys
from pathlib import Path

import graphgeo

PKG = Path(graphgeo.__file__).resolve().parent


def _modules():
    mods = {}
    for f in PKG.rglob("*.py"):
        parts = ["graphgeo", *f.relative_to(PKG).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = f
    return mods


def _imports(mods):
    """{module: {(target, lazy)}} for imports of graphgeo modules (relative or absolute)."""
    out = {}
    for name, f in mods.items():
        tree = ast.parse(f.read_text())
        top = {id(n) for n in tree.body}
        package = name.split(".") if f.name == "__init__.py" else name.split(".")[:-1]
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = (package[: len(package) - node.level + 1] if node.level else [])
                stem = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{stem}.{a.name}" for a in node.names] + [stem]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != name and t != "graphgeo":  # graphgeo.kernels lies outside graphgeo/
                    edges.add((t, id(node) not in top))
                    break
        out[name] = edges
    return out


def _cycle(graph):
    """One cycle of a {node: set(nodes)} graph, or None."""
    state = {}

    def visit(n, path):
        state[n] = 1
        for t in graph.get(n, ()):
            if state.get(t) == 1:
                return path[path.index(t):] + [t]
            if t not in state:
                found = visit(t, path + [t])
                if found:
                    return found
        state[n] = 2
        return None

    for n in graph:
        if n not in state:
            found = visit(n, [n])
            if found:
                return found
    return None


def test_no_import_cycle_at_module_level():
    imports = _imports(_modules())
    graph = {m: {t for t, lazy in e if not lazy} for m, e in imports.items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_curve_side_is_acyclic_even_through_function_level_imports():
    imports = _imports(_modules())
    graph = {m: {t for t, _ in e if t.startswith("graphgeo.curves.")}
             for m, e in imports.items() if m.startswith("graphgeo.curves.")}
    assert set(graph) >= {"graphgeo.curves.path", "graphgeo.curves.smoothing",
                          "graphgeo.curves.energy", "graphgeo.curves.neural",
                          "graphgeo.curves.refine", "graphgeo.curves.pipeline"}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
    # the solvers share curves.energy instead of importing each other
    assert "graphgeo.curves.refine" not in graph["graphgeo.curves.neural"]


def test_pythae_parser_is_a_leaf_and_interop_sits_above_the_metrics():
    imports = _imports(_modules())
    assert {t for t, _ in imports["graphgeo._pythae"]} <= {"graphgeo._backend", "graphgeo.exceptions"}
    assert ("graphgeo.metrics", False) in imports["graphgeo.interop"]


def test_import_graphgeo_imports_no_heavy_optional_package():
    code = ("import sys, graphgeo; "
            "print(','.join(m for m in ('torch', 'matplotlib', 'dask', 'distributed', 'cupy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
