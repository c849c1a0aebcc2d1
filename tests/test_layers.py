"""Layers one way: every import inside nbedit goes down this list (or stays within its own layer), never up.

     0  version, errors
     1  timeline, media, cache, args, record, folder,      time, PyAV, caches, checks, records, the project folder,
        identity, machine, planes                           is a source still the file it was; NVENC, NVDEC, CUDA here;
                                                            where a YUV part lands on a canvas
     2  model                                               the metadata["nbedit"] schema (the only module touching it)
     3  index, provenance                                   where every item sits, by id and frame; what an edit
                                                            was made with (versions, input sha256s)
     4  tools.*, proxy, composite_torch                     image and video algorithms; scrub proxies; YUV sums in torch
     5  models.*                                            model folders: discovery, checks, loading, residency
     6  render, distributed, smart                          frame plans, compositing, the render pipeline; segments;
                                                            copying GOPs
     7  ops.context                                         Edit: the one mechanism
     8  ops.*                                               the operations, each a plain function over an Edit
     9  interchange.*                                       OTIO adapters in and out (import_timeline is an op)
    10  analysis, preview, recipes                          xarray views; widget frames; replay, diff, verify
    11  widgets, handles                                    anywidget classes; Clip and Media handles
    12  session                                             Session: folder, state, undo/redo, replay, verbs
    13  convert, demo
    14  cli, __main__, nbedit (the package)

Imports inside functions count too (a cycle held by function-local imports is still a cycle), those under
``if TYPE_CHECKING:`` do not. No module imports another's ``_private`` name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbedit

ROOT = Path(nbedit.__file__).parent

LAYERS = [
    ["version", "errors"],
    ["timeline", "media", "cache", "args", "record", "folder", "identity", "machine", "planes"],
    ["model"],
    ["index", "provenance"],
    ["tools", "proxy", "composite_torch"],
    ["models"],
    ["render", "distributed", "smart"],
    ["ops.context"],
    ["ops"],
    ["interchange"],
    ["analysis", "preview", "recipes"],
    ["widgets", "handles"],
    ["session"],
    ["convert", "demo"],
    ["cli", "__main__", ""],
]


def layer(module: str) -> int:
    """The layer of ``nbedit.<module>``: the longest prefix named in LAYERS."""
    best, rank = -1, None
    for k, names in enumerate(LAYERS):
        for name in names:
            if module == name or (name and module.startswith(name + ".")):
                if len(name) > best:
                    best, rank = len(name), k
    assert rank is not None, f"nbedit.{module} is in no layer: add it to LAYERS (and to the docstring)"
    return rank


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(module: str, path: Path, known: set[str]) -> list[tuple[str, list[str], int]]:
    """(imported module, names, line) for every nbedit import of a module, outside TYPE_CHECKING blocks."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                self.generic_visit(node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif (node.module or "").startswith("nbedit"):
                target = node.module.removeprefix("nbedit").lstrip(".")
            else:
                return
            names = [a.name for a in node.names]
            subs = [n for n in names if (f"{target}.{n}" if target else n) in known]
            for n in subs:  # "from . import edit" imports the module nbedit.ops.edit
                found.append((f"{target}.{n}" if target else n, [], node.lineno))
            rest = [n for n in names if n not in subs]
            if rest:
                found.append((target, rest, node.lineno))

        def visit_Import(self, node: ast.Import) -> None:
            for a in node.names:
                if a.name.startswith("nbedit"):
                    found.append((a.name.removeprefix("nbedit").lstrip("."), [], node.lineno))

    Visitor().visit(ast.parse(path.read_text()))
    return [f for f in found if f[0] != module]


def graph() -> dict[str, list[tuple[str, list[str], int]]]:
    mods = modules()
    return {m: imports(m, p, set(mods)) for m, p in mods.items()}


def test_every_import_goes_down_the_layers():
    upward = [
        f"nbedit.{m or '__init__'} (layer {layer(m)}) imports nbedit.{t} (layer {layer(t)}) at line {line}"
        for m, edges in graph().items()
        for t, _, line in edges
        if layer(t) > layer(m)
    ]
    assert upward == []


def test_the_modules_import_no_cycle():
    edges = {m: {t for t, _, _ in e if t != m and not m.startswith(t + ".") and t != ""} for m, e in graph().items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                cycles.append(" -> ".join([*path[path.index(t) :], t]))
            elif t in edges and not state.get(t):
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(edges):
        if not state.get(m):
            visit(m, [m])
    assert cycles == []


def test_no_module_imports_a_private_name_of_another():
    private = [
        f"nbedit.{m} imports {n} from nbedit.{t} at line {line}"
        for m, edges in graph().items()
        for t, names, line in edges
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert private == []


def schema_reads(tree: ast.AST) -> list[int]:
    """Lines that reach into ``<obj>.metadata["nbedit"]`` (a subscript, .get or setdefault) in code."""

    def is_key(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and node.value == "nbedit"

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "metadata":
            if is_key(node.slice):
                lines.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args and is_key(node.args[0]):
            owner = node.func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "metadata":
                lines.append(node.lineno)
    return lines


def test_only_the_model_module_reaches_into_the_metadata_schema():
    raw = [
        f"{p.relative_to(ROOT)}:{line}"
        for m, p in modules().items()
        if m != "model"
        for line in schema_reads(ast.parse(p.read_text()))
    ]
    assert raw == []


def test_the_layer_list_names_every_module():
    for m in modules():
        layer(m)
