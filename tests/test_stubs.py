import ast
import pathlib

import fastopt
from fastopt import _core


def stub_names():
    path = pathlib.Path(fastopt.__file__).with_name("_core.pyi")
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_stub_lists_every_binding():
    public = {name for name in dir(_core) if not name.startswith("_")}
    missing = public - stub_names()
    assert not missing, f"regenerate python/fastopt/_core.pyi; it lacks {sorted(missing)}"


def test_stub_has_no_stale_names():
    public = {name for name in dir(_core) if not name.startswith("_")}
    stale = stub_names() - public - {"__all__"}
    assert not stale, f"regenerate python/fastopt/_core.pyi; it lists removed names {sorted(stale)}"
