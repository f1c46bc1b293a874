"""Opening a file that needs its first Arrow conversion: progress shows and keys still work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.asyncio
# Enough rows that the conversion outlasts a key press: the pilot waits for the CPU to go idle
# (up to a second) after each press, and 20,000 rows now convert within that.
ROWS = 60_000


async def test_conversion_shows_progress_and_ui_stays_responsive(tmp_path, screen_text):
    from workbench.tui.app import WorkbenchApp

    path = tmp_path / "big.jsonl"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_large.py"), "-o", str(path), "-n", str(ROWS)],
                   check=True, capture_output=True)
    app = WorkbenchApp([str(path)], workspace_path=str(tmp_path / "ws.sqlite"))
    async with app.run_test(size=(80, 24)) as pilot:
        while "Converting" not in screen_text(app):
            assert app.model is None, "the conversion ended before any progress was shown"
            await pilot.pause(0.05)
        assert "rows" in screen_text(app)
        assert app.query_one("#loading-bar").display  # the bar appears with the conversion's progress
        await pilot.press("question_mark")  # the UI answers while the worker converts
        assert type(app.screen).__name__ == "HelpScreen"
        still_loading = app.model is None
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert still_loading
        assert len(app.model) == ROWS
        assert f"row 1/{ROWS:,}" in screen_text(app)


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
