"""The package's import graph has no cycle, counting the imports made inside functions.

A lazy import that closes a cycle works until someone moves it to the top of its module; the graph is read from
the source with ``ast`` (nothing is imported), so every ``import`` / ``from ... import`` counts wherever it is.
"""

import ast
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "movenet_train"
# ``"movenet_train.x.y:attr"``: a function named by a string (an entry point), imported with importlib.
ENTRY_POINT = re.compile(rf"({PACKAGE}(?:\.\w+)*):\w+")


def package_modules(root=REPO / PACKAGE):
    """Dotted name -> (path, is_package) of every module under ``root``."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def lazy_maps(modules):
    """Package -> {name: module} of the ``_LAZY``-style maps that a package's ``__getattr__`` imports from."""
    maps = {}
    for name, (path, is_package) in modules.items():
        if not is_package:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                values = [v.value for v in node.value.values if isinstance(v, ast.Constant)]
                if values and all(isinstance(v, str) and v in modules for v in values):
                    keys = [k.value for k in node.value.keys]
                    maps.setdefault(name, {}).update(zip(keys, values))
    return maps


def _absolute(module, is_package, level, target):
    """The absolute name of a relative ``from`` import's module."""
    if not level:
        return target
    base = module.split(".")
    base = base[:len(base) - level + (1 if is_package else 0)]
    return ".".join(base + ([target] if target else []))


def _imported(node, module, is_package, modules, lazy):
    """Names of the package's modules that one import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.startswith(PACKAGE)]
    source = _absolute(module, is_package, node.level, node.module)
    if source is None or not source.startswith(PACKAGE):
        return []
    loaded = []
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        if submodule in modules:
            loaded.append(submodule)
        elif alias.name in lazy.get(source, {}):
            loaded.append(lazy[source][alias.name])
        else:
            loaded.append(source)
    return loaded


def _with_packages(module, target, modules):
    """``target`` and the packages above it whose ``__init__`` runs first, except those ``module`` is inside
    (a package's own modules find it already importing)."""
    names = [target]
    parts = target.split(".")
    for i in range(2, len(parts)):
        package = ".".join(parts[:i])
        if package in modules and not (module == package or module.startswith(package + ".")):
            names.append(package)
    return names


def import_graph(modules=None):
    """Module -> sorted package modules it imports (top level, in functions, and entry-point strings)."""
    modules = modules or package_modules()
    lazy = lazy_maps(modules)
    graph = {}
    for module, (path, is_package) in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imported = _imported(node, module, is_package, modules, lazy)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and ENTRY_POINT.fullmatch(node.value):
                imported = [ENTRY_POINT.fullmatch(node.value).group(1)]
            else:
                continue
            for target in imported:
                targets.update(_with_packages(module, target, modules))
        targets.discard(module)
        unknown = sorted(t for t in targets if t not in modules)
        assert not unknown, f"{path} imports {unknown}, which are not modules of {PACKAGE}"
        graph[module] = sorted(targets)
    return graph


def find_cycle(graph):
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_checker_sees_function_level_relative_and_lazy_imports(tmp_path):
    root = tmp_path / PACKAGE
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("def f():\n    from movenet_train.sub import heavy\n")
    (root / "sub" / "__init__.py").write_text(
        '_LAZY = {"thing": "movenet_train.sub.heavy"}\n\n\ndef __getattr__(name):\n    pass\n')
    (root / "sub" / "heavy.py").write_text("from .. import b\n")
    (root / "b.py").write_text("def g():\n    from movenet_train.sub import thing\n")
    graph = import_graph(package_modules(root))
    assert graph["movenet_train.a"] == ["movenet_train.sub", "movenet_train.sub.heavy"]
    assert graph["movenet_train.sub.heavy"] == ["movenet_train.b"]
    assert find_cycle(graph) == ["movenet_train.sub.heavy", "movenet_train.b", "movenet_train.sub.heavy"]


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 50 and "movenet_train.runtime" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
