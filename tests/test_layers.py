"""The layers import downwards only (docs: DESIGN.md "The layers"):

    data < templates, store < llm, explore, ops < session, views, engine, recipes, handoff < cli, tui

Every import statement in the package (module level or inside a function: a lazy import is
still a dependency) is checked with the AST; `tui` never imports `cli`, and only `tui`
imports textual, only `engine/ray.py` imports ray."""

from __future__ import annotations

import ast
from pathlib import Path

import workbench

LEVEL = {
    "__init__": 0, "paths": 0, "atomic": 0, "bundled": 0, "terminal": 0, "data": 0,
    "templates": 1, "store": 1,
    "llm": 2, "explore": 2, "ops": 2,
    "session": 3, "views": 3, "engine": 3, "recipes": 3, "handoff": 3,
    "cli": 4, "tui": 4, "__main__": 5,
}

ROOT = Path(workbench.__file__).parent


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def test_layers_import_downwards_only():
    bad = []
    for f in sorted(ROOT.rglob("*.py")):
        rel = f.relative_to(ROOT)
        layer = rel.parts[0].removesuffix(".py")
        assert layer in LEVEL, f"workbench/{rel}: a new top-level module: give it a layer in tests/test_layers.py"
        where = f"workbench/{rel.as_posix()}"
        for line, name in _imports(f):
            top = name.split(".")[0]
            if top == "textual" and layer != "tui":
                bad.append(f"{where}:{line}: imports textual (only workbench/tui may)")
            if top == "ray" and where != "workbench/engine/ray.py":
                bad.append(f"{where}:{line}: imports ray (only workbench/engine/ray.py may)")
            if top != "workbench" or name == "workbench":
                continue
            target = name.split(".")[1]
            if LEVEL.get(target, 0) > LEVEL[layer] or (layer == "tui" and target == "cli"):
                bad.append(f"{where}:{line}: {layer} imports {name}, a layer above it")
    assert not bad, "\n".join(bad)


def test_the_check_sees_a_violation(tmp_path):
    # the checker itself: an import from a higher layer inside a function is found
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from workbench.cli.common import load_dataset\n")
    assert list(_imports(f)) == [(2, "workbench.cli.common")]
