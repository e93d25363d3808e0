"""The directions that keep the house easy to live in (``docs/architecture``), checked on the source text with
``ast`` (nothing is imported): no import cycle, the engine never imports the application, each wing of ``ccle``
imports only the wings below it, the numpy-only runtime stays numpy-only, no scikit-learn / torch in ``src/``,
matplotlib only in the report, and files are opened only where files belong.

Every import statement counts, at the top of a module or inside a function: a function-level import is still
a dependency, and hiding a cycle inside a function is what this test is meant to stop.
"""
import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGES = ("ccle", "nnlite")
STDLIB = set(sys.stdlib_module_names)

# the one compatibility module that may import scikit-learn (lazily, inside the methods only scikit-learn calls)
SKLEARN_COMPAT = "nnlite._sklearn_compat"
FORBIDDEN_LIBRARIES = ("sklearn", "torch")

# Where files may be opened: the input readers, the report, the file discipline (atomic writes, locks, caches,
# memory-mapped arrays), the benchmark's two result stores (results.jsonl, predictions.csv.gz), the .nnz
# container, the numpy-only runtime that reads it, the C export that writes a model's .h / .c / genes.txt, and
# the compile cache, which reads nnlite's own sources to stamp its kernels.
FILE_MODULES = ("ccle.data", "ccle.report", "ccle.files", "ccle.benchmark.store", "ccle.benchmark.predictions",
                "nnlite.compress.fileformat", "nnlite.runtime", "nnlite.export.c", "nnlite._numba_cache")
FILE_METHODS = ("read_bytes", "read_text", "write_bytes", "write_text", "to_csv", "to_parquet", "to_excel",
                "to_pickle", "to_json")
OPENERS = {("os", "open"), ("gzip", "open"), ("bz2", "open"), ("lzma", "open"), ("io", "open"),
           ("codecs", "open"), ("tarfile", "open"), ("zipfile", "ZipFile"), ("os", "replace"), ("os", "rename"),
           ("shutil", "copy"), ("shutil", "copyfile"), ("shutil", "move"), ("np", "save"), ("np", "savez"),
           ("np", "load"), ("numpy", "save"), ("numpy", "load")}

# The wings of ccle and the wings each may import (besides itself and the base: ccle.errors, ccle.files).
# Read bottom-up: data knows nothing of models; methods knows no run, file format, report or command line;
# deploy and benchmark are two independent users of the methods; the report reads what a benchmark stored;
# cli parses arguments and calls everything.
BASE = ("ccle", "ccle.errors", "ccle.files")
WINGS = ("data", "evaluation", "methods", "benchmark", "deploy", "report", "cli")
ALLOWED = {
    "data": set(),
    "evaluation": {"data"},
    "methods": {"evaluation", "data"},
    "benchmark": {"methods", "evaluation", "data"},
    "deploy": {"methods", "evaluation", "data"},
    "report": {"methods", "evaluation", "data", "benchmark.store"},
    "cli": {"data", "evaluation", "methods", "benchmark", "deploy", "report"},
}
MAX_TOP_MODULES = 6   # __init__, __main__, errors, files and at most two more: everything else lives in a wing


def _module_name(path):
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules():
    """{module name: (path, ast tree)} of every module under src/."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((SRC / pkg).rglob("*.py")):
            out[_module_name(path)] = (path, ast.parse(path.read_text(), filename=str(path)))
    return out


MODULES = _modules()


def _is_package(name):
    return MODULES[name][0].name == "__init__.py"


def _resolve(module, node):
    """Absolute names a ``from ... import`` / ``import`` node of ``module`` refers to (submodules included)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        parent = parts if _is_package(module) else parts[:-1]
        parent = parent[:len(parent) - (node.level - 1)]
        base = ".".join(parent + ([base] if base else []))
    names = [base]
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:
            names.append(f"{base}.{alias.name}")
    return names


def _imports(module):
    """[(imported name, line)] of every import in ``module``."""
    path, tree = MODULES[module]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.extend((name, node.lineno) for name in _resolve(module, node) if name)
    return out


def _internal(name):
    """The module of ours that ``name`` lands in (the longest prefix that is a module), or None."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        candidate = ".".join(parts[:k])
        if candidate in MODULES:
            return candidate
    return None


def _graph():
    graph = {}
    for module in MODULES:
        edges = {}
        for name, line in _imports(module):
            target = _internal(name)
            if target is not None and target != module:
                edges.setdefault(target, line)
        graph[module] = edges
    return graph


GRAPH = _graph()


def _where(module, line):
    return f"{MODULES[module][0].relative_to(SRC.parent)}:{line}"


def _find_cycle(graph):
    """One import cycle as a list of modules (first == last), or None (iterative DFS, colours)."""
    colour = {m: 0 for m in graph}
    for root in graph:
        if colour[root]:
            continue
        stack = [(root, iter(graph[root]))]
        path = [root]
        colour[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif colour.get(nxt) == 0:
                colour[nxt] = 1
                stack.append((nxt, iter(graph[nxt])))
                path.append(nxt)
    return None


def test_the_import_graph_sees_every_module():
    assert "ccle.cli" in MODULES and "nnlite.runtime" in MODULES and "ccle.methods.estimators" in MODULES
    assert "ccle.evaluation.splits" in GRAPH["ccle.methods.estimators"], \
        "the parser misses a plain `from ccle.evaluation.splits import`"


def test_no_import_cycle():
    cycle = _find_cycle(GRAPH)
    if cycle:
        edges = [f"{a} -> {b} ({_where(a, GRAPH[a][b])})" for a, b in zip(cycle, cycle[1:])]
        pytest.fail("import cycle:\n  " + "\n  ".join(edges))


def test_the_engine_never_imports_the_application():
    bad = [f"{m} -> {name} ({_where(m, line)})" for m in MODULES if m.split(".")[0] == "nnlite"
           for name, line in _imports(m) if name.split(".")[0] == "ccle"]
    assert not bad, "nnlite imports ccle:\n  " + "\n  ".join(bad)


def test_the_runtime_needs_numpy_and_the_standard_library_only():
    seen, todo, bad = set(), ["nnlite.runtime"], []
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for name, line in _imports(module):
            top = name.split(".")[0]
            target = _internal(name)
            if target is not None:
                todo.append(target)
                # importing nnlite.compress._layout runs nnlite/__init__ and nnlite/compress/__init__ too
                parts = target.split(".")
                todo.extend(".".join(parts[:k]) for k in range(1, len(parts)) if ".".join(parts[:k]) in MODULES)
            elif top not in STDLIB and top != "numpy" and top != "__future__":
                bad.append(f"{module} -> {name} ({_where(module, line)})")
    assert not bad, "nnlite.runtime pulls in more than numpy and the standard library:\n  " + "\n  ".join(bad)


def test_no_sklearn_or_torch_in_src():
    bad = [f"{m} -> {name} ({_where(m, line)})" for m in MODULES if m != SKLEARN_COMPAT
           for name, line in _imports(m) if name.split(".")[0] in FORBIDDEN_LIBRARIES]
    assert not bad, "src/ imports a test-only library:\n  " + "\n  ".join(bad)


def _file_calls(module):
    """[(description, line)] of the calls in ``module`` that open a file."""
    _, tree = MODULES[module]
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name) and f.id == "open":
            out.append(("open(...)", node.lineno))
        elif isinstance(f, ast.Attribute):
            owner = f.value.id if isinstance(f.value, ast.Name) else None
            if (owner, f.attr) in OPENERS:
                if owner == "os" and node.args and ast.unparse(node.args[0]) == "os.devnull":
                    continue  # re-pointing a closed standard output at /dev/null is not file I/O
                out.append((f"{owner}.{f.attr}(...)", node.lineno))
            elif f.attr.startswith("to_") and f.attr in FILE_METHODS:
                # DataFrame.to_csv() without a path returns text, and standard output is not a file
                target = node.args[0] if node.args else next((k.value for k in node.keywords
                                                              if k.arg == "path_or_buf"), None)
                if target is not None and ast.unparse(target) not in ("sys.stdout", "None"):
                    out.append((f".{f.attr}(...)", node.lineno))
            elif f.attr in FILE_METHODS or (f.attr == "open" and owner not in {o for o, _ in OPENERS}):
                out.append((f".{f.attr}(...)", node.lineno))
    return out


def test_files_are_opened_only_where_files_belong():
    bad = [f"{what} in {m} ({_where(m, line)})" for m in MODULES
           if not any(m == p or m.startswith(p + ".") for p in FILE_MODULES)
           for what, line in _file_calls(m)]
    assert not bad, "a file is opened outside " + ", ".join(FILE_MODULES) + ":\n  " + "\n  ".join(bad)


def test_the_checks_can_fail():
    """The cycle finder and the file-call finder do find what they look for."""
    assert _find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b": 1}, "b": {}}) is None
    tree = ast.parse("import gzip\nfrom pathlib import Path\nopen('x')\ngzip.open('y')\nPath('z').read_text()\n"
                     "df.to_csv('a.csv')\ndf.to_csv(sys.stdout)\ntext = df.to_csv(index=False)\nos.replace(a, b)\n")
    MODULES["_probe"] = (SRC / "_probe.py", tree)
    try:
        assert [w for w, _ in _file_calls("_probe")] == ["open(...)", "gzip.open(...)", ".read_text(...)",
                                                         ".to_csv(...)", "os.replace(...)"]
    finally:
        del MODULES["_probe"]


def _wing(module):
    """The wing of a ccle module ("data", "methods", ...), "base" for ccle's top modules, None outside ccle."""
    parts = module.split(".")
    if parts[0] != "ccle":
        return None
    if len(parts) >= 2 and parts[1] in WINGS:
        return parts[1]
    return "base"


def _may_import(module, target):
    src, dst = _wing(module), _wing(target)
    if dst is None or dst == src or target in BASE:
        return True
    if src == "base":
        return module == "ccle.__main__" and dst == "cli"
    allowed = ALLOWED[src]
    sub = ".".join(target.split(".")[1:3])   # e.g. "benchmark.store"
    return dst in allowed or sub in allowed


def test_ccle_has_few_modules_at_its_top():
    top = sorted(m for m in MODULES if m.startswith("ccle.") and m.count(".") == 1 and not _is_package(m))
    assert len(top) <= MAX_TOP_MODULES, f"src/ccle has {len(top)} modules at its top: {top}; put them in a wing"
    wings = sorted(m.split(".")[1] for m in MODULES if m.count(".") == 1 and m.startswith("ccle.") and _is_package(m))
    assert set(wings) == set(WINGS), f"the wings are {wings}; docs/architecture lists {sorted(WINGS)}"


def test_each_wing_imports_only_the_wings_below_it():
    bad = [f"{m} -> {t} ({_where(m, line)})" for m, edges in GRAPH.items() if m.startswith("ccle")
           for t, line in edges.items() if not _may_import(m, t)]
    assert not bad, "imports against the directions of docs/architecture:\n  " + "\n  ".join(bad)


def test_the_direction_check_can_fail():
    assert not _may_import("ccle.methods.estimators", "ccle.benchmark.tasks")
    assert not _may_import("ccle.deploy.per_drug", "ccle.benchmark.runner")
    assert not _may_import("ccle.report.tables", "ccle.benchmark.runner")
    assert _may_import("ccle.report", "ccle.benchmark.store")
    assert not _may_import("ccle.data.loader", "ccle.methods.registry")
    assert _may_import("ccle.cli.train", "ccle.deploy.per_drug")


def test_matplotlib_only_in_the_report():
    bad = [f"{m} -> {name} ({_where(m, line)})" for m in MODULES if not m.startswith("ccle.report")
           for name, line in _imports(m) if name.split(".")[0] == "matplotlib"]
    assert not bad, "matplotlib outside ccle.report:\n  " + "\n  ".join(bad)


def test_the_architecture_page_names_every_wing():
    page = next((SRC.parent / "docs").glob("architecture.*"), None)
    assert page is not None, "docs/architecture is missing"
    text = page.read_text()
    missing = [w for w in WINGS if f"{w}/" not in text and f"ccle.{w}" not in text]
    assert not missing, f"docs/architecture does not describe the wings {missing}"
