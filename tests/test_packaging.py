"""What `pip install .` gives: a wheel installed (not editable) into a new virtualenv and run
from another folder finds its stylesheet, themes, example files and sample data, and starts the
TUI. The imports and the declared dependencies agree, and the code runs on Pythons 3.10-3.12."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
import textual

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtualenv holding the wheel built from this checkout. Third-party packages come
    from the test's own environment (a path file), so no package index is needed."""
    tmp = tmp_path_factory.mktemp("pkg")
    # Build from a copy: a build must leave the checkout as it was (no build/ or egg-info).
    src = tmp / "src"
    shutil.copytree(ROOT, src, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", "build", "tests"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp / "dist"), str(src)], check=True, capture_output=True)
    wheel = next((tmp / "dist").glob("workbench-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    (purelib / "third_party.pth").write_text(str(Path(textual.__file__).parents[1]) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return venv, purelib, elsewhere


def _run(venv: Path, cwd: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=300, **kw)


def test_installed_wheel_runs_from_another_folder(installed):
    venv, purelib, elsewhere = installed
    out = _run(venv, elsewhere, str(venv / "bin" / "python"), "-c", textwrap.dedent("""
        import workbench
        from workbench.bundled import bundled
        from workbench.paths import example_file
        from workbench.tui.themes import load_themes
        print(workbench.__file__)
        print(bundled("sample_data"))
        print(example_file("examples/personas.jsonl"))
        themes, errors = load_themes()
        print(sorted(themes), errors)
    """))
    assert out.returncode == 0, out.stderr
    module, samples, personas, themes = out.stdout.splitlines()
    # The installed copy, not this checkout.
    assert module.startswith(str(purelib)) and samples.startswith(str(purelib))
    assert personas.startswith(str(purelib)) and Path(personas).is_file()
    assert {"dark", "light", "high-contrast"} <= set(eval(themes.split("]")[0] + "]"))
    assert themes.endswith("[]")
    info = _run(venv, elsewhere, str(venv / "bin" / "workbench"), "info", str(Path(samples) / "alpaca.jsonl"), "--json")
    assert info.returncode == 0, info.stderr
    assert '"format": "alpaca"' in info.stdout.replace('":"', '": "')


def test_installed_tui_starts_with_its_stylesheet(installed, tmp_path):
    venv, purelib, elsewhere = installed
    script = textwrap.dedent("""
        import asyncio, sys
        from workbench.bundled import bundled
        from workbench.tui.app import WorkbenchApp

        async def main():
            app = WorkbenchApp([str(bundled("sample_data") / "alpaca.jsonl")], workspace=sys.argv[1])
            async with app.run_test(size=(80, 24)) as pilot:
                for _ in range(100):
                    await pilot.pause(0.05)
                    if app.screen.query("RowList"):
                        break
                print(type(app.screen).__name__, len(app.stylesheet.rules) > 0, app.theme)

        asyncio.run(main())
    """)
    out = _run(venv, elsewhere, str(venv / "bin" / "python"), "-c", script, str(tmp_path / "ws.sqlite"))
    assert out.returncode == 0, out.stderr
    screen, has_rules, theme = out.stdout.split()
    assert has_rules == "True" and theme == "dark"


def _imported_top_level_modules() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "workbench").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"workbench", "tomli"}


def _declared() -> set[str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = text.split("dependencies = [", 1)[1].split("\n]", 1)[0]  # an extra ("ray[data]") holds a ]
    return {re.split(r"[<>=!;\[ ]", m)[0].lower().replace("_", "-")
            for m in re.findall(r'^\s*"([^"]+)"', block, re.M)}


def test_every_imported_package_is_declared_and_every_declared_one_used():
    dists = importlib.metadata.packages_distributions()
    imported = {}
    for module in _imported_top_level_modules():
        assert module in dists, f"{module} is imported but installed by no distribution"
        imported[module] = {d.lower().replace("_", "-") for d in dists[module]}
    declared = _declared()
    missing = {m: d for m, d in imported.items() if not d & declared}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    # A declared package is used when its module is imported, or named for a lazy lookup
    # (`find_spec`), or read by name (the embedding model package).
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "workbench").rglob("*.py"))
    used = set().union(*imported.values())
    for dist in declared - used:
        modules = [m for m, ds in dists.items() if dist in {d.lower().replace("_", "-") for d in ds}]
        assert any(re.search(rf"\b{re.escape(m)}\b", source) for m in modules + [dist]), \
            f"{dist} is declared in pyproject.toml but nothing uses it"


@pytest.mark.parametrize("version", ["3.10", "3.12"])
def test_the_code_compiles_on_other_pythons(version):
    exe = _python(version)
    files = [str(p) for p in (ROOT / "workbench").rglob("*.py")]
    out = subprocess.run([exe, "-c", "import sys\nfor f in sys.argv[1:]: compile(open(f, encoding='utf-8').read(), f, 'exec')",
                          *files], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def _python(version: str) -> str:
    pyenv = shutil.which("pyenv")
    if pyenv:
        prefix = subprocess.run([pyenv, "prefix", version], capture_output=True, text=True)
        if prefix.returncode == 0:
            exe = Path(prefix.stdout.strip().splitlines()[0]) / "bin" / f"python{version}"
            if exe.exists():
                return str(exe)
    exe = shutil.which(f"python{version}")
    assert exe, f"no Python {version} on this machine (pyenv or python{version} on PATH)"
    return exe
