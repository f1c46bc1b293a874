"""Opening a file that needs its first Arrow conversion: progress and the first rows show, and
keys still work."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.asyncio
ROWS = 20_000


async def test_conversion_shows_progress_and_ui_stays_responsive(tmp_path, screen_text, monkeypatch):
    from workbench.data import dataset
    from workbench.tui.app import WorkbenchApp

    # The conversion waits after its first progress report until the keys were pressed, so the
    # test does not depend on how fast this machine converts.
    keys_pressed = threading.Event()
    real_write = dataset._write_arrow

    def held_write(records, out, progress=None):
        def report(n):
            progress(n)
            keys_pressed.wait(120)

        return real_write(records, out, report if progress else None)

    monkeypatch.setattr(dataset, "_write_arrow", held_write)
    path = tmp_path / "big.jsonl"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_large.py"), "-o", str(path), "-n", str(ROWS)],
                   check=True, capture_output=True)
    app = WorkbenchApp([str(path)], workspace_path=str(tmp_path / "ws.sqlite"))
    async with app.run_test(size=(80, 24)) as pilot:
        while "Converting" not in screen_text(app):
            assert app.model is None, "the conversion ended before any progress was shown"
            await pilot.pause(0.05)
        assert "rows" in screen_text(app)
        # The first converted rows are on screen while the rest converts, as in the Browse list.
        first = json.loads(path.read_text().split("\n", 1)[0])
        user = " ".join(next(t["content"] for t in first["messages"] if t["role"] == "user").split())
        assert f"     1 sft " in screen_text(app) and user[:20] in screen_text(app)
        assert app.query_one("#loading-bar").display  # the bar appears with the conversion's progress
        await pilot.press("question_mark")  # the UI answers while the worker converts
        assert type(app.screen).__name__ == "HelpScreen"
        still_loading = app.model is None
        await pilot.press("escape")
        keys_pressed.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert still_loading
        assert len(app.model) == ROWS
        assert f"#0 · 1/{ROWS:,}" in screen_text(app)


async def test_a_bad_file_is_named_on_screen(tmp_path, screen_text):
    from workbench.tui.app import WorkbenchApp

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n{not json\n')
    app = WorkbenchApp([str(bad)], workspace_path=str(tmp_path / "ws.sqlite"))
    async with app.run_test(size=(80, 24)) as pilot:
        while app.open_error is None:
            await pilot.pause(0.05)
        assert app.model is None
        assert "bad.jsonl" in app.open_error and ":2" in app.open_error
        assert "Cannot open" in screen_text(app)
