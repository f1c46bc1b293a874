"""The CLI progress bar shows job events and row counts; the store imports nothing heavy."""

from __future__ import annotations

import io
import subprocess
import sys

from rich.console import Console

from workbench.store.jobs import run_job
from workbench.store.progress import cli_progress
from workbench.store.workspace import Workspace


def test_progress_bar_shows_a_job(tmp_path):
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=140)
    with Workspace.open(tmp_path / "ws.sqlite") as ws, cli_progress("square", console=console) as bar:
        run_job(ws, "square", [(f"r{i}", i) for i in range(30)], lambda x: 1 // (x - 7), on_event=bar.on_event)
    out = buf.getvalue()
    assert "square" in out and "30/30" in out and "ok 29" in out and "failed 1" in out and "[done]" in out


def test_progress_bar_counts_rows(tmp_path):
    buf = io.StringIO()
    with cli_progress("reading", total=10, console=Console(file=buf, force_terminal=True, width=100)) as bar:
        bar(4)
        bar(10)
    assert "10/10" in buf.getvalue()


def test_progress_bar_is_silent_off_a_terminal():
    buf = io.StringIO()
    with cli_progress("reading", total=10, console=Console(file=buf, force_terminal=False)) as bar:
        bar(10)
    assert buf.getvalue() == ""


def test_store_imports_no_ui_or_heavy_libraries():
    code = (
        "import sys; import workbench.store.workspace, workbench.store.jobs, workbench.store.export, "
        "workbench.cli.store, workbench.store.progress\n"
        "bad = [m for m in ('textual', 'rich', 'torch', 'litellm', 'transformers', 'sentence_transformers', "
        "'datasets', 'pyarrow') if m in sys.modules]\n"
        "print(bad)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
