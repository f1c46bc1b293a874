"""Import hygiene: the core never imports textual; the app starts without the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "litellm", "umap", "sentence_transformers", "transformers", "datasets")


def _run(code: str, tmp_path) -> dict:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"WORKBENCH_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_non_tui_modules_do_not_import_textual(tmp_path):
    code = """
import importlib, json, pkgutil, sys
import workbench
names = [m.name for m in pkgutil.walk_packages(workbench.__path__, "workbench.") if not m.name.startswith("workbench.tui") and not m.name.endswith("__main__")]
for n in names:
    importlib.import_module(n)
print(json.dumps({"n": len(names), "textual": sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))}))
"""
    got = _run(code, tmp_path)
    assert got["n"] > 10
    assert got["textual"] == []


def test_starting_the_app_on_a_file_imports_nothing_heavy(tmp_path):
    code = f"""
import asyncio, json, sys
from workbench.tui.app import WorkbenchApp

async def main():
    app = WorkbenchApp(["sample_data/alpaca.jsonl"], workspace_path={str(tmp_path / 'ws.sqlite')!r})
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        for key in ("j", "a", "2", "5", "1"):
            await pilot.press(key)
        await pilot.pause()
        rows = len(app.model)
    return rows

rows = asyncio.run(main())
print(json.dumps({{"rows": rows, "heavy": sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})}}))
"""
    got = _run(code, tmp_path)
    assert got["rows"] > 0
    assert got["heavy"] == []
