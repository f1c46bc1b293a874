"""Opening a file that needs its first Arrow conversion: progress and the rows converted so far
show and scroll, and keys still work."""

from __future__ import annotations

import json
import re
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
    from workbench.data.dataset import BATCH_ROWS
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
        try:
            while "Converting" not in screen_text(app):
                assert app.model is None, "the conversion ended before any progress was shown"
                await pilot.pause(0.05)
            assert "rows" in screen_text(app)
            # The rows converted so far are on screen while the rest converts, numbered as Browse
            # numbers them, and they scroll: the converting thread is held after its first batch.
            lines = path.read_text().split("\n")
            user = lambda i: " ".join(next(t["content"] for t in json.loads(lines[i])["messages"]  # noqa: E731
                                           if t["role"] == "user").split())
            while user(0)[:20] not in screen_text(app):
                await pilot.pause(0.05)
            assert re.search(r"▶ +0 sft ", screen_text(app))
            assert app.query_one("#loading-bar").display  # the bar appears with the conversion's progress
            await pilot.press("G", "k")
            last = BATCH_ROWS - 2
            assert re.search(rf"▶ +{last} sft ", screen_text(app)) and user(last)[:20] in screen_text(app)
            await pilot.press("question_mark")  # the UI answers while the worker converts
            assert type(app.screen).__name__ == "HelpScreen"
            still_loading = app.model is None
            await pilot.press("escape")
            keys_pressed.set()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert still_loading
            assert len(app.model) == ROWS
            # Browse opens on the row looked at while converting.
            assert f"#{last} · {last + 1:,}/{ROWS:,}" in screen_text(app)
            assert re.search(rf"▶ · +{last} sft ", screen_text(app))
        finally:
            keys_pressed.set()  # a failed assert must not leave the conversion held


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
